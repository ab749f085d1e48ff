import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HistoryStore, type Sample } from "../../src/monitor/history.js";
import { stringifyJson } from "../../src/render/json-text.js";
import {
  cacheMs,
  downsample,
  HistoryService,
  historySeries,
  LOOKBACK_MS,
  parseRange,
} from "../../src/serve/history-route.js";

const HOUR = 3600_000;
const NOW = Date.parse("2026-01-21T16:00:00.000Z");

function total(kind: "platform" | "user", account: string, at: number, cents: bigint | null) {
  return {
    kind,
    account,
    broker: null,
    at,
    status: cents === null ? "partial" : "ok",
    cents,
    valuation: null,
    assets: null,
  } satisfies Sample;
}

describe("historySeries", () => {
  it("sums each user's latest total at every recording time; unknown while one is unknown", () => {
    const since = NOW - 24 * HOUR;
    const samples: Sample[] = [
      // Before the range: only sets bob's figure for the sum at the start.
      total("user", "bob", since - 2 * HOUR, 240_000n),
      total("platform", "platform", since - HOUR, 1n),
      total("user", "alice", NOW - 20 * HOUR, 90_000n),
      total("platform", "platform", NOW - 20 * HOUR, 650_000n),
      total("user", "bob", NOW - 12 * HOUR, 250_000n),
      total("user", "alice", NOW - 9 * HOUR, null), // a broker failed
      total("platform", "platform", NOW - 9 * HOUR, null),
      total("user", "alice", NOW - 2 * HOUR, 100_000n),
      total("user", "bob", NOW - 2 * HOUR, 250_001n),
      total("platform", "platform", NOW - 2 * HOUR, 691_346n),
      // Removed from the configuration: never in the sum.
      total("user", "mallory", NOW - 3 * HOUR, 999_999_999n),
      // Broker rows are not totals.
      { ...total("user", "alice", NOW - HOUR, 5n), broker: "kraken", status: "ok" },
    ];
    const series = historySeries(samples, { since, until: NOW, users: ["alice", "bob"] });
    expect(series.platformTotal).toEqual([
      [NOW - 20 * HOUR, 650_000n],
      [NOW - 9 * HOUR, null],
      [NOW - 2 * HOUR, 691_346n],
    ]);
    expect(series.totalUserCapital).toEqual([
      [NOW - 20 * HOUR, 330_000n], // 900.00 + bob's 2,400.00 from before the range
      [NOW - 12 * HOUR, 340_000n],
      [NOW - 9 * HOUR, null],
      [NOW - 2 * HOUR, 350_001n], // both recorded at once: one point
    ]);
    expect(series.users).toEqual({
      alice: [
        [NOW - 20 * HOUR, 90_000n],
        [NOW - 9 * HOUR, null],
        [NOW - 2 * HOUR, 100_000n],
      ],
      bob: [
        [NOW - 12 * HOUR, 250_000n],
        [NOW - 2 * HOUR, 250_001n],
      ],
    });
  });

  it("keeps figures past 2^53 cents exact", () => {
    const big = 9_007_199_254_740_993n;
    const series = historySeries(
      [total("user", "a", NOW - HOUR, big), total("user", "b", NOW - HOUR, big)],
      { since: NOW - 24 * HOUR, until: NOW, users: ["a", "b"] },
    );
    expect(series.totalUserCapital).toEqual([[NOW - HOUR, 18_014_398_509_481_986n]]);
  });
});

describe("downsample", () => {
  it("keeps each slot's last known figure, and an unknown one only when nothing else is known", () => {
    const points: [number, bigint | null][] = [
      [0, 1n],
      [10, 2n],
      [20, null], // slot 0 keeps 2n at 10
      [30, null],
      [35, null], // slot 1: only unknowns, the last one
      [60, 7n],
    ];
    expect(downsample(points, 0, 100, 4)).toEqual([
      [10, 2n],
      [35, null],
      [60, 7n],
    ]);
  });
});

describe("HistoryService", () => {
  it("says nothing is recorded when the file does not exist, and reads it once it does", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sub-history-route-"));
    const service = new HistoryService(dir, () => ["alice"]);
    const before = service.answer("24h", NOW);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ recorded: false, platform_total: [] });

    const store = HistoryStore.open(dir) as HistoryStore;
    store.record([
      total("user", "alice", NOW - 2 * HOUR, 100_050n),
      total("platform", "platform", NOW - 2 * HOUR, 691_346n),
      total("platform", "platform", NOW - 3 * 24 * HOUR, 600_000n),
    ]);
    store.close();
    // Answers are kept a while: the same answer until the range's cache time has passed.
    expect(service.answer("24h", NOW + 1000).body).toMatchObject({ recorded: false });
    const later = NOW + cacheMs("24h");
    const after = service.answer("24h", later);
    expect(after.body).toMatchObject({
      recorded: true,
      since: new Date(later - 24 * HOUR).toISOString(),
      until: new Date(later).toISOString(),
    });
    // Exact dollars as number literals, times as epoch ms; the 3-day-old figure is out of range.
    const at = NOW - 2 * HOUR;
    const text = stringifyJson(after.body, 0);
    expect(text).toContain(`"platform_total":[[${at},6913.46]]`);
    expect(text).toContain(`"total_user_capital":[[${at},1000.50]]`);
    expect(text).toContain(`"users":{"alice":[[${at},1000.50]]}`);
    const week = service.answer("7d", later).body as { platform_total: unknown[] };
    expect(week.platform_total).toHaveLength(2);
    service.close();
  });

  it("parses the range and keeps wide ranges longer", () => {
    expect(parseRange(null)).toBe("24h");
    expect(parseRange("7d")).toBe("7d");
    expect(parseRange("1y")).toBeNull();
    expect(parseRange("__proto__")).toBeNull();
    expect(cacheMs("24h")).toBe(36_000);
    expect(cacheMs("30d")).toBe(1_080_000);
    expect(LOOKBACK_MS).toBe(24 * HOUR);
  });
});
