import { type Cents, type Fixed, fixedToCents, fixedToString, mulFixed } from "../money.js";
import { setOwn } from "../own-key.js";
import type { BrokerBalance } from "./adapter.js";
import type { AssetBalance, Valuation } from "./types.js";

export interface ValuedBalance {
  assets: Record<string, AssetBalance>;
  usdCents: Cents;
  unpriced: string[];
  basis: "broker" | "priced" | "cash";
}

/** Codes whose staked or wrapped form has another name than the asset it is worth. */
// A Map, not an object: an asset code is the exchange's text, and `valueOf` or `__proto__` must
// not find Object.prototype.
const ALIASES = new Map([["ETH2", "ETH"]]);

/**
 * The asset a code is worth: earn/staked/bonded suffixes ("ETH2.S", "DOT.S", "USD.F", "BTC.M",
 * "ADA.B") are worth their base asset.
 */
export function baseAsset(code: string): string {
  const base = code.split(".")[0] || code;
  return ALIASES.get(base) ?? base;
}

/**
 * Values an account's holdings in USD.
 * - `total`: what the account is worth, free and held. The broker's own equity figure when the
 *   answer states one; otherwise USD and stablecoins at par plus every other asset at `prices`.
 *   An asset without a price is listed in `unpriced` and left out, never counted as 0 silently.
 * - `cash`: USD and the stablecoins only, at par.
 * Every sum is exact and rounded to cents once.
 */
export function valueBalance(
  balance: BrokerBalance,
  valuation: Valuation,
  stablecoins: ReadonlySet<string>,
  publicPrices: ReadonlyMap<string, Fixed>,
): ValuedBalance {
  // The answer's own prices first; looked up in both rather than merged (a public price list
  // can hold thousands of pairs, and every account of the exchange shares it).
  const own = balance.prices;
  const priceOf = (code: string) => own?.get(code) ?? publicPrices.get(code);
  const unvaluable = new Set(balance.unvaluable ?? []);
  // An asset named `__proto__` stays an asset (setOwn).
  const assets: Record<string, AssetBalance> = {};
  const unpriced: string[] = [];
  let sum = 0n;
  for (const [code, holding] of balance.holdings) {
    const base = baseAsset(code);
    let value: Fixed | null = null;
    if (unvaluable.has(code)) {
      if (valuation === "total") unpriced.push(code);
    } else if (stablecoins.has(base)) {
      value = holding.total;
    } else {
      const price = priceOf(code) ?? priceOf(base);
      if (price !== undefined) value = mulFixed(holding.total, price);
      else if (valuation === "total") unpriced.push(code);
    }
    const counts = valuation === "total" || stablecoins.has(base);
    if (value !== null && counts && !unvaluable.has(code)) sum += value;
    setOwn(assets, code, {
      free: fixedToString(holding.free),
      used: fixedToString(holding.used),
      total: fixedToString(holding.total),
      usdCents: value === null ? null : fixedToCents(value),
    });
  }
  if (valuation === "cash") {
    return { assets, usdCents: fixedToCents(sum), unpriced: [], basis: "cash" };
  }
  if (balance.equityUsd !== undefined) {
    // The broker's figure already includes every holding, priced or not.
    return { assets, usdCents: fixedToCents(balance.equityUsd), unpriced: [], basis: "broker" };
  }
  return { assets, usdCents: fixedToCents(sum), unpriced: unpriced.sort(), basis: "priced" };
}
