/**
 * The balance history: every live fetch (time, account, broker, USD cents, per-asset amounts,
 * status) and the alert state, in one SQLite file under the state directory. Cents are stored as
 * decimal text (schema 2), so figures past 2^53 (and past SQLite's 64-bit integers) stay exact.
 *
 * Why SQLite: several cron runs, a watch loop and a terminal run may write at once, and a run can
 * be killed mid-write. SQLite in WAL mode gives atomic transactions (a killed run leaves the last
 * committed state), readers that never block the writer, and a busy timeout that queues writers
 * instead of failing them. Alert state lives in the same file so "fire once at the transition"
 * is decided inside the same transaction that records the figure.
 */
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import type { AssetBalance } from "../brokers/types.js";
import { bigintAsString, type Cents } from "../money.js";
import { openSqlite, type SqliteDatabase, type SqliteStatement } from "./sqlite.js";

export const HISTORY_FILE = "history.sqlite";
export const SCHEMA_VERSION = 2;
/** How long a writer waits for another writer's transaction before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

/** One series: an account's broker figure, or (broker null) the account's total. */
export interface SeriesKey {
  kind: "platform" | "user";
  /** "platform" or the user id. */
  account: string;
  broker: string | null;
}

export interface Sample extends SeriesKey {
  /** Epoch milliseconds. */
  at: number;
  /** A balance status, or "partial" for a total with a failed broker. */
  status: string;
  /** USD cents; null when the fetch failed (never a zero). */
  cents: Cents | null;
  valuation: string | null;
  assets: Record<string, AssetBalance> | null;
}

export type AlertType = "BALANCE_LOW" | "BALANCE_DROP";

/** An alert whose condition holds: when it started and when it was last notified. */
export interface ActiveAlert {
  type: AlertType;
  key: SeriesKey;
  since: number;
  notifiedAt: number;
}

export interface HistoryQuery {
  since: number;
  /** Inclusive end (ms); no end when absent. */
  until?: number;
  users?: readonly string[];
  brokers?: readonly string[];
  /** Leave out totals (broker null). */
  brokersOnly?: boolean;
}

export class HistoryError extends Error {
  constructor(
    readonly code: "newer_schema" | "unusable" | "corrupt" | "no_sqlite" | "busy",
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = "HistoryError";
  }
}

/**
 * Any failure to open or use the history file, as a HistoryError that names the file and the
 * fix: a corrupt file (move it aside), a directory that cannot be written, no SQLite driver
 * (Node.js 20 without the optional libsql package), another writer holding the file past the
 * busy timeout.
 */
export function historyError(error: unknown, file: string): HistoryError {
  if (error instanceof HistoryError) return error;
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : String(error);
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return new HistoryError(
      "corrupt",
      `${file} is not a usable history database (${message})`,
      `move it aside (mv ${file} ${file}.bad); the next run creates a new one`,
    );
  }
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return new HistoryError(
      "busy",
      `${file} was held by another process for more than ${BUSY_TIMEOUT_MS / 1000} s`,
      "run again; if it persists, look for a stuck show-user-balances process",
    );
  }
  if (code === "SQLITE_DRIVER_MISSING") {
    return new HistoryError(
      "no_sqlite",
      `${message}, so ${file} cannot be used`,
      "use Node.js 22.13 or later (node:sqlite is built in), or reinstall so the optional libsql package is present (npm ci; not --omit=optional); --no-history runs without history and alerts",
    );
  }
  return new HistoryError(
    "unusable",
    `cannot use ${file} (${message})`,
    "make the state directory writable, or point --state-dir at one that is",
  );
}

/** Rows per insert: 8 values each stays under SQLite's oldest limit of 999 per statement. */
const RECORD_BATCH = 124;

