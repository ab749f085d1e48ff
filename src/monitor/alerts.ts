/**
 * BALANCE_LOW and BALANCE_DROP, as pure functions: what to record from a report, which thresholds
 * apply to a series, and which alerts fire given the previous figures and the alert state.
 *
 * An alert fires when its condition starts (no active state), and again only after the re-notify
 * interval while it lasts. A series whose fetch failed has no current figure: its condition is
 * unknown, so its state is left as it is (a failed broker never reads as a drop to zero).
 * Amounts are integer cents as bigints throughout, so figures past 2^53 compare exactly.
 */
import { AmountError, type Cents, divideCents, dollarsToCents } from "../money.js";
import { type BrokerRow, isFailed, type Report, type ReportAccount } from "../report/model.js";
import type { ActiveAlert, AlertType, Sample, SeriesKey } from "./history.js";

export type { AlertType };

/** Thresholds for one series: a floor in cents, a drop in percent. */
export interface Thresholds {
  lowCents?: Cents;
  dropPct?: number;
}

interface AlertBase {
  key: SeriesKey;
  /** The figure compared against: the previous one (LOW), or the drop's reference (DROP). */
  previousCents: Cents | null;
  currentCents: Cents;
  at: number;
  /** When the condition started; earlier than `at` for a re-notification. */
  since: number;
  repeat: boolean;
}

/** LOW carries its floor in cents, DROP its percentage. */
export type Alert =
  | (AlertBase & { type: "BALANCE_LOW"; threshold: Cents })
  | (AlertBase & { type: "BALANCE_DROP"; threshold: number });

/** One series as observed in this run, with what the history says about it. */
export interface Observation {
  key: SeriesKey;
  /** null: the fetch failed. */
  currentCents: Cents | null;
  /** The latest figure recorded before this run. */
  previousCents: Cents | null;
  /** What a drop is measured against: the previous figure, or the highest within the window. */
  referenceCents: Cents | null;
  thresholds: Thresholds;
}

export interface Evaluation {
  alerts: Alert[];
  upsert: ActiveAlert[];
  clear: Pick<ActiveAlert, "type" | "key">[];
}

export const seriesId = (type: string, key: SeriesKey) =>
  `${type}\u0000${key.kind}\u0000${key.account}\u0000${key.broker ?? ""}`;

/** A floor past any balance: what a config threshold too large to parse stands for. */
const NO_FLOOR_ABOVE = 10n ** 62n;

/**
 * A USD threshold from a config file (a JSON number) in cents, through its shortest decimal form
 * so 100.1 is 10010 cents exactly. A number too large for an amount is a floor nothing reaches.
 */
export function usdNumberToCents(usd: number): Cents {
  try {
    return dollarsToCents(String(usd));
  } catch (error) {
    if (error instanceof AmountError) return NO_FLOOR_ABOVE;
    throw error;
  }
}

/** Whether `current` fell by more than `pct` percent below `reference`, in exact integers. */
export function droppedBy(reference: Cents, current: Cents, pct: number): boolean {
  if (reference <= 0n || current >= reference) return false;
  // pct to hundredths of a percent: (reference - current) / reference > pct / 100.
  const hundredths = BigInt(Math.round(pct * 100));
  return (reference - current) * 10_000n > hundredths * reference;
}

/** Percentage change from `from` to `to`, rounded to 0.01; null without a positive `from`. */
export function changePct(from: Cents | null, to: Cents): number | null {
  if (from === null || from <= 0n) return null;
  return Number(divideCents((to - from) * 10_000n, from)) / 100;
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
        typeof threshold === "bigint"
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
      const base = {
        key: obs.key,
        previousCents: previous,
        currentCents: current,
        at: options.now,
        since,
        repeat: Boolean(state),
      };
      out.alerts.push(
        type === "BALANCE_LOW"
          ? { ...base, type, threshold: threshold as Cents }
          : { ...base, type, threshold: threshold as number },
      );
    }
  }
  return out;
}

/** When a row's figure was fetched (ms): its own fetched_at, else the report's time. */
function fetchedAtMs(row: BrokerRow, fallback: number): number {
  const at = row.fetchedAt === null ? Number.NaN : Date.parse(row.fetchedAt);
  return Number.isFinite(at) ? at : fallback;
}

