import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRecorder } from "../../src/commands/monitor.js";
import type { LoadedConfig } from "../../src/config/index.js";
import { HistoryStore } from "../../src/monitor/history.js";
import { Monitor, type MonitorOptions } from "../../src/monitor/monitor.js";
import { type BrokerRow, buildReport } from "../../src/report/model.js";
import { row, user } from "../report/fixtures.js";

const T1 = Date.parse("2026-11-20T10:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

/** A config with no thresholds of its own, or alice's total alerting below `lowUsd`. */
function config(totalLowUsd?: number): LoadedConfig {
  const users =
    totalLowUsd === undefined
      ? []
      : [{ kind: "user", id: "alice", alerts: { lowUsd: totalLowUsd }, brokers: [] }];
  return { platform: null, users, problems: [] } as unknown as LoadedConfig;
}

async function stateDir(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), "sub-monitor-")), "state");
}

function options(dir: string, extra: Partial<MonitorOptions> = {}): MonitorOptions {
  return {
    stateDir: dir,
    history: true,
    retentionMs: 3650 * 86_400_000,
    flags: {},
    renotifyMs: null,
    onWarning: (message) => {
      throw new Error(message);
    },
    ...extra,
  };
}

/** alice's kraken at `cents`, fetched at `fetchedAt`, seen live or from the cache at `seenAt`. */
function aliceReport(cents: bigint, fetchedAt: number, seenAt: number, extra: Partial<BrokerRow>) {
  return buildReport({
    platform: null,
    users: [user("alice", [row("kraken", cents, { fetchedAt: iso(fetchedAt), ...extra })])],
    generatedAt: new Date(seenAt),
  });
}
const live = (cents: bigint, at: number) => aliceReport(cents, at, at, {});
const cached = (cents: bigint, fetchedAt: number, seenAt: number) =>
  aliceReport(cents, fetchedAt, seenAt, {
    source: "cached",
    ageSeconds: (seenAt - fetchedAt) / 1000,
  });

function samples(dir: string) {
  const store = HistoryStore.open(dir) as HistoryStore;
  try {
    return store.query({ since: 0 }).map((s) => [s.broker, s.at, s.cents]);
  } finally {
    store.close();
  }
}

describe("Monitor: the fetcher records, whoever shows a figure evaluates it", () => {
  it("a run on cached figures fires LOW once; a second process seeing the same figure does not; nothing is recorded twice", async () => {
    const dir = await stateDir();
    // The server fetched $50 and recorded it; it evaluates nothing.
    const server = createRecorder({ stateDir: dir }, config(), () => undefined);
    expect(server.alerting).toBe(false);
    expect(server.observe(live(5000n, T1))).toBeNull();
    server.close();

    const low = { flags: { lowCents: 10_000n } };
    const cron = new Monitor(config(), options(dir, low));
    const fired = cron.observe(cached(5000n, T1, T1 + 30_000));
    cron.close();
    expect(fired).toEqual([
      expect.objectContaining({ type: "BALANCE_LOW", currentCents: 5000n, previousCents: null }),
    ]);
    const again = new Monitor(config(), options(dir, low));
    expect(again.observe(cached(5000n, T1, T1 + 60_000))).toEqual([]);
    again.close();
    expect(samples(dir)).toEqual([
      ["kraken", T1, 5000n],
      [null, T1, 5000n],
    ]);
  });

  it("a cached figure's DROP is measured against the figure before it, not against itself", async () => {
    const dir = await stateDir();
    const server = createRecorder({ stateDir: dir }, config(), () => undefined);
    server.observe(live(100_000n, T1 - 300_000));
    server.observe(live(5000n, T1));
    server.close();
    const cron = new Monitor(config(), options(dir, { flags: { dropPct: 20 } }));
    expect(cron.observe(cached(5000n, T1, T1 + 30_000))).toEqual([
      expect.objectContaining({
        type: "BALANCE_DROP",
        previousCents: 100_000n,
        currentCents: 5000n,
      }),
    ]);
    cron.close();
  });

  it("a cached figure older than one already recorded neither fires nor clears", async () => {
    const dir = await stateDir();
    const server = createRecorder({ stateDir: dir }, config(), () => undefined);
    server.observe(live(500_000n, T1 + 60_000));
    server.close();
    const cron = new Monitor(config(), options(dir, { flags: { lowCents: 10_000n } }));
    expect(cron.observe(cached(5000n, T1, T1 + 90_000))).toEqual([]);
    cron.close();
  });

  it("the recorder never evaluates, even with thresholds in the config, so it uses up no transition", async () => {
    const dir = await stateDir();
    const server = createRecorder({ stateDir: dir }, config(1000), () => undefined);
    expect(server.observe(live(5000n, T1))).toBeNull();
    server.close();
    const store = HistoryStore.open(dir) as HistoryStore;
    expect(store.activeAlerts()).toEqual([]);
    store.close();
    // The cron run that shows the figure fires alice's total LOW ($50 < $1,000).
    const cron = new Monitor(config(1000), options(dir));
    expect(cron.observe(cached(5000n, T1, T1 + 1000))?.map((a) => a.key.broker)).toEqual([null]);
    cron.close();
  });

  it("a plain run served from the cache opens no history at all", async () => {
    const dir = await stateDir();
    const plain = new Monitor(config(), options(dir));
    expect(plain.observe(cached(5000n, T1, T1 + 1000))).toBeNull();
    plain.close();
    expect(existsSync(dir)).toBe(false);
  });

  it("a --broker view records and evaluates no account total", async () => {
    const dir = await stateDir();
    const view = new Monitor(config(1000), options(dir, { totals: false }));
    expect(view.observe(live(5000n, T1))).toEqual([]);
    view.close();
    expect(samples(dir)).toEqual([["kraken", T1, 5000n]]);
  });

  it("the recorder says an unusable history once, not on every refresh", async () => {
    const root = await mkdtemp(join(tmpdir(), "sub-monitor-"));
    const file = join(root, "not-a-dir");
    await writeFile(file, "x");
    const warnings: string[] = [];
    const server = createRecorder({ stateDir: file }, config(), (m) => warnings.push(m));
    server.observe(live(5000n, T1));
    server.observe(live(5000n, T1 + 1000));
    server.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^history not recorded: cannot use .*not-a-dir\/history\.sqlite/);
  });
});
