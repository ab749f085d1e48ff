import { readFile } from "node:fs/promises";
import ccxt from "ccxt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Holding } from "../../src/brokers/adapter.js";
import { loadExchangeClass } from "../../src/brokers/ccxt-loader.js";
import { MalformedResponseError } from "../../src/brokers/errors.js";
import { createExchange, type ObservedExchange } from "../../src/brokers/exchange.js";
import { okxAdapter } from "../../src/brokers/okx.js";
import type { BrokerOptions, Credentials } from "../../src/brokers/types.js";
import { NO_PUBLIC_CACHE } from "../../src/cache/public-cache.js";
import { type Emulator, newOkxKey, startEmulator } from "../../src/emulator/index.js";
import { parseDecimal } from "../../src/money.js";
import { type RecordedServer, startRecordedServer } from "../helpers/recorded-server.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
let raw: RecordedServer;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setPrices("okx", { BTC: "65000.1", ETH: "3200", USDT: "0.9998", USDC: "1.0001" });
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

async function okx(
  credentials: Credentials | null,
  apiUrl: string = emulator.urls.okx,
  sandbox = false,
): Promise<ObservedExchange> {
  const Class = await loadExchangeClass("okx");
  if (!Class) throw new Error("ccxt has no okx");
  return createExchange(Class, { credentials, apiUrl, sandbox, timeoutMs: 2000 });
}

function seed(
  funding: Record<string, { free: string; used?: string }> = {},
  sandbox = false,
): Credentials {
  return seedAccount(
    emulator,
    "okx",
    { BTC: { free: "0.5", used: "0.1" }, USDT: "1250.75" },
    { funding, sandbox },
  );
}

const requestsFor = (apiKey: string) =>
  emulator.requests.filter((r) => r.apiKey === apiKey).map((r) => `${r.method} ${r.path}`);

describe("okx adapter: fetchBalance against the emulator", () => {
  it("reads the trading account in one request: eq per asset, totalEq as the account value", async () => {
    const key = seed();
    const observed = await okx(key);
    const balance = await okxAdapter.fetchBalance(observed.exchange, {});
    // 0.6 BTC at 65000.1 = 39000.06; 1250.75 USDT at 0.9998 = 1250.49985.
    expect(balance).toEqual({
      holdings: new Map([
        ["BTC", holding("0.5", "0.1")],
        ["USDT", holding("1250.75")],
      ]),
      equityUsd: d("40250.55985"),
      prices: new Map([
        ["BTC", d("65000.1")],
        ["USDT", d("0.9998")],
      ]),
    });
    expect(observed.requests()).toBe(1);
    expect(requestsFor(key.apiKey)).toEqual(["GET /api/v5/account/balance"]);
    expect(emulator.requests).toHaveLength(1);
  });

  it("adds the funding account with a second request, priced at OKX's own trading prices", async () => {
    const key = seed({ USDT: { free: "20", used: "5" }, BTC: { free: "0.01" } });
    const observed = await okx(key);
    const options: BrokerOptions = { wallets: ["trading", "funding"] };
    const balance = await okxAdapter.fetchBalance(observed.exchange, options);
    expect(balance.holdings).toEqual(
      new Map([
        ["BTC", holding("0.51", "0.1")],
        ["USDT", holding("1270.75", "5")],
      ]),
    );
    // 40250.55985 + 25 * 0.9998 + 0.01 * 65000.1 = 40250.55985 + 24.995 + 650.001
    expect(balance.equityUsd).toBe(d("40925.55585"));
    expect(observed.requests()).toBe(2);
    expect(requestsFor(key.apiKey).sort()).toEqual([
      "GET /api/v5/account/balance",
      "GET /api/v5/asset/balances",
    ]);
  });

  it("states no account value when a funding asset has no OKX price; its holdings still count", async () => {
    const key = seed({ ETH: { free: "0.000000015" } });
    const balance = await okxAdapter.fetchBalance((await okx(key)).exchange, {
      wallets: ["trading", "funding"],
    });
    expect(balance.equityUsd).toBeUndefined();
    expect(balance.holdings.get("ETH")).toEqual(holding("0.000000015"));
    expect(balance.prices?.get("BTC")).toBe(d("65000.1"));
  });

  it("reads the funding account alone when only it is asked for", async () => {
    const key = seed({ USDC: { free: "7" } });
    const balance = await okxAdapter.fetchBalance((await okx(key)).exchange, {
      wallets: ["funding"],
    });
    expect(balance).toEqual({ holdings: new Map([["USDC", holding("7")]]) });
    expect(requestsFor(key.apiKey)).toEqual(["GET /api/v5/asset/balances"]);
  });

  it("refuses Binance's wallet name", async () => {
    const observed = await okx(seed());
    await expect(okxAdapter.fetchBalance(observed.exchange, { wallets: ["spot"] })).rejects.toThrow(
      /"spot" is Binance's/,
    );
    expect(observed.requests()).toBe(0);
  });

  it("reads an empty account as no holdings and a value of 0", async () => {
    const key = seedAccount(emulator, "okx", {});
    const balance = await okxAdapter.fetchBalance((await okx(key)).exchange, {});
    expect(balance).toEqual({ holdings: new Map(), equityUsd: 0n });
  });

  it("reads a demo trading account with ccxt's sandbox mode (x-simulated-trading header)", async () => {
    const key = seed({}, true);
    const balance = await okxAdapter.fetchBalance(
      (await okx(key, emulator.urls.okx, true)).exchange,
      {},
    );
    expect(balance.equityUsd).toBe(d("40250.55985"));
    expect(emulator.requests.at(-1)).toMatchObject({ sandbox: true, status: 200 });
    const live = okxAdapter.fetchBalance((await okx(key)).exchange, {});
    await expect(live).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(live).rejects.toThrow('"code":"50101"');
  });
});

