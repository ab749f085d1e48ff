import type { Balances } from "ccxt";
import { type Fixed, fixedToCents, fixedToString, mulFixed, toFixed } from "../money.js";
import type { AssetBalance, Valuation } from "./types.js";

const NOT_ASSETS = new Set(["info", "timestamp", "datetime", "free", "used", "total", "debt"]);

export interface ValuedBalance {
  assets: Record<string, AssetBalance>;
  usdCents: number;
  unpriced: string[];
}

/** Kraken marks earn/staked variants with a suffix ("USD.F", "ETH.S"); they are worth the base. */
function baseAsset(code: string): string {
  return code.split(".")[0] ?? code;
}

function amount(value: unknown): Fixed {
  return typeof value === "number" || typeof value === "string" ? toFixed(value) : 0n;
}

/**
 * Values a ccxt balance in USD. `cash`: only USD and the configured stablecoins, at par. `total`:
 * also every other asset at `prices`; an asset without a price is listed in `unpriced` and left
 * out of the figure, never counted as 0 silently. The sum is exact and rounded to cents once.
 */
export function valueBalance(
  balance: Balances,
  valuation: Valuation,
  stablecoins: ReadonlySet<string>,
  prices: ReadonlyMap<string, Fixed>,
): ValuedBalance {
  const assets: Record<string, AssetBalance> = {};
  const unpriced: string[] = [];
  let sum = 0n;
  for (const [code, entry] of Object.entries(balance)) {
    if (NOT_ASSETS.has(code) || entry === null || typeof entry !== "object") continue;
    const {
      free: rawFree,
      used: rawUsed,
      total: rawTotal,
    } = entry as unknown as Record<string, unknown>;
    const free = amount(rawFree);
    const used = amount(rawUsed);
    const total = rawTotal === undefined || rawTotal === null ? free + used : amount(rawTotal);
    if (total === 0n) continue;
    const base = baseAsset(code);
    let value: Fixed | null = null;
    if (stablecoins.has(base)) {
      value = total;
    } else if (valuation === "total") {
      const price = prices.get(code) ?? prices.get(base);
      if (price === undefined) unpriced.push(code);
      else value = mulFixed(total, price);
    }
    if (value !== null) sum += value;
    assets[code] = {
      free: fixedToString(free),
      used: fixedToString(used),
      total: fixedToString(total),
      usdCents: value === null ? null : fixedToCents(value),
    };
  }
  return { assets, usdCents: fixedToCents(sum), unpriced: unpriced.sort() };
}
