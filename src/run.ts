import { join } from "node:path";
import type { BalanceFetcher, BalanceFetcherOptions } from "./brokers/fetch-account-balance.js";
import type { BrokerAccountRequest } from "./brokers/types.js";
import { DiskBalanceCache } from "./cache/balance-cache.js";
import { type CachePolicy, DEFAULT_CACHE_POLICY } from "./cache/cached-fetch.js";
import { defaultCacheDir } from "./cache/paths.js";
import { DiskPublicCache } from "./cache/public-cache.js";
import type { BalanceStore } from "./cache/store.js";
import { type LoadedConfig, loadConfig } from "./config/index.js";
import { type CollectOptions, collectReport } from "./report/collect.js";
import type { Report, SortOrder } from "./report/model.js";

/** Everything one report run needs; the CLI, the library API and the demo all go through here. */
export interface RunOptions extends Omit<BalanceFetcherOptions, "krakenLane"> {
  configDir?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  includeDisabled?: boolean;
  users?: readonly string[];
  brokers?: readonly string[];
  sort?: SortOrder;
  concurrency?: number;
  /** Minimum time between the starts of two private requests on one Kraken key, default 1100 ms. */
  krakenSpacingMs?: number;
  /** Kraken requests in flight at once across different keys, default 1. */
  krakenConcurrency?: number;
  /** Cache directory, default `$XDG_CACHE_HOME/show-user-balances`. */
  cacheDir?: string;
  /**
   * Take the config from its snapshot under `<cacheDir>/config/` while its files, listings and
   * variables are unchanged, and keep one (config/snapshot.ts). The value names the build (the
   * CLI gives its version): another build's snapshot is not used. Off by default.
   */
  configSnapshot?: string;
  /** A shared store (e.g. Redis) instead of the on-disk cache under `cacheDir`. */
  store?: BalanceStore;
  /** How the cache is used (mode, TTL, stale limit, lock timings); default DEFAULT_CACHE_POLICY. */
  cache?: Partial<CachePolicy>;
  /** Cache warnings (corrupt entries, unwritable directory). */
  onWarning?: (message: string) => void;
  /**
   * Called once, after the run's first live request is written out, so that work the run needs
   * afterwards overlaps the network wait (the CLI opens its history store there). Not called on a
   * run the cache serves.
   */
  whileWaiting?: () => void;
}

const cacheDir = (options: RunOptions) => options.cacheDir ?? defaultCacheDir(options.env);

export function loadRunConfig(options: RunOptions): Promise<LoadedConfig> {
  return loadConfig({
    configDir: options.configDir ?? "config",
    cwd: options.cwd,
    env: options.env,
    includeDisabled: options.includeDisabled,
    snapshot:
      options.configSnapshot === undefined
        ? undefined
        : { dir: join(cacheDir(options), "config"), build: options.configSnapshot },
  });
}

/** Fetches every configured account and returns the report model. */
export function runReport(config: LoadedConfig, options: RunOptions = {}): Promise<Report> {
  const policy: CachePolicy = { ...DEFAULT_CACHE_POLICY, ...options.cache };
  const store =
    policy.mode === "off"
      ? null
      : (options.store ?? new DiskBalanceCache(cacheDir(options), options.onWarning));
  // The fetcher (ccxt adapters, the Kraken lane) loads on the first fetch: a run the cache
  // serves never compiles it (~110 KB of the bundle).
  let loading: Promise<BalanceFetcher> | undefined;
  const loadFetcher = async () => {
    const [{ BalanceFetcher }, { KrakenLane }, { afterNextRequestSent }] = await Promise.all([
      import("./brokers/fetch-account-balance.js"),
      import("./queue/kraken-lane.js"),
      import("./brokers/http-client.js"),
    ]);
    if (options.whileWaiting) afterNextRequestSent(options.whileWaiting);
    return new BalanceFetcher({
      ...options,
      // Public prices are remembered for the balance TTL, pair lists for a day; --refresh and
      // --no-cache ask again.
      publicCache: policy.mode === "use" ? new DiskPublicCache(cacheDir(options)) : undefined,
      priceTtlMs: policy.ttlMs,
      krakenLane: new KrakenLane({
        spacingMs: options.krakenSpacingMs,
        concurrency: options.krakenConcurrency,
        // The lane's cross-process pacing holds whatever the cache mode: without a cache, the
        // store still carries its locks and marks (no balance is read or kept).
        shared:
          store ?? options.store ?? new DiskBalanceCache(cacheDir(options), options.onWarning),
      }),
    });
  };
  const fetcher = {
    defaultValuation: options.valuation ?? "total",
    fetchAccountBalance: async (request: BrokerAccountRequest) => {
      loading ??= loadFetcher();
      return (await loading).fetchAccountBalance(request);
    },
  } satisfies CollectOptions["fetcher"];
  return collectReport(config, {
    fetcher,
    cache: store ? { store, policy } : undefined,
    concurrency: options.concurrency,
    users: options.users,
    brokers: options.brokers,
    sort: options.sort,
  });
}

/** True when there is no user broker to show: the original's "No user brokers configured". */
export function hasNoUserBrokers(config: LoadedConfig): boolean {
  return !config.users.some((user) => user.enabled && user.brokers.some((b) => b.enabled));
}

export const NO_USER_BROKERS_HELP = `No user brokers configured.
  Fixes:
    1. Check that config/users/*.json files exist (or pass --config-dir)
    2. Ensure users have "enabled": true in their config
    3. Verify broker credentials are configured (.env or the user files; --explain-credentials shows what was looked up)`;
