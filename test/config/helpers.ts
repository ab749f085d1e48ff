import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach } from "vitest";

const created: string[] = [];

afterEach(async () => {
  for (const dir of created.splice(0)) {
    await chmod(dir, 0o700).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sub-config-"));
  created.push(dir);
  return dir;
}

/**
 * Writes `files` (path relative to the returned root -> JSON value or raw text) with mode 600
 * unless `modes` says otherwise. The config dir is `<root>/config`, the cwd for .env is `<root>`.
 */
export async function writeTree(
  files: Record<string, unknown>,
  modes: Record<string, number> = {},
): Promise<string> {
  const root = await tempDir();
  for (const [rel, content] of Object.entries(files)) {
    const file = join(root, rel);
    await mkdir(dirname(file), { recursive: true });
    const text = typeof content === "string" ? content : JSON.stringify(content, null, 2);
    await writeFile(file, text, { mode: 0o600 });
    await chmod(file, modes[rel] ?? 0o600);
  }
  return root;
}

export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
