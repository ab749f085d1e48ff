import { type BrokerRow, type Report, type ReportAccount, recordOf } from "../report/model.js";
import { stringifyJson, usdJson } from "./json-text.js";
import { rowState } from "./labels.js";

export interface JsonOptions {
  /** Adds `assets`: per account and broker, each asset's free/used/total and USD value. */
  assets?: boolean;
}

function byBroker<T>(account: ReportAccount, pick: (row: BrokerRow) => T): Record<string, T> {
  return recordOf(account.rows, (row) => row.broker, pick);
}

function perAccount<T>(report: Report, pick: (row: BrokerRow) => T) {
  return {
    platform: report.platform ? byBroker(report.platform, pick) : {},
    users: recordOf(
      report.users,
      (user) => user.id,
      (user) => byBroker(user, pick),
    ),
  };
}

interface RowStatus {
  state: ReturnType<typeof rowState>;
  message: string | null;
  source: BrokerRow["source"];
  fetched_at: string | null;
  age_seconds: number | null;
  valuation: BrokerRow["valuation"];
  basis: BrokerRow["basis"];
  environment: BrokerRow["environment"];
  unpriced: string[];
  duplicate_of?: string;
  remembered_failure?: true;
  retry_after?: string;
}

function statusOf(row: BrokerRow): RowStatus {
  const status: RowStatus = {
    state: rowState(row),
    message: row.message,
    source: row.source,
    fetched_at: row.fetchedAt,
    age_seconds: row.ageSeconds,
    valuation: row.valuation,
    basis: row.basis,
    environment: row.environment,
    unpriced: row.unpriced,
  };
  if (row.duplicateOf) status.duplicate_of = row.duplicateOf;
  if (row.retryAfter) {
    status.remembered_failure = true;
    status.retry_after = row.retryAfter;
  }
  return status;
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
      user_totals: recordOf(
        Object.keys(s.userTotals),
        (id) => id,
        (id) => usdJson(s.userTotals[id] ?? null),
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