describe("okx adapter: errors pass through as ccxt raises them", () => {
  it("wrong secret 50113, wrong passphrase 50105: AuthenticationError, HTTP 401", async () => {
    const key = seed();
    const badSign = await okx({ ...key, secret: newOkxKey().secret });
    await expect(okxAdapter.fetchBalance(badSign.exchange, {})).rejects.toThrow('"code":"50113"');
    expect(badSign.lastAnswer()?.status).toBe(401);
    const badPass = okxAdapter.fetchBalance(
      (await okx({ ...key, password: "Nope1!xx" })).exchange,
      {},
    );
    await expect(badPass).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(badPass).rejects.toThrow('"code":"50105"');
  });

  it("rate limit 50011: RateLimitExceeded, HTTP 429", async () => {
    const key = seed();
    const observed = await okx(key);
    emulator.setFault("okx", key.apiKey, { kind: "rate_limit", times: 1 });
    await expect(okxAdapter.fetchBalance(observed.exchange, {})).rejects.toBeInstanceOf(
      ccxt.RateLimitExceeded,
    );
    expect(observed.lastAnswer()?.status).toBe(429);
  });

  it("a truncated 200 answer is a MalformedResponseError", async () => {
    const key = seed();
    emulator.setFault("okx", key.apiKey, { kind: "malformed", times: 1 });
    const call = okxAdapter.fetchBalance((await okx(key)).exchange, {});
    await expect(call).rejects.toBeInstanceOf(MalformedResponseError);
    await expect(call).rejects.toThrow("OKX account balance answer is not a JSON object");
  });
});

