import ccxt from "ccxt";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { rebaseApiUrls } from "../../src/brokers/api-url.js";
import {
  type AccountSeed,
  type Emulator,
  type EmulatorOptions,
  newBinanceKey,
  startEmulator,
} from "../../src/emulator/index.js";

type Binance = InstanceType<typeof ccxt.binance>;
type Api = Record<string, (params?: object) => Promise<unknown>>;

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setPrices("binance", { BTC: "65000.1", ETH: "3200", USDC: "0.9998" });
});

afterAll(() => emulator.close());

afterEach(() => {
  vi.useRealTimers();
});

function binance(
  key: { apiKey: string; secret: string },
  origin = emulator.urls.binance,
  extra: Record<string, unknown> = {},
): Binance {
  const exchange = new ccxt.binance({ ...key, enableRateLimit: false, ...extra });
  exchange.urls.api = rebaseApiUrls(exchange.urls.api, origin) as never;
  return exchange;
}

function api(exchange: Binance): Api {
  return exchange as unknown as Api;
}

/** Under a faked Date: ccxt reads the clock through a reference taken at import, not Date.now. */
function onFakeClock(exchange: Binance): Binance {
  exchange.nonce = () => Date.now();
  return exchange;
}

function account(target: Emulator = emulator, extra: Partial<AccountSeed> = {}) {
  const key = newBinanceKey();
  target.addAccount({
    exchange: "binance",
    ...key,
    balances: { BTC: { free: "0.5", used: "0.1" }, USDT: { free: "1250.75" } },
    funding: { USDT: { free: "20", used: "5" }, ETH: { free: "0.000000015" } },
    ...extra,
  });
  return key;
}

describe("binance emulator: spot account", () => {
  it("answers GET /api/v3/account in Binance's documented shape, amounts as 8-decimal strings", async () => {
    const key = account();
    emulator.clearRequests();
    const body = (await api(binance(key)).privateGetAccount?.()) as Record<string, unknown>;
    expect(body).toMatchObject({
      makerCommission: 10,
      canTrade: true,
      accountType: "SPOT",
      permissions: ["SPOT"],
      commissionRates: { maker: "0.00100000" },
    });
    expect(typeof body.uid).toBe("number");
    expect(typeof body.updateTime).toBe("number");
    // Held assets first, then the zero rows every account lists.
    expect(body.balances).toEqual([
      { asset: "BTC", free: "0.50000000", locked: "0.10000000" },
      { asset: "USDT", free: "1250.75000000", locked: "0.00000000" },
      { asset: "ETH", free: "0.00000000", locked: "0.00000000" },
      { asset: "BNB", free: "0.00000000", locked: "0.00000000" },
      { asset: "LTC", free: "0.00000000", locked: "0.00000000" },
      { asset: "USDC", free: "0.00000000", locked: "0.00000000" },
    ]);
    const [request] = emulator.requests;
    expect(request).toMatchObject({
      exchange: "binance",
      method: "GET",
      path: "/api/v3/account",
      apiKey: key.apiKey,
      status: 200,
      error: null,
    });
    expect(Object.keys(request?.query ?? {}).sort()).toEqual([
      "recvWindow",
      "signature",
      "timestamp",
    ]);
  });

  it("omits zero balances when asked", async () => {
    const key = account();
    const body = (await api(binance(key)).privateGetAccount?.({ omitZeroBalances: true })) as {
      balances: { asset: string }[];
    };
    expect(body.balances.map((b) => b.asset)).toEqual(["BTC", "USDT"]);
  });

  it("answers the funding wallet (POST /sapi/v1/asset/get-funding-asset) with held assets only", async () => {
    const key = account();
    emulator.clearRequests();
    const list = await api(binance(key)).sapiPostAssetGetFundingAsset?.();
    expect(list).toEqual([
      {
        asset: "USDT",
        free: "20",
        locked: "5",
        freeze: "0",
        withdrawing: "0",
        btcValuation: "0",
      },
      {
        asset: "ETH",
        free: "0.000000015",
        locked: "0",
        freeze: "0",
        withdrawing: "0",
        btcValuation: "0",
      },
    ]);
    expect(emulator.requests[0]).toMatchObject({
      method: "POST",
      path: "/sapi/v1/asset/get-funding-asset",
      apiKey: key.apiKey,
      status: 200,
    });
    const one = await api(binance(key)).sapiPostAssetGetFundingAsset?.({ asset: "ETH" });
    expect(one).toEqual([expect.objectContaining({ asset: "ETH" })]);
  });
});

