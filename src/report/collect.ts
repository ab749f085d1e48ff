import type { BalanceFetcher } from "../brokers/fetch-account-balance.js";
import type { AccountBalance, BrokerAccountRequest } from "../brokers/types.js";
import { cacheKey } from "../cache/balance-cache.js";
import {
  type CachePolicy,
  cachedFigureNow,
  type Figure,
  fetchThroughCache,
} from "../cache/cached-fetch.js";
import type { BalanceStore } from "../cache/store.js";
import { configAccounts } from "../config/accounts.js";
import type { AccountConfig, BrokerAccountConfig, LoadedConfig } from "../config/index.js";
import { mapBounded } from "../queue/map-bounded.js";
import {
  type AccountInput,
  type BrokerRow,
  buildReport,
  type Report,
  type SortOrder,
} from "./model.js";

/** What fetching one configured broker account asks of the fetcher. */
export function accountRequest(broker: BrokerAccountConfig): BrokerAccountRequest {
  return {
    broker: broker.broker,
    credentials: broker.credentials,
    credentialProblem: broker.credentialProblem,
    keyCheck: broker.keyCheck,
    apiUrl: broker.apiUrl,
    sandbox: broker.sandbox,
    options: broker.options,
  };
}

export interface CollectOptions {
  /** What collecting needs of a BalanceFetcher (run.ts passes one that loads it on first use). */
  fetcher: Pick<BalanceFetcher, "fetchAccountBalance" | "defaultValuation">;
  /** Concurrent fetches per broker other than Kraken (Kraken is paced by its lane). */
  concurrency?: number;
  /** Only these user ids (the platform is left out when a user filter is given). */
  users?: readonly string[];
  /** Only these brokers. */
  brokers?: readonly string[];
  sort?: SortOrder;
  now?: () => Date;
  /** The balance cache and how to use it; without it every figure is fetched live. */
  cache?: { store: BalanceStore; policy: CachePolicy };
}

/**
 * Fetches at once on each non-Kraken broker. Their rate limits are per key, and each account has
 * its own key, so the cap bounds local sockets and memory and the burst one exchange sees: 64
 * lets 100 accounts of one broker finish in two round trips (16 took seven).
 */
export const DEFAULT_CONCURRENCY = 64;

const NO_CACHE: CachePolicy = {
  mode: "off",
  ttlMs: 0,
  staleMaxAgeMs: 0,
  lockWaitMs: 0,
  lockLeaseMs: 0,
};

interface Job {
  account: AccountConfig;
  broker: BrokerAccountConfig;
  /** The cache key, null without credentials. */
  key: string | null;
}

/** The row of a broker that is listed but not fetched (disabled user or broker). */
function disabledRow(
  broker: BrokerAccountConfig,
  valuation: AccountBalance["valuation"],
): BrokerRow {
  return {
    broker: broker.broker,
    status: "ok",
    message: null,
    usdCents: 0n,
    valuation,
    environment: "live",
    basis: null,
    assets: {},
    unpriced: [],
    fetchedAt: null,
    requests: 0,
    enabled: false,
    source: "none",
    ageSeconds: null,
  };
}

function accountLabel(account: AccountConfig): string {
  return account.kind === "platform" ? "platform" : `user ${account.id}`;
}

/** What makes two rows the same figure: one credential on one broker, environment and origin. */
function credentialIdentity(broker: BrokerAccountConfig, valuation: string): string | null {
  if (broker.apiKeyFingerprint === null) return null;
  return `${broker.broker}\0${broker.apiKeyFingerprint}\0${broker.apiUrl}\0${broker.sandbox}\0${valuation}`;
}

/**
 * The broker as read from its files, credentials included: a config from the snapshot has none
 * (only their fingerprint), so the first fetch that needs them reads the config again.
 */
async function withCredentials(
  config: LoadedConfig,
  account: AccountConfig,
  broker: BrokerAccountConfig,
): Promise<BrokerAccountConfig> {
  if (broker.credentials || broker.apiKeyFingerprint === null || !config.readSecrets) return broker;
  // Without its credentials the row must say why, never "no credentials" ($0, nothing owed).
  const unreadable = (why: string) => ({ ...broker, credentialProblem: why });
  let read: LoadedConfig;
  try {
    read = await config.readSecrets();
  } catch (error) {
    return unreadable(
      `its credentials could not be read again from the config (${(error as Error).message})`,
    );
  }
  const same = configAccounts(read).find((a) => a.kind === account.kind && a.id === account.id);
  // Changed since the snapshot was checked (moments ago): what the files say now is fetched.
  return (
    same?.brokers.find((b) => b.broker === broker.broker) ??
    unreadable("the config changed while this run read it and no longer lists it; run again")
  );
}

/**
 * Fetches every configured account's brokers, concurrently where allowed, and builds the report.
 * Every configured user and broker ends up as a row, whatever happened to its fetch.
 */
