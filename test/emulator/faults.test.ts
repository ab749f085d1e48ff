import ccxt, { type Exchange } from "ccxt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rebaseApiUrls } from "../../src/brokers/api-url.js";
import {
  type Emulator,
  type ExchangeId,
  newAlpacaKey,
  newBinanceKey,
  newCoinbaseCdpKey,
  newKrakenKey,
  newOkxKey,
  startEmulator,
} from "../../src/emulator/index.js";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(() => emulator.close());

const KEYS: Record<ExchangeId, () => { apiKey: string; secret: string; passphrase?: string }> = {
  kraken: newKrakenKey,
  coinbase: () => newCoinbaseCdpKey("es256"),
  alpaca: newAlpacaKey,
  binance: newBinanceKey,
  okx: newOkxKey,
};

interface Client {
  exchange: Exchange;
  apiKey: string;
  /** One balance read the way the adapters do it. */
  read(): Promise<unknown>;
}

function client(id: ExchangeId, timeout = 10_000): Client {
  const key = KEYS[id]();
  emulator.addAccount({
    exchange: id,
    ...key,
    balances: { USD: { free: "10" }, BTC: { free: "1" } },
  });
  const exchange = new ccxt[id]({
    ...key,
    password: key.passphrase,
    enableRateLimit: false,
    timeout,
  });
  exchange.urls.api = rebaseApiUrls(exchange.urls.api, emulator.urls[id]) as never;
  exchange.setMarkets({});
  let nonce = Date.now();
  exchange.nonce = () => {
    nonce = Math.max(nonce + 1, Date.now());
    return nonce;
  };
  const api = exchange as unknown as Record<string, (params?: object) => Promise<unknown>>;
  const read = (): Promise<unknown> => {
    if (id === "kraken") return api.privatePostBalanceEx?.() ?? Promise.reject();
    if (id === "coinbase") return api.v3PrivateGetBrokerageAccounts?.() ?? Promise.reject();
    if (id === "binance") return api.privateGetAccount?.() ?? Promise.reject();
    if (id === "okx") return api.privateGetAccountBalance?.() ?? Promise.reject();
    return api.traderPrivateGetV2Account?.() ?? Promise.reject();
  };
  return { exchange, apiKey: key.apiKey, read };
}

function lastRequest() {
  return emulator.requests.at(-1);
}

