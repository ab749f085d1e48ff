import ccxt from "ccxt";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { rebaseApiUrls } from "../../src/brokers/api-url.js";
import {
  type AccountSeed,
  type Emulator,
  newOkxKey,
  startEmulator,
} from "../../src/emulator/index.js";

type Okx = InstanceType<typeof ccxt.okx>;
type Api = Record<string, (params?: object) => Promise<unknown>>;
interface OkxKey {
  apiKey: string;
  secret: string;
  passphrase: string;
}

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setPrices("okx", { BTC: "65000.1", ETH: "3200", USDT: "0.9998" });
});

afterAll(() => emulator.close());

afterEach(() => {
  vi.useRealTimers();
});

function okx(key: OkxKey, extra: Record<string, unknown> = {}, origin = emulator.urls.okx): Okx {
  const exchange = new ccxt.okx({
    apiKey: key.apiKey,
    secret: key.secret,
    password: key.passphrase,
    enableRateLimit: false,
    ...extra,
  });
  exchange.urls.api = rebaseApiUrls(exchange.urls.api, origin) as never;
  return exchange;
}

function api(exchange: Okx): Api {
  return exchange as unknown as Api;
}

function account(target: Emulator = emulator, extra: Partial<AccountSeed> = {}): OkxKey {
  const key = newOkxKey();
  target.addAccount({
    exchange: "okx",
    ...key,
    balances: { BTC: { free: "0.5", used: "0.1" }, USDT: { free: "1250.75" } },
    funding: { USDT: { free: "20", used: "5" }, ETH: { free: "0.000000015" } },
    ...extra,
  });
  return key;
}

describe("okx emulator: balances", () => {
  it("answers GET /api/v5/account/balance with totalEq and per-currency details, all strings", async () => {
    const key = account();
    emulator.clearRequests();
    const body = (await api(okx(key)).privateGetAccountBalance?.()) as {
      code: string;
      msg: string;
      data: Record<string, unknown>[];
    };
    expect(body.code).toBe("0");
    expect(body.msg).toBe("");
    const [first] = body.data;
    // 0.6 BTC * 65000.1 = 39000.06; 1250.75 USDT * 0.9998 = 1250.4998500
    expect(first).toMatchObject({ totalEq: "40250.55985", adjEq: "", isoEq: "0" });
    expect(first?.details).toEqual([
      expect.objectContaining({
        ccy: "BTC",
        eq: "0.6",
        cashBal: "0.6",
        availBal: "0.5",
        availEq: "0.5",
        frozenBal: "0.1",
        ordFrozen: "0.1",
        eqUsd: "39000.06",
        upl: "0",
      }),
      expect.objectContaining({
        ccy: "USDT",
        eq: "1250.75",
        availBal: "1250.75",
        frozenBal: "0",
        eqUsd: "1250.49985",
      }),
    ]);
    for (const detail of (first?.details ?? []) as Record<string, unknown>[])
      for (const value of Object.values(detail)) expect(typeof value).toBe("string");
    expect(emulator.requests[0]).toMatchObject({
      exchange: "okx",
      method: "GET",
      path: "/api/v5/account/balance",
      apiKey: key.apiKey,
      status: 200,
      error: null,
    });
    expect(emulator.requests[0]?.sandbox).toBeUndefined();
  });

  it("filters by ccy and answers the funding account on GET /api/v5/asset/balances", async () => {
    const key = account();
    const exchange = api(okx(key));
    const btc = (await exchange.privateGetAccountBalance?.({ ccy: "BTC" })) as {
      data: { totalEq: string; details: { ccy: string }[] }[];
    };
    expect(btc.data[0]?.details.map((d) => d.ccy)).toEqual(["BTC"]);
    expect(btc.data[0]?.totalEq).toBe("39000.06");
    await expect(exchange.privateGetAssetBalances?.()).resolves.toEqual({
      code: "0",
      data: [
        { availBal: "20", bal: "25", ccy: "USDT", frozenBal: "5" },
        { availBal: "0.000000015", bal: "0.000000015", ccy: "ETH", frozenBal: "0" },
      ],
      msg: "",
    });
  });

  it("answers an empty account with an empty details list and totalEq 0", async () => {
    const key = account(emulator, { balances: {}, funding: {} });
    const body = (await api(okx(key)).privateGetAccountBalance?.()) as {
      data: { totalEq: string; details: unknown[] }[];
    };
    expect(body.data[0]).toMatchObject({ totalEq: "0", details: [] });
  });
});

