import { readFile } from "node:fs/promises";
import ccxt from "ccxt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Holding } from "../../src/brokers/adapter.js";
import { binanceAdapter } from "../../src/brokers/binance.js";
import { loadExchangeClass } from "../../src/brokers/ccxt-loader.js";
import { MalformedResponseError } from "../../src/brokers/errors.js";
import { createExchange, type ObservedExchange } from "../../src/brokers/exchange.js";
import type { BrokerOptions, Credentials } from "../../src/brokers/types.js";
import { NO_PUBLIC_CACHE } from "../../src/cache/public-cache.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { parseDecimal } from "../../src/money.js";
import { type RecordedServer, startRecordedServer } from "../helpers/recorded-server.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
let raw: RecordedServer;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setPrices("binance", { BTC: "65000.1", ETH: "3200", USDC: "0.9998" });
  raw = await startRecordedServer();
});

afterAll(async () => {
  await emulator.close();
  await raw.close();
});

beforeEach(() => emulator.clearRequests());

const d = parseDecimal;

function holding(free: string, used = "0"): Holding {
  return { free: d(free), used: d(used), total: d(free) + d(used) };
}

async function binance(
  credentials: Credentials | null,
  apiUrl: string = emulator.urls.binance,
  sandbox = false,
): Promise<ObservedExchange> {
  const Class = await loadExchangeClass("binance");
  if (!Class) throw new Error("ccxt has no binance");
  return createExchange(Class, { credentials, apiUrl, sandbox, timeoutMs: 2000 });
}

function seed(funding: Record<string, { free: string; used?: string }> = {}): Credentials {
  return seedAccount(
    emulator,
    "binance",
    {
      BTC: { free: "0.5", used: "0.1" },
      USDT: "1250.75",
      ETH: "0.123456789012345678",
    },
    { funding },
  );
}

const requestsFor = (apiKey: string) =>
  emulator.requests.filter((r) => r.apiKey === apiKey).map((r) => `${r.method} ${r.path}`);