/** Totals are stored under broker "" so the series key can be a primary key. */
const TOTAL = "";
const brokerColumn = (broker: string | null) => broker ?? TOTAL;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS samples (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     account TEXT NOT NULL,
     broker TEXT NOT NULL,
     status TEXT NOT NULL,
     usd_cents INTEGER,
     valuation TEXT,
     assets TEXT
   );
   CREATE INDEX IF NOT EXISTS samples_series ON samples (kind, account, broker, at);
   CREATE INDEX IF NOT EXISTS samples_at ON samples (at);
   CREATE TABLE IF NOT EXISTS alert_state (
     type TEXT NOT NULL,
     kind TEXT NOT NULL,
     account TEXT NOT NULL,
     broker TEXT NOT NULL,
     since INTEGER NOT NULL,
     notified_at INTEGER NOT NULL,
     PRIMARY KEY (type, kind, account, broker)
   );`,
  // 2: cents as decimal text. An INTEGER column turns a value past 2^63 into a REAL (and the
  // drivers read integers past 2^53 as inexact numbers or refuse them); TEXT keeps every digit.
  `ALTER TABLE samples ADD COLUMN cents TEXT;
   UPDATE samples SET cents = CAST(usd_cents AS TEXT) WHERE usd_cents IS NOT NULL;`,
];

interface SampleRow {
  at: number;
  kind: "platform" | "user";
  account: string;
  broker: string;
  status: string;
  cents: string | null;
  valuation: string | null;
  assets: string | null;
}

/** Assets as stored: cents as decimal strings (JSON has no bigint). */
function assetsToText(assets: Record<string, AssetBalance>): string {
  return JSON.stringify(assets, bigintAsString);
}

/** Reads stored assets back; cents written by schema 1 are numbers, by schema 2 strings. */
function assetsFromText(text: string): Record<string, AssetBalance> {
  const parsed = JSON.parse(text) as Record<
    string,
    Omit<AssetBalance, "usdCents"> & { usdCents: unknown }
  >;
  const out: Record<string, AssetBalance> = {};
  for (const [code, asset] of Object.entries(parsed)) {
    const cents = asset.usdCents;
    out[code] = {
      ...asset,
      usdCents:
        (typeof cents === "string" && /^-?\d+$/.test(cents)) ||
        (typeof cents === "number" && Number.isSafeInteger(cents))
          ? BigInt(cents)
          : null,
    };
  }
  return out;
}

/** A stored figure; anything but integer digits means the file was damaged. */
function centsOf(text: string | null): Cents | null {
  if (text === null) return null;
  if (!/^-?\d+$/.test(text)) {
    throw Object.assign(new Error(`a stored figure is not a number: ${text.slice(0, 20)}`), {
      code: "SQLITE_CORRUPT",
    });
  }
  return BigInt(text);
}

interface AlertRow {
  type: AlertType;
  kind: "platform" | "user";
  account: string;
  broker: string;
  since: number;
  notified_at: number;
}

export class HistoryStore {
  private constructor(
    private readonly db: SqliteDatabase,
    readonly file: string,
  ) {}

  /**
   * Opens (and creates, unless `mustExist`) `<dir>/history.sqlite`: directory 0700, file 0600
   * (SQLite gives its -wal and -shm files the same mode). Returns null when `mustExist` and there
   * is no file yet.
   */
  static open(dir: string, options: { mustExist?: boolean } = {}): HistoryStore | null {
    const file = join(dir, HISTORY_FILE);
    if (options.mustExist && !existsSync(file)) return null;
    let db: SqliteDatabase | undefined;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      closeSync(openSync(file, "a", 0o600));
      db = openSqlite(file);
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma("journal_mode = WAL");
      // Under WAL, NORMAL never corrupts on a crash; a power cut may lose the last commit only.
      db.pragma("synchronous = NORMAL");
      migrate(db, file);
    } catch (error) {
      db?.close();
      throw historyError(error, file);
    }
    return new HistoryStore(db, file);
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE): all of it is committed or none. */
  transaction<R>(fn: () => R): R {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Adds samples; returns how many were new. A sample whose series already has one at the same
   * time with the same status is the same fetch seen again (a figure is keyed on its series and
   * its fetched_at), so it is not stored twice whoever offers it.
   *
   * Up to RECORD_BATCH rows per statement: one statement per row cost ~25 us in the driver, and
   * a run records every account and every total (1,000 accounts: ~50 ms of a cold run).
   */
  record(samples: readonly Sample[]): number {
    // The statement reads the table as it was before it: a sample offered twice in one call
    // would be stored twice, so only the first of each is sent.
    const seen = new Set<string>();
    const rows: unknown[][] = [];
    for (const s of samples) {
      const broker = brokerColumn(s.broker);
      const key = `${s.kind}\0${s.account}\0${broker}\0${s.at}\0${s.status}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push([
        s.at,
        s.kind,
        s.account,
        broker,
        s.status,
        s.cents === null ? null : s.cents.toString(),
        s.valuation,
        s.assets ? assetsToText(s.assets) : null,
      ]);
    }
    let added = 0;
    for (let from = 0; from < rows.length; from += RECORD_BATCH) {
      const batch = rows.slice(from, from + RECORD_BATCH);
      added += this.insertSamples(batch.length).run(...batch.flat()).changes;
    }
    return added;
  }

  private readonly inserts = new Map<number, SqliteStatement>();

  /** `INSERT ... SELECT FROM (VALUES ...)` of `count` rows, each unless already stored. */
  private insertSamples(count: number): SqliteStatement {
    let statement = this.inserts.get(count);
    if (!statement) {
      const values = Array.from({ length: count }, () => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
      statement = this.db.prepare(
        `INSERT INTO samples (at, kind, account, broker, status, cents, valuation, assets)
         SELECT * FROM (VALUES ${values}) AS v
         WHERE NOT EXISTS (SELECT 1 FROM samples
           WHERE kind = v.column2 AND account = v.column3 AND broker = v.column4
             AND at = v.column1 AND status = v.column5)`,
      );
      this.inserts.set(count, statement);
    }
    return statement;
  }

  /**
   * The series' latest recorded figure (failed fetches, which have none, are skipped); with
   * `before` (ms), the latest one recorded strictly before that time.
   */
  lastFigure(key: SeriesKey, before = Number.MAX_SAFE_INTEGER): Cents | null {
    const row = this.db
      .prepare(
        `SELECT cents FROM samples
         WHERE kind = ? AND account = ? AND broker = ? AND at < ? AND cents IS NOT NULL
         ORDER BY at DESC, id DESC LIMIT 1`,
      )
      .get(key.kind, key.account, brokerColumn(key.broker), before) as
      | { cents: string }
      | undefined;
    return centsOf(row?.cents ?? null);
  }

  /** Whether the series has a figure recorded after `at` (ms): a figure of `at` is outdated. */
  hasFigureAfter(key: SeriesKey, at: number): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM samples
           WHERE kind = ? AND account = ? AND broker = ? AND at > ? AND cents IS NOT NULL LIMIT 1`,
        )
        .get(key.kind, key.account, brokerColumn(key.broker), at) !== undefined
    );
  }

  /**
   * The series' highest recorded figure from `since` (ms) up to, not including, `before`, or
   * null. Compared as bigints here: SQL's MAX over text would compare digits as strings.
   */
  highestSince(key: SeriesKey, since: number, before = Number.MAX_SAFE_INTEGER): Cents | null {
    const rows = this.db
      .prepare(
        `SELECT cents FROM samples
         WHERE kind = ? AND account = ? AND broker = ? AND at >= ? AND at < ?
           AND cents IS NOT NULL`,
      )
      .all(key.kind, key.account, brokerColumn(key.broker), since, before) as {
      cents: string;
    }[];
    let highest: Cents | null = null;
    for (const row of rows) {
      const cents = BigInt(row.cents);
      if (highest === null || cents > highest) highest = cents;
    }
    return highest;
  }

  activeAlerts(): ActiveAlert[] {
    const rows = this.db.prepare("SELECT * FROM alert_state").all() as AlertRow[];
    return rows.map((r) => ({
      type: r.type,
      key: { kind: r.kind, account: r.account, broker: r.broker === TOTAL ? null : r.broker },
      since: r.since,
      notifiedAt: r.notified_at,
    }));
  }

  saveAlerts(
    upsert: readonly ActiveAlert[],
    clear: readonly Omit<ActiveAlert, "since" | "notifiedAt">[],
  ): void {
    const put = this.db.prepare(
      `INSERT INTO alert_state (type, kind, account, broker, since, notified_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (type, kind, account, broker)
       DO UPDATE SET since = excluded.since, notified_at = excluded.notified_at`,
    );
    const del = this.db.prepare(
      "DELETE FROM alert_state WHERE type = ? AND kind = ? AND account = ? AND broker = ?",
    );
    for (const a of upsert) {
      put.run(a.type, a.key.kind, a.key.account, brokerColumn(a.key.broker), a.since, a.notifiedAt);
    }
    for (const a of clear) del.run(a.type, a.key.kind, a.key.account, brokerColumn(a.key.broker));
  }

  /** Deletes samples older than `before` (ms); returns how many. */
  prune(before: number): number {
    return this.db.prepare("DELETE FROM samples WHERE at < ?").run(before).changes;
  }

  /** Samples since `query.since`, oldest first, grouped by series order (platform, then users). */
  query(query: HistoryQuery): Sample[] {
    const where = ["at >= ?"];
    const params: unknown[] = [query.since];
    if (query.until !== undefined) {
      where.push("at <= ?");
      params.push(query.until);
    }
    if (query.users?.length) {
      where.push(`kind = 'user' AND account IN (${query.users.map(() => "?").join(", ")})`);
      params.push(...query.users);
    }
    if (query.brokers?.length) {
      where.push(`broker IN (${query.brokers.map(() => "?").join(", ")})`);
      params.push(...query.brokers.map((b) => b.toLowerCase()));
    } else if (query.brokersOnly) {
      where.push("broker <> ''");
    }
    const rows = this.db
      .prepare(
        `SELECT at, kind, account, broker, status, cents, valuation, assets FROM samples
         WHERE ${where.join(" AND ")}
         ORDER BY kind = 'user', account, broker = '', broker, at, id`,
      )
      .all(...params) as SampleRow[];
    return rows.map((r) => ({
      at: r.at,
      kind: r.kind,
      account: r.account,
      broker: r.broker === TOTAL ? null : r.broker,
      status: r.status,
      cents: centsOf(r.cents),
      valuation: r.valuation,
      assets: r.assets ? assetsFromText(r.assets) : null,
    }));
  }

  /** Every series ever recorded (still in the file), for telling a typo from an empty range. */
  recordedSeries(): SeriesKey[] {
    const rows = this.db
      .prepare("SELECT DISTINCT kind, account, broker FROM samples")
      .all() as Pick<SampleRow, "kind" | "account" | "broker">[];
    return rows.map((r) => ({
      kind: r.kind,
      account: r.account,
      broker: r.broker === TOTAL ? null : r.broker,
    }));
  }

  close(): void {
    this.db.close();
  }
}

/** Brings the file to SCHEMA_VERSION (PRAGMA user_version), one migration per version. */
function migrate(db: SqliteDatabase, file: string): void {
  const current = () => db.pragma("user_version", { simple: true }) as number;
  if (current() === SCHEMA_VERSION) return;
  db.transaction(() => {
    const version = current();
    if (version > SCHEMA_VERSION) {
      throw new HistoryError(
        "newer_schema",
        `${file} has history schema ${version}; this version of show-user-balances reads up to ${SCHEMA_VERSION}`,
        "upgrade show-user-balances, or point --state-dir at another directory",
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