describe("okx adapter: wrong shapes are MalformedResponseError naming what was wrong", () => {
  const credentials = { apiKey: newOkxKey().apiKey, secret: "s", password: "p" };
  const envelope = (data: unknown) => JSON.stringify({ code: "0", data, msg: "" });
  const account = (over: Record<string, unknown>) =>
    envelope([{ totalEq: "1", details: [], ...over }]);
  const detail = (over: Record<string, unknown>) =>
    account({
      details: [{ ccy: "BTC", eq: "1", availBal: "1", frozenBal: "0", eqUsd: "1", ...over }],
    });
  const cases: [string, string, string][] = [
    [
      "data that is not a list",
      JSON.stringify({ code: "0", data: {}, msg: "" }),
      "OKX account balance data is not a JSON array",
    ],
    ["no account in data", envelope([]), "OKX account balance data has 0 entries, not one"],
    ["two accounts in data", envelope([{}, {}]), "has 2 entries, not one"],
    [
      "no totalEq",
      account({ totalEq: undefined }),
      "sent an amount that is not a number: totalEq=missing",
    ],
    [
      "details not a list",
      account({ details: "BTC" }),
      "OKX account balance details is not a JSON array",
    ],
    ["a detail without ccy", detail({ ccy: "" }), "details[0].ccy is not a non-empty string"],
    ["an eq that is not a number", detail({ eq: "1,5" }), 'BTC.eq="1,5"'],
    ["a frozenBal that is not a number", detail({ frozenBal: null }), "BTC.frozenBal=null"],
  ];
  for (const [name, body, message] of cases) {
    it(`trading: ${name}`, async () => {
      raw.set("/api/v5/account/balance", { body });
      const call = okxAdapter.fetchBalance((await okx(credentials, raw.url)).exchange, {});
      await expect(call).rejects.toBeInstanceOf(MalformedResponseError);
      await expect(call).rejects.toThrow(message);
    });
  }

  it("trading: fields OKX leaves empty for the account mode are read around, not refused", async () => {
    raw.set("/api/v5/account/balance", {
      body: detail({ availBal: "", frozenBal: "0.25", eq: "1.5", eqUsd: "" }),
    });
    const balance = await okxAdapter.fetchBalance((await okx(credentials, raw.url)).exchange, {});
    expect(balance).toEqual({
      holdings: new Map([["BTC", { free: d("1.25"), used: d("0.25"), total: d("1.5") }]]),
      equityUsd: d("1"),
    });
  });

  it("funding: a row without bal", async () => {
    raw.set("/api/v5/asset/balances", {
      body: envelope([{ ccy: "USDT", availBal: "1", frozenBal: "0" }]),
    });
    const call = okxAdapter.fetchBalance((await okx(credentials, raw.url)).exchange, {
      wallets: ["funding"],
    });
    await expect(call).rejects.toThrow("funding USDT.bal=missing");
  });

  it("prices: data that is not a list", async () => {
    raw.set("/api/v5/market/tickers", { body: JSON.stringify({ code: "0", data: null, msg: "" }) });
    const call = okxAdapter.fetchUsdPrices((await okx(null, raw.url)).exchange, NO_PUBLIC_CACHE);
    await expect(call).rejects.toThrow("OKX tickers data is not a JSON array");
  });
});

