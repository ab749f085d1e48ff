import type { Exchange } from "ccxt";
import type { Fixed } from "../money.js";
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

/** The parts of ccxt's alpaca class we use. */
type AlpacaApi = {
  traderPrivateGetV2Account(params?: object): Promise<unknown>;
  traderPrivateGetV2Positions(params?: object): Promise<unknown>;
};

/** "BTC/USD" and "BTCUSD" (crypto) or "AAPL" (equity) to the asset code we report. */
function positionAsset(symbol: string, assetClass: unknown): string {
  if (assetClass !== "crypto") return symbol;
  if (symbol.includes("/")) return symbol.split("/")[0] || symbol;
  return symbol.endsWith("USD") && symbol.length > 3 ? symbol.slice(0, -3) : symbol;
}

/**
 * Alpaca: the account and the positions, two requests sent together. The account states its
 * equity (cash + long and short market value), which is the balance; the holdings are the cash
 * and each position (equities and crypto alike), priced at the position's `current_price`.
 */
export const alpacaAdapter: BrokerAdapter = {
  // ccxt spaces Alpaca calls 333 ms apart (200 a minute); one burst of two is within that limit.
  privateExchangeOptions: { tokenBucket: { tokens: 1 } },

  async fetchBalance(exchange: Exchange): Promise<BrokerBalance> {
    const api = exchange as unknown as AlpacaApi;
    // Settle both before deciding, so no request is left running after the result.
    const [accountResult, positionsResult] = await Promise.allSettled([
      api.traderPrivateGetV2Account(),
      api.traderPrivateGetV2Positions(),
    ]);
    if (accountResult.status === "rejected") throw accountResult.reason;
    if (positionsResult.status === "rejected") throw positionsResult.reason;
    const account = expectObject(accountResult.value, "Alpaca account");
    const positions = expectArray(positionsResult.value, "Alpaca positions");
    const holdings = new Map<string, Holding>();
    const prices = new Map<string, Fixed>();
    const cash = readAmount(account.cash, "account.cash");
    if (cash !== 0n) holdings.set("USD", { free: cash, used: 0n, total: cash });
    for (const [i, raw] of positions.entries()) {
      const position = expectObject(raw, `Alpaca positions[${i}]`);
      const symbol = expectString(position.symbol, `Alpaca positions[${i}].symbol`);
      const code = positionAsset(symbol, position.asset_class);
      const total = readAmount(position.qty, `${symbol}.qty`);
      const free =
        position.qty_available === undefined
          ? total
          : readAmount(position.qty_available, `${symbol}.qty_available`);
      addHolding(holdings, code, { free, used: total - free, total });
      prices.set(code, readAmount(position.current_price, `${symbol}.current_price`));
    }
    return { holdings, prices, equityUsd: readAmount(account.equity, "account.equity") };
  },

  /** Alpaca has no single public price list; every held asset's price is on its position. */
  async fetchUsdPrices(): Promise<Map<string, Fixed>> {
    return new Map();
  },
};
