/**
 * The history by interval, as a pure function: the last figure of each series in each hour, day
 * or week, and per interval the platform total and the total user capital over the accounts that
 * have a figure in it (with how many have none). Intervals are aligned in UTC (hours and days on
 * their boundary, weeks on Monday 00:00Z, as ISO 8601 counts them), so the same history gives the
 * same rows on every machine whatever its time zone. Amounts are bigint cents throughout.
 */
import type { Cents } from "../money.js";
import type { Sample, SeriesKey } from "./history.js";

export const INTERVALS = ["1h", "1d", "1w"] as const;
export type IntervalName = (typeof INTERVALS)[number];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const INTERVAL_MS: Record<IntervalName, number> = { "1h": HOUR, "1d": DAY, "1w": 7 * DAY };
/** 1970-01-05T00:00Z, the first Monday after the epoch: where weeks start. */
const WEEK_ORIGIN = 4 * DAY;

/** More intervals than this in one answer is a range to shorten or an interval to widen. */
export const MAX_INTERVALS = 10_000;

/** The start (ms) of the interval holding `at`, aligned in UTC. */
export function intervalStart(at: number, interval: IntervalName): number {
  const size = INTERVAL_MS[interval];
  const origin = interval === "1w" ? WEEK_ORIGIN : 0;
  return Math.floor((at - origin) / size) * size + origin;
}

/** How many intervals the range [since, until] touches. */
export function intervalCount(since: number, until: number, interval: IntervalName): number {
  return (
    (intervalStart(until, interval) - intervalStart(since, interval)) / INTERVAL_MS[interval] + 1
  );
}

/** One series in one interval: its last figure there, else its last (failed) sample. */
export interface IntervalSample {
  key: SeriesKey;
  /** When that sample was recorded (ms). */
  at: number;
  cents: Cents | null;
  status: string;
}

/** A total over one interval: the accounts with a figure summed, the others counted. */
export interface IntervalTotal {
  /** null when no account of this total has a figure in the interval. */
  cents: Cents | null;
  /** Accounts in the view with no figure in this interval: left out of `cents`. */
  missing: number;
}

export interface Interval {
  start: number;
  end: number;
  /** Series order as given (platform first, then users; an account's total after its brokers). */
  samples: IntervalSample[];
  /** null when the view has no platform account (a --user filter). */
  platform: IntervalTotal | null;
  /** null when the view has no user account. */
  users: IntervalTotal | null;
}

export interface IntervalOptions {
  interval: IntervalName;
  since: number;
  until: number;
  /**
   * What the totals add up. "accounts": each account's own total series (the sum the report
   * shows, duplicates counted once), an account without one counting as missing. "brokers":
   * each broker series, for a view limited to some brokers, where no account total applies.
   */
  units: "accounts" | "brokers";
}

const seriesId = (key: SeriesKey) => `${key.kind}\u0000${key.account}\u0000${key.broker ?? ""}`;
const accountId = (key: SeriesKey) => `${key.kind}\u0000${key.account}`;

/** The last sample of each series in each interval, preferring the last one with a figure. */
function lastPerInterval(
  samples: readonly Sample[],
  interval: IntervalName,
): { keys: SeriesKey[]; cells: Map<string, Map<number, IntervalSample>> } {
  const keys: SeriesKey[] = [];
  const cells = new Map<string, Map<number, IntervalSample>>();
  for (const s of samples) {
    const id = seriesId(s);
    let byStart = cells.get(id);
    if (!byStart) {
      byStart = new Map();
      cells.set(id, byStart);
      keys.push({ kind: s.kind, account: s.account, broker: s.broker });
    }
    const start = intervalStart(s.at, interval);
    const held = byStart.get(start);
    const replace =
      !held ||
      (s.cents !== null && (held.cents === null || s.at >= held.at)) ||
      (s.cents === null && held.cents === null && s.at >= held.at);
    if (replace) {
      byStart.set(start, {
        key: { kind: s.kind, account: s.account, broker: s.broker },
        at: s.at,
        cents: s.cents,
        status: s.status,
      });
    }
  }
  return { keys, cells };
}

/**
 * Samples (as HistoryStore.query returns them: grouped by series, oldest first) by interval over
 * [since, until]: every interval of the range is listed, empty ones included, so gaps show.
 */
export function sampleIntervals(samples: readonly Sample[], options: IntervalOptions): Interval[] {
  const { interval } = options;
  const size = INTERVAL_MS[interval];
  const { keys, cells } = lastPerInterval(
    samples.filter((s) => s.at >= options.since && s.at <= options.until),
    interval,
  );
  // The units each total adds up: one per account (its total series) or one per broker series.
  type Unit = { kind: SeriesKey["kind"]; series: string };
  const units: Unit[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    if (options.units === "accounts") {
      const id = accountId(key);
      if (seen.has(id)) continue;
      seen.add(id);
      units.push({ kind: key.kind, series: seriesId({ ...key, broker: null }) });
    } else if (key.broker !== null) {
      units.push({ kind: key.kind, series: seriesId(key) });
    }
  }
  const totalOf = (kind: SeriesKey["kind"], start: number): IntervalTotal | null => {
    const mine = units.filter((u) => u.kind === kind);
    if (mine.length === 0) return null;
    let cents: Cents | null = null;
    let missing = 0;
    for (const unit of mine) {
      const figure = cells.get(unit.series)?.get(start)?.cents ?? null;
      if (figure === null) missing++;
      else cents = (cents ?? 0n) + figure;
    }
    return { cents, missing };
  };

  const out: Interval[] = [];
  const last = intervalStart(options.until, interval);
  for (let start = intervalStart(options.since, interval); start <= last; start += size) {
    out.push({
      start,
      end: start + size,
      samples: keys.flatMap((key) => {
        const cell = cells.get(seriesId(key))?.get(start);
        return cell ? [cell] : [];
      }),
      platform: totalOf("platform", start),
      users: totalOf("user", start),
    });
  }
  return out;
}