describe("binance emulator: authentication", () => {
  it("checks the HMAC signature: a wrong secret gets -1022 (400), AuthenticationError", async () => {
    const key = account();
    const call = api(
      binance({ apiKey: key.apiKey, secret: newBinanceKey().secret }),
    ).privateGetAccount?.();
    await expect(call).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(call).rejects.toThrow(
      'binance {"code":-1022,"msg":"Signature for this request is not valid."}',
    );
    expect(emulator.requests.at(-1)).toMatchObject({ status: 400, error: "-1022" });
  });

  it("checks the signature of a POST body too", async () => {
    const key = account();
    const call = api(binance({ apiKey: key.apiKey, secret: "x" })).sapiPostAssetGetFundingAsset?.();
    await expect(call).rejects.toThrow('"code":-1022');
  });

  it("refuses an unknown key with -2015 (401), AuthenticationError", async () => {
    const call = api(binance(newBinanceKey())).privateGetAccount?.();
    await expect(call).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(call).rejects.toThrow(
      'binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}',
    );
    expect(emulator.requests.at(-1)).toMatchObject({ status: 401, error: "-2015" });
  });

  it("turns a later -2015 on an instance that once succeeded into DDoSProtection (ccxt's ban workaround)", async () => {
    const key = account();
    const exchange = binance(key);
    await api(exchange).privateGetAccount?.();
    emulator.setFault("binance", key.apiKey, { kind: "revoked", times: 1 });
    await expect(api(exchange).privateGetAccount?.()).rejects.toBeInstanceOf(ccxt.DDoSProtection);
  });

  it("answers a key without read permission with -2015 as well (Binance has no separate code)", async () => {
    const key = account(emulator, { permissions: "no_funds_query" });
    await expect(api(binance(key)).privateGetAccount?.()).rejects.toThrow('"code":-2015');
  });

  it("refuses a request without a signature or key with Binance's parameter errors", async () => {
    const key = account();
    const url = `${emulator.urls.binance}/api/v3/account?timestamp=${Date.now()}`;
    const unsigned = await fetch(url, { headers: { "X-MBX-APIKEY": key.apiKey } });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toEqual({
      code: -1102,
      msg: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    });
    const keyless = await fetch(url);
    expect(keyless.status).toBe(401);
    expect(await keyless.json()).toEqual({ code: -2014, msg: "API-key format invalid." });
  });
});

describe("binance emulator: timestamp and recvWindow", () => {
  it("refuses a timestamp older than recvWindow with -1021 (InvalidNonce)", async () => {
    const key = account();
    const exchange = binance(key);
    // ccxt sends recvWindow=10000 by default; a clock 11 s behind is outside it.
    exchange.options.timeDifference = 11_000;
    const call = api(exchange).privateGetAccount?.();
    await expect(call).rejects.toBeInstanceOf(ccxt.InvalidNonce);
    await expect(call).rejects.toThrow(
      '{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}',
    );
    // 9 s behind is inside ccxt's 10 s window.
    exchange.options.timeDifference = 9_000;
    await expect(api(exchange).privateGetAccount?.()).resolves.toBeDefined();
  });

  it("uses Binance's default recvWindow of 5000 ms when none is sent", async () => {
    const key = account();
    const exchange = binance(key, emulator.urls.binance, { options: { recvWindow: undefined } });
    exchange.options.timeDifference = 6_000;
    await expect(api(exchange).privateGetAccount?.()).rejects.toThrow('"code":-1021');
    expect(emulator.requests.at(-1)?.query.recvWindow).toBeUndefined();
    exchange.options.timeDifference = 4_000;
    await expect(api(exchange).privateGetAccount?.()).resolves.toBeDefined();
  });

  it("refuses a timestamp more than 1 s ahead of the server", async () => {
    const key = account();
    const exchange = binance(key);
    exchange.options.timeDifference = -2_000;
    await expect(api(exchange).privateGetAccount?.()).rejects.toThrow(
      "Timestamp for this request was 1000ms ahead of the server's time.",
    );
  });

  it("refuses a recvWindow above 60000", async () => {
    const key = account();
    const call = api(binance(key)).privateGetAccount?.({ recvWindow: 60_001 });
    await expect(call).rejects.toThrow('"code":-1102');
  });
});

