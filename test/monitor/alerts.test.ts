import { describe, expect, it } from "vitest";
import {
  droppedBy,
  evaluateAlerts,
  figuresShown,
  type Observation,
  samplesFromReport,
  thresholdsFor,
  usdNumberToCents,
} from "../../src/monitor/alerts.js";
import type { ActiveAlert, SeriesKey } from "../../src/monitor/history.js";
import { buildReport } from "../../src/report/model.js";
import { row, user } from "../report/fixtures.js";

const KEY: SeriesKey = { kind: "user", account: "alice", broker: "kraken" };

function obs(
  current: bigint | null,
  previous: bigint | null,
  extra: Partial<Observation> = {},
): Observation {
  return {
    key: KEY,
    currentCents: current,
    previousCents: previous,
    referenceCents: previous,
    thresholds: { lowCents: 10_000n, dropPct: 20 },
    ...extra,
  };
}

/** Feeds a sequence of figures through the evaluator, carrying the state like the store does. */
function runSequence(
  figures: (bigint | null)[],
  renotifyMs: number | null = null,
  stepMs = 60_000,
) {
  let active: ActiveAlert[] = [];
  let previous: bigint | null = null;
  return figures.map((current, i) => {
    const result = evaluateAlerts([obs(current, previous)], active, {
      now: i * stepMs,
      renotifyMs,
    });
    const cleared = new Set(result.clear.map((c) => c.type));
    const upserted = new Map(result.upsert.map((u) => [u.type, u]));
    active = [
      ...active.filter((a) => !cleared.has(a.type) && !upserted.has(a.type)),
      ...upserted.values(),
    ];
    if (current !== null) previous = current;
    return result.alerts.map((a) => a.type);
  });
}

describe("evaluateAlerts", () => {
  it("fires LOW and DROP once at the transition, not while the condition holds", () => {
    expect(runSequence([100_000n, 5_000n, 5_000n, 4_000n])).toEqual([
      [],
      ["BALANCE_LOW", "BALANCE_DROP"],
      [],
      [],
    ]);
  });

  it("fires again after the condition ended and started again", () => {
    expect(runSequence([100_000n, 5_000n, 50_000n, 5_000n])).toEqual([
      [],
      ["BALANCE_LOW", "BALANCE_DROP"],
      [],
      ["BALANCE_LOW", "BALANCE_DROP"],
    ]);
  });

  it("a failed fetch is no figure: no drop to zero, no change of state", () => {
    expect(runSequence([100_000n, null, 100_000n])).toEqual([[], [], []]);
    // LOW holds before and after a failure: still only one alert.
    expect(runSequence([5_000n, null, 5_000n])).toEqual([["BALANCE_LOW"], [], []]);
  });

  it("re-notifies a lasting condition after the interval, marked as a repeat", () => {
    expect(runSequence([5_000n, 5_000n, 5_000n, 5_000n], 120_000)).toEqual([
      ["BALANCE_LOW"],
      [],
      ["BALANCE_LOW"],
      [],
    ]);
    const active: ActiveAlert[] = [{ type: "BALANCE_LOW", key: KEY, since: 0, notifiedAt: 0 }];
    const [alert] = evaluateAlerts([obs(5_000n, 5_000n)], active, {
      now: 200_000,
      renotifyMs: 120_000,
    }).alerts;
    expect(alert).toMatchObject({ repeat: true, since: 0, at: 200_000 });
  });

  it("measures a drop against the reference (the window's highest figure)", () => {
    const slow = obs(70_000n, 85_000n, { referenceCents: 100_000n });
    const { alerts } = evaluateAlerts([slow], [], { now: 0, renotifyMs: null });
    expect(alerts).toEqual([
      expect.objectContaining({
        type: "BALANCE_DROP",
        previousCents: 100_000n,
        currentCents: 70_000n,
      }),
    ]);
  });

  it("clears an active alert whose threshold was removed", () => {
    const active: ActiveAlert[] = [{ type: "BALANCE_DROP", key: KEY, since: 0, notifiedAt: 0 }];
    const result = evaluateAlerts([obs(1n, 2n, { thresholds: {} })], active, {
      now: 1,
      renotifyMs: null,
    });
    expect(result.clear).toEqual([{ type: "BALANCE_DROP", key: KEY }]);
  });
});

describe("droppedBy", () => {
  it("is exact at the boundary: more than, not equal", () => {
    expect(droppedBy(100_000n, 80_000n, 20)).toBe(false);
    expect(droppedBy(100_000n, 79_999n, 20)).toBe(true);
    expect(droppedBy(100_00n, 87_50n, 12.5)).toBe(false);
    expect(droppedBy(100_00n, 87_49n, 12.5)).toBe(true);
    expect(droppedBy(0n, 0n, 20)).toBe(false);
    expect(droppedBy(100n, 150n, 20)).toBe(false);
  });
});

