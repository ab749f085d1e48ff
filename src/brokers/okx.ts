import type { Exchange } from "ccxt";
import { type Fixed, parseDecimal, priceOrNull } from "../money.js";
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

/** The parts of ccxt's okx class we use, typed by what OKX sends. */
type OkxApi = {
  safeCurrencyCode(id: string): string;
  privateGetAccountBalance(params?: object): Promise<unknown>;
  privateGetAssetBalances(params?: object): Promise<unknown>;
  publicGetMarketTickers(params?: object): Promise<unknown>;
};

/** USD-like quotes, best first: a USD pair beats a stablecoin pair for the same asset. */
const QUOTES = ["USD", "USDC", "USDT"];

const ONE: Fixed = parseDecimal("1");

/** Which accounts to read: "trading" (the default) and "funding"; "spot" is Binance's word. */
function walletsOf(options: BrokerOptions): { trading: boolean; funding: boolean } {
  const wallets = options.wallets ?? ["trading"];
  if (wallets.includes("spot")) {
    throw new BrokerOptionError(
      'options.wallets: "spot" is Binance\'s; use "trading" or "funding"',
    );
  }
  return { trading: wallets.includes("trading"), funding: wallets.includes("funding") };
}

/** The `data` list of OKX's {"code":"0","data":[...],"msg":""} envelope. */
function dataOf(answer: unknown, what: string): unknown[] {
  const body = expectObject(answer, `OKX ${what} answer`);
  // ccxt throws for any other code; a success without "0" is not OKX's envelope.
  if (body.code !== "0") throw new MalformedResponseError(`OKX ${what} answer has no code "0"`);
  return expectArray(body.data, `OKX ${what} data`);
}

/** OKX sends "" for fields that do not apply to the account mode; null then. */
function optionalAmount(value: unknown, field: string): Fixed | null {
  return value === "" ? null : readAmount(value, field);
}

interface Trading {
  totalEq: Fixed;
  /** USD per unit implied by each currency's eqUsd / eq, OKX's own valuation. */
  prices: Map<string, Fixed>;
}

/**
 * GET /api/v5/account/balance, data[0]: totalEq (USD) and details[] per currency.
 *
 * A currency's total is `eq`, OKX's "equity of currency": the cash balance plus the unrealised
 * P&L of positions margined in it (equal to cashBal in spot mode). totalEq is the sum of every
 * eqUsd, so holdings read as eq are exactly what the stated account value is made of; cashBal
 * would leave open-position P&L out of the holdings but not out of totalEq. free is availBal and
 * used is frozenBal (OKX's documented example has availBal + frozenBal = eq exactly); where a mode
 * leaves availBal empty, free is eq less frozenBal.
 */
function readTrading(api: OkxApi, answer: unknown, holdings: Map<string, Holding>): Trading {
  const data = dataOf(answer, "account balance");
  if (data.length !== 1) {
    throw new MalformedResponseError(
      `OKX account balance data has ${data.length} entries, not one`,
    );
  }
  const account = expectObject(data[0], "OKX account balance data[0]");
  const totalEq = readAmount(account.totalEq, "totalEq");
  const details = expectArray(account.details, "OKX account balance details");
  const prices = new Map<string, Fixed>();
  details.forEach((raw, i) => {
    const detail = expectObject(raw, `OKX account balance details[${i}]`);
    const ccy = expectString(detail.ccy, `OKX account balance details[${i}].ccy`);
    const eq = readAmount(detail.eq, `${ccy}.eq`);
    const used = optionalAmount(detail.frozenBal, `${ccy}.frozenBal`) ?? 0n;
    const free = optionalAmount(detail.availBal, `${ccy}.availBal`) ?? eq - used;
    if (eq === 0n && free === 0n && used === 0n) return;
    const code = api.safeCurrencyCode(ccy);
    addHolding(holdings, code, { free, used, total: eq });
    const eqUsd = optionalAmount(detail.eqUsd, `${ccy}.eqUsd`);
    if (eqUsd !== null && eq !== 0n) prices.set(code, (eqUsd * ONE) / eq);
  });
  return { totalEq, prices };
}

