import { type Cents, centsToDecimal, formatUsd } from "../money.js";
import { changePct } from "../monitor/alerts.js";
import type { Sample, SeriesKey } from "../monitor/history.js";
import type {
  Interval,
  IntervalName,
  IntervalOptions,
  IntervalSample,
  IntervalTotal,
} from "../monitor/intervals.js";
import { seriesLabel } from "./alerts.js";
import { toCsv } from "./csv.js";
import { usdJson } from "./json-text.js";
import { formatGenerated, STATUS_LABELS } from "./labels.js";
import { safeText } from "./sanitize.js";
import { type Palette, PLAIN } from "./style.js";

const HEAVY = "=".repeat(80);
const LIGHT = "-".repeat(80);

export interface Series {
  key: SeriesKey;
  samples: Sample[];
  /** First and last recorded figures in the range (failed fetches have none). */
  firstCents: Cents | null;
  lastCents: Cents | null;
}

/** Groups samples (already ordered by series, then time) into series. */
export function toSeries(samples: readonly Sample[]): Series[] {
  const out: Series[] = [];
  let current: Series | undefined;
  for (const s of samples) {
    if (
      !current ||
      current.key.kind !== s.kind ||
      current.key.account !== s.account ||
      current.key.broker !== s.broker
    ) {
      current = {
        key: { kind: s.kind, account: s.account, broker: s.broker },
        samples: [],
        firstCents: null,
        lastCents: null,
      };
      out.push(current);
    }
    current.samples.push(s);
    if (s.cents !== null) {
      current.firstCents ??= s.cents;
      current.lastCents = s.cents;
    }
  }
  return out;
}

const statusLabel = (status: string) =>
  status === "partial"
    ? "partial: a broker failed"
    : (STATUS_LABELS[status as keyof typeof STATUS_LABELS] ?? safeText(status));

function signedUsd(cents: Cents): string {
  return cents > 0n ? `+${formatUsd(cents)}` : formatUsd(cents);
}

function signedPct(pct: number | null): string {
  return pct === null ? "" : `${pct > 0 ? "+" : ""}${pct.toFixed(2)}%`;
}

/** The history as text: per series, each sample with its change against the previous figure. */
export function renderHistory(
  series: readonly Series[],
  options: { since: Date; palette?: Palette },
): string {
  const c = options.palette ?? PLAIN;
  const out = [HEAVY, c.bold("BALANCE HISTORY"), HEAVY, `Since: ${formatGenerated(options.since)}`];
  out.push(HEAVY);
  if (series.length === 0) out.push("", c.dim("   (nothing recorded in this range)"));
  const amounts = series.flatMap((s) => s.samples.map((x) => formatUsd(x.cents ?? 0n).length));
  const width = Math.max(10, ...amounts);
  for (const s of series) {
    out.push("", c.bold(`   ${seriesLabel(s.key)}`), LIGHT);
    let previous: Cents | null = null;
    for (const sample of s.samples) {
      const when = `      ${formatGenerated(new Date(sample.at))}`;
      if (sample.cents === null) {
        out.push(`${when}  ${"-".padStart(width)}  ${c.red(`✗ ${statusLabel(sample.status)}`)}`);
        continue;
      }
      const change =
        previous === null || previous === sample.cents
          ? ""
          : `  ${signedUsd(sample.cents - previous).padStart(width + 1)}  ${signedPct(changePct(previous, sample.cents))}`;
      out.push(`${when}  ${formatUsd(sample.cents).padStart(width)}${change}`);
      previous = sample.cents;
    }
    const n = s.samples.length;
    const change =
      s.firstCents !== null && s.lastCents !== null
        ? `${signedUsd(s.lastCents - s.firstCents)} ${signedPct(changePct(s.firstCents, s.lastCents))}`.trimEnd()
        : "no figure recorded";
    out.push(LIGHT, c.bold(`      CHANGE  ${change}  (${n} sample${n === 1 ? "" : "s"})`));
  }
  return `${out.join("\n")}\n`;
}

/**
 * The history as one JSON document: per series its points and the change over the range. Amounts
 * are exact JSON numbers: write it with stringifyJson.
 */
export function historyToJson(series: readonly Series[], since: Date, until: Date) {
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    series: series.map((s) => ({
      account: s.key.kind,
      user: s.key.kind === "user" ? s.key.account : null,
      broker: s.key.broker,
      points: s.samples.map((x) => ({
        time: new Date(x.at).toISOString(),
        usd: usdJson(x.cents),
        status: x.status,
        ...(x.assets
          ? {
              assets: Object.fromEntries(
                Object.entries(x.assets).map(([code, a]) => [code, a.total]),
              ),
            }
          : {}),
      })),
      first: usdJson(s.firstCents),
      last: usdJson(s.lastCents),
      change:
        s.firstCents === null || s.lastCents === null ? null : usdJson(s.lastCents - s.firstCents),
      change_pct: s.lastCents === null ? null : changePct(s.firstCents, s.lastCents),
    })),
  };
}

/** A series' columns as the JSON documents and CSV name them. */
const seriesColumns = (key: SeriesKey) => ({
  account: key.kind,
  user: key.kind === "user" ? key.account : null,
  broker: key.broker,
});

/** Every recorded sample as CSV, one row each; times ISO 8601 in UTC, amounts exact dollars. */
export function historyToCsv(series: readonly Series[]): string {
  const rows = series.flatMap((s) => {
    const c = seriesColumns(s.key);
    return s.samples.map((x) => [
      new Date(x.at).toISOString(),
      c.account,
      c.user,
      c.broker,
      x.cents === null ? null : centsToDecimal(x.cents),
      x.status,
    ]);
  });
  return toCsv(["time", "account", "user", "broker", "usd", "status"], rows);
}

