/**
 * BALANCE_LOW and BALANCE_DROP, as pure functions: what to record from a report, which thresholds
 * apply to a series, and which alerts fire given the previous figures and the alert state.
 *
 * An alert fires when its condition starts (no active state), and again only after the re-notify
 * interval while it lasts. A series whose fetch failed has no current figure: its condition is
 * unknown, so its state is left as it is (a failed broker never reads as a drop to zero).
 */
import { fixedToCents, toFixed } from "../money.js";
import { isFailed, type Report, type ReportAccount } from "../report/model.js";
import type { ActiveAlert, AlertType, Sample, SeriesKey } from "./history.js";

export type { AlertType };

/** Thresholds for one series, in cents and percent. */
export interface Thresholds {
  lowCents?: number;
  dropPct?: number;
}

export interface Alert {
  type: AlertType;
  key: SeriesKey;
  /** The figure compared against: the previous one (LOW), or the drop's reference (DROP). */
  previousCents: number | null;
  currentCents: number;
  /** LOW: the floor in cents; DROP: the percentage. */
  threshold: number;
  at: number;
  /** When the condition started; earlier than `at` for a re-notification. */
  since: number;
  repeat: boolean;
}

/** One series as observed in this run, with what the history says about it. */
export interface Observation {
  key: SeriesKey;
  /** null: the fetch failed. */
  currentCents: number | null;
  /** The latest figure recorded before this run. */
  previousCents: number | null;
  /** What a drop is measured against: the previous figure, or the highest within the window. */
  referenceCents: number | null;
  thresholds: Thresholds;
}

export interface Evaluation {
  alerts: Alert[];
  upsert: ActiveAlert[];
  clear: Pick<ActiveAlert, "type" | "key">[];
}

export const seriesId = (type: string, key: SeriesKey) =>
  `${type}\u0000${key.kind}\u0000${key.account}\u0000${key.broker ?? ""}`;

/** USD as given on the command line or in a file, to cents without float noise. */
export function usdToCents(usd: number | string): number {
  return fixedToCents(toFixed(usd));
}

/** Whether `current` fell by more than `pct` percent below `reference`, in exact integers. */
export function droppedBy(reference: number, current: number, pct: number): boolean {
  if (reference <= 0 || current >= reference) return false;
  // pct to hundredths of a percent: (reference - current) / reference > pct / 100.
  const hundredths = BigInt(Math.round(pct * 100));
  return BigInt(reference - current) * 10_000n > hundredths * BigInt(reference);
}

/** Percentage change from `from` to `to`, rounded to 0.01; null without a positive `from`. */
export function changePct(from: number | null, to: number): number | null {
  if (from === null || from <= 0) return null;
  return Math.round(((to - from) * 10_000) / from) / 100;
}

export function evaluateAlerts(
  observations: readonly Observation[],
  active: readonly ActiveAlert[],
  options: { now: number; renotifyMs: number | null },
): Evaluation {
  const states = new Map(active.map((a) => [seriesId(a.type, a.key), a]));
  const out: Evaluation = { alerts: [], upsert: [], clear: [] };
  for (const obs of observations) {
    for (const type of ["BALANCE_LOW", "BALANCE_DROP"] as const) {
      const threshold = type === "BALANCE_LOW" ? obs.thresholds.lowCents : obs.thresholds.dropPct;
      const state = states.get(seriesId(type, obs.key));
      if (threshold === undefined) {
        if (state) out.clear.push({ type, key: obs.key });
        continue;
      }
      const current = obs.currentCents;
      if (current === null) continue;
      const previous = type === "BALANCE_LOW" ? obs.previousCents : obs.referenceCents;
      const holds =
        type === "BALANCE_LOW"
          ? current < threshold
          : previous !== null && droppedBy(previous, current, threshold);
      if (!holds) {
        if (state) out.clear.push({ type, key: obs.key });
        continue;
      }
      const due =
        !state ||
        (options.renotifyMs !== null && options.now - state.notifiedAt >= options.renotifyMs);
      if (!due) continue;
      const since = state?.since ?? options.now;
      out.upsert.push({ type, key: obs.key, since, notifiedAt: options.now });
      out.alerts.push({
        type,
        key: obs.key,
        previousCents: previous,
        currentCents: current,
        threshold,
        at: options.now,
        since,
        repeat: Boolean(state),
      });
    }
  }
  return out;
}

/**
 * What a report adds to the history: each broker row that was fetched in this run (live, or
 * failed: a stale row is a failed fetch and is recorded without a figure), and each such
 * account's total (no figure when a broker failed). Cached rows were recorded when fetched;
 * brokers without credentials and disabled ones were not fetched at all.
 */
export function samplesFromReport(report: Report): Sample[] {
  const now = report.generatedAt.getTime();
  const out: Sample[] = [];
  const accounts: ReportAccount[] = [
    ...(report.platform ? [report.platform] : []),
    ...report.users,
  ];
  for (const account of accounts) {
    if (!account.enabled) continue;
    const fetched = account.rows.filter(
      (row) => row.enabled && row.source !== "cached" && row.status !== "no_credentials",
    );
    if (fetched.length === 0) continue;
    const base = { kind: account.kind, account: account.id };
    for (const row of fetched) {
      const good = row.status === "ok" && row.source === "live";
      out.push({
        ...base,
        broker: row.broker,
        at: good ? Date.parse(row.fetchedAt) || now : now,
        status: row.status,
        cents: good ? row.usdCents : null,
        valuation: row.valuation,
        assets: good ? row.assets : null,
      });
    }
    const partial = account.rows.some(isFailed);
    out.push({
      ...base,
      broker: null,
      at: now,
      status: partial ? "partial" : "ok",
      cents: partial ? null : account.totalCents,
      valuation: null,
      assets: null,
    });
  }
  return out;
}

/** Per-series thresholds: config per broker or per user total, else the flags (brokers only). */
export interface ThresholdSources {
  flags: Thresholds;
  /** A broker entry's `alerts` (USD), by `${kind}:${account}:${broker}`. */
  brokers: Map<string, { lowUsd?: number; dropPct?: number }>;
  /** A user file's `alerts` (USD), by `${kind}:${account}`. */
  totals: Map<string, { lowUsd?: number; dropPct?: number }>;
}

export function thresholdsFor(key: SeriesKey, sources: ThresholdSources): Thresholds {
  if (key.broker === null) {
    return fromConfig(sources.totals.get(`${key.kind}:${key.account}`), {});
  }
  return fromConfig(sources.brokers.get(`${key.kind}:${key.account}:${key.broker}`), sources.flags);
}

function fromConfig(
  config: { lowUsd?: number; dropPct?: number } | undefined,
  fallback: Thresholds,
): Thresholds {
  const out: Thresholds = {};
  const low = config?.lowUsd !== undefined ? usdToCents(config.lowUsd) : fallback.lowCents;
  const drop = config?.dropPct ?? fallback.dropPct;
  if (low !== undefined) out.lowCents = low;
  if (drop !== undefined) out.dropPct = drop;
  return out;
}

export function hasThresholds(t: Thresholds): boolean {
  return t.lowCents !== undefined || t.dropPct !== undefined;
}
