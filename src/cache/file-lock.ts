import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";

/**
 * A cross-process lock: a file created with O_EXCL holding the owner's pid, host and time.
 * Hand-written rather than proper-lockfile because a crashed owner is detected at once by its
 * pid (a `kill -9` mid-fetch blocks nobody), where mtime-based locks make the next run wait for
 * the stale period; a lock older than `leaseMs` is broken whatever its pid says.
 */
export interface LockOptions {
  /** Give up waiting after this long (resolves null). */
  waitMs: number;
  /** A lock held longer than this is taken to be abandoned. */
  leaseMs: number;
  pollMs?: number;
}

export type ReleaseLock = () => Promise<void>;

interface Holder {
  pid: number;
  host: string;
  at: number;
  token: string;
}

const HOST = hostname();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The lock's holder; null when the file vanished or was caught half-written (look again next
 * poll); "invalid" when it is whole JSON but no holder (`{}`, a foreign file, a time in the
 * future): no run of ours wrote that, so it is broken like a dead holder's.
 */
async function readHolder(path: string, leaseMs: number): Promise<Holder | "invalid" | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const h = value as Partial<Holder> | null;
  const valid =
    typeof h === "object" &&
    h !== null &&
    Number.isSafeInteger(h.pid) &&
    (h.pid as number) > 0 &&
    typeof h.host === "string" &&
    typeof h.token === "string" &&
    typeof h.at === "number" &&
    Number.isFinite(h.at) &&
    h.at <= Date.now() + leaseMs;
  return valid ? (h as Holder) : "invalid";
}

function abandoned(holder: Holder | "invalid", leaseMs: number): boolean {
  if (holder === "invalid") return true;
  if (Date.now() - holder.at > leaseMs) return true;
  return holder.host === HOST && !isAlive(holder.pid);
}

/** Moves an abandoned lock aside; puts it back if, in a race, it turned out to be a live one. */
async function breakLock(path: string, seen: Holder | "invalid" | null, leaseMs: number) {
  const aside = `${path}.${randomBytes(6).toString("hex")}.broken`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await readHolder(aside, leaseMs);
  const seenToken = seen !== null && seen !== "invalid" ? seen.token : undefined;
  if (moved !== null && moved !== "invalid" && moved.token !== seenToken) {
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

/** An owner that died between creating and writing its lock leaves an empty file behind. */
async function leftEmpty(path: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > 1000;
  } catch {
    return false;
  }
}

export async function acquireLock(path: string, options: LockOptions): Promise<ReleaseLock | null> {
  const deadline = Date.now() + options.waitMs;
  const token = randomBytes(8).toString("hex");
  for (;;) {
    try {
      const handle = await open(path, "wx", 0o600);
      const holder: Holder = { pid: process.pid, host: HOST, at: Date.now(), token };
      await handle.writeFile(JSON.stringify(holder));
      await handle.close();
      return async () => {
        const current = await readHolder(path, options.leaseMs);
        if (current !== null && current !== "invalid" && current.token === token) {
          await unlink(path).catch(() => undefined);
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(path, options.leaseMs);
    if (holder !== null ? abandoned(holder, options.leaseMs) : await leftEmpty(path)) {
      await breakLock(path, holder, options.leaseMs);
      continue;
    }
    if (Date.now() >= deadline) return null;
    await sleep(options.pollMs ?? 25);
  }
}
