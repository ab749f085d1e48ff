import type { Balances, Exchange } from "ccxt";
import { type Fixed, toFixed } from "../money.js";
import type { BrokerAdapter } from "./adapter.js";

/** The parts of ccxt's kraken class we use, typed by what Kraken sends. */
type KrakenApi = Pick<Exchange, "parseBalance"> & {
  safeCurrencyCode(id: string): string;
  privatePostBalanceEx(params?: object): Promise<Record<string, unknown>>;
  publicGetAssetPairs(params?: object): Promise<{ result?: Record<string, KrakenPair> }>;
  publicGetTicker(params?: object): Promise<{ result?: Record<string, { c?: string[] }> }>;
};

interface KrakenPair {
  base?: string;
  quote?: string;
}

/** USD-like quotes, best first: a USD pair beats a stablecoin pair for the same asset. */
const QUOTES = ["USD", "USDC", "USDT"];

/** Kraken: one private BalanceEx request; ccxt's parser, without loading markets. */
export const krakenAdapter: BrokerAdapter = {
  async fetchBalance(exchange: Exchange): Promise<Balances> {
    const api = exchange as unknown as KrakenApi;
    const response = await api.privatePostBalanceEx();
    return api.parseBalance(response);
  },

  /** Two public requests (pairs, then every ticker at once), whatever the number of assets. */
  async fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>> {
    const api = exchange as unknown as KrakenApi;
    const pairs = (await api.publicGetAssetPairs()).result ?? {};
    const tickers = (await api.publicGetTicker()).result ?? {};
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
