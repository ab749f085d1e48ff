import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = join(ROOT, "dist", "cli.cjs");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A scratch directory per test: config, cache and cwd (so no stray .env is read). */
export async function scratch(): Promise<{ dir: string; config: string; cache: string }> {
  const dir = await mkdtemp(join(tmpdir(), "sub-cli-"));
  const config = join(dir, "config");
  await mkdir(join(config, "users"), { recursive: true });
  return { dir, config, cache: join(dir, "cache") };
}

export async function writeJson(path: string, value: unknown, mode = 0o600): Promise<void> {
  await writeFile(path, typeof value === "string" ? value : JSON.stringify(value, null, 2));
  await chmod(path, mode);
}

/** Only what a process needs: the developer's own credentials never reach the CLI under test. */
function baseEnv(): Record<string, string> {
  const keep = ["PATH", "HOME", "TMPDIR", "LANG", "SYSTEMROOT"];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
}

export function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; cwd: string; nodeArgs?: string[] },
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
    cwd: options.cwd,
    // History goes to a scratch state directory, never the developer's ~/.local/state.
    env: { ...baseEnv(), XDG_STATE_HOME: join(tmpdir(), "sub-cli-state"), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<CliResult>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd: string; nodeArgs?: string[] },
): Promise<CliResult> {
  return spawnCli(args, options).done;
}