describe("amounts past 2^53", () => {
  it("compare exactly: one cent below a floor of 2^63 cents is LOW, the floor itself is not", () => {
    const floor = 2n ** 63n;
    const low = evaluateAlerts([obs(floor - 1n, floor, { thresholds: { lowCents: floor } })], [], {
      now: 0,
      renotifyMs: null,
    });
    expect(low.alerts.map((a) => a.type)).toEqual(["BALANCE_LOW"]);
    const at = evaluateAlerts([obs(floor, floor, { thresholds: { lowCents: floor } })], [], {
      now: 0,
      renotifyMs: null,
    });
    expect(at.alerts).toEqual([]);
    // 9007199254740993 cents is not a JS number: a float would call this no drop at all.
    expect(droppedBy(9_007_199_254_740_993n, 9_007_199_254_740_992n, 0)).toBe(true);
  });

  it("a config threshold is read through its decimal form; one too large is a floor nothing reaches", () => {
    expect(usdNumberToCents(100.1)).toBe(10_010n);
    expect(usdNumberToCents(0.07)).toBe(7n);
    expect(usdNumberToCents(1e308)).toBeGreaterThan(10n ** 60n);
  });
});

describe("samplesFromReport", () => {
  it("records live and failed fetches, not cached rows, and a total without a figure when partial", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("alice", [
          row("kraken", 1000n, { fetchedAt: "2026-01-21T15:59:59.000Z" }),
          row("coinbase", 500n, { status: "network_error", message: "down", source: "stale" }),
        ]),
        user("bob", [row("kraken", 700n, { source: "cached", ageSeconds: 10 })]),
        user("cat", [row("alpaca", null, { status: "no_credentials", source: "none" })]),
      ],
      generatedAt: new Date("2026-01-21T16:00:00.000Z"),
    });
    const samples = samplesFromReport(report);
    expect(samples.map((s) => [s.account, s.broker, s.status, s.cents])).toEqual([
      ["alice", "kraken", "ok", 1000n],
      ["alice", "coinbase", "network_error", null],
      ["alice", null, "partial", null],
    ]);
    expect(samples[0]?.at).toBe(Date.parse("2026-01-21T15:59:59.000Z"));
  });

  it("times a total at the latest figure it adds up, so every process seeing them agrees; none for a --broker view", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("alice", [
          row("kraken", 1000n, { fetchedAt: "2026-01-21T15:59:00.000Z" }),
          row("coinbase", 500n, {
            source: "cached",
            ageSeconds: 30,
            fetchedAt: "2026-01-21T15:58:00.000Z",
          }),
        ]),
      ],
      generatedAt: new Date("2026-01-21T16:00:00.000Z"),
    });
    const total = samplesFromReport(report).find((x) => x.broker === null);
    expect(total).toMatchObject({ status: "ok", cents: 1500n });
    expect(total?.at).toBe(Date.parse("2026-01-21T15:59:00.000Z"));
    expect(samplesFromReport(report, { totals: false }).map((x) => x.broker)).toEqual(["kraken"]);
  });
});

describe("figuresShown", () => {
  it("lists live and cached figures with their fetch time, and totals unless a broker failed", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("alice", [
          row("kraken", 5000n, {
            source: "cached",
            ageSeconds: 90,
            fetchedAt: "2026-01-21T15:58:30.000Z",
          }),
          row("alpaca", null, { status: "no_credentials", source: "none", fetchedAt: null }),
        ]),
        user("bob", [
          row("kraken", 700n),
          row("coinbase", 500n, { status: "network_error", message: "down", source: "stale" }),
        ]),
        user("cat", [row("kraken", 1n, { source: "cached" })], { enabled: false }),
      ],
      generatedAt: new Date("2026-01-21T16:00:00.000Z"),
    });
    expect(figuresShown(report)).toEqual([
      {
        key: { kind: "user", account: "alice", broker: "kraken" },
        at: Date.parse("2026-01-21T15:58:30.000Z"),
        cents: 5000n,
      },
      {
        key: { kind: "user", account: "alice", broker: null },
        at: Date.parse("2026-01-21T15:58:30.000Z"),
        cents: 5000n,
      },
      {
        key: { kind: "user", account: "bob", broker: "kraken" },
        at: Date.parse("2026-01-21T16:00:00.000Z"),
        cents: 700n,
      },
    ]);
    expect(figuresShown(report, { totals: false }).map((f) => f.key.broker)).toEqual([
      "kraken",
      "kraken",
    ]);
  });
});

describe("thresholdsFor", () => {
  const sources = {
    flags: { lowCents: 10_000n, dropPct: 20 },
    brokers: new Map([["user:alice:kraken", { lowUsd: 50.1 }]]),
    totals: new Map([["user:alice", { dropPct: 10 }]]),
  };
  it("config overrides the flag field by field; totals take only the user file's", () => {
    expect(thresholdsFor(KEY, sources)).toEqual({ lowCents: 5010n, dropPct: 20 });
    expect(thresholdsFor({ ...KEY, broker: "coinbase" }, sources)).toEqual(sources.flags);
    expect(thresholdsFor({ ...KEY, broker: null }, sources)).toEqual({ dropPct: 10 });
    expect(thresholdsFor({ kind: "user", account: "bob", broker: null }, sources)).toEqual({});
  });
});
