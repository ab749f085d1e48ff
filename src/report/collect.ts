import type { BalanceFetcher } from "../brokers/fetch-account-balance.js";
import { type AccountBalance, BrokerOptionsSchema } from "../brokers/types.js";
import type { AccountConfig, BrokerAccountConfig, LoadedConfig } from "../config/index.js";
import { mapBounded } from "../queue/map-bounded.js";
import { type AccountInput, type BrokerRow, buildReport, type Report, type SortOrder } from "./model.js";

export interface CollectOptions {
  fetcher: BalanceFetcher;
  /** Concurrent fetches on brokers other than Kraken (Kraken is paced by its lane), default 16. */
  concurrency?: number;
  /** Only these user ids (the platform is left out when a user filter is given). */
  users?: readonly string[];
  /** Only these brokers. */
  brokers?: readonly string[];
  sort?: SortOrder;
  now?: () => Date;
}

interface Job {
  account: AccountConfig;
  broker: BrokerAccountConfig;
}

/** The row of a broker that is listed but not fetched (disabled user or broker). */
function disabledRow(broker: BrokerAccountConfig, valuation: AccountBalance["valuation"]): BrokerRow {
  return {
    broker: broker.broker,
    status: "ok",
    message: null,
    usdCents: 0,
    valuation,
    assets: {},
    unpriced: [],
    fetchedAt: new Date().toISOString(),
    requests: 0,
    enabled: false,
    source: "live",
    ageSeconds: null,
  };
}

/**
 * Fetches every configured account's brokers, concurrently where allowed, and builds the report.
 * Every configured user and broker ends up as a row, whatever happened to its fetch.
 */
export async function collectReport(config: LoadedConfig, options: CollectOptions): Promise<Report> {
  const userFilter = options.users?.length ? new Set(options.users) : null;
  const brokerFilter = options.brokers?.length
    ? new Set(options.brokers.map((b) => b.toLowerCase()))
    : null;
  const accounts = [
    ...(config.platform && !userFilter ? [config.platform] : []),
    ...config.users.filter((user) => !userFilter || userFilter.has(user.id)),
  ].map((account) => ({
    ...account,
    brokers: account.brokers.filter((b) => !brokerFilter || brokerFilter.has(b.broker)),
  }));

  const jobs: Job[] = accounts.flatMap((account) =>
    account.enabled
      ? account.brokers.filter((b) => b.enabled).map((broker) => ({ account, broker }))
      : [],
  );
  const fetchJob = async (job: Job): Promise<AccountBalance> =>
    options.fetcher.fetchAccountBalance({
      broker: job.broker.broker,
      credentials: job.broker.credentials,
      apiUrl: job.broker.apiUrl,
      options: BrokerOptionsSchema.parse(job.broker.options),
    });
  // Kraken jobs wait in their lane, not in a pool slot another broker could use.
  const kraken = jobs.filter((job) => job.broker.broker === "kraken");
  const others = jobs.filter((job) => job.broker.broker !== "kraken");
  const [krakenResults, otherResults] = await Promise.all([
    Promise.all(kraken.map(fetchJob)),
    mapBounded(others, options.concurrency ?? 16, fetchJob),
  ]);
  const results = new Map<BrokerAccountConfig, AccountBalance>();
  kraken.forEach((job, i) => results.set(job.broker, krakenResults[i] as AccountBalance));
  others.forEach((job, i) => results.set(job.broker, otherResults[i] as AccountBalance));

  const toInput = (account: AccountConfig): AccountInput => ({
    kind: account.kind,
    id: account.id,
    name: account.name,
    enabled: account.enabled,
    rows: account.brokers.map((broker) => {
      const fetched = results.get(broker);
      return fetched
        ? { ...fetched, enabled: true, source: "live" as const, ageSeconds: null }
        : disabledRow(broker, options.fetcher.defaultValuation);
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
