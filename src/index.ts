/**
 * show-user-balances as a library. See README.md, "Library API".
 */
export { BalanceFetcher, type BalanceFetcherOptions } from "./brokers/fetch-account-balance.js";
export { AccountBalanceSchema, BalanceStatusSchema } from "./brokers/schemas.js";
export {
  type AccountBalance,
  type BalanceStatus,
  type BrokerAccountRequest,
  type BrokerOptions,
  DEFAULT_STABLECOINS,
  type Environment,
  type Valuation,
} from "./brokers/types.js";
export {
  type OpenedStore,
  type OpenStoreOptions,
  openStore,
  StoreError,
} from "./cache/open-store.js";
export { RedisBalanceStore, type RedisStoreOptions } from "./cache/redis-store.js";
export type { BalanceStore } from "./cache/store.js";
export {
  type AccountConfig,
  type BrokerAccountConfig,
  ConfigError,
  type LoadedConfig,
  loadConfig,
} from "./config/index.js";
export {
  type AllBalances,
  type AllBalancesWithStatus,
  BalanceManager,
  type BrokerId,
  BrokerType,
  type UserBalanceSummary,
} from "./manager.js";
export {
  AmountError,
  type Cents,
  centsToDecimal,
  type Fixed,
  formatUsd,
  parseDecimal,
} from "./money.js";
export { KrakenLane, type KrakenLaneOptions } from "./queue/kraken-lane.js";
export { renderJson, toJsonDocument } from "./render/json.js";
export { JsonNumber, stringifyJson } from "./render/json-text.js";
export { renderAssets, renderStatus } from "./render/status.js";
export { renderTable } from "./render/table.js";
export { collectReport } from "./report/collect.js";
export { buildReport, type Report, type ReportAccount } from "./report/model.js";
export {
  buildPortfolio,
  type Portfolio,
  type PortfolioHolder,
  type PortfolioLine,
  type PortfolioLineKind,
  type PortfolioOptions,
  portfolioJson,
} from "./report/portfolio.js";
export { type RunOptions, runReport } from "./run.js";
