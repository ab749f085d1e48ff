import { describe, expect, it } from "vitest";
import type { Sample } from "../../src/monitor/history.js";
import {
  type IntervalOptions,
  intervalCount,
  intervalStart,
  sampleIntervals,
} from "../../src/monitor/intervals.js";

const at = (text: string) => Date.parse(text);

function s(
  kind: "platform" | "user",
  account: string,
  broker: string | null,
  time: string,
  cents: bigint | null,
): Sample {
  return {
    kind,
    account,
    broker,
    at: at(time),
    status: cents === null ? (broker === null ? "partial" : "auth_failed") : "ok",
    cents,
    valuation: null,
    assets: null,
  };
}

describe("intervalStart", () => {
  it("aligns hours and days in UTC, and weeks on Monday 00:00Z", () => {
    expect(intervalStart(at("2026-11-04T13:59:59.999Z"), "1h")).toBe(at("2026-11-04T13:00:00Z"));
    expect(intervalStart(at("2026-11-04T23:59:59.999Z"), "1d")).toBe(at("2026-11-04T00:00:00Z"));
    // 2026-11-04 is a Wednesday; its week started Monday 2026-11-02; a Sunday is still that week.
    expect(intervalStart(at("2026-11-04T12:00:00Z"), "1w")).toBe(at("2026-11-02T00:00:00Z"));
    expect(intervalStart(at("2026-11-08T23:59:59Z"), "1w")).toBe(at("2026-11-02T00:00:00Z"));
    expect(intervalStart(at("2026-11-09T00:00:00Z"), "1w")).toBe(at("2026-11-09T00:00:00Z"));
    // Before the epoch too (floor, not truncation).
    expect(intervalStart(at("1969-12-31T12:00:00Z"), "1d")).toBe(at("1969-12-31T00:00:00Z"));
    expect(intervalCount(at("2026-11-01T12:00Z"), at("2026-11-08T11:00Z"), "1d")).toBe(8);
  });
});

describe("sampleIntervals", () => {
  const range = (units: IntervalOptions["units"] = "accounts"): IntervalOptions => ({
    interval: "1d",
    since: at("2026-11-01T00:00:00Z"),
    until: at("2026-11-03T23:00:00Z"),
    units,
  });
  // Ordered as HistoryStore.query returns them: by series, then time.
  const history: Sample[] = [
    s("platform", "platform", "kraken", "2026-11-01T06:00:00Z", 100_000n),
    s("platform", "platform", "kraken", "2026-11-01T18:00:00Z", 120_000n),
    s("platform", "platform", "kraken", "2026-11-03T06:00:00Z", 130_000n),
    s("platform", "platform", null, "2026-11-01T18:00:00Z", 120_000n),
    s("platform", "platform", null, "2026-11-03T06:00:00Z", 130_000n),
    s("user", "alice", "kraken", "2026-11-01T06:00:00Z", 5000n),
    s("user", "alice", "kraken", "2026-11-01T18:00:00Z", null),
    s("user", "alice", "kraken", "2026-11-03T06:00:00Z", null),
    s("user", "alice", null, "2026-11-01T06:00:00Z", 5000n),
    s("user", "alice", null, "2026-11-01T18:00:00Z", null),
    s("user", "alice", null, "2026-11-03T06:00:00Z", null),
    // Past 2^53 cents: summed exactly.
    s("user", "bob", "kraken", "2026-11-01T07:00:00Z", 9_007_199_254_740_993n),
    s("user", "bob", null, "2026-11-01T07:00:00Z", 9_007_199_254_740_993n),
  ];

  it("keeps the last figure per series per interval (a later failure does not hide it) and lists empty intervals", () => {
    const days = sampleIntervals(history, range());
    expect(days.map((d) => new Date(d.start).toISOString())).toEqual([
      "2026-11-01T00:00:00.000Z",
      "2026-11-02T00:00:00.000Z",
      "2026-11-03T00:00:00.000Z",
    ]);
    const first = days[0];
    expect(
      first?.samples.map((x) => [
        x.key.account,
        x.key.broker,
        new Date(x.at).toISOString(),
        x.cents,
      ]),
    ).toEqual([
      ["platform", "kraken", "2026-11-01T18:00:00.000Z", 120_000n],
      ["platform", null, "2026-11-01T18:00:00.000Z", 120_000n],
      ["alice", "kraken", "2026-11-01T06:00:00.000Z", 5000n],
      ["alice", null, "2026-11-01T06:00:00.000Z", 5000n],
      ["bob", "kraken", "2026-11-01T07:00:00.000Z", 9_007_199_254_740_993n],
      ["bob", null, "2026-11-01T07:00:00.000Z", 9_007_199_254_740_993n],
    ]);
    expect(first?.platform).toEqual({ cents: 120_000n, missing: 0 });
    expect(first?.users).toEqual({ cents: 9_007_199_254_745_993n, missing: 0 });
    expect(days[1]?.samples).toEqual([]);
    expect(days[1]?.users).toEqual({ cents: null, missing: 2 });
    // Day 3: alice only failed (her row says so, no figure), bob has nothing: both missing.
    const third = days[2];
    expect(third?.samples.map((x) => [x.key.account, x.key.broker, x.cents, x.status])).toEqual([
      ["platform", "kraken", 130_000n, "ok"],
      ["platform", null, 130_000n, "ok"],
      ["alice", "kraken", null, "auth_failed"],
      ["alice", null, null, "partial"],
    ]);
    expect(third?.users).toEqual({ cents: null, missing: 2 });
    expect(third?.platform).toEqual({ cents: 130_000n, missing: 0 });
  });

  it("without account totals (a --broker view) adds up broker series; a view without the platform has no platform total", () => {
    const brokersOnly = history.filter((x) => x.broker !== null && x.kind === "user");
    const [first] = sampleIntervals(brokersOnly, range("brokers"));
    expect(first?.platform).toBeNull();
    expect(first?.users).toEqual({ cents: 9_007_199_254_745_993n, missing: 0 });
    // An account with broker samples but no total series is missing from account totals.
    const [noTotals] = sampleIntervals(brokersOnly, range("accounts"));
    expect(noTotals?.users).toEqual({ cents: null, missing: 2 });
  });

  it("leaves out samples outside [since, until]", () => {
    const days = sampleIntervals(history, {
      ...range(),
      since: at("2026-11-01T12:00:00Z"),
      until: at("2026-11-01T17:00:00Z"),
    });
    expect(days).toHaveLength(1);
    expect(days[0]?.samples).toEqual([]);
  });
});
