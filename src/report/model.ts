import type { AccountBalance } from "../brokers/types.js";
import { divideCents } from "../money.js";

/** Where a figure comes from: fetched now, served from the cache, or an older value after a failure. */
export type FigureSource = "live" | "cached" | "stale";

/** One broker account's line in the report: the fetch result plus where it came from. */
export interface BrokerRow extends AccountBalance {
  enabled: boolean;
  source: FigureSource;
  /** Seconds since the figure was fetched, for cached and stale figures. */
  ageSeconds: number | null;
}

export interface AccountInput {
  kind: "platform" | "user";
  id: string;
  name: string | null;
  enabled: boolean;
  rows: BrokerRow[];
}

export interface ReportAccount extends AccountInput {
  totalCents: number;
}

export type SortOrder = "name" | "total";

export interface Report {
  generatedAt: Date;
  platform: ReportAccount | null;
  users: ReportAccount[];
  summary: {
    platformTotalCents: number;
    userTotals: Record<string, number>;
    totalUserCapitalCents: number;
    userCount: number;
    averagePerUserCents: number;
  };
  /** Broker accounts that have credentials but did not answer: the report is partial. */
  failedCount: number;
}

/** A row counts as failed when a fetch was due and did not produce a figure. */
export function isFailed(row: BrokerRow): boolean {
  return row.enabled && row.status !== "ok" && row.status !== "no_credentials";
}

/** Code-point order: stable across locales, and free of the first-use cost of localeCompare. */
function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function withTotal(account: AccountInput): ReportAccount {
  const totalCents = account.rows.reduce((sum, row) => sum + (row.enabled ? row.usdCents : 0), 0);
  return { ...account, totalCents };
}

/**
 * Builds the report from fetched accounts: pure, so the same model feeds the table, the JSON
 * document, the library API and the dashboard. Every user given is kept (visibility is the
 * point); disabled users are shown but count towards no total.
 */
export function buildReport(input: {
  platform: AccountInput | null;
  users: AccountInput[];
  generatedAt: Date;
  sort?: SortOrder;
}): Report {
  const platform = input.platform ? withTotal(input.platform) : null;
  const users = input.users.map(withTotal);
  if (input.sort === "total") {
    users.sort((a, b) => b.totalCents - a.totalCents || byId(a, b));
  } else {
    users.sort(byId);
  }
  const counted = users.filter((user) => user.enabled);
  const totalUserCapitalCents = counted.reduce((sum, user) => sum + user.totalCents, 0);
  const accounts = platform ? [platform, ...users] : users;
  return {
    generatedAt: input.generatedAt,
    platform,
    users,
    summary: {
      platformTotalCents: platform?.totalCents ?? 0,
      userTotals: Object.fromEntries(counted.map((user) => [user.id, user.totalCents])),
      totalUserCapitalCents,
      userCount: counted.length,
      averagePerUserCents: divideCents(totalUserCapitalCents, counted.length),
    },
    failedCount: accounts.reduce((n, account) => n + account.rows.filter(isFailed).length, 0),
  };
}
