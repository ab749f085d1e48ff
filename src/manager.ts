import type { LoadedConfig } from "./config/index.js";
import { type Cents, centsToDecimal } from "./money.js";
import { renderStatus } from "./render/status.js";
import { renderTable } from "./render/table.js";
import type { Report, ReportAccount } from "./report/model.js";
import { loadRunConfig, type RunOptions, runReport } from "./run.js";

/** Broker ids of the brokers tested end to end; any other ccxt id string works too. */
export const BrokerType = {
  COINBASE: "coinbase",
  KRAKEN: "kraken",
  ALPACA: "alpaca",
  BINANCE: "binance",
  OKX: "okx",
} as const;
export type BrokerId = (typeof BrokerType)[keyof typeof BrokerType] | (string & {});

/**
 * Dollar amounts are exact decimal strings ("6913.46"): a JS number would round past 2^53 cents.
 * null where the figure is unknown (the broker failed and no stale figure stands in).
 */
export type Usd = string | null;

export type BalancesByBroker = Record<string, Usd>;

export interface AllBalances {
  platform: BalancesByBroker;
  users: Record<string, BalancesByBroker>;
}

export interface UserBalanceSummary {
  user_count: number;
  total_capital: string;
  average_balance: string;
  /** Broker accounts with no figure, left out of the totals. */
  accounts_unknown: number;
  /** Highest total first. */
  users: { user_id: string; total: string; brokers: BalancesByBroker }[];
}

export interface BrokerStatusEntry {
  balance: Usd;
  status: string;
  message: string | null;
  source: string;
  fetched_at: string | null;
}

export interface AllBalancesWithStatus {
  platform: Record<string, BrokerStatusEntry>;
  users: Record<string, Record<string, BrokerStatusEntry>>;
}

const usd = (cents: Cents | null): Usd => (cents === null ? null : centsToDecimal(cents));

function brokerAmounts(account: ReportAccount): BalancesByBroker {
  return Object.fromEntries(account.rows.map((row) => [row.broker, usd(row.usdCents)]));
}

/**
 * The library API: the original system's balance methods, in TypeScript. Each call reads the
 * configuration and fetches live (reports are cheap to rebuild; use one `getReport()` and the
 * pure renderers when you need several views of the same moment).
 *
 *   const manager = new BalanceManager({ configDir: "config" });
 *   const summary = await manager.getUserBalanceSummary();
 */
export class BalanceManager {
  constructor(private readonly options: RunOptions = {}) {}

  /** The loaded configuration (validation problems are in `problems`, not thrown). */
  loadConfig(): Promise<LoadedConfig> {
    return loadRunConfig(this.options);
  }

  /** The full report model: every account and broker with status, totals and summary. */
  async getReport(overrides: Partial<RunOptions> = {}): Promise<Report> {
    const options = { ...this.options, ...overrides };
    return runReport(await loadRunConfig(options), options);
  }

  async getAllBalances(): Promise<AllBalances> {
    const report = await this.getReport();
    return {
      platform: report.platform ? brokerAmounts(report.platform) : {},
      users: Object.fromEntries(report.users.map((u) => [u.id, brokerAmounts(u)])),
    };
  }

  /** Users sorted by total, highest first. */
  async getUserBalanceSummary(): Promise<UserBalanceSummary> {
    const report = await this.getReport({ sort: "total" });
    return {
      user_count: report.summary.userCount,
      total_capital: centsToDecimal(report.summary.totalUserCapitalCents),
      average_balance: centsToDecimal(report.summary.averagePerUserCents),
      accounts_unknown: report.summary.accountsUnknown,
      users: report.users
        .filter((u) => u.enabled)
        .map((u) => ({
          user_id: u.id,
          total: centsToDecimal(u.totalCents),
          brokers: brokerAmounts(u),
        })),
    };
  }

  /** The formatted text report (what logAllBalances prints). */
  async getStatusReport(): Promise<string> {
    return renderTable(await this.getReport());
  }

  async logAllBalances(log: (text: string) => void = (text) => console.log(text)): Promise<void> {
    log((await this.getStatusReport()).trimEnd());
  }

  /** One user's USD figure on one broker; null when the user or broker is unknown or did not answer. */
  async getUserBalance(userId: string, broker: BrokerId): Promise<Usd> {
    const report = await this.getReport({ users: [userId], brokers: [broker] });
    const row = report.users.find((u) => u.id === userId)?.rows.find((r) => r.broker === broker);
    return row ? usd(row.usdCents) : null;
  }

  /** Every balance with its connection status (why a figure is 0). */
  async getAllBalancesWithStatus(): Promise<AllBalancesWithStatus> {
    const report = await this.getReport();
    const entries = (account: ReportAccount) =>
      Object.fromEntries(
        account.rows.map((row) => [
          row.broker,
          {
            balance: usd(row.usdCents),
            status: row.enabled ? row.status : "disabled",
            message: row.message,
            source: row.source,
            fetched_at: row.fetchedAt,
          },
        ]),
      );
    return {
      platform: report.platform ? entries(report.platform) : {},
      users: Object.fromEntries(report.users.map((u) => [u.id, entries(u)])),
    };
  }

  /** The connection view as a table. */
  async getStatusTable(): Promise<string> {
    return renderStatus(await this.getReport());
  }
}