describe("binance adapter: fetchBalance against the emulator", () => {
  it("reads the spot wallet exactly in one request, zero rows left out, no markets loaded", async () => {
    const key = seed();
    const observed = await binance(key);
    const balance = await binanceAdapter.fetchBalance(observed.exchange, {});
    expect(balance).toEqual({
      holdings: new Map([
        ["BTC", holding("0.5", "0.1")],
        ["USDT", holding("1250.75")],
        ["ETH", holding("0.123456789012345678")],
      ]),
    });
    expect(observed.requests()).toBe(1);
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/v3/account"]);
    expect(emulator.requests[0]?.query.omitZeroBalances).toBe("true");
  });

  it("adds the funding wallet with one more request when wallets asks for it", async () => {
    const key = seed({ USDT: { free: "20", used: "5" }, BNB: { free: "0.00000001" } });
    const observed = await binance(key);
    const options: BrokerOptions = { wallets: ["spot", "funding"] };
    const balance = await binanceAdapter.fetchBalance(observed.exchange, options);
    expect(balance.holdings.get("USDT")).toEqual({
      free: d("1270.75"),
      used: d("5"),
      total: d("1275.75"),
    });
    expect(balance.holdings.get("BNB")).toEqual(holding("0.00000001"));
    expect(balance.equityUsd).toBeUndefined();
    expect(observed.requests()).toBe(2);
    expect(requestsFor(key.apiKey).sort()).toEqual([
      "GET /api/v3/account",
      "POST /sapi/v1/asset/get-funding-asset",
    ]);
  });

  it("reads the funding wallet alone when only it is asked for", async () => {
    const key = seed({ USDC: { free: "7" } });
    const observed = await binance(key);
    const balance = await binanceAdapter.fetchBalance(observed.exchange, { wallets: ["funding"] });
    expect(balance.holdings).toEqual(new Map([["USDC", holding("7")]]));
    expect(requestsFor(key.apiKey)).toEqual(["POST /sapi/v1/asset/get-funding-asset"]);
  });

  it("refuses OKX's wallet name", async () => {
    const observed = await binance(seed());
    await expect(
      binanceAdapter.fetchBalance(observed.exchange, { wallets: ["trading"] }),
    ).rejects.toThrow(/"trading" is OKX's/);
    expect(observed.requests()).toBe(0);
  });

  it("reads an empty account as no holdings", async () => {
    const key = seedAccount(emulator, "binance", {});
    const balance = await binanceAdapter.fetchBalance((await binance(key)).exchange, {});
    expect(balance.holdings.size).toBe(0);
  });

  it("reads the spot testnet with ccxt's sandbox mode; it has no funding wallet", async () => {
    const key = seedAccount(emulator, "binance", { BTC: "1" }, { sandbox: true });
    const observed = await binance(key, emulator.urls.binanceTestnet, true);
    const balance = await binanceAdapter.fetchBalance(observed.exchange, {});
    expect(balance.holdings).toEqual(new Map([["BTC", holding("1")]]));
    expect(emulator.requests.at(-1)).toMatchObject({ sandbox: true, status: 200 });
    const funding = binanceAdapter.fetchBalance(observed.exchange, { wallets: ["funding"] });
    await expect(funding).rejects.toBeInstanceOf(ccxt.NotSupported);
    expect(observed.requests()).toBe(1);
  });
});

describe("binance adapter: errors pass through as ccxt raises them", () => {
  it("a wrong secret: AuthenticationError -1022", async () => {
    const key = seed();
    const observed = await binance({ ...key, secret: "wrong" });
    const call = binanceAdapter.fetchBalance(observed.exchange, {});
    await expect(call).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(call).rejects.toThrow('"code":-1022');
    expect(observed.lastAnswer()?.status).toBe(400);
  });

  it("-2015 stays an AuthenticationError even after earlier successes on the shared instance", async () => {
    const key = seed();
    const first = await binance(key);
    await binanceAdapter.fetchBalance(first.exchange, {});
    await binanceAdapter.fetchBalance(first.exchange, {});
    emulator.setFault("binance", key.apiKey, { kind: "revoked", times: 1 });
    const again = binanceAdapter.fetchBalance(first.exchange, {});
    await expect(again).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(again).rejects.not.toBeInstanceOf(ccxt.DDoSProtection);
    // Another account's view of the same shared instance is not marked either.
    const other = await binance(seed());
    await binanceAdapter.fetchBalance(other.exchange, {});
    const stranger = await binance({ apiKey: "x".repeat(64), secret: "y" });
    await expect(binanceAdapter.fetchBalance(stranger.exchange, {})).rejects.toBeInstanceOf(
      ccxt.AuthenticationError,
    );
  });

  it("429 and 418 arrive as DDoSProtection with Retry-After in the answer's headers", async () => {
    const key = seed();
    const observed = await binance(key);
    emulator.setFault("binance", key.apiKey, { kind: "rate_limit", times: 1 });
    await expect(binanceAdapter.fetchBalance(observed.exchange, {})).rejects.toBeInstanceOf(
      ccxt.DDoSProtection,
    );
    expect(observed.lastAnswer()?.status).toBe(429);
    expect(Number(observed.lastAnswer()?.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("a clock outside recvWindow: InvalidNonce -1021", async () => {
    const observed = await binance(seed());
    (observed.exchange.options as Record<string, unknown>).timeDifference = 11_000;
    await expect(binanceAdapter.fetchBalance(observed.exchange, {})).rejects.toBeInstanceOf(
      ccxt.InvalidNonce,
    );
  });

  it("a truncated 200 answer is a MalformedResponseError", async () => {
    const key = seed();
    emulator.setFault("binance", key.apiKey, { kind: "malformed", times: 1 });
    const call = binanceAdapter.fetchBalance((await binance(key)).exchange, {});
    await expect(call).rejects.toBeInstanceOf(MalformedResponseError);
    await expect(call).rejects.toThrow("Binance account answer is not a JSON object");
  });
});

describe("binance adapter: wrong shapes are MalformedResponseError naming what was wrong", () => {
  const credentials = { apiKey: "k".repeat(64), secret: "s".repeat(64) };
  const cases: [string, unknown, string][] = [
    ["a list", [], "Binance account answer is not a JSON object"],
    ["no balances", { accountType: "SPOT" }, "Binance account balances is not a JSON array"],
    ["a row that is not an object", { balances: ["BTC"] }, "balances[0] is not a JSON object"],
    [
      "a row without asset",
      { balances: [{ free: "1", locked: "0" }] },
      "balances[0].asset is not a non-empty string",
    ],
    [
      "an amount that is not a number",
      { balances: [{ asset: "BTC", free: "abc", locked: "0" }] },
      'sent an amount that is not a number: BTC.free="abc"',
    ],
    [
      "a missing amount",
      { balances: [{ asset: "BTC", free: "1" }] },
      "sent an amount that is not a number: BTC.locked=missing",
    ],
    [
      "a negative amount",
      { balances: [{ asset: "BTC", free: "-1", locked: "0" }] },
      "sent a negative amount: BTC.free",
    ],
  ];
  for (const [name, body, message] of cases) {
    it(`spot: ${name}`, async () => {
      raw.set("/api/v3/account", { body: JSON.stringify(body) });
      const call = binanceAdapter.fetchBalance((await binance(credentials, raw.url)).exchange, {});
      await expect(call).rejects.toBeInstanceOf(MalformedResponseError);
      await expect(call).rejects.toThrow(message);
    });
  }

  it("funding: an object instead of the list, or a row without locked", async () => {
    raw.set("/sapi/v1/asset/get-funding-asset", { body: '{"asset":"USDT"}' });
    const exchange = (await binance(credentials, raw.url)).exchange;
    const options: BrokerOptions = { wallets: ["funding"] };
    await expect(binanceAdapter.fetchBalance(exchange, options)).rejects.toThrow(
      "Binance funding wallet answer is not a JSON array",
    );
    raw.set("/sapi/v1/asset/get-funding-asset", { body: '[{"asset":"USDT","free":"1"}]' });
    await expect(binanceAdapter.fetchBalance(exchange, options)).rejects.toThrow(
      "funding USDT.locked=missing",
    );
  });

  it("prices: an answer that is not the list", async () => {
    raw.set("/api/v3/ticker/price", { body: '{"symbol":"BTCUSDT","price":"1"}' });
    const call = binanceAdapter.fetchUsdPrices(
      (await binance(null, raw.url)).exchange,
      NO_PUBLIC_CACHE,
    );
    await expect(call).rejects.toThrow("Binance ticker/price answer is not a JSON array");
  });
});

describe("binance adapter: fetchUsdPrices", () => {
  it("reads every price in one public request, USDC before USDT, other quotes ignored", async () => {
    const observed = await binance(null);
    const prices = await binanceAdapter.fetchUsdPrices(observed.exchange, NO_PUBLIC_CACHE);
    expect(prices).toEqual(
      new Map([
        ["BTC", d("65000.1")],
        ["ETH", d("3200")],
        ["USDC", d("0.9998")],
      ]),
    );
    expect(observed.requests()).toBe(1);
    expect(emulator.requests.map((r) => `${r.method} ${r.path} ${r.apiKey}`)).toEqual([
      "GET /api/v3/ticker/price null",
    ]);
  });

  it("ranks USDC over USDT, skips unparsable prices and FDUSD/TUSD/BTC quotes", async () => {
    raw.set("/api/v3/ticker/price", {
      body: JSON.stringify([
        { symbol: "BTCUSDT", price: "65010.00000000" },
        { symbol: "BTCUSDC", price: "65000.00000000" },
        { symbol: "BTCFDUSD", price: "1.00000000" },
        { symbol: "BTCTUSD", price: "2.00000000" },
        { symbol: "ETHBTC", price: "0.05000000" },
        { symbol: "SOLUSDT", price: "not a price" },
        { symbol: "USDT", price: "1" },
        { symbol: "XRPUSDT", price: "0.52310000" },
      ]),
    });
    const prices = await binanceAdapter.fetchUsdPrices(
      (await binance(null, raw.url)).exchange,
      NO_PUBLIC_CACHE,
    );
    expect(prices).toEqual(
      new Map([
        ["BTC", d("65000")],
        ["XRP", d("0.5231")],
      ]),
    );
  });
});

describe("binance adapter: recorded real answers (test/fixtures/real/binance, EXPECTED.md)", () => {
  const credentials = { apiKey: "k".repeat(64), secret: "s".repeat(64) };
  const fixture = (name: string) =>
    readFile(new URL(`../fixtures/real/binance/${name}`, import.meta.url), "utf8");

  it("account.docs.json: BTC and LTC, free only, exactly as documented", async () => {
    raw.set("/api/v3/account", { body: await fixture("account.docs.json") });
    const balance = await binanceAdapter.fetchBalance(
      (await binance(credentials, raw.url)).exchange,
      {},
    );
    expect(balance).toEqual({
      holdings: new Map([
        ["BTC", holding("4723846.89208129")],
        ["LTC", holding("4763368.68006011")],
      ]),
    });
  });

  it("funding-asset.docs.edited.json: USDT 1 free, 0 used", async () => {
    raw.set("/sapi/v1/asset/get-funding-asset", {
      body: await fixture("funding-asset.docs.edited.json"),
    });
    const balance = await binanceAdapter.fetchBalance(
      (await binance(credentials, raw.url)).exchange,
      { wallets: ["funding"] },
    );
    expect(balance.holdings).toEqual(new Map([["USDT", holding("1")]]));
  });

  it("ticker-price-list.docs.json: only BTC-quoted pairs, so no USD price (BTC, LTC unpriced)", async () => {
    raw.set("/api/v3/ticker/price", { body: await fixture("ticker-price-list.docs.json") });
    const prices = await binanceAdapter.fetchUsdPrices(
      (await binance(null, raw.url)).exchange,
      NO_PUBLIC_CACHE,
    );
    expect(prices.size).toBe(0);
  });

  const errors: [string, number, typeof ccxt.BaseError][] = [
    ["error-2015-invalid-key.json", 401, ccxt.AuthenticationError],
    ["error-1021-timestamp.json", 400, ccxt.InvalidNonce],
    ["error-429-rate-limit.binanceus.json", 429, ccxt.DDoSProtection],
    ["error-418-ip-banned.edited.json", 418, ccxt.DDoSProtection],
    ["error-generic.docs.json", 400, ccxt.BadSymbol],
  ];
  for (const [name, status, errorClass] of errors) {
    it(`${name} with HTTP ${status}: ${errorClass.name}`, async () => {
      const body = await fixture(name);
      raw.set("/api/v3/account", { status, body, headers: { "retry-after": "7" } });
      const observed = await binance(credentials, raw.url);
      const call = binanceAdapter.fetchBalance(observed.exchange, {});
      await expect(call).rejects.toBeInstanceOf(errorClass);
      // ccxt's message carries the body as sent.
      await expect(call).rejects.toThrow(String((JSON.parse(body) as { code: number }).code));
      expect(observed.lastAnswer()).toMatchObject({ status, headers: { "retry-after": "7" } });
    });
  }
});