describe("okx emulator: authentication", () => {
  it("checks the signature: a wrong secret gets 50113 (401), AuthenticationError", async () => {
    const key = account();
    const call = api(okx({ ...key, secret: newOkxKey().secret })).privateGetAccountBalance?.();
    await expect(call).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(call).rejects.toThrow('okx {"msg":"Invalid Sign","code":"50113"}');
    expect(emulator.requests.at(-1)).toMatchObject({ status: 401, error: "50113" });
  });

  it("checks the passphrase: 50105 (401), AuthenticationError", async () => {
    const key = account();
    const call = api(okx({ ...key, passphrase: "Wrong1!pass" })).privateGetAccountBalance?.();
    await expect(call).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(call).rejects.toThrow(
      '{"msg":"Request header OK-ACCESS-PASSPHRASE incorrect.","code":"50105"}',
    );
  });

  it("refuses a malformed key with 50111 and an unknown one with 50119 (which ccxt leaves unmapped)", async () => {
    const malformed = api(
      okx({ ...newOkxKey(), apiKey: "not-a-key" }),
    ).privateGetAccountBalance?.();
    await expect(malformed).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(malformed).rejects.toThrow('{"msg":"Invalid OK-ACCESS-KEY","code":"50111"}');
    const unknown = api(okx(newOkxKey())).privateGetAccountBalance?.();
    await expect(unknown).rejects.toBeInstanceOf(ccxt.ExchangeError);
    await expect(unknown).rejects.not.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(unknown).rejects.toThrow('{"msg":"API key doesn\'t exist","code":"50119"}');
    expect(emulator.requests.at(-1)).toMatchObject({ status: 401, error: "50119" });
  });

  it("refuses a timestamp more than 30 s off with 50102 (InvalidNonce)", async () => {
    const key = account();
    const exchange = okx(key);
    let skew = -31_000;
    exchange.nonce = () => Date.now() + skew;
    const call = api(exchange).privateGetAccountBalance?.();
    await expect(call).rejects.toBeInstanceOf(ccxt.InvalidNonce);
    await expect(call).rejects.toThrow('{"msg":"Timestamp request expired","code":"50102"}');
    skew = 31_000;
    await expect(api(exchange).privateGetAccountBalance?.()).rejects.toThrow('"50102"');
    skew = -25_000;
    await expect(api(exchange).privateGetAccountBalance?.()).resolves.toBeDefined();
  });

  it("refuses requests with a missing header before anything else", async () => {
    const url = `${emulator.urls.okx}/api/v5/account/balance`;
    const bare = await fetch(url);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toEqual({
      msg: "Request header OK-ACCESS-KEY can not be empty.",
      code: "50103",
    });
    const noPassphrase = await fetch(url, { headers: { "OK-ACCESS-KEY": newOkxKey().apiKey } });
    expect(await noPassphrase.json()).toMatchObject({ code: "50104" });
  });

  it("answers a key without permission with 50120", async () => {
    const key = account(emulator, { permissions: "no_funds_query" });
    await expect(api(okx(key)).privateGetAccountBalance?.()).rejects.toThrow('"code":"50120"');
  });
});

describe("okx emulator: demo trading", () => {
  it("serves a demo key only with x-simulated-trading: 1, a live key only without", async () => {
    const demo = account(emulator, { sandbox: true });
    const live = account();
    // ccxt's `sandbox: true` adds the header; OKX demo trading shares the live host.
    await expect(
      api(okx(demo, { sandbox: true })).privateGetAccountBalance?.(),
    ).resolves.toMatchObject({ code: "0" });
    expect(emulator.requests.at(-1)).toMatchObject({ sandbox: true, apiKey: demo.apiKey });
    const demoOnLive = api(okx(demo)).privateGetAccountBalance?.();
    await expect(demoOnLive).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(demoOnLive).rejects.toThrow(
      '{"msg":"APIKey does not match current environment.","code":"50101"}',
    );
    await expect(api(okx(live, { sandbox: true })).privateGetAccountBalance?.()).rejects.toThrow(
      '"code":"50101"',
    );
  });
});

