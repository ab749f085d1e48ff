import { spawn } from "node:child_process";
import { mkdtemp, stat } from "node:fs/promises";
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
import { loadSqlite } from "../../src/monitor/sqlite.js";

const tmp = () => mkdtemp(join(tmpdir(), "sub-history-"));

function sample(at: number, cents: number | null, extra: Partial<Sample> = {}): Sample {
  return {
    kind: "user",
    account: "alice",
    broker: "kraken",
    at,
    status: cents === null ? "network_error" : "ok",
    cents,
    valuation: "cash",
    assets: cents === null ? null : { USD: { free: "1", used: "0", total: "1", usdCents: 100 } },
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
    const Database = loadSqlite();
    const db = new Database(join(dir, HISTORY_FILE));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("records and queries series; the last figure skips failed fetches", async () => {
    const store = HistoryStore.open(await tmp()) as HistoryStore;
    store.transaction(() =>
      store.record([
        sample(1000, 50_000),
        sample(2000, null),
        sample(1500, 900, { kind: "platform", account: "platform", broker: "coinbase" }),
        sample(2000, 75_000, { broker: null, status: "ok", assets: null }),
        sample(2500, 1, { account: "bob" }),
      ]),
    );
    expect(store.lastFigure({ kind: "user", account: "alice", broker: "kraken" })).toBe(50_000);
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

  it("refuses a database from a newer schema with a fix", async () => {
    const dir = await tmp();
    HistoryStore.open(dir)?.close();
    const db = new (loadSqlite())(join(dir, HISTORY_FILE));
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
          at: i, status: "ok", cents: i, valuation: "cash", assets: null }]));
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