export async function collectReport(
  config: LoadedConfig,
  options: CollectOptions,
): Promise<Report> {
  const userFilter = options.users?.length ? new Set(options.users) : null;
  const brokerFilter = options.brokers?.length
    ? new Set(options.brokers.map((b) => b.toLowerCase()))
    : null;
  const accounts = [
    ...(config.platform && !userFilter ? [config.platform] : []),
    ...config.users.filter((user) => !userFilter || userFilter.has(user.id)),
  ].map((account) =>
    brokerFilter
      ? { ...account, brokers: account.brokers.filter((b) => brokerFilter.has(b.broker)) }
      : account,
  );

  const keyOf = (account: AccountConfig, broker: BrokerAccountConfig) =>
    broker.apiKeyFingerprint
      ? cacheKey({
          account: `${account.kind}:${account.id}`,
          broker: broker.broker,
          keyFingerprint: broker.apiKeyFingerprint,
          apiUrl: broker.apiUrl,
          valuation: `${broker.options.valuation ?? options.fetcher.defaultValuation}${broker.sandbox ? ":sandbox" : ""}`,
        })
      : null;
  const jobs: Job[] = accounts.flatMap((account) =>
    account.enabled
      ? account.brokers
          .filter((b) => b.enabled)
          .map((broker) => ({ account, broker, key: keyOf(account, broker) }))
      : [],
  );
  const store = options.cache?.store ?? null;
  const policy = options.cache?.policy ?? NO_CACHE;
  const fetchJob = async ({ account, broker, key }: Job): Promise<Figure> => {
    const fetchLive = async () =>
      options.fetcher.fetchAccountBalance(
        accountRequest(await withCredentials(config, account, broker)),
      );
    return fetchThroughCache(store, policy, key, fetchLive);
  };
  // One credential, one fetch: accounts sharing a key (env fallbacks, copied config) share the
  // first account's request and figure, and only the first is summed.
  const firstByCredential = new Map<string, Job>();
  const duplicateOf = new Map<BrokerAccountConfig, Job>();
  for (const job of jobs) {
    const valuation = job.broker.options.valuation ?? options.fetcher.defaultValuation;
    const identity = credentialIdentity(job.broker, valuation);
    if (identity === null) continue;
    const first = firstByCredential.get(identity);
    if (first) duplicateOf.set(job.broker, first);
    else firstByCredential.set(identity, job);
  }
  const unique = jobs.filter((job) => !duplicateOf.has(job.broker));
  // Kraken jobs wait in their lane, not in a pool slot another broker could use. Every other
  // broker has a pool of its own: one that hangs until its timeout holds only its own slots.
  const kraken: Job[] = [];
  const pools = new Map<string, Job[]>();
  const results = new Map<BrokerAccountConfig, Figure>();
  for (const job of unique) {
    // Served by the cache at once: no pool, no promise.
    const cached = cachedFigureNow(store, policy, job.key);
    if (cached) {
      results.set(job.broker, cached);
      continue;
    }
    const members = job.broker.broker === "kraken" ? kraken : pools.get(job.broker.broker);
    if (members) members.push(job);
    else pools.set(job.broker.broker, [job]);
  }
  const limit = options.concurrency ?? DEFAULT_CONCURRENCY;
  await Promise.all([
    ...kraken.map(async (job) => results.set(job.broker, await fetchJob(job))),
    ...[...pools.values()].map((members) =>
      mapBounded(members, limit, async (job) => results.set(job.broker, await fetchJob(job))),
    ),
  ]);

  const toInput = (account: AccountConfig): AccountInput => ({
    kind: account.kind,
    id: account.id,
    name: account.name,
    enabled: account.enabled,
    rows: account.brokers.map((broker): BrokerRow => {
      const first = duplicateOf.get(broker);
      const fetched = results.get(first ? first.broker : broker);
      if (!fetched) return disabledRow(broker, options.fetcher.defaultValuation);
      const b = fetched.balance;
      // Written out rather than spread: a spread cost ~3 µs per row in a fresh process.
      const row: BrokerRow = {
        broker: b.broker,
        status: b.status,
        message: b.message,
        usdCents: b.usdCents,
        valuation: b.valuation,
        environment: b.environment,
        basis: b.basis,
        assets: b.assets,
        unpriced: b.unpriced,
        fetchedAt: b.fetchedAt,
        requests: b.requests,
        enabled: true,
        source: b.fetchedAt === null ? "none" : fetched.source,
        ageSeconds: fetched.ageSeconds,
      };
      if (first) row.duplicateOf = accountLabel(first.account);
      if (fetched.retryAfter !== undefined)
        row.retryAfter = new Date(fetched.retryAfter).toISOString();
      return row;
    }),
  });
  const platform = accounts.find((a) => a.kind === "platform");
  return buildReport({
    platform: platform ? toInput(platform) : null,
    users: accounts.filter((a) => a.kind === "user").map(toInput),
    generatedAt: (options.now ?? (() => new Date()))(),
    sort: options.sort,
  });
}
