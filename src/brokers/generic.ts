import type { Balances, Exchange } from "ccxt";
import { type Fixed, toFixed } from "../money.js";
import type { BrokerAdapter } from "./adapter.js";

const QUOTES = ["USD", "USDC", "USDT"];

/**
 * Any other ccxt exchange with fetchBalance (supported, untested): ccxt's own fetchBalance, which
 * may load markets first on exchanges whose balance parser needs them.
 */
export const genericAdapter: BrokerAdapter = {
  fetchBalance(exchange: Exchange): Promise<Balances> {
    return exchange.fetchBalance();
  },

  async fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>> {
    if (!exchange.has.fetchTickers) return new Map();
    await exchange.loadMarkets();
    const tickers = await exchange.fetchTickers();
    const best = new Map<string, { rank: number; price: Fixed }>();
    for (const ticker of Object.values(tickers)) {
      const [base, quote] = (ticker.symbol ?? "").split(/[/:]/);
      const rank = QUOTES.indexOf(quote ?? "");
      const last = ticker.last ?? ticker.close;
      if (!base || rank < 0 || last === undefined || last === null) continue;
      const seen = best.get(base);
      if (!seen || rank < seen.rank) best.set(base, { rank, price: toFixed(last) });
    }
    return new Map([...best].map(([code, { price }]) => [code, price]));
  },
};
