/**
 * Amounts that are not numbers, from every broker: each one makes that row an exchange_error
 * naming the field, never the run, and never a misread figure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BalanceFetcher } from "../../src/brokers/fetch-account-balance.js";
import type { AccountBalance } from "../../src/brokers/types.js";
import { baseAsset, valueBalance } from "../../src/brokers/valuation.js";
import { newAlpacaKey, newCoinbaseCdpKey, newKrakenKey } from "../../src/emulator/index.js";
import { parseDecimal } from "../../src/money.js";
import { KrakenLane } from "../../src/queue/kraken-lane.js";
import { type RecordedServer, startRecordedServer } from "../helpers/recorded-server.js";

/** Bodies keyed by a test id, served for whichever account asks (the path says which broker). */
const bodies = new Map<string, unknown>();
let current = "";
let server: RecordedServer;

beforeAll(async () => {
  const answer = (broker: string) => () => ({
    body: JSON.stringify(bodies.get(`${broker}:${current}`)),
  });
  server = await startRecordedServer({
    "POST /0/private/BalanceEx": answer("kraken"),
    "GET /0/public/AssetPairs": { body: '{"error":[],"result":{}}' },
    "GET /0/public/Ticker": { body: '{"error":[],"result":{}}' },
    "GET /api/v3/brokerage/accounts": answer("coinbase"),
    "GET /api/v3/brokerage/market/products": { body: '{"products":[]}' },
    "GET /v2/account": answer("alpaca-account"),
    "GET /v2/positions": answer("alpaca-positions"),
  });
});
afterAll(() => server.close());

const HOSTILE: unknown[] = [
  "1e309",
  "1e400",
  "abc",
  "NaN",
  "n/a",
  " 5.00 ",
  "0x10",
  "Infinity",
  null,
  "",
  true,
  [1],
  {},
];

async function fetchWith(
  broker: "kraken" | "coinbase" | "alpaca",
  value: unknown,
): Promise<AccountBalance> {
  current = JSON.stringify(value);
  bodies.set(`kraken:${current}`, {
    error: [],
    result: { ZUSD: { balance: value, hold_trade: "0" }, XXBT: { balance: "1", hold_trade: "0" } },
  });
  const wallet = (currency: string, amount: unknown, uuid: string) => ({
    uuid,
    currency,
    type: "ACCOUNT_TYPE_FIAT",
    available_balance: { value: amount, currency },
    hold: { value: "0", currency },
  });
  bodies.set(`coinbase:${current}`, {
    accounts: [wallet("USD", value, "a"), wallet("USDC", "1.00", "b")],
    has_next: false,
  });
  bodies.set(`alpaca-account:${current}`, { cash: "100.00", equity: "1100.00" });
  bodies.set(`alpaca-positions:${current}`, [
    { symbol: "AAPL", asset_class: "us_equity", qty: value, current_price: "100.00" },
  ]);
  const key = {
    kraken: newKrakenKey,
    coinbase: () => newCoinbaseCdpKey("es256"),
    alpaca: newAlpacaKey,
  }[broker]();
  const fetcher = new BalanceFetcher({
    timeoutMs: 2000,
    attempts: 1,
    krakenLane: new KrakenLane({ spacingMs: 0 }),
  });
  return fetcher.fetchAccountBalance({ broker, credentials: key, apiUrl: server.url });
}

describe.each(["kraken", "coinbase", "alpaca"] as const)("%s", (broker) => {
  it.each(HOSTILE.map((value) => [JSON.stringify(value), value]))(
    "amount %s -> that row's exchange_error, naming the field",
    async (_label, value) => {
      const result = await fetchWith(broker, value);
      expect(result.status).toBe("exchange_error");
      expect(result.usdCents).toBeNull();
      expect(result.message).toMatch(
        new RegExp(`^${broker} sent an amount that is (not a number|out of range): \\S+=`),
      );
    },
  );

  it("the same answer with a good amount is read exactly", async () => {
    const result = await fetchWith(broker, "90071992547409.93");
    expect(result.status).toBe("ok");
    expect(result.assets[broker === "alpaca" ? "AAPL" : "USD"]?.total).toBe("90071992547409.93");
  });
});

describe("alpaca positions", () => {
  it("a current_price of 'n/a' is an error even with --valuation cash", async () => {
    current = "price";
    bodies.set("alpaca-account:price", { cash: "100.00", equity: "1100.00" });
    bodies.set("alpaca-positions:price", [
      { symbol: "AAPL", asset_class: "us_equity", qty: "10", current_price: "n/a" },
    ]);
    const fetcher = new BalanceFetcher({ timeoutMs: 2000, attempts: 1, valuation: "cash" });
    const result = await fetcher.fetchAccountBalance({
      broker: "alpaca",
      credentials: newAlpacaKey(),
      apiUrl: server.url,
    });
    expect(result.status).toBe("exchange_error");
    expect(result.message).toMatch(/AAPL\.current_price="n\/a"/);
  });
});

describe("asset codes that are Object.prototype's names", () => {
  it("are valued as assets, not looked up on the prototype or dropped", () => {
    const one = parseDecimal("1");
    const holding = { free: one, used: parseDecimal("0"), total: one };
    const codes = ["USD", "__proto__", "constructor", "valueOf", "toString.S"];
    const valued = valueBalance(
      { holdings: new Map(codes.map((code) => [code, holding])) },
      "total",
      new Set(["USD"]),
      new Map([["valueOf", parseDecimal("3")]]),
    );
    expect(Object.keys(valued.assets).sort()).toEqual([...codes].sort());
    expect(Object.getPrototypeOf(valued.assets)).toBe(Object.prototype);
    expect(valued.usdCents).toBe(400n); // USD 1 + valueOf 1 at 3
    expect(valued.unpriced).toEqual(["__proto__", "constructor", "toString.S"]);
    expect(baseAsset("valueOf")).toBe("valueOf");
  });
});
