import { hash } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AccountBalance } from "../brokers/types.js";
import { bigintAsString } from "../money.js";
import { readCacheEntry } from "./cache-entry.js";
import type { CacheEntry } from "./entry-schema.js";
import { acquireLock, ignoreFailure, PROCESS_NONCE, type ReleaseLock } from "./file-lock.js";
import type { BalanceStore } from "./store.js";

/** Names this process's segments apart from other processes' (and hosts'). */
const TEMP_TAG = `${process.pid}.${PROCESS_NONCE}`;
let tempCount = 0;

/** Bumped whenever the entry shape changes; entries of another format are ignored and rewritten. */
export const CACHE_FORMAT = 2;

export type { CacheEntry } from "./entry-schema.js";

/** An entry as stored text: cents (bigint) as decimal strings, which JSON keeps exactly. */
export function serializeCacheEntry(entry: CacheEntry): string {
  return JSON.stringify(entry, bigintAsString);
}

/** A stored entry, or null when it is corrupt, truncated or of another format. */
export function parseCacheEntry(text: string): CacheEntry | null {
  try {
    return readCacheEntry(JSON.parse(text), CACHE_FORMAT);
  } catch {
    return null;
  }
}

/** What identifies one cached figure. The API key only ever enters as its fingerprint. */
export interface CacheKeyParts {
  account: string;
  broker: string;
  /** keyFingerprint(apiKey). */
  keyFingerprint: string;
  apiUrl: string | null;
  valuation: string;
}

export function cacheKey(parts: CacheKeyParts): string {
  const identity = `${parts.account}\n${parts.keyFingerprint}\n${parts.apiUrl ?? ""}\n${parts.valuation}`;
  return `${parts.broker}-${hash("sha256", identity, "hex").slice(0, 24)}`;
}

/** A segment: the entries one flush wrote, or a compaction merged. */
const SEGMENT_NAME = /^seg-\d+-[0-9a-f.]+\.json$/;
/** Entry files of the cache's first on-disk form (one per key), removed by the next flush. */
const LEGACY_ENTRY_NAME = /^[a-z0-9]+-[0-9a-f]{24}(\.refused)?\.json$/;
/** Entries are written at most this often; what arrives meanwhile goes in the same segment. */
const FLUSH_SPACING_MS = 10;
/**
 * More segments than this and the next flush merges them: a hit reads every segment (1,000
 * accounts from 21 files took ~1.5 ms more than from 2; a cold run of 1,000 now leaves 2).
 */
const COMPACT_AT = 8;
/** Older entries are dropped when merged: past any stale limit (at most 365 days). */
const MAX_ENTRY_AGE_MS = 400 * 86_400_000;
/** A directory time this far before a listing cannot hide a change made after it. */
const MTIME_GRANULARITY_MS = 20;

interface Slot {
  /** As stored; checked on first read. */
  raw: unknown;
  storedAt: number;
  checked?: CacheEntry | null;
  segment: string;
}

interface PendingFlush {
  entries: Map<string, CacheEntry>;
  done: Promise<void>;
}

const storedAtOf = (raw: unknown) => {
  const at = (raw as { storedAt?: unknown } | null)?.storedAt;
  return typeof at === "number" && Number.isFinite(at) ? at : Number.NEGATIVE_INFINITY;
};

/**
 * The on-disk balance cache, private to the user (directory 0700, files 0600): balances and
 * statuses only, never a credential. Entries are kept in segment files, each written whole
 * (temp file + rename) and never changed: a flush writes the entries that arrived within
 * FLUSH_SPACING_MS as one segment, and past COMPACT_AT segments a flush merges them (newest entry
 * per key) and removes what it merged. A run reads the directory once and each segment once, and
 * again only for what it must see fresh (after taking an account's lock).
 *
 * Why not one file per entry (the first form): creating a file costs 0.1-0.6 ms of kernel time on
 * ext4 here, one per cold account (10,000 cold accounts took 15.2 s that way, 9.1 s in
 * segments), and a hit read one file per account. A write resolves once its segment is on disk,
 * so a lock released after it (single flight) lets the next run find the entry.
 */
