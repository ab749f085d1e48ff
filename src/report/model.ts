import type { AccountBalance } from "../brokers/types.js";
import { type Cents, divideCents } from "../money.js";
import { setOwn } from "../own-key.js";

/**
 * Where a figure comes from: fetched now, served from the cache, an older value after a failure,
 * or nothing fetched at all (no credentials, disabled).
 */
export type FigureSource = "live" | "cached" | "stale" | "none";

/** One broker account's line in the report: the fetch result plus where it came from. */
export interface BrokerRow extends AccountBalance {
  enabled: boolean;
  source: FigureSource;
  /** Seconds since the figure was fetched, for cached and stale figures. */
  ageSeconds: number | null;
  /** Another account already reports this credential's balance: this row's figure is not summed. */
  duplicateOf?: string;
  /**
   * Set when the key's refusal (auth failed, permission denied) was remembered rather than asked
   * again: the ISO time it will be asked again (the refusal's time plus the cache TTL).
   */
  retryAfter?: string;
}

export interface AccountInput {
  kind: "platform" | "user";
  id: string;
  name: string | null;
  enabled: boolean;
  rows: BrokerRow[];
}

export interface ReportAccount extends AccountInput {
  /** Sum of the known figures. */
  totalCents: Cents;
  /** Enabled rows whose figure is unknown (failed with no stale figure): the total leaves them out. */
  unknownCount: number;
}

export type SortOrder = "name" | "total";

export interface Report {
  generatedAt: Date;
  platform: ReportAccount | null;
  users: ReportAccount[];
  summary: {
    platformTotalCents: Cents;
    userTotals: Record<string, Cents>;
    /** Every known user figure, partial users included. */
    totalUserCapitalCents: Cents;
    userCount: number;
    /** Over the users whose every figure is known (`usersUnknown` are left out). */
    averagePerUserCents: Cents;
    /** Broker accounts (platform included) with no figure: the totals leave them out. */
    accountsUnknown: number;
    /** Enabled users with at least one unknown figure. */
    usersUnknown: number;
    /** Figures of rows whose credential another row already reports (not summed). */
    duplicateCents: Cents;
  };
  /** Broker accounts that have credentials but did not answer: the report is partial. */
  failedCount: number;
}

/** A row counts as failed when a fetch was due and did not produce a fresh figure. */
export function isFailed(row: BrokerRow): boolean {
  return row.enabled && row.status !== "ok" && row.status !== "no_credentials";
}

/** An enabled row whose figure is unknown: it failed and no stale figure stands in. */
export function isUnknown(row: BrokerRow): boolean {
  return row.enabled && row.usdCents === null;
}

/**
 * `{ [key(item)]: value(item) }` for a list, as Object.fromEntries would make it. A loop: in a
 * fresh process Object.fromEntries took ~5 ms for the first 1,000 keys, the loop ~0.6 ms (issue
 * 14's cache hit at 1,000 accounts builds several such objects). `__proto__`, a valid user id, is
 * defined as an own key like any other.
 */
export function recordOf<T, V>(
  items: readonly T[],
  key: (item: T) => string,
  value: (item: T) => V,
): Record<string, V> {
  const out: Record<string, V> = {};
  for (const item of items) setOwn(out, key(item), value(item));
  return out;
}

/** Code-point order: stable across locales, and free of the first-use cost of localeCompare. */
function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const counted = (row: BrokerRow) => row.enabled && row.duplicateOf === undefined;

/** Written out rather than spread: a spread cost ~3 µs per account in a fresh process. */
function withTotal(account: AccountInput): ReportAccount {
  let totalCents = 0n;
  let unknownCount = 0;
  for (const row of account.rows) {
    if (counted(row) && row.usdCents !== null) totalCents += row.usdCents;
    if (isUnknown(row)) unknownCount += 1;
  }
  const { kind, id, name, enabled, rows } = account;
  return { kind, id, name, enabled, rows, totalCents, unknownCount };
}

/**
 * Builds the report from fetched accounts: pure, so the same model feeds the table, the JSON
 * document, the library API and the dashboard. Every user given is kept (visibility is the
 * point); disabled users are shown but count towards no total. Unknown figures are never zero:
 * totals cover the known ones and say how many they leave out.
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
    users.sort((a, b) =>
      a.totalCents === b.totalCents ? byId(a, b) : a.totalCents > b.totalCents ? -1 : 1,
    );
  } else if (!users.every((user, i) => i === 0 || byId(users[i - 1] as ReportAccount, user) <= 0)) {
    // The config lists users by id already: sorting 1,000 in order was ~3 ms of a cache hit.
    users.sort(byId);
  }
  const enabledUsers = users.filter((user) => user.enabled);
  const complete = enabledUsers.filter((user) => user.unknownCount === 0);
  const sum = (list: ReportAccount[]) => list.reduce((total, user) => total + user.totalCents, 0n);
  const accounts = platform ? [platform, ...users] : users;
  const rows = accounts.flatMap((account) => account.rows);
  return {
    generatedAt: input.generatedAt,
    platform,
    users,
    summary: {
      platformTotalCents: platform?.totalCents ?? 0n,
      userTotals: recordOf(
        enabledUsers,
        (user) => user.id,
        (user) => user.totalCents,
      ),
      totalUserCapitalCents: sum(enabledUsers),
      userCount: enabledUsers.length,
      averagePerUserCents: divideCents(sum(complete), complete.length),
      accountsUnknown: rows.filter(isUnknown).length,
      usersUnknown: enabledUsers.length - complete.length,
      duplicateCents: rows
        .filter((row) => row.enabled && row.duplicateOf !== undefined)
        .reduce((total, row) => total + (row.usdCents ?? 0n), 0n),
    },
    failedCount: rows.filter(isFailed).length,
  };
}
