import ccxt, { type Exchange } from "ccxt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rebaseApiUrls } from "../../src/brokers/api-url.js";
import { type Emulator, newKrakenKey, startEmulator } from "../../src/emulator/index.js";

let emulator: Emulator;

beforeAll(async () => {
  // A small counter so the rate-limit test needs few calls; slow decay so it does not refill mid-test.
  emulator = await startEmulator({ kraken: { counterMax: 3, decayPerSecond: 0.01 } });
  emulator.setPrices("kraken", { BTC: "65000.1", ETH: "3200", SOL: "150.25" });
});

afterAll(() => emulator.close());

/** Real ccxt kraken pointed at the emulator, markets injected so it does not load them. */
function kraken(apiKey: string, secret: string): Exchange {
  const exchange = new ccxt.kraken({ apiKey, secret, enableRateLimit: false });
  exchange.urls.api = rebaseApiUrls(exchange.urls.api, emulator.urls.kraken) as never;
  exchange.setMarkets({});
  return exchange;
}

/** ccxt's nonce is the clock in ms; two calls inside one ms would collide (as on Kraken). */
function monotonicNonce(exchange: Exchange): void {
  let last = Date.now();
  exchange.nonce = () => {
    last = Math.max(last + 1, Date.now());
    return last;
  };
}

function account(
  balances: Record<string, { free: string; used?: string }>,
  permissions?: "no_funds_query",
) {
  const key = newKrakenKey();
  emulator.addAccount({
    exchange: "kraken",
    ...key,
    balances,
    ...(permissions ? { permissions } : {}),
  });
  return key;
}

