import type { Exchange } from "ccxt";
import type { PublicCache } from "../cache/public-cache.js";
import { type Fixed, priceOrNull } from "../money.js";
import {
  addHolding,
  type BrokerAdapter,
  type BrokerBalance,
  expectArray,
  expectObject,
  type Holding,
  readAmount,
} from "./adapter.js";
import { MalformedResponseError } from "./errors.js";

/** The parts of ccxt's kraken class we use, typed by what Kraken sends. */
type KrakenApi = {
  safeCurrencyCode(id: string): string;
  privatePostBalanceEx(params?: object): Promise<unknown>;
  publicGetAssetPairs(params?: object): Promise<unknown>;
  publicGetTicker(params?: object): Promise<unknown>;
};

/** USD-like quotes, best first: a USD pair beats a stablecoin pair for the same asset. */
const QUOTES = ["USD", "USDC", "USDT"];

/** Fee credits: a discount on Kraken's fees, not money (left out, not "unpriced"). */
const NOT_MONEY = new Set(["KFEE", "FEE"]);

/**
 * Kraken's asset id to the code we report: "XXBT" -> "BTC", and suffixed earn/staked variants
 * keep their suffix on the unified base ("XBT.M" -> "BTC.M", "ETH2.S" -> "ETH2.S").
 */
function assetCode(api: KrakenApi, id: string): string {
  const dot = id.indexOf(".");
  if (dot < 0) return api.safeCurrencyCode(id);
  return `${api.safeCurrencyCode(id.slice(0, dot))}${id.slice(dot)}`;
}

/**
 * Kraken: one private BalanceEx request, read from the raw answer. Each entry is
 * `{ "balance": total, "hold_trade": held }`; an entry of another shape (say the plain strings of
 * the sibling Balance endpoint) is an error, never an empty account.
 */
export const krakenAdapter: BrokerAdapter = {
  // Private calls are paced by the Kraken lane (1.1 s per key); ccxt's own 3 s spacing per
  // instance would only slow retries. Public price calls use a separate, throttled instance.
  privateExchangeOptions: { enableRateLimit: false },

  async fetchBalance(exchange: Exchange): Promise<BrokerBalance> {
    const api = exchange as unknown as KrakenApi;
    const answer = expectObject(await api.privatePostBalanceEx(), "Kraken BalanceEx answer");
    const errors = expectArray(answer.error ?? [], "Kraken BalanceEx error list");
    if (errors.length > 0) {
      throw new MalformedResponseError("Kraken BalanceEx answer lists errors");
    }
    const result = expectObject(answer.result, "Kraken BalanceEx result");
    const holdings = new Map<string, Holding>();
    for (const [id, raw] of Object.entries(result)) {
      const entry = expectObject(raw, `Kraken BalanceEx entry ${id}`);
      const total = readAmount(entry.balance, `${id}.balance`);
      const used =
        entry.hold_trade === undefined ? 0n : readAmount(entry.hold_trade, `${id}.hold_trade`);
      const code = assetCode(api, id);
      if (NOT_MONEY.has(code) || (total === 0n && used === 0n)) continue;
      addHolding(holdings, code, { free: total - used, used, total });
    }
    return { holdings };
  },

  /**
   * Two public requests (pairs, then every ticker at once), whatever the number of assets; the
   * pair list changes rarely and is remembered for a day.
   */
  async fetchUsdPrices(exchange: Exchange, cache: PublicCache): Promise<Map<string, Fixed>> {
    const api = exchange as unknown as KrakenApi;
    const pairs = await cache.remember(
      `kraken-pairs ${exchange.urls.api?.public ?? ""}`,
      DAY_MS,
      () => usdPairs(api),
    );
    const tickers = expectObject(
      expectObject(await api.publicGetTicker(), "Kraken Ticker answer").result,
      "Kraken Ticker result",
    );
    const best = new Map<string, { rank: number; price: Fixed }>();
    for (const [pairId, code, rank] of pairs) {
      const ticker = tickers[pairId] as { c?: unknown } | undefined;
      const price = priceOrNull(Array.isArray(ticker?.c) ? ticker.c[0] : undefined);
      const seen = best.get(code);
      if (price !== null && (!seen || rank < seen.rank)) best.set(code, { rank, price });
    }
    return new Map([...best].map(([code, { price }]) => [code, price]));
  },
};

const DAY_MS = 86_400_000;

/** [pair id, base code, quote rank] for every pair quoted in USD or a USD stablecoin. */
async function usdPairs(api: KrakenApi): Promise<Array<[string, string, number]>> {
  const pairs = expectObject(
    expectObject(await api.publicGetAssetPairs(), "Kraken AssetPairs answer").result,
    "Kraken AssetPairs result",
  );
  const out: Array<[string, string, number]> = [];
  for (const [pairId, raw] of Object.entries(pairs)) {
    const pair = raw as { base?: unknown; quote?: unknown } | null;
    if (typeof pair?.base !== "string" || typeof pair.quote !== "string") continue;
    const rank = QUOTES.indexOf(api.safeCurrencyCode(pair.quote));
    if (rank >= 0) out.push([pairId, api.safeCurrencyCode(pair.base), rank]);
  }
  return out;
}
