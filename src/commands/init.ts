/**
 * `show-user-balances init [dir]`: writes a starter config directory (see init-files.ts) and
 * refuses to overwrite anything: when one of its files exists, nothing is written (exit 2).
 */
import { lstat, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { type CliIo, EXIT, warn } from "./context.js";
import { refuseSpecialDirectory } from "./options.js";

export const INIT_HELP = `
Writes platform.json, users/alice.json, .env.example (the credential variables those accounts
read) and README.md (what JSON cannot say in comments) into the directory, default ./config.
Files holding or naming credentials are mode 600, directories it creates 700. It never
overwrites: if any of these files exists, nothing is written and it exits 2 naming it.

Next: cp config/.env.example .env && chmod 600 .env, fill in the keys, then
  $ show-user-balances doctor`;

export function registerInit(program: Command, io: CliIo, setExitCode: (code: number) => void) {
  return program
    .command("init")
    .description("write a starter config directory (never overwrites)")
    .argument("[dir]", "where to write it", "config")
    .addHelpText("after", INIT_HELP)
    .action(async (dir: string) => {
      setExitCode(await initAction(dir, io));
    });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

export async function initAction(dir: string, io: CliIo): Promise<number> {
  const special = refuseSpecialDirectory(io, "init", dir);
  if (special !== null) return special;
  if ((await lstat(dir).catch(() => null))?.isDirectory() === false) {
    warn(io, `show-user-balances: ${dir} exists and is not a directory`);
    warn(io, "  fix: give init a directory to write the config into (init <dir>)");
    return EXIT.config;
  }
  const { starterFiles } = await import("./init-files.js");
  const files = starterFiles(dir);
  const taken: string[] = [];
  for (const file of files) {
    const path = join(dir, file.path);
    if (await exists(path)) taken.push(path);
  }
  if (taken.length > 0) {
    for (const path of taken) warn(io, `show-user-balances: ${path} exists; init never overwrites`);
    warn(io, "  fix: move it aside, or give init another directory (init <dir>)");
    return EXIT.config;
  }
  try {
    for (const file of files) {
      const path = join(dir, file.path);
      // mode applies only to directories it creates; an existing one keeps the mode it has.
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // "wx": a file that appeared since the check above is still not overwritten.
      await writeFile(path, file.text, { flag: "wx", mode: file.mode });
      io.stdout.write(`wrote ${path}\n`);
    }
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    warn(io, `show-user-balances: cannot write ${e.path ?? dir} (${e.code ?? e.message})`);
    warn(
      io,
      e.code === "EEXIST"
        ? "  fix: something else is writing there; run init again on an empty directory"
        : "  fix: choose a directory you can write to (init <dir>)",
    );
    return EXIT.config;
  }
  io.stdout.write(
    `\nNext: cp ${join(dir, ".env.example")} .env && chmod 600 .env, fill in the keys, then run\n  show-user-balances doctor${dir === "config" ? "" : ` --config-dir ${dir}`}\n`,
  );
  return EXIT.ok;
}
