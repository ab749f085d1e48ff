/**
 * The slice of better-sqlite3 the history store uses, loaded on first use: a run that records
 * nothing (every figure served from the cache) never loads the native module. Typed here rather
 * than through @types/better-sqlite3, which is not a dependency.
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
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): SqliteTransaction<A, R>;
  close(): void;
}

export type SqliteConstructor = new (
  file: string,
  options?: { fileMustExist?: boolean; timeout?: number; readonly?: boolean },
) => SqliteDatabase;

let loaded: SqliteConstructor | undefined;

export function loadSqlite(): SqliteConstructor {
  loaded ??= createRequire(import.meta.url)("better-sqlite3") as SqliteConstructor;
  return loaded;
}
