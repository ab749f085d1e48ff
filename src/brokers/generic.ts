import type { Exchange } from "ccxt";
import { type Fixed, priceOrNull } from "../money.js";
import { type BrokerAdapter, type BrokerBalance, type Holding, readAmount } from "./adapter.js";

const QUOTES = ["USD", "USDC", "USDT"];
const NOT_ASSETS = new Set(["info", "timestamp", "datetime", "free", "used", "total", "debt"]);

/**
 * Any other ccxt exchange with fetchBalance (supported, untested): ccxt's own fetchBalance, which
 * may load markets first. ccxt's unified balance holds JS numbers, so amounts are taken only when
 * they still carry the decimal that was sent (at most 15 significant digits; see amountFrom).
 */
export const genericAdapter: BrokerAdapter = {
  async fetchBalance(exchange: Exchange): Promise<BrokerBalance> {
    const balance = (await exchange.fetchBalance()) as unknown as Record<string, unknown>;
    const holdings = new Map<string, Holding>();
    for (const [code, entry] of Object.entries(balance)) {
      if (NOT_ASSETS.has(code) || entry === null || typeof entry !== "object") continue;
      const { free: rawFree, used: rawUsed, total: rawTotal } = entry as Record<string, unknown>;
      const free = rawFree == null ? 0n : readAmount(rawFree, `${code}.free`);
      const used = rawUsed == null ? 0n : readAmount(rawUsed, `${code}.used`);
      const total = rawTotal == null ? free + used : readAmount(rawTotal, `${code}.total`);
      if (total !== 0n) holdings.set(code, { free, used, total });
    }
    return { holdings };
  },

  async fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>> {
    if (!exchange.has.fetchTickers) return new Map();
    await exchange.loadMarkets();
    const tickers = await exchange.fetchTickers();
    const best = new Map<string, { rank: number; price: Fixed }>();
    for (const ticker of Object.values(tickers)) {
      const [base, quote] = (ticker.symbol ?? "").split(/[/:]/);
      const rank = QUOTES.indexOf(quote ?? "");
      const price = priceOrNull(ticker.last ?? ticker.close);
      if (!base || rank < 0 || price === null) continue;
      const seen = best.get(base);
      if (!seen || rank < seen.rank) best.set(base, { rank, price });
    }
    return new Map([...best].map(([code, { price }]) => [code, price]));
  },
};
