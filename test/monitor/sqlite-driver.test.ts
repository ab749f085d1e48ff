/**
 * The history store's SQLite driver on the Node.js running the tests (CI runs them on 20, 22
 * and 24): node:sqlite where Node has it, libsql elsewhere, the same behaviour from both, and
 * processes on different drivers sharing one file. Child processes run the built store (dist/),
 * as the CLI does.
 */
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HISTORY_FILE, HistoryStore } from "../../src/monitor/history.js";
import { openSqlite, sqliteDriver } from "../../src/monitor/sqlite.js";

const tmp = () => mkdtemp(join(tmpdir(), "sub-sqlite-"));
const HIDE_NODE_SQLITE = join(import.meta.dirname, "no-node-sqlite.cjs");
const DIST = (path: string) => JSON.stringify(new URL(`../../dist/${path}`, import.meta.url).href);

/** node:sqlite loads without a flag from Node.js 22.13 and 23.4. */
function hasNodeSqlite(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return major >= 24 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13);
}

function runNode(
  args: string[],
  options: { hideNodeSqlite?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [...(options.hideNodeSqlite ? ["--require", HIDE_NODE_SQLITE] : []), ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe(`the SQLite driver on Node.js ${process.versions.node}`, () => {
  it(`is ${hasNodeSqlite() ? "node:sqlite" : "libsql"}`, () => {
    expect(sqliteDriver()).toBe(hasNodeSqlite() ? "node:sqlite" : "libsql");
  });

  it("answers a simple pragma with its value and reads integers as numbers", async () => {
    const db = openSqlite(join(await tmp(), HISTORY_FILE));
    expect(db.pragma("journal_mode = WAL", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    db.exec("CREATE TABLE t (at INTEGER NOT NULL, note TEXT)");
    expect(db.prepare("INSERT INTO t VALUES (?, ?)").run(1_795_757_574_602, "x")).toEqual({
      changes: 1,
    });
    expect(db.prepare("SELECT at, note FROM t WHERE at < ?").get(Number.MAX_SAFE_INTEGER)).toEqual({
      at: 1_795_757_574_602,
      note: "x",
    });
    expect(db.prepare("SELECT at FROM t WHERE at > ?").get(2e12)).toBeUndefined();
    db.close();
  });

  it("a transaction is all or nothing: a throwing body leaves no row, a later one commits", async () => {
    const db = openSqlite(join(await tmp(), HISTORY_FILE));
    db.exec("CREATE TABLE t (n INTEGER)");
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    expect(() =>
      db
        .transaction(() => {
          insert.run(1);
          throw new Error("midway");
        })
        .immediate(),
    ).toThrow("midway");
    expect(db.transaction((n: number) => insert.run(n).changes).immediate(2)).toBe(1);
    expect(db.prepare("SELECT n FROM t").all()).toEqual([{ n: 2 }]);
    db.close();
  });

  it("reports SQLite's own codes: SQLITE_BUSY past the busy timeout, SQLITE_NOTADB", async () => {
    const file = join(await tmp(), HISTORY_FILE);
    const holder = openSqlite(file);
    holder.pragma("journal_mode = WAL");
    const waiter = openSqlite(file);
    waiter.pragma("busy_timeout = 50");
    holder.exec("BEGIN IMMEDIATE");
    expect(() => waiter.exec("BEGIN IMMEDIATE")).toThrow(
      expect.objectContaining({ code: "SQLITE_BUSY" }),
    );
    holder.exec("COMMIT");
    waiter.exec("BEGIN IMMEDIATE");
    waiter.exec("COMMIT");
    holder.close();
    waiter.close();

    const junk = join(await tmp(), HISTORY_FILE);
    await writeFile(junk, "not a database\n".repeat(300));
    expect(() => openSqlite(junk).pragma("user_version", { simple: true })).toThrow(
      expect.objectContaining({ code: "SQLITE_NOTADB" }),
    );
  });

  it("loads without a word on stderr (Node 22 warns that node:sqlite is experimental)", async () => {
    const dir = await tmp();
    const script = `const { HistoryStore } = await import(${DIST("monitor/history.js")});
      HistoryStore.open(process.argv[1]).close();
      const { sqliteDriver } = await import(${DIST("monitor/sqlite.js")});
      process.stdout.write(sqliteDriver());`;
    const run = await runNode(["--input-type=module", "-e", script, dir]);
    expect(run).toEqual({
      code: 0,
      stdout: hasNodeSqlite() ? "node:sqlite" : "libsql",
      stderr: "",
    });
  });
});

describe("libsql, where node:sqlite is missing (Node.js 20)", () => {
  const writer = (n: number) => `
    const { HistoryStore } = await import(${DIST("monitor/history.js")});
    const { sqliteDriver } = await import(${DIST("monitor/sqlite.js")});
    const store = HistoryStore.open(process.argv[1]);
    for (let i = 0; i < 40; i++) {
      store.transaction(() => store.record([{ kind: "user", account: "w${n}", broker: "kraken",
        at: i, status: "ok", cents: 12345678901234567890n + BigInt(i), valuation: "cash", assets: null }]));
    }
    store.close();
    process.stdout.write(sqliteDriver());`;

  it("is what the store falls back to, with the same figures", async () => {
    const dir = await tmp();
    const run = await runNode(["--input-type=module", "-e", writer(1), dir], {
      hideNodeSqlite: true,
    });
    expect(run).toEqual({ code: 0, stdout: "libsql", stderr: "" });
    const store = HistoryStore.open(dir) as HistoryStore;
    const points = store.query({ since: 0 });
    expect(points).toHaveLength(40);
    expect(points[39]?.cents).toBe(12_345_678_901_234_567_929n);
    store.close();
  });

  it("holds the same lock as this process's driver; a killed holder leaves no stale lock", async () => {
    const file = join(await tmp(), HISTORY_FILE);
    const holder = `
      const { openSqlite } = await import(${DIST("monitor/sqlite.js")});
      const db = openSqlite(process.argv[1]);
      db.pragma("journal_mode = WAL");
      db.exec("CREATE TABLE t (n INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)");
      process.stdout.write("locked");
      setTimeout(() => {}, 60_000);`;
    const child = spawn(
      process.execPath,
      ["--require", HIDE_NODE_SQLITE, "--input-type=module", "-e", holder, file],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise((resolve) => child.stdout.once("data", resolve));
    const db = openSqlite(file);
    db.pragma("busy_timeout = 50");
    expect(() => db.exec("BEGIN IMMEDIATE")).toThrow(
      expect.objectContaining({ code: "SQLITE_BUSY" }),
    );
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("close", resolve));
    // Killed mid-transaction: the lock went with the process, its uncommitted row with it.
    db.transaction(() => db.exec("INSERT INTO t VALUES (2)")).immediate();
    expect(db.prepare("SELECT n FROM t").all()).toEqual([{ n: 2 }]);
    db.close();
  });

  it.runIf(hasNodeSqlite())(
    "and node:sqlite processes write one file at once: every transaction lands",
    async () => {
      const dir = await tmp();
      HistoryStore.open(dir)?.close();
      const runs = await Promise.all([
        runNode(["--input-type=module", "-e", writer(1), dir], { hideNodeSqlite: true }),
        runNode(["--input-type=module", "-e", writer(2), dir]),
        runNode(["--input-type=module", "-e", writer(3), dir], { hideNodeSqlite: true }),
        runNode(["--input-type=module", "-e", writer(4), dir]),
      ]);
      expect(runs.map((r) => [r.code, r.stdout, r.stderr])).toEqual([
        [0, "libsql", ""],
        [0, "node:sqlite", ""],
        [0, "libsql", ""],
        [0, "node:sqlite", ""],
      ]);
      const store = HistoryStore.open(dir) as HistoryStore;
      expect(store.query({ since: 0 })).toHaveLength(160);
      store.close();
    },
  );
});
