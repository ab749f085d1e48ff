/**
 * Binance and OKX through the engine (BalanceFetcher), against the emulator: figures, the request
 * count per balance, and every documented failure mapped to a status whose message points at
 * the fix.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BalanceFetcher } from "../../src/brokers/fetch-account-balance.js";
import type { AccountBalance, BrokerOptions, Credentials } from "../../src/brokers/types.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setPrices("binance", { BTC: "65000.10", ETH: "3200" });
  emulator.setPrices("okx", { BTC: "65000.10", ETH: "3200" });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.clearRequests());

function fetch(
  broker: "binance" | "okx",
  credentials: Credentials,
  options: BrokerOptions = {},
  extra: { sandbox?: boolean; attempts?: number } = {},
): Promise<AccountBalance> {
  const fetcher = new BalanceFetcher({
    timeoutMs: 2000,
    retryBaseDelayMs: 1,
    attempts: extra.attempts ?? 3,
  });
  return fetcher.fetchAccountBalance({
    broker,
    credentials,
    apiUrl:
      extra.sandbox && broker === "binance" ? emulator.urls.binanceTestnet : emulator.urls[broker],
    sandbox: extra.sandbox,
    options,
  });
}

const privateRequests = (apiKey: string) => emulator.requests.filter((r) => r.apiKey === apiKey);

describe("binance", () => {
  it("one signed request for the balance, one public for prices; exact to the cent", async () => {
    const key = seedAccount(emulator, "binance", {
      USDT: "1000.01",
      BTC: { free: "0.01", used: "0.005" },
    });
    const result = await fetch("binance", key);
    // 1000.01 + 0.015 x 65000.10 = 1000.01 + 975.0015 = 1975.0115 -> $1,975.01
    expect(result).toMatchObject({ status: "ok", usdCents: 197501n, requests: 1, basis: "priced" });
    expect(privateRequests(key.apiKey).map((r) => r.path)).toEqual(["/api/v3/account"]);
    const cash = await fetch("binance", key, { valuation: "cash" });
    expect(cash.usdCents).toBe(100001n);
  });

  it("reads the funding wallet too when asked: two requests", async () => {
    const key = seedAccount(
      emulator,
      "binance",
      { USDT: "10" },
      { funding: { USDT: { free: "5.5" } } },
    );
    const result = await fetch("binance", key, { wallets: ["spot", "funding"] });
    expect(result).toMatchObject({ status: "ok", usdCents: 1550n, requests: 2 });
  });

  it("a testnet key goes to the testnet origin and says so", async () => {
    const key = seedAccount(emulator, "binance", { USDT: "7" }, { sandbox: true });
    const result = await fetch("binance", key, {}, { sandbox: true });
    expect(result).toMatchObject({ status: "ok", usdCents: 700n, environment: "testnet" });
    const onLive = await fetch("binance", key);
    expect(onLive.status).toBe("auth_failed");
  });

  it("-2015 (bad key, IP or permission) -> auth_failed with Binance's text, never retried", async () => {
    const key = seedAccount(emulator, "binance", { USDT: "1" });
    emulator.setFault("binance", key.apiKey, { kind: "revoked" });
    const result = await fetch("binance", key);
    expect(result.status).toBe("auth_failed");
    expect(result.message).toMatch(/-2015/);
    expect(result.message).toMatch(/IP whitelist or its permissions/);
    expect(result.requests).toBe(1);
  });

  it("-1021 (timestamp outside recvWindow) -> names the clock; retried once", async () => {
    const key = seedAccount(emulator, "binance", { USDT: "1" });
    emulator.setFault("binance", key.apiKey, { kind: "invalid_nonce" });
    const result = await fetch("binance", key);
    expect(result.status).toBe("auth_failed");
    expect(result.message).toMatch(
      /request time is outside its window .*check this machine's clock/,
    );
    expect(result.requests).toBe(2);
    emulator.setFault("binance", key.apiKey, { kind: "invalid_nonce", times: 1 });
    expect((await fetch("binance", key)).status).toBe("ok");
  });
});

describe("account options", () => {
  it("a wallet the broker does not have is that row's config_error, before any request", async () => {
    const key = seedAccount(emulator, "binance", { USDT: "1" });
    const result = await fetch("binance", key, { wallets: ["trading"] });
    expect(result).toMatchObject({ status: "config_error", requests: 0 });
    expect(result.message).toMatch(/options\.wallets: "trading" is OKX's/);
  });
});

describe("okx", () => {
  it("one request: the trading account's own totalEq is the balance", async () => {
    const key = seedAccount(emulator, "okx", { USDT: "100.5", BTC: "0.001" });
    const result = await fetch("okx", key);
    expect(result).toMatchObject({ status: "ok", basis: "broker", requests: 1 });
    // totalEq = 100.5 + 0.001 x 65000.10 = 165.5001 -> $165.50
    expect(result.usdCents).toBe(16550n);
    expect(privateRequests(key.apiKey).map((r) => r.path)).toEqual(["/api/v5/account/balance"]);
  });

  it("trading + funding when asked: two requests", async () => {
    const key = seedAccount(
      emulator,
      "okx",
      { USDT: "100" },
      { funding: { USDT: { free: "1.25" } } },
    );
    const result = await fetch("okx", key, { wallets: ["trading", "funding"] });
    expect(result).toMatchObject({ status: "ok", usdCents: 10125n, requests: 2 });
  });

  it("a wrong passphrase -> auth_failed saying passphrase", async () => {
    const key = seedAccount(emulator, "okx", { USDT: "1" });
    const result = await fetch("okx", { ...key, password: "not-the-passphrase" });
    expect(result.status).toBe("auth_failed");
    expect(result.message).toMatch(/passphrase/);
    expect(result.message).toMatch(/50105/);
  });

  it("a wrong secret -> auth_failed naming the signature", async () => {
    const key = seedAccount(emulator, "okx", { USDT: "1" });
    const result = await fetch("okx", { ...key, secret: `${key.secret}x` });
    expect(result.status).toBe("auth_failed");
    expect(result.message).toMatch(/50113/);
  });

  it("demo trading: the demo key needs the simulated-trading header, and says testnet", async () => {
    const key = seedAccount(emulator, "okx", { USDT: "3" }, { sandbox: true });
    expect(await fetch("okx", key, {}, { sandbox: true })).toMatchObject({
      status: "ok",
      environment: "testnet",
    });
    const live = await fetch("okx", key);
    expect(live.status).toBe("auth_failed");
    expect(live.message).toMatch(/other environment/);
  });

  it("50011 -> rate_limited after bounded retries; 50102 -> clock skew", async () => {
    const key = seedAccount(emulator, "okx", { USDT: "1" });
    emulator.setFault("okx", key.apiKey, { kind: "rate_limit" });
    const limited = await fetch("okx", key);
    expect(limited.status).toBe("rate_limited");
    expect(limited.message).toMatch(/after 3 attempts/);
    emulator.setFault("okx", key.apiKey, { kind: "invalid_nonce" });
    const skewed = await fetch("okx", key);
    expect(skewed.message).toMatch(/50102.*check this machine's clock/);
  });
});