describe("binance emulator: public endpoints", () => {
  it("lists every price on GET /api/v3/ticker/price, one symbol on request", async () => {
    const exchange = binance(newBinanceKey());
    const all = await api(exchange).publicGetTickerPrice?.();
    expect(all).toEqual([
      { symbol: "BTCUSDT", price: "65000.10000000" },
      { symbol: "BTCUSDC", price: "65000.10000000" },
      { symbol: "BTCFDUSD", price: "65000.10000000" },
      { symbol: "ETHUSDT", price: "3200.00000000" },
      { symbol: "ETHUSDC", price: "3200.00000000" },
      { symbol: "ETHFDUSD", price: "3200.00000000" },
      { symbol: "USDCUSDT", price: "0.99980000" },
    ]);
    expect(emulator.requests.at(-1)).toMatchObject({ apiKey: null, status: 200 });
    await expect(api(exchange).publicGetTickerPrice?.({ symbol: "ETHUSDT" })).resolves.toEqual({
      symbol: "ETHUSDT",
      price: "3200.00000000",
    });
    await expect(api(exchange).publicGetTickerPrice?.({ symbol: "NOPEUSDT" })).rejects.toThrow(
      '"code":-1121',
    );
  });

  it("tells the time on GET /api/v3/time", async () => {
    const before = Date.now();
    const time = await binance(newBinanceKey()).fetchTime();
    expect(time).toBeGreaterThanOrEqual(before);
  });
});

describe("binance emulator: request weight", () => {
  const limits: EmulatorOptions = {
    binance: { weightPerMinute: 50, banAfter: 2, banSeconds: 120 },
  };

  it("answers 429 with Retry-After past the per-minute weight, then 418 (IP ban) to a client that keeps going", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    // 15 s into a minute: the window ends in 45 s.
    vi.setSystemTime(Date.UTC(2030, 0, 1, 12, 0, 15));
    const own = await startEmulator(limits);
    try {
      const key = account(own);
      const exchange = onFakeClock(binance(key, own.urls.binance));
      const headers = () =>
        (exchange as unknown as { last_response_headers: object }).last_response_headers;
      // Account weight 20: two fit in 50.
      await api(exchange).privateGetAccount?.();
      await api(exchange).privateGetAccount?.();
      expect(headers()).toMatchObject({ "X-Mbx-Used-Weight-1m": "40" });
      const limited = api(exchange).privateGetAccount?.();
      await expect(limited).rejects.toBeInstanceOf(ccxt.DDoSProtection);
      await expect(limited).rejects.toThrow(
        "Too much request weight used; current limit is 50 request weight per 1 MINUTE.",
      );
      expect(own.requests.at(-1)).toMatchObject({ status: 429, error: "-1003" });
      expect(headers()).toMatchObject({ "Retry-After": "45" });
      // A public call of weight 4 still fits; the IP's weight is shared by every request.
      await api(exchange).publicGetTickerPrice?.();
      await expect(api(exchange).privateGetAccount?.()).rejects.toThrow("429");
      // Past `banAfter` (2) refusals in the window the IP is banned, public calls included.
      const banned = api(exchange).privateGetAccount?.();
      await expect(banned).rejects.toBeInstanceOf(ccxt.DDoSProtection);
      await expect(banned).rejects.toThrow("418");
      expect(headers()).toMatchObject({ "Retry-After": "120" });
      expect(own.requests.at(-1)).toMatchObject({ status: 418, error: "-1003 (IP banned)" });
      await expect(api(exchange).publicGetTickerPrice?.()).rejects.toThrow("IP banned until");
      // The next minute does not lift the ban; its end does.
      vi.setSystemTime(Date.UTC(2030, 0, 1, 12, 1, 30));
      await expect(api(exchange).publicGetTickerPrice?.()).rejects.toThrow("IP banned until");
      vi.setSystemTime(Date.UTC(2030, 0, 1, 12, 2, 16));
      await expect(api(exchange).privateGetAccount?.()).resolves.toBeDefined();
    } finally {
      await own.close();
    }
  });

  it("counts live and testnet apart (they are different hosts)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2030, 0, 1, 12, 0, 0));
    const own = await startEmulator(limits);
    try {
      const live = account(own);
      const test = account(own, { sandbox: true });
      const a = onFakeClock(binance(live, own.urls.binance));
      for (let i = 0; i < 2; i++) await api(a).privateGetAccount?.();
      await expect(api(a).privateGetAccount?.()).rejects.toThrow("429");
      const b = onFakeClock(binance(test, own.urls.binanceTestnet, { sandbox: true }));
      await expect(api(b).privateGetAccount?.()).resolves.toBeDefined();
    } finally {
      await own.close();
    }
  });
});

