/**
 * The SQLite connection the history store uses, on whichever driver this Node.js has:
 * - `node:sqlite`, built into Node.js 22.13+ (and 23.4+): nothing to install or compile;
 * - else the optional `libsql` package (Node.js 20): a prebuilt Node-API binary, so no install
 *   script and no rebuild when Node.js changes.
 * Both are SQLite itself on the real file with its POSIX locks, WAL and busy timeout, so
 * processes on either driver share one history file safely. Loaded on first use: a run that
 * records nothing (every figure served from the cache) loads neither.
 *
 * Every error leaves here with SQLite's own code (`SQLITE_BUSY`, `SQLITE_NOTADB`, ...) whichever
 * driver raised it; a driver that cannot be loaded at all is `SQLITE_DRIVER_MISSING`.
 */
import { createRequire } from "node:module";

export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqliteTransaction<A extends unknown[], R> {
  (...args: A): R;
  /** BEGIN IMMEDIATE: takes the write lock up front, so two writers never deadlock on upgrade. */
  immediate(...args: A): R;
}

export interface SqliteDatabase {
  /** `PRAGMA <source>`; with `simple`, the first column of the first row. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): SqliteTransaction<A, R>;
  close(): void;
}

export type SqliteDriverName = "node:sqlite" | "libsql";

/** What both drivers offer alike; the rest (pragma, transactions) is built on it below. */
interface DriverStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface DriverDatabase {
  prepare(sql: string): DriverStatement;
  exec(sql: string): void;
  close(): void;
}
type Driver = { name: SqliteDriverName; open(file: string): DriverDatabase };

/** SQLite's primary result codes that the history store tells apart (sqlite.org/rescode.html). */
const RESULT_CODES: Record<number, string> = {
  1: "SQLITE_ERROR",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  8: "SQLITE_READONLY",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  26: "SQLITE_NOTADB",
};

/**
 * node:sqlite reports every failure as ERR_SQLITE_ERROR with the numeric result code in
 * `errcode`; libsql already uses SQLite's names. Either way the caller sees `SQLITE_<NAME>`.
 */
function withSqliteCode(error: unknown): unknown {
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e?.code !== "ERR_SQLITE_ERROR" || typeof e.errcode !== "number") return error;
  const code = RESULT_CODES[e.errcode & 0xff] ?? `SQLITE_ERROR_${e.errcode}`;
  return Object.assign(new Error(String(e.message), { cause: error }), { code });
}

function guarded<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw withSqliteCode(error);
  }
}

const requireModule = createRequire(import.meta.url);

/**
 * Node.js 22 prints "ExperimentalWarning: SQLite is an experimental feature" on stderr when
 * node:sqlite loads (24 no longer does); the report's stderr is for the report's diagnostics.
 */
function requireQuietly(id: string): unknown {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    if (/^SQLite is an experimental feature/.test(text)) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return requireModule(id);
  } finally {
    process.emitWarning = emitWarning;
  }
}

function loadDriver(): Driver {
  let builtinFailure: unknown;
  try {
    const { DatabaseSync } = requireQuietly("node:sqlite") as {
      DatabaseSync: new (file: string) => DriverDatabase;
    };
    return { name: "node:sqlite", open: (file) => new DatabaseSync(file) };
  } catch (error) {
    // Absent before Node.js 22.5, behind --experimental-sqlite before 22.13 and 23.4.
    builtinFailure = error;
  }
  try {
    const Database = requireModule("libsql") as new (file: string) => DriverDatabase;
    return { name: "libsql", open: (file) => withoutMetadata(new Database(file)) };
  } catch (error) {
    const first = (e: unknown) => String((e as Error)?.message ?? e).split("\n")[0];
    throw Object.assign(
      new Error(
        `no SQLite driver: node:sqlite is not available in Node.js ${process.versions.node} (${first(builtinFailure)}) and the libsql package did not load (${first(error)})`,
      ),
      { code: "SQLITE_DRIVER_MISSING" },
    );
  }
}

/** libsql adds a `_metadata` key (timings) to every row: rows here are the columns alone. */
function withoutMetadata(db: DriverDatabase): DriverDatabase {
  const columns = (row: unknown) => {
    if (row === null || typeof row !== "object" || !("_metadata" in row)) return row;
    const { _metadata, ...rest } = row as Record<string, unknown>;
    return rest;
  };
  return {
    prepare(sql) {
      const statement = db.prepare(sql);
      return {
        run: (...params) => statement.run(...params),
        get: (...params) => columns(statement.get(...params)),
        all: (...params) => statement.all(...params).map(columns),
      };
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  };
}

let driver: Driver | undefined;

/** The driver this process uses (loading it if need be), e.g. for a diagnosis. */
export function sqliteDriver(): SqliteDriverName {
  driver ??= loadDriver();
  return driver.name;
}

class Connection implements SqliteDatabase {
  constructor(private readonly db: DriverDatabase) {}

  pragma(source: string, options: { simple?: boolean } = {}): unknown {
    const statement = this.prepare(`PRAGMA ${source}`);
    if (!options.simple) return statement.all();
    const row = statement.get() as Record<string, unknown> | undefined;
    return row === undefined ? undefined : Object.values(row)[0];
  }

  prepare(sql: string): SqliteStatement {
    const statement = guarded(() => this.db.prepare(sql));
    return {
      run: (...params) => {
        const { changes } = guarded(() => statement.run(...params));
        return { changes: Number(changes) };
      },
      get: (...params) => guarded(() => statement.get(...params)),
      all: (...params) => guarded(() => statement.all(...params)),
    };
  }

  exec(sql: string): void {
    guarded(() => this.db.exec(sql));
  }

  transaction<A extends unknown[], R>(fn: (...args: A) => R): SqliteTransaction<A, R> {
    const run =
      (begin: string) =>
      (...args: A): R => {
        this.exec(begin);
        try {
          const result = fn(...args);
          this.exec("COMMIT");
          return result;
        } catch (error) {
          this.rollback();
          throw error;
        }
      };
    return Object.assign(run("BEGIN"), { immediate: run("BEGIN IMMEDIATE") });
  }

  close(): void {
    guarded(() => this.db.close());
  }

  /** All or nothing: a failed body or COMMIT (busy past the timeout) leaves no half-write. */
  private rollback(): void {
    try {
      this.db.exec("ROLLBACK");
    } catch {
      // SQLite already ended the transaction itself (as it does on SQLITE_FULL): nothing to undo.
    }
  }
}

/** Opens (creating it if absent) the SQLite file on this process's driver. */
export function openSqlite(file: string): SqliteDatabase {
  driver ??= loadDriver();
  const { open } = driver;
  return new Connection(guarded(() => open(file)));
}
