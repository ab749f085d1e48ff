import { InvalidArgumentError } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { parseDateTime, parseTimeBound, resolveBound } from "../../src/commands/history.js";
import { sampleIntervals } from "../../src/monitor/intervals.js";
import {
  historyToCsv,
  intervalsToCsv,
  intervalsToJson,
  renderIntervals,
  toSeries,
} from "../../src/render/history.js";
import { stringifyJson } from "../../src/render/json-text.js";

const zone = process.env.TZ;
afterEach(() => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

describe("--since / --until", () => {
  it("reads a date without a zone as local midnight, and a time without one as local time", () => {
    process.env.TZ = "America/New_York";
    // 2026-11-01 is the day New York leaves summer time: midnight is still UTC-4.
    expect(new Date(parseDateTime("2026-11-01") as number).toISOString()).toBe(
      "2026-11-01T04:00:00.000Z",
    );
    expect(new Date(parseDateTime("2026-12-01T09:30") as number).toISOString()).toBe(
      "2026-12-01T14:30:00.000Z",
    );
    process.env.TZ = "Asia/Kolkata";
    expect(new Date(parseDateTime("2026-11-01") as number).toISOString()).toBe(
      "2026-10-31T18:30:00.000Z",
    );
  });

  it("takes ISO times with Z or an offset, and refuses days and times that do not exist", () => {
    expect(parseDateTime("2026-11-01T09:30:00Z")).toBe(Date.parse("2026-11-01T09:30:00Z"));
    expect(parseDateTime("2026-11-01T09:30:00.25z")).toBe(Date.parse("2026-11-01T09:30:00.250Z"));
    expect(parseDateTime("2026-11-01T09:30+02:00")).toBe(Date.parse("2026-11-01T07:30:00Z"));
    expect(parseDateTime("2026-11-01 09:30-0530")).toBe(Date.parse("2026-11-01T15:00:00Z"));
    for (const bad of [
      "2026-02-30",
      "2026-13-01",
      "2026-11-01T24:00",
      "2026-11-01T09:60",
      "2026-11-01T09:30+24:00",
      "2026-11-01Z",
      "2026-11-1",
      "20261101",
    ]) {
      expect(parseDateTime(bad), bad).toBeNull();
    }
  });

  it("keeps durations (with their bounds) counted back from now, and names both forms when wrong", () => {
    const since = parseTimeBound("--since");
    expect(since("7d")).toEqual({ ago: 7 * 86_400_000 });
    expect(since("2026-11-01T00:00:00Z")).toEqual({ at: Date.parse("2026-11-01T00:00:00Z") });
    expect(resolveBound({ ago: 1000 }, 5000)).toBe(4000);
    expect(resolveBound({ at: 42 }, 5000)).toBe(42);
    expect(() => since("3651d")).toThrow(InvalidArgumentError);
    expect(() => since("yesterday")).toThrow(/takes a duration such as .*, or a date \(2026-11-01/);
    expect(() => since("99999999999d")).toThrow(/takes a duration from 1s to 3650d, or a date/);
    expect(() => since("2026-02-30")).toThrow(/--since takes a real date/);
  });
});

describe("history renderers", () => {
  const D = Date.parse("2026-11-01T00:00:00Z");
  const HOUR = 3_600_000;
  const samples = [
    { kind: "platform", account: "platform", broker: "kraken", at: D + 18 * HOUR, cents: 567_890n },
    { kind: "platform", account: "platform", broker: null, at: D + 18 * HOUR, cents: 567_890n },
    { kind: "user", account: "=alice", broker: "kraken", at: D + 6 * HOUR, cents: -500n },
    { kind: "user", account: "=alice", broker: null, at: D + 6 * HOUR, cents: -500n },
    { kind: "user", account: "bob", broker: "kraken", at: D + 30 * HOUR, cents: null },
  ].map((x) => ({
    ...x,
    kind: x.kind as "platform" | "user",
    status: x.cents === null ? "timeout" : "ok",
    valuation: null,
    assets: null,
  }));
  const view = {
    interval: "1d" as const,
    since: new Date(D),
    until: new Date(D + 47 * HOUR),
    units: "accounts" as const,
    intervals: sampleIntervals(samples, {
      interval: "1d",
      since: D,
      until: D + 47 * HOUR,
      units: "accounts",
    }).map((i) => ({ ...i, samples: i.samples.filter((x) => x.key.broker !== null) })),
  };

  it("the table: one block per UTC interval, every time with its zone, totals saying what is missing", () => {
    const lines = renderIntervals(view)
      .split("\n")
      .map((l) => l.trimEnd());
    expect(lines).toEqual([
      "=".repeat(80),
      "BALANCE HISTORY BY DAY (UTC)",
      "=".repeat(80),
      "From: 2026-11-01 00:00:00Z   To: 2026-11-02 23:00:00Z",
      "=".repeat(80),
      "",
      "   2026-11-01 00:00Z to 2026-11-02 00:00Z",
      "-".repeat(80),
      "      platform / kraken    $5,678.90   2026-11-01 18:00:00Z",
      "      =alice / kraken         -$5.00   2026-11-01 06:00:00Z",
      "-".repeat(80),
      "      PLATFORM TOTAL       $5,678.90",
      "      TOTAL USER CAPITAL      -$5.00   (1 account with no figure: not included)",
      "",
      "   2026-11-02 00:00Z to 2026-11-03 00:00Z",
      "-".repeat(80),
      "      bob / kraken                 —   2026-11-02 06:00:00Z  ✗ timeout",
      "-".repeat(80),
      "      PLATFORM TOTAL               —   (1 account with no figure: not included)",
      "      TOTAL USER CAPITAL           —   (2 accounts with no figure: not included)",
      "",
    ]);
  });

  it("JSON: ISO times in UTC, exact amounts, totals with how many accounts they leave out", () => {
    const doc = JSON.parse(stringifyJson(intervalsToJson(view), 2));
    expect(doc).toMatchObject({
      interval: "1d",
      since: "2026-11-01T00:00:00.000Z",
      until: "2026-11-02T23:00:00.000Z",
      totals_of: "accounts",
    });
    expect(doc.intervals[0]).toEqual({
      start: "2026-11-01T00:00:00.000Z",
      end: "2026-11-02T00:00:00.000Z",
      samples: [
        {
          account: "platform",
          user: null,
          broker: "kraken",
          time: "2026-11-01T18:00:00.000Z",
          usd: 5678.9,
          status: "ok",
        },
        {
          account: "user",
          user: "=alice",
          broker: "kraken",
          time: "2026-11-01T06:00:00.000Z",
          usd: -5,
          status: "ok",
        },
      ],
      platform_total: { usd: 5678.9, accounts_missing: 0 },
      total_user_capital: { usd: -5, accounts_missing: 1 },
    });
    expect(stringifyJson(intervalsToJson(view), 0)).toContain('"usd":5678.90');
  });

  it("CSV: one row per sample, then the interval's totals; formula-looking names neutralised", () => {
    expect(intervalsToCsv(view).split("\r\n")).toEqual([
      "interval_start,interval_end,account,user,broker,time,usd,status,accounts_missing",
      "2026-11-01T00:00:00.000Z,2026-11-02T00:00:00.000Z,platform,,kraken,2026-11-01T18:00:00.000Z,5678.90,ok,",
      "2026-11-01T00:00:00.000Z,2026-11-02T00:00:00.000Z,user,'=alice,kraken,2026-11-01T06:00:00.000Z,-5.00,ok,",
      "2026-11-01T00:00:00.000Z,2026-11-02T00:00:00.000Z,platform_total,,,,5678.90,,0",
      "2026-11-01T00:00:00.000Z,2026-11-02T00:00:00.000Z,total_user_capital,,,,-5.00,,1",
      "2026-11-02T00:00:00.000Z,2026-11-03T00:00:00.000Z,user,bob,kraken,2026-11-02T06:00:00.000Z,,timeout,",
      "2026-11-02T00:00:00.000Z,2026-11-03T00:00:00.000Z,platform_total,,,,,,1",
      "2026-11-02T00:00:00.000Z,2026-11-03T00:00:00.000Z,total_user_capital,,,,,,2",
      "",
    ]);
    expect(historyToCsv(toSeries(samples)).split("\r\n")[0]).toBe(
      "time,account,user,broker,usd,status",
    );
  });
});
