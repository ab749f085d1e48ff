import type { Balances, Exchange } from "ccxt";
import { type Fixed, toFixed } from "../money.js";
import { type BrokerAdapter, expectObject } from "./adapter.js";

/** The parts of ccxt's kraken class we use, typed by what Kraken sends. */
type KrakenApi = Pick<Exchange, "parseBalance"> & {
  safeCurrencyCode(id: string): string;
  privatePostBalanceEx(params?: object): Promise<Record<string, unknown>>;
  publicGetAssetPairs(params?: object): Promise<unknown>;
  publicGetTicker(params?: object): Promise<unknown>;
};

interface KrakenPair {
  base?: string;
  quote?: string;
}

/** USD-like quotes, best first: a USD pair beats a stablecoin pair for the same asset. */
const QUOTES = ["USD", "USDC", "USDT"];

/** Kraken: one private BalanceEx request; ccxt's parser, without loading markets. */
export const krakenAdapter: BrokerAdapter = {
  // Private calls are paced by the Kraken lane (1.1 s per key); ccxt's own 3 s spacing per
  // instance would only slow retries. Public price calls use a separate, throttled instance.
  privateExchangeOptions: { enableRateLimit: false },

  async fetchBalance(exchange: Exchange): Promise<Balances> {
    const api = exchange as unknown as KrakenApi;
    const response = expectObject(await api.privatePostBalanceEx(), "Kraken BalanceEx answer");
    expectObject(response.result, "Kraken BalanceEx result");
    return api.parseBalance(response);
  },

  /** Two public requests (pairs, then every ticker at once), whatever the number of assets. */
  async fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>> {
    const api = exchange as unknown as KrakenApi;
    const pairs = expectObject(
      expectObject(await api.publicGetAssetPairs(), "Kraken AssetPairs answer").result,
      "Kraken AssetPairs result",
    ) as Record<string, KrakenPair>;
    const tickers = expectObject(
      expectObject(await api.publicGetTicker(), "Kraken Ticker answer").result,
      "Kraken Ticker result",
    ) as Record<string, { c?: string[] }>;
    const best = new Map<string, { rank: number; price: Fixed }>();
    for (const [pairId, pair] of Object.entries(pairs)) {
      const last = tickers[pairId]?.c?.[0];
      if (!pair.base || !pair.quote || last === undefined) continue;
      const rank = QUOTES.indexOf(api.safeCurrencyCode(pair.quote));
      if (rank < 0) continue;
      const code = api.safeCurrencyCode(pair.base);
      const seen = best.get(code);
      if (!seen || rank < seen.rank) best.set(code, { rank, price: toFixed(last) });
    }
    return new Map([...best].map(([code, { price }]) => [code, price]));
  },
};