describe("okx adapter: fetchUsdPrices", () => {
  it("reads every SPOT last price in one public request, USDC before USDT", async () => {
    const observed = await okx(null);
    const prices = await okxAdapter.fetchUsdPrices(observed.exchange, NO_PUBLIC_CACHE);
    expect(prices).toEqual(
      new Map([
        ["BTC", d("65000.1")],
        ["ETH", d("3200")],
        ["USDC", d("1.0001")],
      ]),
    );
    expect(observed.requests()).toBe(1);
    expect(emulator.requests.map((r) => `${r.method} ${r.path} ${r.query.instType}`)).toEqual([
      "GET /api/v5/market/tickers SPOT",
    ]);
  });

  it("ranks USD over USDC over USDT and skips empty last prices and other quotes", async () => {
    raw.set("/api/v5/market/tickers", {
      body: JSON.stringify({
        code: "0",
        data: [
          { instType: "SPOT", instId: "BTC-USDT", last: "65010" },
          { instType: "SPOT", instId: "BTC-USD", last: "65000" },
          { instType: "SPOT", instId: "BTC-USDC", last: "65005" },
          { instType: "SPOT", instId: "ETH-BTC", last: "0.05" },
          { instType: "SPOT", instId: "SOL-USDT", last: "" },
          { instType: "SPOT", instId: "XRP-USDT", last: "0.5231" },
        ],
        msg: "",
      }),
    });
    const prices = await okxAdapter.fetchUsdPrices(
      (await okx(null, raw.url)).exchange,
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

describe("okx adapter: recorded real answers (test/fixtures/real/okx, EXPECTED.md)", () => {
  const credentials = { apiKey: newOkxKey().apiKey, secret: "s", password: "p" };
  const fixture = (name: string) =>
    readFile(new URL(`../fixtures/real/okx/${name}`, import.meta.url), "utf8");

  it("account-balance.docs.json: USDT by eq/availBal/frozenBal, account value totalEq", async () => {
    raw.set("/api/v5/account/balance", { body: await fixture("account-balance.docs.json") });
    const balance = await okxAdapter.fetchBalance((await okx(credentials, raw.url)).exchange, {});
    expect(balance.holdings).toEqual(
      new Map([
        [
          "USDT",
          {
            free: d("4834.317093622894"),
            used: d("158.573"),
            total: d("4992.890093622894"),
          },
        ],
      ]),
    );
    // $55,837.44 once rounded to cents by the engine.
    expect(balance.equityUsd).toBe(d("55837.43556134779"));
    expect(balance.prices?.has("USDT")).toBe(true);
  });

  it("asset-balances.docs.json: ETH 37.11827078 in the funding account, unpriced", async () => {
    raw.set("/api/v5/account/balance", { body: await fixture("account-balance.docs.json") });
    raw.set("/api/v5/asset/balances", { body: await fixture("asset-balances.docs.json") });
    const exchange = (await okx(credentials, raw.url)).exchange;
    const funding = await okxAdapter.fetchBalance(exchange, { wallets: ["funding"] });
    expect(funding).toEqual({ holdings: new Map([["ETH", holding("37.11827078")]]) });
    // With the trading account: ETH has no OKX price there, so no stated value.
    const both = await okxAdapter.fetchBalance(exchange, { wallets: ["trading", "funding"] });
    expect(both.equityUsd).toBeUndefined();
    expect([...both.holdings.keys()]).toEqual(["USDT", "ETH"]);
  });

  it("market-tickers.docs.edited.json: a SWAP ticker only, so no spot USD price", async () => {
    raw.set("/api/v5/market/tickers", { body: await fixture("market-tickers.docs.edited.json") });
    const prices = await okxAdapter.fetchUsdPrices(
      (await okx(null, raw.url)).exchange,
      NO_PUBLIC_CACHE,
    );
    expect(prices.size).toBe(0);
  });

  const errors: [string, number, typeof ccxt.BaseError][] = [
    ["error-50011-rate-limit.edited.json", 429, ccxt.RateLimitExceeded],
    ["error-50011-rate-limit.legacy-2021.json", 429, ccxt.RateLimitExceeded],
    ["error-50102-timestamp-expired.json", 401, ccxt.InvalidNonce],
    ["error-50102-timestamp-expired.with-data.json", 401, ccxt.InvalidNonce],
    ["error-50105-passphrase.json", 401, ccxt.AuthenticationError],
    ["error-50111-invalid-key.json", 401, ccxt.AuthenticationError],
    ["error-50113-invalid-sign.json", 401, ccxt.AuthenticationError],
    ["error-50119-key-doesnt-exist.json", 401, ccxt.ExchangeError],
  ];
  for (const [name, status, errorClass] of errors) {
    it(`${name} with HTTP ${status}: ${errorClass.name}`, async () => {
      const body = await fixture(name);
      raw.set("/api/v5/account/balance", { status, body });
      const observed = await okx(credentials, raw.url);
      const call = okxAdapter.fetchBalance(observed.exchange, {});
      await expect(call).rejects.toBeInstanceOf(errorClass);
      await expect(call).rejects.toThrow(body.trim());
      expect(observed.lastAnswer()?.status).toBe(status);
    });
  }
});
