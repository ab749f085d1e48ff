import { describe, expect, it } from "vitest";
import {
  droppedBy,
  evaluateAlerts,
  type Observation,
  samplesFromReport,
  thresholdsFor,
} from "../../src/monitor/alerts.js";
import type { ActiveAlert, SeriesKey } from "../../src/monitor/history.js";
import { buildReport } from "../../src/report/model.js";
import { row, user } from "../report/fixtures.js";

const KEY: SeriesKey = { kind: "user", account: "alice", broker: "kraken" };

function obs(current: number | null, previous: number | null, extra: Partial<Observation> = {}) {
  return {
    key: KEY,
    currentCents: current,
    previousCents: previous,
    referenceCents: previous,
    thresholds: { lowCents: 10_000, dropPct: 20 },
    ...extra,
  };
}

/** Feeds a sequence of figures through the evaluator, carrying the state like the store does. */
function runSequence(
  figures: (number | null)[],
  renotifyMs: number | null = null,
  stepMs = 60_000,
) {
  let active: ActiveAlert[] = [];
  let previous: number | null = null;
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
    expect(runSequence([100_000, 5_000, 5_000, 4_000])).toEqual([
      [],
      ["BALANCE_LOW", "BALANCE_DROP"],
      [],
      [],
    ]);
  });

  it("fires again after the condition ended and started again", () => {
    expect(runSequence([100_000, 5_000, 50_000, 5_000])).toEqual([
      [],
      ["BALANCE_LOW", "BALANCE_DROP"],
      [],
      ["BALANCE_LOW", "BALANCE_DROP"],
    ]);
  });

  it("a failed fetch is no figure: no drop to zero, no change of state", () => {
    expect(runSequence([100_000, null, 100_000])).toEqual([[], [], []]);
    // LOW holds before and after a failure: still only one alert.
    expect(runSequence([5_000, null, 5_000])).toEqual([["BALANCE_LOW"], [], []]);
  });

  it("re-notifies a lasting condition after the interval, marked as a repeat", () => {
    expect(runSequence([5_000, 5_000, 5_000, 5_000], 120_000)).toEqual([
      ["BALANCE_LOW"],
      [],
      ["BALANCE_LOW"],
      [],
    ]);
    const active: ActiveAlert[] = [{ type: "BALANCE_LOW", key: KEY, since: 0, notifiedAt: 0 }];
    const [alert] = evaluateAlerts([obs(5_000, 5_000)], active, {
      now: 200_000,
      renotifyMs: 120_000,
    }).alerts;
    expect(alert).toMatchObject({ repeat: true, since: 0, at: 200_000 });
  });

  it("measures a drop against the reference (the window's highest figure)", () => {
    const slow = obs(70_000, 85_000, { referenceCents: 100_000 });
    const { alerts } = evaluateAlerts([slow], [], { now: 0, renotifyMs: null });
    expect(alerts).toEqual([
      expect.objectContaining({
        type: "BALANCE_DROP",
        previousCents: 100_000,
        currentCents: 70_000,
      }),
    ]);
  });

  it("clears an active alert whose threshold was removed", () => {
    const active: ActiveAlert[] = [{ type: "BALANCE_DROP", key: KEY, since: 0, notifiedAt: 0 }];
    const result = evaluateAlerts([obs(1, 2, { thresholds: {} })], active, {
      now: 1,
      renotifyMs: null,
    });
    expect(result.clear).toEqual([{ type: "BALANCE_DROP", key: KEY }]);
  });
});

describe("droppedBy", () => {
  it("is exact at the boundary: more than, not equal", () => {
    expect(droppedBy(100_000, 80_000, 20)).toBe(false);
    expect(droppedBy(100_000, 79_999, 20)).toBe(true);
    expect(droppedBy(100_00, 87_50, 12.5)).toBe(false);
    expect(droppedBy(100_00, 87_49, 12.5)).toBe(true);
    expect(droppedBy(0, 0, 20)).toBe(false);
    expect(droppedBy(100, 150, 20)).toBe(false);
  });
});

describe("samplesFromReport", () => {
  it("records live and failed fetches, not cached rows, and a total without a figure when partial", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("alice", [
          row("kraken", 1000, { fetchedAt: "2026-01-21T15:59:59.000Z" }),
          row("coinbase", 500, { status: "network_error", message: "down", source: "stale" }),
        ]),
        user("bob", [row("kraken", 700, { source: "cached", ageSeconds: 10 })]),
        user("cat", [row("alpaca", 0, { status: "no_credentials" })]),
      ],
      generatedAt: new Date("2026-01-21T16:00:00.000Z"),
    });
    const samples = samplesFromReport(report);
    expect(samples.map((s) => [s.account, s.broker, s.status, s.cents])).toEqual([
      ["alice", "kraken", "ok", 1000],
      ["alice", "coinbase", "network_error", null],
      ["alice", null, "partial", null],
    ]);
    expect(samples[0]?.at).toBe(Date.parse("2026-01-21T15:59:59.000Z"));
  });
});

describe("thresholdsFor", () => {
  const sources = {
    flags: { lowCents: 10_000, dropPct: 20 },
    brokers: new Map([["user:alice:kraken", { lowUsd: 50.1 }]]),
    totals: new Map([["user:alice", { dropPct: 10 }]]),
  };
  it("config overrides the flag field by field; totals take only the user file's", () => {
    expect(thresholdsFor(KEY, sources)).toEqual({ lowCents: 5010, dropPct: 20 });
    expect(thresholdsFor({ ...KEY, broker: "coinbase" }, sources)).toEqual(sources.flags);
    expect(thresholdsFor({ ...KEY, broker: null }, sources)).toEqual({ dropPct: 10 });
    expect(thresholdsFor({ kind: "user", account: "bob", broker: null }, sources)).toEqual({});
  });
});