export class DiskBalanceCache implements BalanceStore {
  private readonly warned = new Set<string>();
  private ready = false;
  private readonly slots = new Map<string, Slot>();
  /** Segments loaded (name -> entries in it), or null for one that would not parse. */
  private readonly segments = new Map<string, string[] | null>();
  private listed: { at: number; mtimeMs: number } | null = null;
  private pending: PendingFlush | null = null;
  /** First-form entry files, corrupt segments and segment temp files, for the next flush. */
  private readonly leftovers = new Set<string>();
  /** Segments of a shape this version does not read: kept as they are. */
  private readonly foreign = new Set<string>();
  private lastFlushAt = 0;

  constructor(
    readonly dir: string,
    private readonly onWarning: (message: string) => void = () => undefined,
  ) {}

  /**
   * File operations here are synchronous, like the reads. Through fs/promises each is a
   * thread-pool round trip and concurrent creates contend for the directory: a cold run cost
   * 2.1-2.5 ms of CPU per account that way, 1.4 ms synchronously (1,000 accounts, 0 latency).
   */
  private ensureDir(): void {
    if (this.ready) return;
    // Directories we create are 0700; an existing directory given with --cache-dir keeps its
    // mode (never chmod a directory the user chose), and every file in it is 0600.
    mkdirSync(join(this.dir, "locks"), { recursive: true, mode: 0o700 });
    this.ready = true;
  }

  /** `fresh`: also what other runs wrote since this one last looked (after taking a lock). */
  async read(key: string, options: { fresh?: boolean } = {}): Promise<CacheEntry | null> {
    if (options.fresh) this.refresh();
    return this.readNow(key);
  }

  readNow(key: string): CacheEntry | null {
    if (!this.listed) this.refresh();
    const slot = this.slots.get(key);
    if (!slot) return null;
    if (slot.checked === undefined) {
      slot.checked = readCacheEntry(slot.raw, CACHE_FORMAT);
      if (!slot.checked) {
        this.warnOnce(
          key,
          `ignoring cache entry ${key} in ${join(this.dir, slot.segment)} (corrupt or from an older version); it will be rewritten`,
        );
      }
    }
    return slot.checked;
  }

  /** Loads the segments this run has not seen; skipped when the directory has not changed. */
  private refresh(): void {
    const at = Date.now();
    let stat: ReturnType<typeof statSync>;
    let names: string[];
    try {
      stat = statSync(this.dir, { throwIfNoEntry: false });
      if (!stat) return;
      const listed = this.listed;
      if (listed && stat.mtimeMs === listed.mtimeMs) {
        if (listed.at - stat.mtimeMs > MTIME_GRANULARITY_MS) return;
      }
      names = readdirSync(this.dir);
    } catch (error) {
      this.warnOnce(
        "dir",
        `cannot read the cache directory ${this.dir}: ${(error as Error).message}; fetching live`,
      );
      return;
    }
    const present = new Set(names);
    // Merged away by another run: its entries are in the segment that run wrote.
    for (const name of this.segments.keys()) if (!present.has(name)) this.segments.delete(name);
    for (const name of names) {
      if (SEGMENT_NAME.test(name)) {
        if (!this.segments.has(name) && !this.foreign.has(name)) this.load(name);
      } else if (
        LEGACY_ENTRY_NAME.test(name) ||
        (name.startsWith("seg-") && name.endsWith(".tmp"))
      ) {
        this.leftovers.add(name);
      }
    }
    this.listed = { at, mtimeMs: stat.mtimeMs };
  }

