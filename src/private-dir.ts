import { lstatSync, mkdirSync } from "node:fs";

/**
 * Whether `dir` is a directory of ours that no other user can write to, made (0700) first when
 * `create`: the only place a file whose content is trusted may come from (compiled code run as
 * ours, a config taken as read).
 */
export function isPrivateDirectory(dir: string, create: boolean): boolean {
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    const ours = process.getuid === undefined || stat.uid === process.getuid();
    return stat.isDirectory() && ours && (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
