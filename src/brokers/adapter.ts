import type { Balances, Exchange } from "ccxt";
import type { Fixed } from "../money.js";
import { MalformedResponseError } from "./errors.js";
import type { BrokerOptions } from "./types.js";

/**
 * What every broker adapter provides. An adapter uses the real ccxt class for its exchange and
 * must: read the whole balance (every page) in as few requests as the exchange allows, never let
 * ccxt load markets just to read a balance, and let ccxt errors propagate untouched (the engine
 * maps them to statuses, see types.ts).
 */
export interface BrokerAdapter {
  /** Adjusts an account's exchange before use (e.g. a faster signer); credentials are set. */
  prepare?(exchange: Exchange): void;
  /** ccxt constructor options for account instances (merged under the account's own). */
  privateExchangeOptions?: Record<string, unknown>;
  /** The account's balance as a ccxt balance structure. */
  fetchBalance(exchange: Exchange, options: BrokerOptions): Promise<Balances>;
  /** USD prices by unified asset code from public data; shared by every account on the exchange. */
  fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>>;
  /** Prices the balance answer already carries (Alpaca positions), used before public prices. */
  pricesFromBalance?(balance: Balances): Map<string, Fixed>;
}

/** Throws MalformedResponseError unless `value` is a JSON object (ccxt passes non-JSON through). */
export function expectObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new MalformedResponseError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

export function expectArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new MalformedResponseError(`${what} is not a JSON array`);
  return value;
}
