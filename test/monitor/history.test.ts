import { spawn } from "node:child_process";
import { mkdtemp, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  HISTORY_FILE,
  HistoryError,
  HistoryStore,
  type Sample,
  SCHEMA_VERSION,
} from "../../src/monitor/history.js";
import { openSqlite } from "../../src/monitor/sqlite.js";

const tmp = () => mkdtemp(join(tmpdir(), "sub-history-"));

function sample(at: number, cents: bigint | null, extra: Partial<Sample> = {}): Sample {
  return {
    kind: "user",
    account: "alice",
    broker: "kraken",
    at,
    status: cents === null ? "network_error" : "ok",
    cents,
    valuation: "cash",
    assets: cents === null ? null : { USD: { free: "1", used: "0", total: "1", usdCents: 100n } },
    ...extra,
  };
}

describe("HistoryStore", () => {
  it("creates a private WAL database at the current schema version", async () => {
    const dir = await tmp();
    expect(HistoryStore.open(dir, { mustExist: true })).toBeNull();
    const store = HistoryStore.open(dir) as HistoryStore;
    store.close();
    expect((await stat(join(dir, HISTORY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const db = openSqlite(join(dir, HISTORY_FILE));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("records and queries series; the last figure skips failed fetches", async () => {
    const store = HistoryStore.open(await tmp()) as HistoryStore;
    store.transaction(() =>
      store.record([
        sample(1000, 50_000n),
        sample(2000, null),
        sample(1500, 900n, { kind: "platform", account: "platform", broker: "coinbase" }),
        sample(2000, 75_000n, { broker: null, status: "ok", assets: null }),
        sample(2500, 1n, { account: "bob" }),
      ]),
    );
    expect(store.lastFigure({ kind: "user", account: "alice", broker: "kraken" })).toBe(50_000n);
    expect(store.highestSince({ kind: "user", account: "alice", broker: "kraken" }, 1001)).toBe(
      null,
    );
    const all = store.query({ since: 0 });
    expect(all.map((s) => [s.kind, s.account, s.broker, s.at])).toEqual([
      ["platform", "platform", "coinbase", 1500],
      ["user", "alice", "kraken", 1000],
      ["user", "alice", "kraken", 2000],
      ["user", "alice", null, 2000],
      ["user", "bob", "kraken", 2500],
    ]);
    expect(all[1]?.assets?.USD?.total).toBe("1");
    const alice = store.query({ since: 1500, users: ["alice"], brokers: ["KRAKEN"] });
    expect(alice.map((s) => [s.at, s.cents, s.status])).toEqual([[2000, null, "network_error"]]);
    expect(store.prune(2000)).toBe(2);
    expect(store.query({ since: 0 })).toHaveLength(3);
    store.close();
  });

  it("records a fetch once: the same series, time and status offered again is not a new sample", async () => {
    const store = HistoryStore.open(await tmp()) as HistoryStore;
    expect(store.transaction(() => store.record([sample(1000, 50n), sample(2000, null)]))).toBe(2);
    // Another process offering the same fetch (same fetched_at) adds nothing; a new one does.
    expect(
      store.transaction(() =>
        store.record([sample(1000, 50n), sample(2000, null), sample(3000, 7n)]),
      ),
    ).toBe(1);
    expect(store.query({ since: 0 }).map((x) => [x.at, x.cents])).toEqual([
      [1000, 50n],
      [2000, null],
      [3000, 7n],
    ]);
    store.close();
  });

  it("records many samples in batches: each new one once, whatever the batch it falls in", async () => {
    const store = HistoryStore.open(await tmp()) as HistoryStore;
    // 300 accounts: three statements (124 rows each at most), and a total for each.
    const many = (at: number) =>
      Array.from({ length: 300 }, (_, i) => [
        sample(at, BigInt(i), { account: `u${i}` }),
        sample(at, BigInt(i), { account: `u${i}`, broker: null }),
      ]).flat();
    expect(store.transaction(() => store.record(many(1000)))).toBe(600);
    // Offered again, with a repeat inside the call and 150 new figures among them.
    const again = [...many(1000), sample(1000, 0n, { account: "u0" }), ...many(2000).slice(0, 150)];
    expect(store.transaction(() => store.record(again))).toBe(150);
    const rows = store.query({ since: 0 });
    expect(rows).toHaveLength(750);
    expect(
      rows.filter((x) => x.account === "u7" && x.broker === "kraken").map((x) => x.cents),
    ).toEqual([7n, 7n]);
    expect(new Set(rows.map((x) => `${x.account}/${x.broker}/${x.at}`)).size).toBe(750);
    store.close();
  });

  it("answers around a figure's own time: the figure before it, one after it, the window's highest before it", async () => {
    const store = HistoryStore.open(await tmp()) as HistoryStore;
    const key = { kind: "user" as const, account: "alice", broker: "kraken" };
    store.transaction(() =>
      store.record([
        sample(1000, 900n),
        sample(2000, 300n),
        sample(2500, null),
        sample(3000, 100n),
      ]),
    );
    expect(store.lastFigure(key)).toBe(100n);
    expect(store.lastFigure(key, 3000)).toBe(300n);
    expect(store.lastFigure(key, 1000)).toBeNull();
    expect(store.hasFigureAfter(key, 2000)).toBe(true);
    expect(store.hasFigureAfter(key, 3000)).toBe(false);
    expect(store.highestSince(key, 0, 3000)).toBe(900n);
    expect(store.highestSince(key, 1500, 3000)).toBe(300n);
    expect(store.query({ since: 1000, until: 2500 }).map((x) => x.at)).toEqual([1000, 2000, 2500]);
    store.close();
  });

  it("keeps alert state: upsert, read back, clear", async () => {
    const store = HistoryStore.open(await tmp()) as HistoryStore;
    const key = { kind: "user" as const, account: "alice", broker: null };
    store.saveAlerts([{ type: "BALANCE_LOW", key, since: 1, notifiedAt: 1 }], []);
    store.saveAlerts([{ type: "BALANCE_LOW", key, since: 1, notifiedAt: 5 }], []);
    expect(store.activeAlerts()).toEqual([{ type: "BALANCE_LOW", key, since: 1, notifiedAt: 5 }]);
    store.saveAlerts([], [{ type: "BALANCE_LOW", key }]);
    expect(store.activeAlerts()).toEqual([]);
    store.close();
  });

  it("keeps figures past 2^53 and past SQLite's 64-bit integers exact", async () => {
    const store = HistoryStore.open(await tmp()) as HistoryStore;
    const key = { kind: "user" as const, account: "alice", broker: "kraken" };
    const past53 = 9_007_199_254_740_993n; // 2^53 + 1: no JS number holds it
    const past63 = 2n ** 63n + 7n; // an INTEGER column would turn this into a REAL
    store.transaction(() =>
      store.record([
        sample(1000, past63),
        sample(2000, past53),
        sample(3000, 5n, {
          assets: { BTC: { free: "1", used: "0", total: "1", usdCents: past53 } },
        }),
      ]),
    );
    expect(store.lastFigure(key)).toBe(5n);
    expect(store.highestSince(key, 0)).toBe(past63);
    expect(store.highestSince(key, 1500)).toBe(past53);
    const points = store.query({ since: 0 });
    expect(points.map((p) => p.cents)).toEqual([past63, past53, 5n]);
    expect(points[2]?.assets?.BTC?.usdCents).toBe(past53);
    store.close();
  });

  it("migrates a schema-1 file: its integer cents read back as before", async () => {
    const dir = await tmp();
    const db = openSqlite(join(dir, HISTORY_FILE));
    db.exec(`CREATE TABLE samples (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,
      account TEXT NOT NULL, broker TEXT NOT NULL, status TEXT NOT NULL, usd_cents INTEGER,
      valuation TEXT, assets TEXT);
      CREATE TABLE alert_state (type TEXT NOT NULL, kind TEXT NOT NULL, account TEXT NOT NULL,
      broker TEXT NOT NULL, since INTEGER NOT NULL, notified_at INTEGER NOT NULL,
      PRIMARY KEY (type, kind, account, broker));
      INSERT INTO samples (at, kind, account, broker, status, usd_cents, valuation, assets)
      VALUES (1, 'user', 'alice', 'kraken', 'ok', 123456, 'cash',
        '{"USD":{"free":"1234.56","used":"0","total":"1234.56","usdCents":123456}}'),
             (2, 'user', 'alice', 'kraken', 'network_error', NULL, 'cash', NULL);`);
    db.pragma("user_version = 1");
    db.close();
    const store = HistoryStore.open(dir) as HistoryStore;
    const points = store.query({ since: 0 });
    expect(points.map((p) => p.cents)).toEqual([123_456n, null]);
    expect(points[0]?.assets?.USD?.usdCents).toBe(123_456n);
    expect(store.lastFigure({ kind: "user", account: "alice", broker: "kraken" })).toBe(123_456n);
    store.close();
  });

  it("a corrupt file is a HistoryError naming the file and the fix (move it aside)", async () => {
    const dir = await tmp();
    await writeFile(
      join(dir, HISTORY_FILE),
      "this is not a database, it is a text file\n".repeat(100),
    );
    let caught: unknown;
    try {
      HistoryStore.open(dir);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HistoryError);
    expect(caught).toMatchObject({ code: "corrupt" });
    expect((caught as HistoryError).message).toContain(join(dir, HISTORY_FILE));
    expect((caught as HistoryError).hint).toMatch(
      /^move it aside \(mv .*history\.sqlite .*\.bad\)/,
    );
  });

  it("refuses a database from a newer schema with a fix", async () => {
    const dir = await tmp();
    HistoryStore.open(dir)?.close();
    const db = openSqlite(join(dir, HISTORY_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => HistoryStore.open(dir)).toThrow(HistoryError);
  });

  // Runs the built store (npm test builds first), as the CLI does.
  it("concurrent writers in separate processes all land, none fails", async () => {
    const dir = await tmp();
    HistoryStore.open(dir)?.close();
    const writer = `
      const { HistoryStore } = await import(${JSON.stringify(new URL("../../dist/monitor/history.js", import.meta.url).href)});
      const store = HistoryStore.open(process.argv[1]);
      for (let i = 0; i < 50; i++) {
        store.transaction(() => store.record([{ kind: "user", account: "w" + process.argv[2], broker: "kraken",
          at: i, status: "ok", cents: BigInt(i), valuation: "cash", assets: null }]));
      }
      store.close();`;
    const run = (n: number) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(
          process.execPath,
          ["--input-type=module", "-e", writer, dir, String(n)],
          { stdio: "inherit" },
        );
        child.on("close", resolve);
      });
    expect(await Promise.all([run(1), run(2), run(3), run(4)])).toEqual([0, 0, 0, 0]);
    const store = HistoryStore.open(dir) as HistoryStore;
    expect(store.query({ since: 0 })).toHaveLength(200);
    store.close();
  });
});