  private load(name: string): void {
    let value: { entries?: unknown } | null;
    try {
      value = JSON.parse(readFileSync(join(this.dir, name), "utf8")) as { entries?: unknown };
    } catch (error) {
      // Merged away by another run between the listing and the read: its entries are in the
      // segment that run wrote, which the next listing finds.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      this.segments.set(name, null);
      this.leftovers.add(name);
      this.warnOnce(
        name,
        `ignoring cache segment ${join(this.dir, name)} (corrupt): its accounts are fetched live, and it will be removed`,
      );
      return;
    }
    if (!value || typeof value.entries !== "object" || value.entries === null) {
      // Whole JSON of another shape (a later version's?): left alone, neither read nor merged.
      this.foreign.add(name);
      this.warnOnce(
        name,
        `ignoring cache segment ${join(this.dir, name)} (not a form this version reads)`,
      );
      return;
    }
    const entries = value.entries as Record<string, unknown>;
    const keys = Object.keys(entries);
    for (const key of keys) {
      const raw = entries[key];
      const storedAt = storedAtOf(raw);
      const slot = this.slots.get(key);
      // Newest wins; of two as new, the later segment (names sort by time).
      if (
        !slot ||
        storedAt > slot.storedAt ||
        (storedAt === slot.storedAt && name > slot.segment)
      ) {
        this.slots.set(key, { raw, storedAt, segment: name });
      }
    }
    this.segments.set(name, keys);
  }

  /** Resolves once the entry is in a segment on disk (or its write failed, with a warning). */
  async write(key: string, balance: AccountBalance, storedAt = Date.now()): Promise<void> {
    const entry: CacheEntry = { format: CACHE_FORMAT, storedAt, balance };
    const slot = this.slots.get(key);
    if (!slot || storedAt >= slot.storedAt) {
      this.slots.set(key, { raw: entry, storedAt, checked: entry, segment: "" });
    }
    if (!this.pending) {
      const entries = new Map<string, CacheEntry>();
      const wait = Math.max(0, this.lastFlushAt + FLUSH_SPACING_MS - Date.now());
      const done = new Promise<void>((resolve) => {
        const flush = () => {
          this.pending = null;
          this.flush(entries);
          resolve();
        };
        if (wait > 0) setTimeout(flush, wait);
        else setImmediate(flush);
      });
      this.pending = { entries, done };
    }
    this.pending.entries.set(key, entry);
    return this.pending.done;
  }

  private flush(entries: Map<string, CacheEntry>): void {
    this.lastFlushAt = Date.now();
    try {
      this.ensureDir();
      if (!this.listed) this.refresh();
      const name = this.writeSegment(Object.fromEntries(entries));
      this.segments.set(name, [...entries.keys()]);
      for (const key of entries.keys()) {
        const slot = this.slots.get(key);
        if (slot && slot.segment === "") slot.segment = name;
      }
    } catch (error) {
      this.warnOnce(
        "write",
        `cannot write cache entries in ${this.dir}: ${(error as Error).message}`,
      );
      return;
    }
    this.removeLeftovers();
    if (this.segments.size > COMPACT_AT) this.compact();
  }

  /**
   * First-form entries (segments hold what is fresh now), corrupt segments, and temp files a
   * crashed writer left (an hour old: a live one is renamed within milliseconds).
   */
  private removeLeftovers(): void {
    for (const name of this.leftovers) {
      const file = join(this.dir, name);
      const age = Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (!name.endsWith(".tmp") || age > 3600_000) ignoreFailure(() => unlinkSync(file));
      if (this.segments.get(name) === null) this.segments.delete(name);
    }
    this.leftovers.clear();
  }