describe("kraken emulator", () => {
  it("answers fetchBalance with exact totals, holds and unified codes", async () => {
    const key = account({
      USD: { free: "1234.56", used: "100" },
      BTC: { free: "0.12345678", used: "0.5" },
      ETH: { free: "2" },
      USDC: { free: "10.000001" },
    });
    const balance = await kraken(key.apiKey, key.secret).fetchBalance();
    expect(balance.total).toMatchObject({ USD: 1334.56, BTC: 0.62345678, ETH: 2, USDC: 10.000001 });
    expect(balance.used).toMatchObject({ USD: 100, BTC: 0.5, ETH: 0 });
    expect(balance.free).toMatchObject({ USD: 1234.56, BTC: 0.12345678 });
    // Wire format: Kraken asset ids, strings padded to the asset's decimals.
    const info = balance.info as { error: string[]; result: Record<string, unknown> };
    expect(info.error).toEqual([]);
    expect(info.result.ZUSD).toEqual({ balance: "1334.5600", hold_trade: "100.0000" });
    expect(info.result.XXBT).toEqual({ balance: "0.6234567800", hold_trade: "0.5000000000" });
    expect(info.result.USDC).toEqual({ balance: "10.00000100", hold_trade: "0.00000000" });
  });

  it("records the request with key, nonce and timestamps", async () => {
    const key = account({ USD: { free: "1" } });
    emulator.clearRequests();
    const before = performance.timeOrigin + performance.now();
    await kraken(key.apiKey, key.secret).fetchBalance();
    const after = performance.timeOrigin + performance.now();
    expect(emulator.requests).toHaveLength(1);
    const [request] = emulator.requests;
    expect(request).toMatchObject({
      exchange: "kraken",
      method: "POST",
      path: "/0/private/BalanceEx",
      apiKey: key.apiKey,
      status: 200,
      error: null,
    });
    expect(request?.nonce).toMatch(/^\d{13}$/);
    expect(request?.startedAt).toBeGreaterThanOrEqual(before);
    expect(request?.startedAt).toBeLessThanOrEqual(after);
  });

  it("rejects an unknown key as AuthenticationError (EAPI:Invalid key)", async () => {
    const stranger = newKrakenKey();
    const call = kraken(stranger.apiKey, stranger.secret).fetchBalance();
    await expect(call).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(call).rejects.toThrow("EAPI:Invalid key");
  });

  it("rejects a wrong secret with EAPI:Invalid signature, which ccxt leaves a plain ExchangeError", async () => {
    const key = account({ USD: { free: "1" } });
    const call = kraken(key.apiKey, newKrakenKey().secret).fetchBalance();
    await expect(call).rejects.toThrow("EAPI:Invalid signature");
    await expect(call).rejects.toBeInstanceOf(ccxt.ExchangeError);
    await expect(call).rejects.not.toBeInstanceOf(ccxt.AuthenticationError);
  });

  it("rejects a replayed or older nonce as InvalidNonce", async () => {
    const key = account({ USD: { free: "1" } });
    const exchange = kraken(key.apiKey, key.secret);
    const nonce = Date.now();
    exchange.nonce = () => nonce;
    await exchange.fetchBalance();
    await expect(exchange.fetchBalance()).rejects.toBeInstanceOf(ccxt.InvalidNonce);
    exchange.nonce = () => nonce - 1;
    await expect(exchange.fetchBalance()).rejects.toThrow("EAPI:Invalid nonce");
    exchange.nonce = () => nonce + 1;
    await expect(exchange.fetchBalance()).resolves.toBeDefined();
  });

  it("counts private calls per key and refuses past the maximum (DDoSProtection)", async () => {
    const key = account({ USD: { free: "1" } });
    const exchange = kraken(key.apiKey, key.secret);
    monotonicNonce(exchange);
    for (let i = 0; i < 3; i++) await exchange.fetchBalance();
    const call = exchange.fetchBalance();
    await expect(call).rejects.toBeInstanceOf(ccxt.DDoSProtection);
    await expect(call).rejects.toThrow("EAPI:Rate limit exceeded");
    // Another key has its own counter.
    const other = account({ USD: { free: "1" } });
    await expect(kraken(other.apiKey, other.secret).fetchBalance()).resolves.toBeDefined();
  });

  it("answers a key without funds-query permission with PermissionDenied", async () => {
    const key = account({ USD: { free: "1" } }, "no_funds_query");
    const call = kraken(key.apiKey, key.secret).fetchBalance();
    await expect(call).rejects.toBeInstanceOf(ccxt.PermissionDenied);
    await expect(call).rejects.toThrow("EGeneral:Permission denied");
  });

  it("serves public pairs, tickers, assets, time and status from setPrices", async () => {
    const exchange = kraken("", "");
    const pairs = (await exchange.publicGetAssetPairs()) as {
      result: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(pairs.result).sort()).toEqual(["SOLUSD", "XETHZUSD", "XXBTZUSD"]);
    expect(pairs.result.XXBTZUSD).toMatchObject({
      altname: "XBTUSD",
      wsname: "XBT/USD",
      base: "XXBT",
      quote: "ZUSD",
    });
    const some = (await exchange.publicGetTicker({ pair: "XXBTZUSD,ETHUSD" })) as {
      result: Record<string, { c: string[] }>;
    };
    expect(Object.keys(some.result).sort()).toEqual(["XETHZUSD", "XXBTZUSD"]);
    expect(some.result.XXBTZUSD?.c[0]).toBe("65000.10000");
    // Kraken's documented text; ccxt only maps "EQuery:Invalid asset pair", so this stays generic.
    await expect(exchange.publicGetTicker({ pair: "NOPEUSD" })).rejects.toThrow(
      "EQuery:Unknown asset pair",
    );
    expect(await exchange.fetchTime()).toBeGreaterThan(Date.now() - 5_000);
    expect((await exchange.fetchStatus()).status).toBe("ok");
  });

  it("lets real ccxt loadMarkets and fetchTickers run against the public endpoints", async () => {
    const exchange = new ccxt.kraken({ enableRateLimit: false });
    exchange.urls.api = rebaseApiUrls(exchange.urls.api, emulator.urls.kraken) as never;
    await exchange.loadMarkets();
    expect(exchange.symbols).toEqual(expect.arrayContaining(["BTC/USD", "ETH/USD", "SOL/USD"]));
    const tickers = await exchange.fetchTickers(["BTC/USD", "SOL/USD"]);
    expect(tickers["BTC/USD"]?.last).toBe(65000.1);
    expect(tickers["SOL/USD"]?.last).toBe(150.25);
  });

  it("follows setBalances on the next call", async () => {
    const key = account({ USD: { free: "1" } });
    const exchange = kraken(key.apiKey, key.secret);
    monotonicNonce(exchange);
    expect((await exchange.fetchBalance()).total).toMatchObject({ USD: 1 });
    emulator.setBalances("kraken", key.apiKey, {
      USD: { free: "2.5" },
      ETH: { free: "1", used: "1" },
    });
    expect((await exchange.fetchBalance()).total).toMatchObject({ USD: 2.5, ETH: 2 });
  });
});