/** GET /api/v5/asset/balances: [{ccy, bal, availBal, frozenBal}]; total = bal. */
function readFunding(api: OkxApi, answer: unknown): Map<string, Holding> {
  const funding = new Map<string, Holding>();
  dataOf(answer, "funding balances").forEach((raw, i) => {
    const entry = expectObject(raw, `OKX funding balances [${i}]`);
    const ccy = expectString(entry.ccy, `OKX funding balances [${i}].ccy`);
    const total = readAmount(entry.bal, `funding ${ccy}.bal`);
    const free = readAmount(entry.availBal, `funding ${ccy}.availBal`);
    const used = readAmount(entry.frozenBal, `funding ${ccy}.frozenBal`);
    if (total === 0n && free === 0n && used === 0n) return;
    addHolding(funding, api.safeCurrencyCode(ccy), { free, used, total });
  });
  return funding;
}

/**
 * OKX: one GET /api/v5/account/balance (trading account), plus one GET /api/v5/asset/balances
 * when `wallets` includes "funding"; the two go out together. No markets are loaded.
 *
 * Account value: the trading account states it (totalEq, USD). The funding account does not, so
 * with it the stated value is totalEq plus each funding currency at the price OKX itself gives
 * that currency in the trading answer (eqUsd / eq). When a funding currency has no such price
 * the adapter states no value and the engine prices every holding from public prices instead
 * (the implied prices still come first), rather than leave that currency out of a stated total.
 */
export const okxAdapter: BrokerAdapter = {
  async fetchBalance(exchange: Exchange, options: BrokerOptions): Promise<BrokerBalance> {
    const api = exchange as unknown as OkxApi;
    const wallets = walletsOf(options);
    // Settle both before deciding, so no request is left running after the result.
    const [trading, funding] = await Promise.allSettled([
      wallets.trading ? api.privateGetAccountBalance() : Promise.resolve(null),
      wallets.funding ? api.privateGetAssetBalances() : Promise.resolve(null),
    ]);
    if (trading.status === "rejected") throw trading.reason;
    if (funding.status === "rejected") throw funding.reason;
    const holdings = new Map<string, Holding>();
    const stated = wallets.trading ? readTrading(api, trading.value, holdings) : null;
    const fundingHoldings = wallets.funding ? readFunding(api, funding.value) : new Map();
    let equityUsd = stated?.totalEq;
    for (const [code, holding] of fundingHoldings) {
      addHolding(holdings, code, holding);
      const price = stated?.prices.get(code);
      equityUsd =
        equityUsd === undefined || price === undefined
          ? undefined
          : equityUsd + (holding.total * price) / ONE;
    }
    const balance: BrokerBalance = { holdings };
    if (equityUsd !== undefined) balance.equityUsd = equityUsd;
    if (stated && stated.prices.size > 0) balance.prices = stated.prices;
    return balance;
  },

  /** One public GET /api/v5/market/tickers?instType=SPOT (every spot pair's last price). */
  async fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>> {
    const api = exchange as unknown as OkxApi;
    const tickers = dataOf(await api.publicGetMarketTickers({ instType: "SPOT" }), "tickers");
    const best = new Map<string, { rank: number; price: Fixed }>();
    tickers.forEach((raw, i) => {
      const ticker = expectObject(raw, `OKX tickers [${i}]`);
      const instId = expectString(ticker.instId, `OKX tickers [${i}].instId`);
      const [base, quote, ...rest] = instId.split("-");
      if (!base || quote === undefined || rest.length > 0) return;
      const rank = QUOTES.indexOf(api.safeCurrencyCode(quote));
      if (rank < 0) return;
      const code = api.safeCurrencyCode(base);
      const price = priceOrNull(ticker.last);
      const seen = best.get(code);
      if (price !== null && (!seen || rank < seen.rank)) best.set(code, { rank, price });
    });
    return new Map([...best].map(([code, { price }]) => [code, price]));
  },
};
