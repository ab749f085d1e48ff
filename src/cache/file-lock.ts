import { randomBytes } from "node:crypto";
import {
  linkSync,
  lstatSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";

/**
 * A cross-process lock: a file holding the owner's pid, host and time, created only if absent.
 * Hand-written rather than proper-lockfile because a crashed owner is detected at once by its
 * pid (a `kill -9` mid-fetch blocks nobody), where mtime-based locks make the next run wait for
 * the stale period; a lock older than `leaseMs` is broken whatever its pid says.
 *
 * A lock is a hard link to a holder file the process wrote once (link(2) fails if the name
 * exists, like O_EXCL): creating a file costs 0.1-0.5 ms of kernel time on ext4 where a link
 * costs ~20 us, and a cold run takes one lock per account. Where links are not supported the
 * lock file is created with O_EXCL instead. The operations are synchronous (microseconds each);
 * only the wait between polls yields.
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
const HOST_TAG = HOST.replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 64);
/** Tells this process's files apart from other processes' (and hosts', on a shared disk). */
export const PROCESS_NONCE = randomBytes(6).toString("hex");
const HOLDER_PREFIX = ".holder-";
/** A holder file nobody removed (its process crashed on another host) is swept after this. */
const ORPHAN_HOLDER_MS = 24 * 3600_000;
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
function readHolder(path: string, leaseMs: number): Holder | "invalid" | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
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
function breakLock(path: string, seen: Holder | "invalid" | null, leaseMs: number): void {
  const aside = `${path}.${randomBytes(6).toString("hex")}.broken`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  const moved = readHolder(aside, leaseMs);
  const seenToken = seen !== null && seen !== "invalid" ? seen.token : undefined;
  if (moved !== null && moved !== "invalid" && moved.token !== seenToken) {
    ignoreFailure(() => linkSync(aside, path));
  }
  ignoreFailure(() => unlinkSync(aside));
}

/** Runs a removal or move that another run may have made first: the outcome is the same. */
export function ignoreFailure(operation: () => void): void {
  try {
    operation();
  } catch {
    // Lost the race: already gone or moved.
  }
}

/** An owner that died between creating and writing its lock leaves an empty file behind. */
function leftEmpty(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > 1000;
  } catch {
    return false;
  }
}

/** This process's current holder file in one lock directory. */
interface HolderFile {
  path: string;
  holder: Holder;
  ino: number;
}

const holderFiles = new Map<string, HolderFile>();
/** Directories where link(2) failed for want of support: O_EXCL files there. */
const noLinks = new Set<string>();
let sequence = 0;
let exitHookSet = false;

/** A new holder record of this process: pid, host, time, and a token no other lock has. */
function newHolder(): Holder {
  sequence += 1;
  return { pid: process.pid, host: HOST, at: Date.now(), token: `${PROCESS_NONCE}.${sequence}` };
}

function writeHolderFile(dir: string): HolderFile {
  if (!holderFiles.has(dir)) sweepOrphanHolders(dir);
  const holder = newHolder();
  const path = join(dir, `${HOLDER_PREFIX}${HOST_TAG}-${process.pid}-${holder.token}`);
  writeFileSync(path, JSON.stringify(holder), { flag: "wx", mode: 0o600 });
  const previous = holderFiles.get(dir);
  // Locks already linked to the previous holder keep its inode (and its time) alive.
  if (previous) ignoreFailure(() => unlinkSync(previous.path));
  const file = { path, holder, ino: lstatSync(path).ino };
  holderFiles.set(dir, file);
  if (!exitHookSet) {
    exitHookSet = true;
    process.once("exit", () => {
      for (const { path } of holderFiles.values()) ignoreFailure(() => unlinkSync(path));
    });
  }
  return file;
}

/** Holder files of dead processes on this host, or a day old: their locks are gone or broken. */
function sweepOrphanHolders(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.startsWith(HOLDER_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/-(\d+)-[0-9a-f]+\.\d+$/.exec(name)?.[1]);
    const path = join(dir, name);
    const ours = name.startsWith(`${HOLDER_PREFIX}${HOST_TAG}-`);
    const old = () => Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if ((ours && pid > 0 && !isAlive(pid)) || old() > ORPHAN_HOLDER_MS) {
      ignoreFailure(() => unlinkSync(path));
    }
  }
}

/**
 * Takes the lock at `path` if it is free: a link to this process's holder file (a fresh one
 * once the current is a tenth of the lease old, so a lock's time is never older than that).
 * Returns the release, or null when the lock is held.
 */
function tryLock(path: string, leaseMs: number, retried = false): ReleaseLock | null {
  const dir = dirname(path);
  if (noLinks.has(dir)) return tryExclusiveFile(path);
  let file = holderFiles.get(dir);
  if (!file || Date.now() - file.holder.at > leaseMs / 10) file = writeHolderFile(dir);
  try {
    linkSync(file.path, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return null;
    if (code === "ENOENT" && !retried) {
      // Our holder file was swept (a day idle): write another and try again.
      holderFiles.delete(dir);
      return tryLock(path, leaseMs, true);
    }
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EMLINK") {
      noLinks.add(dir);
      return tryExclusiveFile(path);
    }
    throw error;
  }
  const { ino } = file;
  return async () => {
    // Still a link to our holder: not broken (past its lease) and taken by another run since.
    if (lstatSync(path, { throwIfNoEntry: false })?.ino === ino)
      ignoreFailure(() => unlinkSync(path));
  };
}

function tryExclusiveFile(path: string): ReleaseLock | null {
  const holder = newHolder();
  try {
    writeFileSync(path, JSON.stringify(holder), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return null;
    throw error;
  }
  return async () => {
    const current = readHolder(path, Number.POSITIVE_INFINITY);
    if (current !== null && current !== "invalid" && current.token === holder.token) {
      ignoreFailure(() => unlinkSync(path));
    }
  };
}

export async function acquireLock(path: string, options: LockOptions): Promise<ReleaseLock | null> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const release = tryLock(path, options.leaseMs);
    if (release) return release;
    const holder = readHolder(path, options.leaseMs);
    if (holder !== null ? abandoned(holder, options.leaseMs) : leftEmpty(path)) {
      breakLock(path, holder, options.leaseMs);
      continue;
    }
    if (Date.now() >= deadline) return null;
    await sleep(options.pollMs ?? 25);
  }
}
