import type { BrokerRow } from "../report/model.js";

/** Human wording of a status, shared by the table, the status view and the dashboard. */
export const STATUS_LABELS: Record<BrokerRow["status"] | "disabled", string> = {
  ok: "ok",
  no_credentials: "no credentials",
  config_error: "config error",
  auth_failed: "auth failed",
  permission_denied: "permission denied",
  rate_limited: "rate limited",
  network_error: "network error",
  timeout: "timeout",
  exchange_error: "exchange error",
  unsupported_broker: "unsupported broker",
  disabled: "disabled",
};

/** "45s", "12m", "3h", "2d": ages of cached and stale figures. */
export function formatAge(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/** The state word for a row: its status, or "disabled". */
export function rowState(row: BrokerRow): BrokerRow["status"] | "disabled" {
  return row.enabled ? row.status : "disabled";
}

/**
 * "2026-01-21 16:00:00Z". The one rule for times in text output: UTC, and the Z says so (the
 * report, the status view, history, alerts, the portfolio); JSON and CSV carry ISO 8601 with Z.
 * Local time without a zone was ambiguous across hosts and cron logs.
 */
export function formatGenerated(date: Date, seconds = true): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)}Z`;
}
