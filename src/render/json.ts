import type { BrokerRow, Report, ReportAccount } from "../report/model.js";
import { stringifyJson, usdJson } from "./json-text.js";
import { rowState } from "./labels.js";

export interface JsonOptions {
  /** Adds `assets`: per account and broker, each asset's free/used/total and USD value. */
  assets?: boolean;
}

function byBroker<T>(account: ReportAccount, pick: (row: BrokerRow) => T): Record<string, T> {
  return Object.fromEntries(account.rows.map((row) => [row.broker, pick(row)]));
}

function perAccount<T>(report: Report, pick: (row: BrokerRow) => T) {
  return {
    platform: report.platform ? byBroker(report.platform, pick) : {},
    users: Object.fromEntries(report.users.map((user) => [user.id, byBroker(user, pick)])),
  };
}

function statusOf(row: BrokerRow) {
  return {
    state: rowState(row),
    message: row.message,
    source: row.source,
    fetched_at: row.fetchedAt,
    age_seconds: row.ageSeconds,
    valuation: row.valuation,
    basis: row.basis,
    environment: row.environment,
    unpriced: row.unpriced,
    ...(row.duplicateOf ? { duplicate_of: row.duplicateOf } : {}),
    ...(row.retryAfter ? { remembered_failure: true, retry_after: row.retryAfter } : {}),
  };
}

function assetsOf(row: BrokerRow) {
  return Object.fromEntries(
    Object.entries(row.assets).map(([code, asset]) => [
      code,
      {
        free: asset.free,
        used: asset.used,
        total: asset.total,
        usd: usdJson(asset.usdCents),
      },
    ]),
  );
}

/**
 * The original system's JSON document (`timestamp`, `balances`, `summary`), amounts as exact
 * decimal numbers (unknown figures `null`), plus additive fields only: `status`, `partial`, the
 * summary's coverage and, on request, `assets`.
 */
export function toJsonDocument(report: Report, options: JsonOptions = {}) {
  const s = report.summary;
  return {
    timestamp: report.generatedAt.toISOString(),
    balances: perAccount(report, (row) => usdJson(row.usdCents)),
    summary: {
      platform_total: usdJson(s.platformTotalCents),
      user_totals: Object.fromEntries(
        Object.entries(s.userTotals).map(([id, cents]) => [id, usdJson(cents)]),
      ),
      total_user_capital: usdJson(s.totalUserCapitalCents),
      user_count: s.userCount,
      average_per_user: usdJson(s.averagePerUserCents),
      accounts_unknown: s.accountsUnknown,
      users_unknown: s.usersUnknown,
      duplicate_usd: usdJson(s.duplicateCents),
    },
    status: perAccount(report, statusOf),
    partial: report.failedCount > 0 || s.accountsUnknown > 0,
    ...(options.assets ? { assets: perAccount(report, assetsOf) } : {}),
  };
}

/** The document as text: indented, or one line (NDJSON in watch mode). */
export function renderJson(report: Report, options: JsonOptions & { compact?: boolean } = {}) {
  return `${stringifyJson(toJsonDocument(report, options), options.compact ? 0 : 2)}\n`;
}
