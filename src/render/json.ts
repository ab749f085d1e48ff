import { centsToNumber } from "../money.js";
import type { BrokerRow, Report, ReportAccount } from "../report/model.js";
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
    unpriced: row.unpriced,
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
        usd: asset.usdCents === null ? null : centsToNumber(asset.usdCents),
      },
    ]),
  );
}

/**
 * The original system's JSON document (`timestamp`, `balances`, `summary`), amounts as numbers
 * rounded to the cent, plus additive fields only: `status`, `partial` and, on request, `assets`.
 */
export function toJsonDocument(report: Report, options: JsonOptions = {}) {
  const s = report.summary;
  return {
    timestamp: report.generatedAt.toISOString(),
    balances: perAccount(report, (row) => centsToNumber(row.usdCents)),
    summary: {
      platform_total: centsToNumber(s.platformTotalCents),
      user_totals: Object.fromEntries(
        Object.entries(s.userTotals).map(([id, cents]) => [id, centsToNumber(cents)]),
      ),
      total_user_capital: centsToNumber(s.totalUserCapitalCents),
      user_count: s.userCount,
      average_per_user: centsToNumber(s.averagePerUserCents),
    },
    status: perAccount(report, statusOf),
    partial: report.failedCount > 0,
    ...(options.assets ? { assets: perAccount(report, assetsOf) } : {}),
  };
}

export function renderJson(report: Report, options: JsonOptions = {}): string {
  return `${JSON.stringify(toJsonDocument(report, options), null, 2)}\n`;
}
