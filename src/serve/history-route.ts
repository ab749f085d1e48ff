/**
 * `GET /api/history?range=24h|7d|30d`: the platform total and the total user capital over time,
 * and each user's total for the cards' sparklines, from the balance history that report runs (and
 * `serve`, as it refreshes) record (src/monitor/history.ts). The store is opened on the first
 * request and only read; a missing file is "nothing recorded yet", looked for again next time.
 */
import type { Cents } from "../money.js";
import { HistoryStore, historyError, type Sample } from "../monitor/history.js";
import { usdJson } from "../render/json-text.js";

export const HISTORY_RANGES = {
  "24h": 24 * 3600_000,
  "7d": 7 * 24 * 3600_000,
  "30d": 30 * 24 * 3600_000,
} as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;

/** Points per line: enough for a chart a screen wide, few enough for a small answer. */
const CHART_POINTS = 240;
const SPARKLINE_POINTS = 48;

/** [epoch ms, cents or null (unknown)]. */
export type Point = [number, Cents | null];

export interface HistorySeries {
  platformTotal: Point[];
  totalUserCapital: Point[];
  users: Record<string, Point[]>;
}

/**
 * Thins a line to at most `slots` points over [since, until]: each slot keeps its last known
 * figure (at that figure's own time), or an unknown point when every figure in it was unknown,
 * so a failure shows as a gap, never as a drop to zero.
 */
export function downsample(points: readonly Point[], since: number, until: number, slots: number) {
  const span = Math.max(1, until - since);
  const kept = new Map<number, Point>();
  for (const point of points) {
    const slot = Math.min(slots - 1, Math.max(0, Math.floor(((point[0] - since) * slots) / span)));
    const held = kept.get(slot);
    if (!held || point[1] !== null || held[1] === null) kept.set(slot, point);
  }
  return [...kept.entries()].sort((a, b) => a[0] - b[0]).map(([, point]) => point);
}

/**
 * How far before the range the capital line looks for each user's figure: users are recorded
 * when fetched, each at its own time, so the sum at the range's start needs their earlier figures.
 */
export const LOOKBACK_MS = 24 * 3600_000;

/**
 * The lines from recorded account totals (samples with broker null; others are ignored), with
 * points from `since` on. The platform line is its own recorded totals. The capital line is a
 * point at every time a user total was recorded: the sum of each user's latest total so far
 * (samples before `since` only set these), unknown while any of them is unknown (a failed
 * broker). A user recorded neither in the range nor in the look-back before it joins the sum when
 * first recorded. Only `users` (the enabled users of the configuration) count, so a user removed
 * from the configuration does not stay in the sum with an old figure.
 */
export function historySeries(
  samples: readonly Sample[],
  options: { since: number; until: number; users: readonly string[] },
): HistorySeries {
  const wanted = new Set(options.users);
  const totals = samples.filter((s) => s.broker === null).sort((a, b) => a.at - b.at);
  const platform: Point[] = [];
  const perUser = new Map<string, Point[]>();
  const capital: Point[] = [];
  const latest = new Map<string, Cents | null>();
  const sum = (): Cents | null => {
    let total: Cents | null = 0n;
    for (const cents of latest.values())
      total = total === null || cents === null ? null : total + cents;
    return total;
  };
  let i = 0;
  while (i < totals.length) {
    // One recording time at once: one capital point after every user total recorded then.
    const at = (totals[i] as Sample).at;
    let userRecorded = false;
    for (; i < totals.length && (totals[i] as Sample).at === at; i++) {
      const sample = totals[i] as Sample;
      const shown = sample.at >= options.since;
      if (sample.kind === "platform") {
        if (shown) platform.push([sample.at, sample.cents]);
      } else if (wanted.has(sample.account)) {
        const points = perUser.get(sample.account) ?? [];
        if (shown) points.push([sample.at, sample.cents]);
        perUser.set(sample.account, points);
        latest.set(sample.account, sample.cents);
        userRecorded = true;
      }
    }
    if (userRecorded && at >= options.since) capital.push([at, sum()]);
  }
  const { since, until } = options;
  return {
    platformTotal: downsample(platform, since, until, CHART_POINTS),
    totalUserCapital: downsample(capital, since, until, CHART_POINTS),
    users: Object.fromEntries(
      [...perUser.entries()]
        .filter(([, points]) => points.length > 0)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([id, points]) => [id, downsample(points, since, until, SPARKLINE_POINTS)]),
    ),
  };
}

const pointsJson = (points: readonly Point[]) => points.map(([at, cents]) => [at, usdJson(cents)]);

/** The route's JSON body: times as epoch milliseconds, figures as exact dollars or null. */
export function historyJson(
  series: HistorySeries | null,
  range: HistoryRange,
  since: number,
  until: number,
) {
  return {
    range,
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    recorded: series !== null,
    platform_total: pointsJson(series?.platformTotal ?? []),
    total_user_capital: pointsJson(series?.totalUserCapital ?? []),
    users: Object.fromEntries(
      Object.entries(series?.users ?? {}).map(([id, points]) => [id, pointsJson(points)]),
    ),
  };
}

export function parseRange(text: string | null): HistoryRange | null {
  const range = text ?? "24h";
  return Object.hasOwn(HISTORY_RANGES, range) ? (range as HistoryRange) : null;
}

/**
 * How long an answer is kept: a tenth of a chart slot, at least 15 s (24 h: 36 s; 7 d: 4.2 min;
 * 30 d: 18 min), so a wide range is not read again on every poll for a change a slot hides.
 */
export const cacheMs = (range: HistoryRange) =>
  Math.max(15_000, HISTORY_RANGES[range] / CHART_POINTS / 10);

/** The store behind the route, opened lazily and kept open, with each range's last answer. */
export class HistoryService {
  private store: HistoryStore | null = null;
  private readonly cache = new Map<HistoryRange, { at: number; status: number; body: unknown }>();

  constructor(
    /** The state directory holding history.sqlite; null: no history (the chart says so). */
    private readonly dir: string | null,
    private readonly users: () => readonly string[],
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  answer(range: HistoryRange, now: number = Date.now()): { status: number; body: unknown } {
    const cached = this.cache.get(range);
    if (cached && now - cached.at < cacheMs(range) && now >= cached.at) return cached;
    const since = now - HISTORY_RANGES[range];
    let fresh: { status: number; body: unknown };
    try {
      const store = this.open();
      // Totals only: the store keeps them under broker "" (history.ts), and reading the broker
      // rows too (with their assets) costs ~6x as long for nothing.
      const samples = store ? store.query({ since: since - LOOKBACK_MS, brokers: [""] }) : null;
      const series = samples
        ? historySeries(samples, { since, until: now, users: this.users() })
        : null;
      fresh = { status: 200, body: historyJson(series, range, since, now) };
    } catch (error) {
      const failure = historyError(error, this.store?.file ?? "history.sqlite");
      this.onError(`history: ${failure.message}`);
      this.close();
      fresh = { status: 503, body: { error: `history unavailable: ${failure.message}` } };
    }
    this.cache.set(range, { at: now, ...fresh });
    return fresh;
  }

  private open(): HistoryStore | null {
    if (this.dir === null) return null;
    this.store ??= HistoryStore.open(this.dir, { mustExist: true });
    return this.store;
  }

  close(): void {
    this.store?.close();
    this.store = null;
  }
}