  /** Writes a segment whole under a new name; the name is returned. */
  private writeSegment(entries: Record<string, unknown>): string {
    tempCount += 1;
    const name = `seg-${Date.now()}-${TEMP_TAG}.${tempCount}.json`;
    const target = join(this.dir, name);
    const temp = `${target}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify({ entries }, bigintAsString), { mode: 0o600 });
      renameSync(temp, target);
    } catch (error) {
      ignoreFailure(() => unlinkSync(temp));
      throw error;
    }
    return name;
  }

  /**
   * Merges the segments into one, under a lock so that two runs do not both do it: the newest
   * entry per key, none older than MAX_ENTRY_AGE_MS. The merged segment is written before the
   * ones merged are removed, so a reader finds every entry in one or the other. When one segment
   * holds more than twice the others together, only the others are merged: a merge costs what
   * changed since, not the whole cache.
   */
  private compact(): void {
    const lock = join(this.dir, "locks", "segments.lock");
    void acquireLock(lock, { waitMs: 0, leaseMs: 60_000 }).then(
      (release) => {
        if (!release) return;
        try {
          this.refresh();
          this.mergeSegments();
        } catch (error) {
          this.warnOnce(
            "merge",
            `cannot merge cache segments in ${this.dir}: ${(error as Error).message}`,
          );
        } finally {
          void release();
        }
      },
      () => undefined,
    );
  }

  private mergeSegments(): void {
    const count = (keys: string[] | null) => keys?.length ?? 0;
    const sized = [...this.segments].sort((a, b) => count(b[1]) - count(a[1]));
    const largest = count(sized[0]?.[1] ?? null);
    const others = sized.slice(1).reduce((sum, [, keys]) => sum + count(keys), 0);
    const chosen = new Set((largest > 2 * others ? sized.slice(1) : sized).map(([name]) => name));
    if (chosen.size < 2) return;
    // Each key of a merged segment, at the newest entry known for it, unless that entry lives in
    // a segment that stays (then the merged ones' copies are older and go).
    const merged: Record<string, unknown> = {};
    const cutoff = Date.now() - MAX_ENTRY_AGE_MS;
    for (const name of chosen) {
      for (const key of this.segments.get(name) ?? []) {
        const slot = this.slots.get(key);
        if (!slot || slot.storedAt < cutoff) continue;
        if (this.segments.has(slot.segment) && !chosen.has(slot.segment)) continue;
        merged[key] = slot.raw;
      }
    }
    const name = this.writeSegment(merged);
    for (const old of chosen) {
      ignoreFailure(() => unlinkSync(join(this.dir, old)));
      this.segments.delete(old);
    }
    const keys = Object.keys(merged);
    this.segments.set(name, keys);
    for (const key of keys) {
      const slot = this.slots.get(key);
      if (slot) slot.segment = name;
    }
  }

  /**
   * Cross-process lock on one key (single flight, Kraken lanes). Null when the wait timed out.
   * A cache directory that cannot be written costs the coordination, not the report: one
   * warning, then the run goes on unlocked.
   */
  async lock(name: string, waitMs: number, leaseMs: number): Promise<ReleaseLock | null> {
    try {
      this.ensureDir();
      return await acquireLock(join(this.dir, "locks", `${name}.lock`), { waitMs, leaseMs });
    } catch (error) {
      this.warnOnce(
        "locks",
        `cannot lock in ${this.dir} (${(error as Error).message}); runs are not coordinated`,
      );
      return null;
    }
  }

  /** A small shared value beside the locks (the last Kraken request start per key). */
  async readMark(name: string): Promise<number> {
    try {
      return Number(readFileSync(join(this.dir, "locks", `${name}.last`), "utf8")) || 0;
    } catch {
      return 0;
    }
  }

  /**
   * Written through the thread pool, unlike the cache's other files: the Kraken lane sends the
   * next key's request meanwhile (creating the file was ~0.3 ms of blocked time per key).
   */
  async writeMark(name: string, value: number): Promise<void> {
    try {
      this.ensureDir();
      await writeFile(join(this.dir, "locks", `${name}.last`), String(value), { mode: 0o600 });
    } catch {
      // Reported by lock(); the in-process spacing still holds.
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.onWarning(message);
  }
}
