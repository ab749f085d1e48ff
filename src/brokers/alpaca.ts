import type { Balances, Exchange } from "ccxt";
import { type Fixed, toFixed } from "../money.js";
import { type BrokerAdapter, expectArray, expectObject } from "./adapter.js";

/** The parts of ccxt's alpaca class we use, typed by what Alpaca sends. */
type AlpacaApi = Pick<Exchange, "parseBalance"> & {
  traderPrivateGetV2Account(params?: object): Promise<unknown>;
  traderPrivateGetV2Positions(params?: object): Promise<unknown>;
};

interface AlpacaPosition {
  symbol?: string;
  asset_class?: string;
  qty?: string;
  qty_available?: string;
  current_price?: string;
}

function positionsOf(balance: Balances): AlpacaPosition[] {
  const info = balance.info as { positions?: AlpacaPosition[] } | undefined;
  return info?.positions ?? [];
}

/** "BTC/USD" and "BTCUSD" (crypto) or "AAPL" (equity) to the asset code ccxt uses. */
function positionAsset(position: AlpacaPosition): string | null {
  const symbol = position.symbol;
  if (!symbol) return null;
  if (position.asset_class !== "crypto") return symbol;
  if (symbol.includes("/")) return symbol.split("/")[0] ?? null;
  return symbol.endsWith("USD") && symbol.length > 3 ? symbol.slice(0, -3) : null;
}

/**
 * Alpaca: the account (cash) and the positions, two requests sent together. ccxt parses crypto
 * positions; equities (the bulk of most Alpaca accounts) are added here so they are not lost.
 */
export const alpacaAdapter: BrokerAdapter = {
  // ccxt spaces Alpaca calls 333 ms apart (200 a minute); one burst of two is within that limit.
  privateExchangeOptions: { tokenBucket: { tokens: 1 } },

  async fetchBalance(exchange: Exchange): Promise<Balances> {
    const api = exchange as unknown as AlpacaApi;
    // Settle both before deciding, so no request is left running after the result.
    const [accountResult, positionsResult] = await Promise.allSettled([
      api.traderPrivateGetV2Account(),
      api.traderPrivateGetV2Positions(),
    ]);
    if (accountResult.status === "rejected") throw accountResult.reason;
    if (positionsResult.status === "rejected") throw positionsResult.reason;
    const [accountAnswer, positionsAnswer] = [accountResult.value, positionsResult.value];
    const account = expectObject(accountAnswer, "Alpaca account");
    const positions = expectArray(positionsAnswer, "Alpaca positions") as AlpacaPosition[];
    const balance = api.parseBalance({ account, positions });
    for (const position of positions) {
      const code = positionAsset(position);
      if (position.asset_class === "crypto" || !code || code in balance) continue;
      const total = Number(position.qty ?? 0);
      const free = Number(position.qty_available ?? position.qty ?? 0);
      (balance as unknown as Record<string, unknown>)[code] = { free, used: total - free, total };
    }
    return balance;
  },

  /** Alpaca has no single public price list; every held asset's price is on its position. */
  async fetchUsdPrices(): Promise<Map<string, Fixed>> {
    return new Map();
  },

  pricesFromBalance(balance: Balances): Map<string, Fixed> {
    const prices = new Map<string, Fixed>();
    for (const position of positionsOf(balance)) {
      const code = positionAsset(position);
      if (code && position.current_price) prices.set(code, toFixed(position.current_price));
    }
    return prices;
  },
};
