import { type Cents, formatUsd } from "../money.js";
import { changePct } from "../monitor/alerts.js";
import type { Sample, SeriesKey } from "../monitor/history.js";
import { seriesLabel } from "./alerts.js";
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