/** The history by interval, as the command shows it. */
export interface IntervalView {
  interval: IntervalName;
  since: Date;
  until: Date;
  /** What the totals add up (IntervalOptions.units). */
  units: IntervalOptions["units"];
  intervals: Interval[];
}

const INTERVAL_WORDS: Record<IntervalName, string> = { "1h": "HOUR", "1d": "DAY", "1w": "WEEK" };

/** "2026-11-01 23:55:00Z": UTC, with its zone, for the table. */
export const utcText = (ms: number, seconds = true): string =>
  formatGenerated(new Date(ms), seconds);

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "(2 accounts with no figure: not included)", or "" when every account has one. */
function missingNote(total: IntervalTotal, units: IntervalView["units"]): string {
  if (total.missing === 0) return "";
  const what = units === "brokers" ? "broker account" : "account";
  return `(${plural(total.missing, what)} with no figure: not included)`;
}

/**
 * The history by interval as text: per interval (UTC) each series' last figure and when it was
 * recorded, then the platform total and the total user capital over the accounts with a figure.
 */
export function renderIntervals(view: IntervalView, options: { palette?: Palette } = {}): string {
  const c = options.palette ?? PLAIN;
  const out = [
    HEAVY,
    c.bold(`BALANCE HISTORY BY ${INTERVAL_WORDS[view.interval]} (UTC)`),
    HEAVY,
    `From: ${utcText(view.since.getTime())}   To: ${utcText(view.until.getTime())}`,
    HEAVY,
  ];
  const labels = view.intervals.flatMap((i) => i.samples.map((x) => seriesLabel(x.key)));
  const labelWidth = Math.max("TOTAL USER CAPITAL".length, ...labels.map((l) => l.length)) + 2;
  const totals = view.intervals.flatMap((i) => [i.platform?.cents, i.users?.cents]);
  const figures = view.intervals.flatMap((i) => i.samples.map((x) => x.cents));
  const width = Math.max(
    10,
    ...[...totals, ...figures].map(
      (cents) => (typeof cents === "bigint" ? formatUsd(cents) : "").length,
    ),
  );
  const amount = (cents: Cents | null) => (cents === null ? "—" : formatUsd(cents)).padStart(width);
  const sampleLine = (x: IntervalSample) => {
    const line = `      ${seriesLabel(x.key).padEnd(labelWidth)}${amount(x.cents)}   ${utcText(x.at)}`;
    return x.cents === null ? `${line}  ${c.red(`✗ ${statusLabel(x.status)}`)}` : line;
  };
  const totalLine = (label: string, total: IntervalTotal) => {
    const note = missingNote(total, view.units);
    return c.bold(
      `      ${label.padEnd(labelWidth)}${amount(total.cents)}${note ? `   ${note}` : ""}`,
    );
  };
  for (const interval of view.intervals) {
    out.push("", c.bold(`   ${utcText(interval.start, false)} to ${utcText(interval.end, false)}`));
    if (interval.samples.length === 0) {
      out.push(c.dim("      (nothing recorded)"));
      continue;
    }
    out.push(LIGHT, ...interval.samples.map(sampleLine), LIGHT);
    if (interval.platform) out.push(totalLine("PLATFORM TOTAL", interval.platform));
    if (interval.users) out.push(totalLine("TOTAL USER CAPITAL", interval.users));
  }
  return `${out.join("\n")}\n`;
}

const totalJson = (total: IntervalTotal | null) =>
  total === null ? null : { usd: usdJson(total.cents), accounts_missing: total.missing };

/**
 * The history by interval as one JSON document (write it with stringifyJson: amounts are exact
 * JSON numbers). Times are ISO 8601 in UTC.
 */
export function intervalsToJson(view: IntervalView) {
  return {
    interval: view.interval,
    since: view.since.toISOString(),
    until: view.until.toISOString(),
    totals_of: view.units,
    intervals: view.intervals.map((i) => ({
      start: new Date(i.start).toISOString(),
      end: new Date(i.end).toISOString(),
      samples: i.samples.map((x) => ({
        ...seriesColumns(x.key),
        time: new Date(x.at).toISOString(),
        usd: usdJson(x.cents),
        status: x.status,
      })),
      platform_total: totalJson(i.platform),
      total_user_capital: totalJson(i.users),
    })),
  };
}

/**
 * The history by interval as CSV: one row per sample, then per interval a `platform_total` and
 * a `total_user_capital` row (in `account`) carrying the total and `accounts_missing`.
 */
export function intervalsToCsv(view: IntervalView): string {
  const header = [
    "interval_start",
    "interval_end",
    "account",
    "user",
    "broker",
    "time",
    "usd",
    "status",
    "accounts_missing",
  ];
  const usd = (cents: Cents | null) => (cents === null ? null : centsToDecimal(cents));
  const rows = view.intervals.flatMap((i) => {
    const span = [new Date(i.start).toISOString(), new Date(i.end).toISOString()];
    const samples = i.samples.map((x) => {
      const c = seriesColumns(x.key);
      return [
        ...span,
        c.account,
        c.user,
        c.broker,
        new Date(x.at).toISOString(),
        usd(x.cents),
        x.status,
        null,
      ];
    });
    const totals = (
      [
        ["platform_total", i.platform],
        ["total_user_capital", i.users],
      ] as const
    ).flatMap(([name, total]) =>
      total ? [[...span, name, null, null, null, usd(total.cents), null, total.missing]] : [],
    );
    return [...samples, ...totals];
  });
  return toCsv(header, rows);
}