describe("okx emulator: rate limits", () => {
  it("allows 10 balance requests per 2 s and 6 funding requests per s per key, then 429 50011", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2030, 0, 1, 12, 0, 0));
    const own = await startEmulator();
    try {
      const key = account(own);
      const exchange = okx(key, {}, own.urls.okx);
      exchange.nonce = () => Date.now();
      const call = api(exchange);
      for (let i = 0; i < 10; i++) await call.privateGetAccountBalance?.();
      const limited = call.privateGetAccountBalance?.();
      await expect(limited).rejects.toBeInstanceOf(ccxt.RateLimitExceeded);
      await expect(limited).rejects.toThrow('okx {"msg":"Too Many Requests","code":"50011"}');
      expect(own.requests.at(-1)).toMatchObject({ status: 429, error: "50011" });
      // Each endpoint has its own limit.
      for (let i = 0; i < 6; i++) await call.privateGetAssetBalances?.();
      await expect(call.privateGetAssetBalances?.()).rejects.toThrow('"50011"');
      // Another key is counted apart.
      const other = okx(account(own), {}, own.urls.okx);
      other.nonce = () => Date.now();
      await expect(api(other).privateGetAccountBalance?.()).resolves.toBeDefined();
      vi.setSystemTime(Date.UTC(2030, 0, 1, 12, 0, 2, 1));
      await expect(call.privateGetAccountBalance?.()).resolves.toBeDefined();
    } finally {
      await own.close();
    }
  });
});

describe("okx emulator: public tickers", () => {
  it("lists SPOT tickers with last prices on GET /api/v5/market/tickers", async () => {
    const exchange = api(okx(newOkxKey()));
    const body = (await exchange.publicGetMarketTickers?.({ instType: "SPOT" })) as {
      data: { instId: string; last: string; instType: string }[];
    };
    expect(body.data.map((t) => [t.instId, t.last])).toEqual([
      ["BTC-USDT", "65000.1"],
      ["BTC-USDC", "65000.1"],
      ["ETH-USDT", "3200"],
      ["ETH-USDC", "3200"],
    ]);
    expect(emulator.requests.at(-1)).toMatchObject({ apiKey: null, status: 200 });
    const missing = exchange.publicGetMarketTickers?.();
    await expect(missing).rejects.toBeInstanceOf(ccxt.BadRequest);
    await expect(missing).rejects.toThrow('"code":"50014"');
  });
});

describe("okx emulator: faults", () => {
  it("answers each fault kind the way OKX would", async () => {
    const key = account();
    const exchange = okx(key, { timeout: 300 });
    const read = () => api(exchange).privateGetAccountBalance?.();
    const fault = (f: Parameters<Emulator["setFault"]>[2]) =>
      emulator.setFault("okx", key.apiKey, f);

    fault({ kind: "rate_limit", times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.RateLimitExceeded);
    expect(emulator.requests.at(-1)).toMatchObject({ status: 429, error: "50011" });

    fault({ kind: "invalid_nonce", times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.InvalidNonce);

    fault({ kind: "http", status: 500, times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.ExchangeNotAvailable);
    fault({ kind: "http", status: 503, times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.OnMaintenance);
    fault({ kind: "http", status: 502, times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.ExchangeNotAvailable);

    fault({ kind: "malformed", times: 1 });
    expect(typeof (await read())).toBe("string");
    expect(emulator.requests.at(-1)).toMatchObject({ status: 200, error: "malformed" });

    fault({ kind: "hang", times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.RequestTimeout);

    fault({ kind: "latency", ms: 120, times: 1 });
    const start = performance.now();
    await read();
    expect(performance.now() - start).toBeGreaterThanOrEqual(115);

    fault({ kind: "revoked", times: 1 });
    await expect(read()).rejects.toThrow('"code":"50119"');
    expect(emulator.requests.at(-1)).toMatchObject({ status: 401, apiKey: key.apiKey });
    await expect(read()).resolves.toBeDefined();
  });
});