/** A row whose figure is a fresh answer, fetched now or served from the cache. */
const hasFreshFigure = (row: BrokerRow) =>
  row.enabled &&
  row.status === "ok" &&
  (row.source === "live" || row.source === "cached") &&
  row.usdCents !== null;

/**
 * An account's total as a figure of its own: the sum the report shows, timed at the latest of
 * the figures it adds up (so every process that sees the same figures gives it the same time);
 * no figure while a broker failed. Null when nothing of the account has a figure at all.
 */
function accountTotal(
  account: ReportAccount,
  now: number,
): { at: number; cents: Cents | null } | null {
  if (account.rows.some(isFailed)) return { at: now, cents: null };
  const fresh = account.rows.filter(hasFreshFigure);
  if (fresh.length === 0) return null;
  return { at: Math.max(...fresh.map((row) => fetchedAtMs(row, now))), cents: account.totalCents };
}

export interface SampleOptions {
  /**
   * Whether the report's account totals are whole accounts. A report limited to some brokers
   * (--broker) shows totals of those brokers only: they are neither recorded nor evaluated.
   */
  totals?: boolean;
}

const accountsOf = (report: Report): ReportAccount[] => [
  ...(report.platform ? [report.platform] : []),
  ...report.users,
];

/**
 * What a report adds to the history: each broker row that was fetched in this run (live, or
 * failed: a stale row is a failed fetch and is recorded without a figure), and each such
 * account's total (no figure when a broker failed). Cached rows were recorded by the process
 * that fetched them; brokers without credentials and disabled ones were not fetched at all.
 */
export function samplesFromReport(report: Report, options: SampleOptions = {}): Sample[] {
  const now = report.generatedAt.getTime();
  const out: Sample[] = [];
  for (const account of accountsOf(report)) {
    if (!account.enabled) continue;
    const fetched = account.rows.filter(
      (row) => row.enabled && row.source !== "cached" && row.status !== "no_credentials",
    );
    if (fetched.length === 0) continue;
    const base = { kind: account.kind, account: account.id };
    for (const row of fetched) {
      const good = row.status === "ok" && row.source === "live" && row.usdCents !== null;
      out.push({
        ...base,
        broker: row.broker,
        at: good ? fetchedAtMs(row, now) : now,
        status: row.status,
        cents: good ? row.usdCents : null,
        valuation: row.valuation,
        assets: good ? row.assets : null,
      });
    }
    const total = options.totals === false ? null : accountTotal(account, now);
    if (total) {
      out.push({
        ...base,
        broker: null,
        at: total.at,
        status: total.cents === null ? "partial" : "ok",
        cents: total.cents,
        valuation: null,
        assets: null,
      });
    }
  }
  return out;
}

/** A figure the report shows, with the time it was fetched: what alerts are evaluated on. */
export interface ShownFigure {
  key: SeriesKey;
  at: number;
  cents: Cents;
}

/**
 * Every figure the report shows, fetched now or served from the cache: each broker row with a
 * fresh figure, and each account's total while none of its brokers failed. A failed row (stale
 * or unknown) has no current figure, so it leaves its alerts as they are and is not listed.
 */
export function figuresShown(report: Report, options: SampleOptions = {}): ShownFigure[] {
  const now = report.generatedAt.getTime();
  const out: ShownFigure[] = [];
  for (const account of accountsOf(report)) {
    if (!account.enabled) continue;
    const base = { kind: account.kind, account: account.id };
    for (const row of account.rows) {
      if (!hasFreshFigure(row)) continue;
      out.push({
        key: { ...base, broker: row.broker },
        at: fetchedAtMs(row, now),
        cents: row.usdCents as Cents,
      });
    }
    const total = options.totals === false ? null : accountTotal(account, now);
    if (total && total.cents !== null) {
      out.push({ key: { ...base, broker: null }, at: total.at, cents: total.cents });
    }
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
  const low = config?.lowUsd !== undefined ? usdNumberToCents(config.lowUsd) : fallback.lowCents;
  const drop = config?.dropPct ?? fallback.dropPct;
  if (low !== undefined) out.lowCents = low;
  if (drop !== undefined) out.dropPct = drop;
  return out;
}

export function hasThresholds(t: Thresholds): boolean {
  return t.lowCents !== undefined || t.dropPct !== undefined;
}
