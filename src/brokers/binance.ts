import type { Exchange } from "ccxt";
import { type Fixed, priceOrNull } from "../money.js";
import {
  addHolding,
  type BrokerAdapter,
  type BrokerBalance,
  expectArray,
  expectObject,
  expectString,
  type Holding,
  readAmount,
} from "./adapter.js";
import { BrokerOptionError, MalformedResponseError } from "./errors.js";
import type { BrokerOptions } from "./types.js";

/** The parts of ccxt's binance class we use, typed by what Binance sends. */
type BinanceApi = {
  options: Record<string, unknown>;
  safeCurrencyCode(id: string): string;
  privateGetAccount(params?: object): Promise<unknown>;
  sapiPostAssetGetFundingAsset(params?: object): Promise<unknown>;
  publicGetTickerPrice(params?: object): Promise<unknown>;
};

/**
 * USD-like quotes, best first. Symbols carry no separator ("BTCUSDT"), so a quote is a suffix;
 * plain "USD" is left out because binance.com lists no USD pairs and the suffix would misread
 * TUSD, BUSD and FDUSD pairs ("BTCFDUSD" is not "BTCFD" in USD).
 */
const QUOTES = ["USDC", "USDT"];

/** Which wallets to read: "spot" (the default) and "funding"; "trading" is OKX's word. */
function walletsOf(options: BrokerOptions): { spot: boolean; funding: boolean } {
  const wallets = options.wallets ?? ["spot"];
  if (wallets.includes("trading")) {
    throw new BrokerOptionError('options.wallets: "trading" is OKX\'s; use "spot" or "funding"');
  }
  return { spot: wallets.includes("spot"), funding: wallets.includes("funding") };
}

/**
 * ccxt marks an instance after one good private call and from then on reports -2015 (bad key) as
 * DDoSProtection, on the `options` object every account view inherits from the shared instance.
 * Each read gets its own unmarked copy, so -2015 always reads as an AuthenticationError and one
 * account's success never changes what another account's failure means.
 */
function isolateOptions(api: BinanceApi): void {
  if (!Object.hasOwn(api, "options")) api.options = { ...api.options };
  api.options.hasAlreadyAuthenticatedSuccessfully = false;
}

/** A wallet amount: never negative in spot or funding, so a negative one is a broken answer. */
function readBalance(value: unknown, field: string): Fixed {
  const amount = readAmount(value, field);
  if (amount < 0n) throw new MalformedResponseError(`sent a negative amount: ${field}`);
  return amount;
}

/** GET /api/v3/account: `balances` [{asset, free, locked}]; total = free + locked. */
function readSpot(api: BinanceApi, answer: unknown, holdings: Map<string, Holding>): void {
  const account = expectObject(answer, "Binance account answer");
  const balances = expectArray(account.balances, "Binance account balances");
  balances.forEach((raw, i) => {
    const entry = expectObject(raw, `Binance account balances[${i}]`);
    const asset = expectString(entry.asset, `Binance account balances[${i}].asset`);
    const free = readBalance(entry.free, `${asset}.free`);
    const locked = readBalance(entry.locked, `${asset}.locked`);
    if (free === 0n && locked === 0n) return;
    addHolding(holdings, api.safeCurrencyCode(asset), { free, used: locked, total: free + locked });
  });
}

/**
 * POST /sapi/v1/asset/get-funding-asset: [{asset, free, locked, freeze, withdrawing}]. Everything
 * but `free` is unavailable, so it counts as used. `freeze` and `withdrawing` are read when sent
 * (absent means none); `free` and `locked` must be there.
 */
function readFunding(api: BinanceApi, answer: unknown, holdings: Map<string, Holding>): void {
  const list = expectArray(answer, "Binance funding wallet answer");
  list.forEach((raw, i) => {
    const entry = expectObject(raw, `Binance funding wallet [${i}]`);
    const asset = expectString(entry.asset, `Binance funding wallet [${i}].asset`);
    const free = readBalance(entry.free, `funding ${asset}.free`);
    let used = readBalance(entry.locked, `funding ${asset}.locked`);
    for (const field of ["freeze", "withdrawing"] as const) {
      if (entry[field] !== undefined)
        used += readBalance(entry[field], `funding ${asset}.${field}`);
    }
    if (free === 0n && used === 0n) return;
    addHolding(holdings, api.safeCurrencyCode(asset), { free, used, total: free + used });
  });
}

/**
 * Binance spot: one signed GET /api/v3/account (weight 20) with omitZeroBalances, plus one
 * POST /sapi/v1/asset/get-funding-asset (weight 1) when `wallets` includes "funding"; the two go
 * out together. Binance states no account value, so valuation uses public prices. The spot
 * testnet has no sapi: asking it for the funding wallet fails in ccxt (NotSupported) unsent.
 */
export const binanceAdapter: BrokerAdapter = {
  async fetchBalance(exchange: Exchange, options: BrokerOptions): Promise<BrokerBalance> {
    const api = exchange as unknown as BinanceApi;
    const wallets = walletsOf(options);
    isolateOptions(api);
    // Settle both before deciding, so no request is left running after the result.
    const [spot, funding] = await Promise.allSettled([
      wallets.spot ? api.privateGetAccount({ omitZeroBalances: true }) : Promise.resolve(null),
      wallets.funding ? api.sapiPostAssetGetFundingAsset() : Promise.resolve(null),
    ]);
    if (spot.status === "rejected") throw spot.reason;
    if (funding.status === "rejected") throw funding.reason;
    const holdings = new Map<string, Holding>();
    if (wallets.spot) readSpot(api, spot.value, holdings);
    if (wallets.funding) readFunding(api, funding.value, holdings);
    return { holdings };
  },

  /** One public GET /api/v3/ticker/price (every symbol, weight 4). */
  async fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>> {
    const api = exchange as unknown as BinanceApi;
    const tickers = expectArray(await api.publicGetTickerPrice(), "Binance ticker/price answer");
    const best = new Map<string, { rank: number; price: Fixed }>();
    tickers.forEach((raw, i) => {
      const ticker = expectObject(raw, `Binance ticker/price [${i}]`);
      const symbol = expectString(ticker.symbol, `Binance ticker/price [${i}].symbol`);
      const rank = QUOTES.findIndex((q) => symbol.endsWith(q) && symbol.length > q.length);
      const quote = QUOTES[rank];
      if (quote === undefined) return;
      const code = api.safeCurrencyCode(symbol.slice(0, -quote.length));
      const price = priceOrNull(ticker.price);
      const seen = best.get(code);
      if (price !== null && (!seen || rank < seen.rank)) best.set(code, { rank, price });
    });
    return new Map([...best].map(([code, { price }]) => [code, price]));
  },
};
