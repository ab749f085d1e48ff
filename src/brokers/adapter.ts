import type { Exchange } from "ccxt";
import type { PublicCache } from "../cache/public-cache.js";
import { AmountError, amountFrom, type Fixed } from "../money.js";
import { MalformedResponseError } from "./errors.js";
import type { BrokerOptions } from "./types.js";

/** One asset's exact amounts, read from the exchange's own answer. */
export interface Holding {
  free: Fixed;
  used: Fixed;
  total: Fixed;
}

/** What an adapter reads from one account: every asset it holds, exactly as the exchange said. */
export interface BrokerBalance {
  /** Unified asset code ("USD", "BTC", "AAPL") to amounts; wallets of one asset are summed. */
  holdings: Map<string, Holding>;
  /** The account's value in USD where the answer states it (Alpaca `equity`, OKX `totalEq`). */
  equityUsd?: Fixed;
  /** USD prices the answer itself carries (Alpaca positions), used before public prices. */
  prices?: Map<string, Fixed>;
  /** Assets held in a form that cannot be valued (e.g. an unknown wallet type): listed unpriced. */
  unvaluable?: string[];
}

/**
 * What every broker adapter provides. An adapter uses the real ccxt class for its exchange (ccxt
 * signs, sends and maps errors) and must:
 * - read the whole balance (every page, every wallet type) in as few requests as the exchange
 *   allows, without letting ccxt load markets just to read a balance;
 * - read amounts from the raw answer with `readAmount` (ccxt's unified balance is floating point);
 * - throw MalformedResponseError, naming what was wrong, for any answer whose structure is not
 *   what the endpoint documents (an empty account is only an answer that says so);
 * - let ccxt errors propagate untouched (the engine maps them to statuses, see types.ts).
 */
export interface BrokerAdapter {
  /** Adjusts an account's exchange before use (e.g. a faster signer); credentials are set. */
  prepare?(exchange: Exchange): void;
  /** ccxt constructor options for account instances (merged under the account's own). */
  privateExchangeOptions?: Record<string, unknown>;
  /** The account's holdings, read in full. */
  fetchBalance(exchange: Exchange, options: BrokerOptions): Promise<BrokerBalance>;
  /**
   * USD prices by unified asset code from public data; shared by every account on the exchange.
   * `cache` may remember slow-changing lists (pairs) across runs; prices themselves are
   * remembered by the engine for the cache TTL.
   */
  fetchUsdPrices(exchange: Exchange, cache: PublicCache): Promise<Map<string, Fixed>>;
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

/** A string field, or MalformedResponseError naming it. */
export function expectString(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") {
    throw new MalformedResponseError(`${what} is not a non-empty string`);
  }
  return value;
}

/**
 * One amount from a raw answer, exactly. `field` names it for the message, e.g. "ZUSD.balance":
 * "sent an amount that is not a number: ZUSD.balance=\"abc\"".
 */
export function readAmount(value: unknown, field: string): Fixed {
  try {
    return amountFrom(value);
  } catch (error) {
    if (!(error instanceof AmountError)) throw error;
    const shown = value === undefined ? "missing" : (JSON.stringify(value) ?? String(value));
    const kind = error.message.startsWith("out of range") ? "out of range" : "not a number";
    throw new MalformedResponseError(
      `sent an amount that is ${kind}: ${field}=${shown.slice(0, 40)}`,
    );
  }
}

/** Adds `holding` to the asset's entry (several wallets of one asset are one holding). */
export function addHolding(holdings: Map<string, Holding>, code: string, holding: Holding): void {
  const seen = holdings.get(code);
  holdings.set(
    code,
    seen
      ? {
          free: seen.free + holding.free,
          used: seen.used + holding.used,
          total: seen.total + holding.total,
        }
      : holding,
  );
}
