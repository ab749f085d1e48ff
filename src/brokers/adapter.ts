import type { Balances, Exchange } from "ccxt";
import type { Fixed } from "../money.js";
import type { BrokerOptions } from "./types.js";

/**
 * What every broker adapter provides. An adapter uses the real ccxt class for its exchange and
 * must: read the whole balance (every page) in as few requests as the exchange allows, never let
 * ccxt load markets just to read a balance, and let ccxt errors propagate untouched (the engine
 * maps them to statuses, see types.ts).
 */
export interface BrokerAdapter {
  /** The account's balance as a ccxt balance structure. */
  fetchBalance(exchange: Exchange, options: BrokerOptions): Promise<Balances>;
  /** USD prices by unified asset code from public data; shared by every account on the exchange. */
  fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>>;
  /** Prices the balance answer already carries (Alpaca positions), used before public prices. */
  pricesFromBalance?(balance: Balances): Map<string, Fixed>;
}
