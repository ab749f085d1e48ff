import { describe, expect, it } from "vitest";
import { valueBalance } from "../../src/brokers/valuation.js";
import { parseDecimal } from "../../src/money.js";

const d = parseDecimal;
const held = (total: string) => ({ free: d(total), used: d("0"), total: d(total) });
const balance = {
  holdings: new Map([
    ["USD", held("10")],
    ["AAPL", held("2")],
    ["ETH2.S", held("0.5")],
    ["DOGE", held("100")],
  ]),
  // The answer's own price (Alpaca's position) wins over the public list's.
  prices: new Map([["AAPL", d("150.25")]]),
};
const publicPrices = new Map([
  ["AAPL", d("1")],
  ["ETH", d("2000")],
]);

describe("valueBalance", () => {
  it("total: the answer's prices first, then the public list (by base asset), unpriced listed", () => {
    const valued = valueBalance(balance, "total", new Set(["USD"]), publicPrices);
    // 10 + 2 x 150.25 + 0.5 x 2000 = 1310.50
    expect(valued.usdCents).toBe(131050n);
    expect(valued.basis).toBe("priced");
    expect(valued.unpriced).toEqual(["DOGE"]);
    expect(valued.assets.AAPL?.usdCents).toBe(30050n);
    expect(valued.assets["ETH2.S"]?.usdCents).toBe(100000n);
    expect(valued.assets.DOGE?.usdCents).toBeNull();
  });

  it("cash: only USD and stablecoins count; a priced asset still shows its value", () => {
    const valued = valueBalance(balance, "cash", new Set(["USD"]), publicPrices);
    expect(valued.usdCents).toBe(1000n);
    expect(valued.unpriced).toEqual([]);
    expect(valued.assets.AAPL?.usdCents).toBe(30050n);
    expect(valued.assets.DOGE?.usdCents).toBeNull();
  });
});