describe("binance emulator: spot testnet", () => {
  it("serves sandbox accounts only on the testnet origin, and live ones only on live", async () => {
    const test = account(emulator, { sandbox: true });
    const live = account();
    // ccxt's `sandbox: true` swaps in the testnet URLs, which are then pointed at the emulator.
    const onTestnet = binance(test, emulator.urls.binanceTestnet, { sandbox: true });
    await expect(api(onTestnet).privateGetAccount?.()).resolves.toMatchObject({
      accountType: "SPOT",
    });
    expect(emulator.requests.at(-1)).toMatchObject({ sandbox: true, apiKey: test.apiKey });
    await expect(api(binance(test)).privateGetAccount?.()).rejects.toThrow('"code":-2015');
    const liveOnTestnet = binance(live, emulator.urls.binanceTestnet, { sandbox: true });
    await expect(api(liveOnTestnet).privateGetAccount?.()).rejects.toThrow('"code":-2015');
  });

  it("has no wallet (sapi) endpoints: ccxt refuses locally, the server answers 404", async () => {
    const test = account(emulator, { sandbox: true });
    const onTestnet = binance(test, emulator.urls.binanceTestnet, { sandbox: true });
    emulator.clearRequests();
    await expect(api(onTestnet).sapiPostAssetGetFundingAsset?.()).rejects.toBeInstanceOf(
      ccxt.NotSupported,
    );
    expect(emulator.requests).toHaveLength(0);
    const raw = await fetch(`${emulator.urls.binanceTestnet}/sapi/v1/asset/get-funding-asset`, {
      method: "POST",
    });
    expect(raw.status).toBe(404);
  });
});

describe("binance emulator: faults", () => {
  it("answers each fault kind the way Binance would", async () => {
    const key = account();
    const exchange = binance(key, emulator.urls.binance, { timeout: 300 });
    const read = () => api(exchange).privateGetAccount?.();
    const fault = (f: Parameters<Emulator["setFault"]>[2]) =>
      emulator.setFault("binance", key.apiKey, f);

    fault({ kind: "rate_limit", times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.DDoSProtection);
    expect(emulator.requests.at(-1)).toMatchObject({ status: 429, error: "-1003" });

    fault({ kind: "invalid_nonce", times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.InvalidNonce);

    fault({ kind: "http", status: 500, times: 1 });
    await expect(read()).rejects.toThrow('"code":-1001');
    // ccxt has no class for -1008 (overloaded): a plain ExchangeError, with HTTP 503.
    fault({ kind: "http", status: 503, times: 1 });
    await expect(read()).rejects.toThrow('"code":-1008');
    fault({ kind: "http", status: 502, times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.ExchangeNotAvailable);

    fault({ kind: "malformed", times: 1 });
    const body = await read();
    expect(typeof body).toBe("string");
    expect(emulator.requests.at(-1)).toMatchObject({ status: 200, error: "malformed" });

    fault({ kind: "hang", times: 1 });
    await expect(read()).rejects.toBeInstanceOf(ccxt.RequestTimeout);

    fault({ kind: "latency", ms: 120, times: 1 });
    const start = performance.now();
    await read();
    expect(performance.now() - start).toBeGreaterThanOrEqual(115);

    // A fresh instance: one that already succeeded would report DDoSProtection (see above).
    fault({ kind: "revoked", times: 1 });
    const revoked = api(binance(key)).privateGetAccount?.();
    await expect(revoked).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    expect(emulator.requests.at(-1)).toMatchObject({ status: 401, apiKey: key.apiKey });
    await expect(read()).resolves.toBeDefined();
  });
});