describe("faults", () => {
  it("latency: delays the answer for `times` requests, then clears itself", async () => {
    const c = client("coinbase");
    emulator.setFault("coinbase", c.apiKey, { kind: "latency", ms: 150, times: 1 });
    let start = performance.now();
    await c.read();
    expect(performance.now() - start).toBeGreaterThanOrEqual(145);
    start = performance.now();
    await c.read();
    expect(performance.now() - start).toBeLessThan(100);
  });

  it("global latency applies to every response, public ones included", async () => {
    const c = client("kraken");
    emulator.setLatency(80);
    try {
      const start = performance.now();
      await c.exchange.fetchTime();
      expect(performance.now() - start).toBeGreaterThanOrEqual(75);
    } finally {
      emulator.setLatency(0);
    }
  });

  it("http: 5xx in each exchange's style maps to ccxt's network errors", async () => {
    const k = client("kraken");
    emulator.setFault("kraken", k.apiKey, { kind: "http", status: 503, times: 1 });
    await expect(k.read()).rejects.toBeInstanceOf(ccxt.ExchangeNotAvailable);
    expect(lastRequest()).toMatchObject({ status: 503, error: "http 503", apiKey: k.apiKey });
    await expect(k.read()).resolves.toBeDefined();

    const c = client("coinbase");
    emulator.setFault("coinbase", c.apiKey, { kind: "http", status: 502, times: 1 });
    await expect(c.read()).rejects.toBeInstanceOf(ccxt.ExchangeNotAvailable);
    // Coinbase's own JSON 500 carries an "error" field, which ccxt turns into a plain ExchangeError.
    emulator.setFault("coinbase", c.apiKey, { kind: "http", status: 500, times: 1 });
    const internal = c.read();
    await expect(internal).rejects.toBeInstanceOf(ccxt.ExchangeError);
    await expect(internal).rejects.not.toBeInstanceOf(ccxt.NetworkError);

    const a = client("alpaca");
    emulator.setFault("alpaca", a.apiKey, { kind: "http", status: 500, times: 1 });
    await expect(a.read()).rejects.toBeInstanceOf(ccxt.ExchangeNotAvailable);
    emulator.setFault("alpaca", a.apiKey, { kind: "http", status: 504, times: 1 });
    await expect(a.read()).rejects.toBeInstanceOf(ccxt.RequestTimeout);
  });

  it("rate_limit: Kraken 200 + EAPI:Rate limit exceeded, Coinbase and Alpaca 429", async () => {
    const k = client("kraken");
    emulator.setFault("kraken", k.apiKey, { kind: "rate_limit", times: 1 });
    await expect(k.read()).rejects.toBeInstanceOf(ccxt.DDoSProtection);
    expect(lastRequest()).toMatchObject({ status: 200, error: "EAPI:Rate limit exceeded" });

    for (const id of ["coinbase", "alpaca"] as const) {
      const c = client(id);
      emulator.setFault(id, c.apiKey, { kind: "rate_limit", times: 1 });
      await expect(c.read()).rejects.toBeInstanceOf(ccxt.RateLimitExceeded);
      expect(lastRequest()).toMatchObject({ status: 429, error: "rate_limit_exceeded" });
    }
  });

  it("invalid_nonce: Kraken answers EAPI:Invalid nonce (InvalidNonce); Alpaca has no nonce", async () => {
    const k = client("kraken");
    emulator.setFault("kraken", k.apiKey, { kind: "invalid_nonce", times: 2 });
    await expect(k.read()).rejects.toBeInstanceOf(ccxt.InvalidNonce);
    await expect(k.read()).rejects.toBeInstanceOf(ccxt.InvalidNonce);
    await expect(k.read()).resolves.toBeDefined();
    const a = client("alpaca");
    expect(() => emulator.setFault("alpaca", a.apiKey, { kind: "invalid_nonce" })).toThrow(
      TypeError,
    );
  });

  it("hang: accepts the request and never answers, so ccxt times out", async () => {
    const k = client("kraken", 300);
    emulator.setFault("kraken", k.apiKey, { kind: "hang", times: 1 });
    await expect(k.read()).rejects.toBeInstanceOf(ccxt.RequestTimeout);
    expect(emulator.requests.find((r) => r.apiKey === k.apiKey)).toMatchObject({
      status: 0,
      error: "hang",
    });
    await expect(k.read()).resolves.toBeDefined();
  });

  it("malformed: 200 with a body that is not JSON reaches the caller as raw text", async () => {
    for (const id of ["kraken", "coinbase", "alpaca"] as const) {
      const c = client(id);
      emulator.setFault(id, c.apiKey, { kind: "malformed", times: 1 });
      // ccxt does not raise on an unparsable 200: the implicit method hands back the string.
      const body = await c.read();
      expect(typeof body).toBe("string");
      expect(() => JSON.parse(body as string)).toThrow(SyntaxError);
      expect(lastRequest()).toMatchObject({ status: 200, error: "malformed" });
      expect(typeof (await c.read())).toBe("object");
    }
  });

  it("revoked: the key is refused exactly like an unknown key until cleared", async () => {
    const k = client("kraken");
    emulator.setFault("kraken", k.apiKey, { kind: "revoked" });
    await expect(k.read()).rejects.toThrow("EAPI:Invalid key");
    await expect(k.read()).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    emulator.setFault("kraken", k.apiKey, null);
    await expect(k.read()).resolves.toBeDefined();

    const c = client("coinbase");
    emulator.setFault("coinbase", c.apiKey, { kind: "revoked", times: 1 });
    await expect(c.read()).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    expect(lastRequest()).toMatchObject({ status: 401, error: "unauthorized", apiKey: c.apiKey });
    await expect(c.read()).resolves.toBeDefined();

    const a = client("alpaca");
    emulator.setFault("alpaca", a.apiKey, { kind: "revoked", times: 1 });
    await expect(a.read()).rejects.toBeInstanceOf(ccxt.PermissionDenied);
    await expect(a.read()).resolves.toBeDefined();
  });

  it("rejects setFault and setBalances for an account that was never added", () => {
    expect(() => emulator.setFault("kraken", "nope", { kind: "hang" })).toThrow(/addAccount/);
    expect(() => emulator.setBalances("alpaca", "nope", {})).toThrow(/addAccount/);
  });
});

describe("close()", () => {
  it("ends hung requests and stops listening on 127.0.0.1", async () => {
    const own = await startEmulator();
    for (const url of Object.values(own.urls)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const key = newAlpacaKey();
    own.addAccount({ exchange: "alpaca", ...key, balances: {} });
    own.setFault("alpaca", key.apiKey, { kind: "hang" });
    const hung = fetch(`${own.urls.alpaca}/v2/account`, {
      headers: { "APCA-API-KEY-ID": key.apiKey, "APCA-API-SECRET-KEY": key.secret },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(own.requests).toHaveLength(1);
    await own.close();
    await expect(hung).rejects.toThrow();
    await expect(fetch(`${own.urls.alpaca}/v2/account`)).rejects.toThrow();
  });
});
