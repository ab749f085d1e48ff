/**
 * Reading one config file defensively: a size limit before reading, strict UTF-8, and a message
 * that fits each way a path can fail to be a usable file (missing, a directory, a symlink loop or
 * a dangling link, no permission). Nothing here parses; nothing here quotes the file's content.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  type Stats,
} from "node:fs";

/** One decoder for every file: making one per file was ~1 us of a 1,000-file load each. */
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Config files are a few KB; anything past this is not one, and is not read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Real config nests about 6 levels; bounding it keeps every later walk off the stack limit. */
export const MAX_CONFIG_DEPTH = 64;

export type FileFault = {
  code: "unreadable_file" | "unsafe_file";
  message: string;
  hint: string;
};

export type FileRead =
  | { ok: true; text: string; mode: number; stamp: FileStamp }
  | { ok: false; missing: true }
  | { ok: false; missing: false; fault: FileFault };

const fault = (code: FileFault["code"], message: string, hint: string): FileRead => ({
  ok: false,
  missing: false,
  fault: { code, message, hint },
});

/**
 * Synchronous on purpose: a config of 1,000 user files read through fs/promises spent ~0.3 s in
 * thread-pool round trips (open, fstat, read, close per file). The file is opened without
 * blocking and checked on its descriptor, so a FIFO is refused, never waited on.
 */
export async function readConfigText(file: string): Promise<FileRead> {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return await statFault(file, errno(e));
  }
  let bytes: Buffer;
  let mode: number;
  let stamp: FileStamp;
  try {
    const st = fstatSync(fd);
    mode = st.mode;
    stamp = fileStamp(st);
    if (st.isDirectory()) {
      return fault(
        "unreadable_file",
        "is a directory, not a file; it was skipped",
        `move the directory out of the config tree, or rename it so it does not look like a config file`,
      );
    }
    if (!st.isFile()) {
      return fault(
        "unreadable_file",
        "is not a regular file (a FIFO, socket or device); it was skipped",
        "replace it with a regular file",
      );
    }
    if (st.size > MAX_CONFIG_BYTES) return tooLarge(st.size);
    try {
      bytes = readFileSync(fd);
    } catch (e) {
      return await statFault(file, errno(e));
    }
  } finally {
    closeSync(fd);
  }
  // The file may have grown between stat and read.
  if (bytes.length > MAX_CONFIG_BYTES) return tooLarge(bytes.length);
  try {
    return {
      ok: true,
      text: STRICT_UTF8.decode(bytes),
      mode,
      stamp,
    };
  } catch {
    const offset = invalidUtf8Offset(bytes);
    const line = bytes.subarray(0, Math.max(offset, 0)).filter((b) => b === 0x0a).length + 1;
    return fault(
      "unsafe_file",
      `is not UTF-8 text: invalid byte sequence at byte offset ${offset} (line ${line}); it was skipped`,
      "save the file as UTF-8 (it may be UTF-16 or Latin-1, or not a text file at all)",
    );
  }
}

/**
 * What changes when a file does: its identity, size, mode and both times (ctime moves on any
 * write or chmod, and cannot be set back). The config snapshot (snapshot.ts) compares these.
 */
export type FileStamp = readonly [
  dev: number,
  ino: number,
  size: number,
  mode: number,
  mtimeMs: number,
  ctimeMs: number,
];

export function fileStamp(st: Stats): FileStamp {
  return [st.dev, st.ino, st.size, st.mode, st.mtimeMs, st.ctimeMs];
}

/** Numbers compared as they are: no string per file (1,000 files are checked on a cache hit). */
export function sameStamp(st: Stats, stamp: FileStamp): boolean {
  return (
    st.dev === stamp[0] &&
    st.ino === stamp[1] &&
    st.size === stamp[2] &&
    st.mode === stamp[3] &&
    st.mtimeMs === stamp[4] &&
    st.ctimeMs === stamp[5]
  );
}

function tooLarge(size: number): FileRead {
  return fault(
    "unsafe_file",
    `is ${size} bytes, over the ${MAX_CONFIG_BYTES}-byte (1 MiB) limit for a config file; it was not read`,
    "config files are a few KB: check that this is the file you meant, and split or trim it",
  );
}

async function statFault(file: string, code: string | undefined): Promise<FileRead> {
  switch (code) {
    case "ENOENT": {
      // Listed in its directory yet missing: a symbolic link to nothing. (Synchronous like the
      // read: every run without a .env comes here.)
      let link = false;
      try {
        link = lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
      } catch {
        // Not even lstat can look: missing, as far as this read goes.
      }
      if (!link) return { ok: false, missing: true };
      return fault(
        "unreadable_file",
        "is a symbolic link to a file that does not exist; it was skipped",
        `point the link at an existing file (ls -l ${file}), or remove it`,
      );
    }
    case "ELOOP":
      return fault(
        "unreadable_file",
        "is a symbolic link loop (it leads back to itself); it was skipped",
        `replace the link with the file it should point to, or remove it (ls -l ${file})`,
      );
    case "EISDIR":
      return fault(
        "unreadable_file",
        "is a directory, not a file; it was skipped",
        "move the directory out of the config tree",
      );
    case "EACCES":
    case "EPERM":
      return fault(
        "unreadable_file",
        `cannot be read (${code}); it was skipped`,
        `make it readable by the user running show-user-balances (chmod 600 ${file}, and check its owner)`,
      );
    default:
      return fault(
        "unreadable_file",
        `cannot be read (${code ?? "error"}); it was skipped`,
        `check that ${file} is a regular file on a readable file system`,
      );
  }
}

/** Offset of the first byte that starts an invalid UTF-8 sequence, or -1 when all is valid. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    let extra: number;
    let min: number;
    if (lead >= 0xc2 && lead <= 0xdf) [extra, min] = [1, 0x80];
    else if (lead >= 0xe0 && lead <= 0xef) [extra, min] = [2, 0x800];
    else if (lead >= 0xf0 && lead <= 0xf4) [extra, min] = [3, 0x10000];
    else return i;
    if (i + extra >= bytes.length) return i;
    let cp = lead & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const c = bytes[i + k] as number;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += extra + 1;
  }
  return -1;
}

/** Whether arrays/objects nest deeper than `max`; iterative, so any depth is safe to measure. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, depth] = item;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

function errno(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}
