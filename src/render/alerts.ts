import { formatUsd } from "../money.js";
import { type Alert, changePct } from "../monitor/alerts.js";
import type { SeriesKey } from "../monitor/history.js";
import { usdJson } from "./json-text.js";
import { formatGenerated } from "./labels.js";
import { safeText } from "./sanitize.js";
import { type Palette, PLAIN } from "./style.js";

const HEAVY = "=".repeat(80);

/** "alice / kraken", "alice / total", "platform / coinbase"; safe to print. */
export function seriesLabel(key: SeriesKey): string {
  const who = key.kind === "platform" ? "platform" : key.account;
  return safeText(`${who} / ${key.broker ?? "total"}`);
}

function formatPct(pct: number | null): string {
  if (pct === null) return "";
  return `${pct > 0 ? "+" : ""}${pct.toFixed(2)}%`;
}

/** One line per alert, e.g. "BALANCE_LOW   alice / kraken  $50.00, below $100.00". */
export function alertLine(alert: Alert): string {
  const who = seriesLabel(alert.key);
  const now = formatUsd(alert.currentCents);
  const was = alert.previousCents === null ? "" : ` (was ${formatUsd(alert.previousCents)})`;
  const text =
    alert.type === "BALANCE_LOW"
      ? `${who}: ${now}, below ${formatUsd(alert.threshold)}${was}`
      : `${who}: ${now}, ${formatPct(changePct(alert.previousCents, alert.currentCents))} from ${formatUsd(alert.previousCents ?? 0n)} (more than ${alert.threshold}% down)`;
  const still = alert.repeat ? ` [still, since ${formatGenerated(new Date(alert.since))}]` : "";
  return `${alert.type.padEnd(13)} ${text}${still}`;
}

/** The alerts section printed after the report table; empty when nothing fired. */
export function renderAlerts(
  alerts: readonly Alert[],
  options: { palette?: Palette } = {},
): string {
  if (alerts.length === 0) return "";
  const c = options.palette ?? PLAIN;
  const lines = [HEAVY, c.bold(c.red(`ALERTS (${alerts.length})`)), HEAVY];
  for (const alert of alerts) lines.push(`   ${c.red("⚠")} ${alertLine(alert)}`);
  lines.push(HEAVY);
  return `${lines.join("\n")}\n`;
}

/**
 * An alert in JSON (the report's `alerts` field and the webhook payload): amounts in USD as exact
 * JSON numbers (write the document with stringifyJson), `threshold` in USD for BALANCE_LOW and in
 * percent for BALANCE_DROP, `broker` null for a user's total.
 */
export function alertToJson(alert: Alert) {
  const previous = alert.previousCents;
  return {
    type: alert.type,
    account: alert.key.kind,
    user: alert.key.kind === "user" ? alert.key.account : null,
    broker: alert.key.broker,
    previous: usdJson(previous),
    current: usdJson(alert.currentCents),
    change: previous === null ? null : usdJson(alert.currentCents - previous),
    change_pct: changePct(previous, alert.currentCents),
    threshold: alert.type === "BALANCE_LOW" ? usdJson(alert.threshold) : alert.threshold,
    time: new Date(alert.at).toISOString(),
    since: new Date(alert.since).toISOString(),
    repeat: alert.repeat,
  };
}
