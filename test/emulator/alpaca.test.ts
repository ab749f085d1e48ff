import ccxt from "ccxt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rebaseApiUrls } from "../../src/brokers/api-url.js";
import { type Emulator, newAlpacaKey, startEmulator } from "../../src/emulator/index.js";

type Alpaca = InstanceType<typeof ccxt.alpaca>;

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ alpaca: { requestsPerMinute: 6 } });
  emulator.setPrices("alpaca", { BTC: "65000.10", ETH: "3200", AAPL: "190.5" });
});

afterAll(() => emulator.close());

function alpaca(apiKey: string, secret: string): Alpaca {
  const exchange = new ccxt.alpaca({ apiKey, secret, enableRateLimit: false });
  exchange.urls.api = rebaseApiUrls(exchange.urls.api, emulator.urls.alpaca) as never;
  exchange.setMarkets({});
  return exchange;
}

function account(permissions?: "no_funds_query") {
  const key = newAlpacaKey();
  emulator.addAccount({
    exchange: "alpaca",
    ...key,
    balances: {
      USD: { free: "1000.5", used: "250" },
      BTC: { free: "0.25", used: "0.05" },
      AAPL: { free: "10", used: "2" },
    },
    ...(permissions ? { permissions } : {}),
  });
  return key;
}

describe("alpaca emulator", () => {
  it("answers fetchBalance with two requests: account, then positions", async () => {
    const key = account();
    emulator.clearRequests();
    const balance = await alpaca(key.apiKey, key.secret).fetchBalance();
    expect(emulator.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "GET /v2/account 200",
      "GET /v2/positions 200",
    ]);
    expect(emulator.requests.every((r) => r.apiKey === key.apiKey)).toBe(true);
    // cash is USD free; equity - position_market_value is cash plus held cash.
    expect(balance.USD).toMatchObject({ free: 1000.5, total: 1250.5, used: 250 });
    expect(balance.BTC).toMatchObject({ free: 0.25, total: 0.3 });
    // ccxt only reads crypto positions (symbol ending in USD); the stock stays out of its balance.
    expect(balance.AAPL).toBeUndefined();
  });

  it("sends account and positions in Alpaca's shapes", async () => {
    const key = account();
    const exchange = alpaca(key.apiKey, key.secret);
    const acct = (await exchange.traderPrivateGetV2Account()) as Record<string, unknown>;
    // 0.3 BTC * 65000.1 + 12 AAPL * 190.5
    expect(acct).toMatchObject({
      status: "ACTIVE",
      currency: "USD",
      cash: "1000.5",
      position_market_value: "21786.03",
      equity: "23036.53",
    });
    const positions = (await exchange.traderPrivateGetV2Positions()) as Record<string, unknown>[];
    expect(positions).toEqual([
      expect.objectContaining({
        symbol: "BTCUSD",
        asset_class: "crypto",
        exchange: "CRYPTO",
        qty: "0.3",
        qty_available: "0.25",
        current_price: "65000.1",
        market_value: "19500.03",
      }),
      expect.objectContaining({
        symbol: "AAPL",
        asset_class: "us_equity",
        qty: "12",
        market_value: "2286",
      }),
    ]);
  });

  it("rejects a wrong secret or unknown key with 40110000, which ccxt maps to PermissionDenied", async () => {
    const key = account();
    const call = alpaca(key.apiKey, newAlpacaKey().secret).fetchBalance();
    await expect(call).rejects.toBeInstanceOf(ccxt.PermissionDenied);
    await expect(call).rejects.toThrow('"code":40110000');
    // PermissionDenied is a subclass of AuthenticationError in ccxt.
    const stranger = newAlpacaKey();
    await expect(alpaca(stranger.apiKey, stranger.secret).fetchBalance()).rejects.toBeInstanceOf(
      ccxt.AuthenticationError,
    );
  });

  it("answers a key without permission with 403 forbidden. (PermissionDenied)", async () => {
    const key = account("no_funds_query");
    const call = alpaca(key.apiKey, key.secret).fetchBalance();
    await expect(call).rejects.toBeInstanceOf(ccxt.PermissionDenied);
    await expect(call).rejects.toThrow("forbidden.");
  });

  it("rate-limits per key per minute with 429 42910000 (RateLimitExceeded)", async () => {
    const key = account();
    const exchange = alpaca(key.apiKey, key.secret);
    for (let i = 0; i < 3; i++) await exchange.fetchBalance();
    const call = exchange.fetchBalance();
    await expect(call).rejects.toBeInstanceOf(ccxt.RateLimitExceeded);
    expect(emulator.requests.at(-1)).toMatchObject({ status: 429, error: "rate_limit_exceeded" });
  });

  it("lists assets for ccxt's loadMarkets", async () => {
    const key = account();
    const exchange = new ccxt.alpaca({
      apiKey: key.apiKey,
      secret: key.secret,
      enableRateLimit: false,
    });
    exchange.urls.api = rebaseApiUrls(exchange.urls.api, emulator.urls.alpaca) as never;
    await exchange.loadMarkets();
    expect(exchange.symbols).toEqual(["BTC/USD", "ETH/USD"]);
  });
});
