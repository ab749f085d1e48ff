import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { HistoryStore } from "../../src/monitor/history.js";
import { Monitor, thresholdSources } from "../../src/monitor/monitor.js";
import { buildReport } from "../../src/report/model.js";
import { writeTree } from "../config/helpers.js";
import { row, user } from "../report/fixtures.js";

const load = (root: string) =>
  loadConfig({ configDir: join(root, "config"), cwd: root, env: {}, loadDotEnv: false });

describe("alert thresholds in the config", () => {
  it("carries a user file's and its broker entries' `alerts` into the thresholds", async () => {
    const root = await writeTree({
      "config/platform.json": { brokers: [{ broker: "kraken", alerts: { dropPct: 5 } }] },
      "config/users/alice.json": {
        user_id: "alice",
        alerts: { lowUsd: 500, dropPct: 30 },
        brokers: [{ broker: "kraken", alerts: { lowUsd: 100.1 } }, { broker: "coinbase" }],
      },
      "config/users/legacy.json": { name: "Legacy", broker: "kraken", enabled: true },
    });
    const config = await load(root);
    expect(config.problems).toEqual([]);
    const alice = config.users.find((u) => u.id === "alice");
    expect(alice?.alerts).toEqual({ lowUsd: 500, dropPct: 30 });
    expect(alice?.brokers.map((b) => b.alerts)).toEqual([{ lowUsd: 100.1 }, undefined]);
    expect(config.users.find((u) => u.id === "legacy")).not.toHaveProperty("alerts");
    const sources = thresholdSources(config, { lowCents: 1n });
    expect([...sources.brokers.keys()]).toEqual(["platform:platform:kraken", "user:alice:kraken"]);
    expect([...sources.totals.keys()]).toEqual(["user:alice"]);
  });

  it("reports a misspelt or out-of-range threshold with its file and field", async () => {
    const root = await writeTree({
      "config/users/bob.json": {
        user_id: "bob",
        alerts: { low: 5 },
        brokers: [{ broker: "kraken", alerts: { dropPct: 150 } }],
      },
    });
    const config = await load(root);
    expect(config.problems.map((p) => p.field)).toEqual(
      expect.arrayContaining(["alerts", "brokers[0].alerts.dropPct"]),
    );
    expect(config.problems.every((p) => p.file.endsWith("bob.json"))).toBe(true);
  });
});

describe("Monitor", () => {
  it("records without thresholds but reports no alerts field (null); with one, an array", async () => {
    const root = await writeTree({
      "config/users/alice.json": { user_id: "alice", brokers: [{ broker: "kraken" }] },
    });
    const config = await load(root);
    const report = buildReport({
      platform: null,
      users: [user("alice", [row("kraken", 1000n)])],
      generatedAt: new Date("2026-01-21T16:00:00.000Z"),
    });
    const options = {
      stateDir: join(root, "state"),
      history: true,
      retentionMs: 86_400_000 * 365 * 100,
      flags: {},
      renotifyMs: null,
      onWarning: (message: string) => {
        throw new Error(message);
      },
    };
    const plain = new Monitor(config, options);
    expect(plain.observe(report)).toBeNull();
    plain.close();
    const alerting = new Monitor(config, { ...options, flags: { lowCents: 5000n } });
    expect(alerting.observe(report)?.map((a) => a.type)).toEqual(["BALANCE_LOW"]);
    alerting.close();
    // Both saw the same fetch (same account, broker and fetched_at): one sample, not two.
    const store = HistoryStore.open(join(root, "state")) as HistoryStore;
    expect(store.query({ since: 0, brokersOnly: true }).map((s) => s.cents)).toEqual([1000n]);
    store.close();
  });
});
