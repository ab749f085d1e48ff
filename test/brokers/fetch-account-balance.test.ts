import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BalanceFetcher } from "../../src/brokers/fetch-account-balance.js";
import type { AccountBalance, Credentials } from "../../src/brokers/types.js";
import { DiskPublicCache } from "../../src/cache/public-cache.js";
import { type Emulator, type ExchangeId, startEmulator } from "../../src/emulator/index.js";
import { KrakenLane } from "../../src/queue/kraken-lane.js";
import { gaps } from "../helpers/gaps.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.setLatency(0);
  emulator.clearRequests();
});

const fetcher = (options: ConstructorParameters<typeof BalanceFetcher>[0] = {}) =>
  new BalanceFetcher({
    timeoutMs: 2000,
    retryBaseDelayMs: 5,
    krakenLane: new KrakenLane({ spacingMs: 20 }),
    valuation: "cash",
    ...options,
  });

function fetchOn(
  f: BalanceFetcher,
  exchange: ExchangeId,
  credentials: Credentials | null,
  options = {},
): Promise<AccountBalance> {
  return f.fetchAccountBalance({
    broker: exchange,
    credentials,
    apiUrl: emulator.urls[exchange],
    options,
  });
}

const requestsFor = (apiKey: string) => emulator.requests.filter((r) => r.apiKey === apiKey);

describe("balances through real ccxt against the emulator", () => {
  it("kraken: one BalanceEx request, exact cents, used amounts kept", async () => {
    const key = seedAccount(emulator, "kraken", {
      USD: { free: "1000.10", used: "234.46" },
      USDT: "0.2",
      BTC: "0.5",
    });
    const result = await fetchOn(fetcher(), "kraken", key);
    expect(result).toMatchObject({ status: "ok", message: null, usdCents: 123476n, requests: 1 });
    expect(result.assets.USD).toMatchObject({ free: "1000.1", used: "234.46", total: "1234.56" });
    expect(result.assets.BTC).toMatchObject({ total: "0.5", usdCents: null });
    expect(requestsFor(key.apiKey).map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /0/private/BalanceEx",
    ]);
  });

  it.each(["es256", "ed25519", "hmac"] as const)(
    "coinbase %s key: every page of a 600-wallet account",
    async (kind) => {
      const key = seedAccount(
        emulator,
        "coinbase",
        { USD: "1000.01", USDC: "0.10", DAI: "99.99", PYUSD: "0.01" },
        { kind, walletCount: 600 },
      );
      const result = await fetchOn(fetcher(), "coinbase", key);
      expect(result.status).toBe("ok");
      expect(result.usdCents).toBe(110011n);
      expect(Object.keys(result.assets).sort()).toEqual(["DAI", "PYUSD", "USD", "USDC"]);
      expect(result.requests).toBe(3);
      const pages = requestsFor(key.apiKey);
      expect(pages.map((r) => r.path)).toEqual(Array(3).fill("/api/v3/brokerage/accounts"));
      expect(pages[1]?.query.cursor).toBeTruthy();
    },
  );

  it("coinbase: the v2 account listing, paged by starting_after", async () => {
    const key = seedAccount(
      emulator,
      "coinbase",
      { USD: "10.00", USDT: "5.55" },
      { walletCount: 400 },
    );
    const result = await fetchOn(fetcher(), "coinbase", key, { accountsApi: "v2" });
    expect(result).toMatchObject({ status: "ok", usdCents: 1555n, requests: 2 });
    expect(requestsFor(key.apiKey)[1]?.query.starting_after).toBeTruthy();
  });

  it("alpaca: account and positions, two requests; equities are not lost", async () => {
    const key = seedAccount(emulator, "alpaca", { USD: "5000.25", BTC: "0.1", AAPL: "10" });
    emulator.setPrices("alpaca", { BTC: "60000", AAPL: "200.50" });
    const result = await fetchOn(fetcher(), "alpaca", key);
    expect(result).toMatchObject({ status: "ok", usdCents: 500025n, requests: 2 });
    expect(Object.keys(result.assets).sort()).toEqual(["AAPL", "BTC", "USD"]);
    const total = await fetchOn(fetcher(), "alpaca", key, { valuation: "total" });
    // 5000.25 + 0.1 * 60000 + 10 * 200.50, priced from the positions: no extra request.
    expect(total).toMatchObject({ status: "ok", usdCents: 1300525n, requests: 2, unpriced: [] });
  });

  it("valuation total: prices shared across accounts, unpriced assets named, never counted as 0", async () => {
    emulator.setPrices("kraken", { BTC: "65000.10", ETH: "3200" });
    const a = seedAccount(emulator, "kraken", { USD: "1.00", BTC: "0.1" });
    const b = seedAccount(emulator, "kraken", { ETH: "2", NOPRICE: "5" });
    const f = fetcher({ valuation: "total" });
    const [ra, rb] = await Promise.all([fetchOn(f, "kraken", a), fetchOn(f, "kraken", b)]);
    expect(ra).toMatchObject({ status: "ok", usdCents: 650101n, unpriced: [] });
    expect(rb).toMatchObject({ status: "ok", usdCents: 640000n, unpriced: ["NOPRICE"] });
    expect(rb.message).toBe("no USD price for NOPRICE");
    expect(rb.assets.NOPRICE?.usdCents).toBeNull();
    expect(f.priceRequests).toBe(2); // AssetPairs + Ticker, once for both accounts
    const publicPaths = emulator.requests.filter((r) => r.apiKey === null).map((r) => r.path);
    expect(publicPaths.sort()).toEqual(["/0/public/AssetPairs", "/0/public/Ticker"]);
  });

  it("remembers public prices for the TTL and Kraken's pair list for a day, across runs", async () => {
    emulator.setPrices("kraken", { BTC: "50000" });
    const key = seedAccount(emulator, "kraken", { BTC: "0.01" });
    const dir = await mkdtemp(join(tmpdir(), "sub-public-"));
    const run = (priceTtlMs: number) =>
      fetchOn(
        fetcher({ valuation: "total", publicCache: new DiskPublicCache(dir), priceTtlMs }),
        "kraken",
        key,
      );
    expect((await run(60_000)).usdCents).toBe(50000n);
    expect((await run(60_000)).usdCents).toBe(50000n);
    const publicPaths = () => emulator.requests.filter((r) => r.apiKey === null).map((r) => r.path);
    expect(publicPaths()).toEqual(["/0/public/AssetPairs", "/0/public/Ticker"]);
    // Prices past their TTL are asked again; the pair list is still good.
    emulator.setPrices("kraken", { BTC: "60000" });
    expect((await run(0)).usdCents).toBe(60000n);
    expect(publicPaths()).toEqual(["/0/public/AssetPairs", "/0/public/Ticker", "/0/public/Ticker"]);
  });

  it("coinbase valuation total: one public products request", async () => {
    emulator.setPrices("coinbase", { BTC: "50000.00" });
    const key = seedAccount(emulator, "coinbase", { BTC: "0.00012345", USD: "1" });
    const f = fetcher({ valuation: "total" });
    const result = await fetchOn(f, "coinbase", key);
    expect(result).toMatchObject({ status: "ok", usdCents: 717n }); // 6.1725 + 1 -> 7.17
    expect(f.priceRequests).toBe(1);
  });
});

describe("every failure is a status with a short, secret-free message", () => {
  it("no credentials: no request at all", async () => {
    const result = await fetchOn(fetcher(), "kraken", null);
    expect(result).toMatchObject({ status: "no_credentials", requests: 0, usdCents: 0n });
    expect(emulator.requests).toHaveLength(0);
  });

  it("credentials that could not be read: a config error, not 'no credentials' at $0", async () => {
    const result = await fetcher().fetchAccountBalance({
      broker: "kraken",
      credentials: null,
      credentialProblem: "its credentials could not be read again from the config (gone)",
      apiUrl: emulator.urls.kraken,
    });
    expect(result).toMatchObject({
      status: "config_error",
      message: "its credentials could not be read again from the config (gone)",
      usdCents: null,
      requests: 0,
    });
    expect(emulator.requests).toHaveLength(0);
  });

  it("an internal error inside one account is that row's exchange_error; the next account is fine", async () => {
    const f = fetcher();
    const key = seedAccount(emulator, "kraken", { USD: "4.00" });
    // ccxt options that break the exchange's own set-up: an internal error, not the run's end.
    const broken = await fetchOn(f, "kraken", key, { ccxt: { urls: null } });
    expect(broken.status).toBe("exchange_error");
    expect(broken.message).toMatch(/^internal error while reading kraken: /);
    expect(broken.usdCents).toBeNull();
    expect(await fetchOn(f, "kraken", key)).toMatchObject({ status: "ok", usdCents: 400n });
  });

  it("unknown broker id", async () => {
    const result = await fetcher().fetchAccountBalance({
      broker: "notanexchange",
      credentials: { apiKey: "k", secret: "s" },
    });
    expect(result.status).toBe("unsupported_broker");
  });

  it.each([
    ["kraken", "revoked", "auth_failed", 1],
    ["coinbase", "revoked", "auth_failed", 1],
    ["alpaca", "revoked", "auth_failed", 2],
  ] as const)("%s %s key -> %s, not retried", async (exchange, kind, status, requests) => {
    const key = seedAccount(emulator, exchange, { USD: "1" });
    emulator.setFault(exchange, key.apiKey, { kind });
    const result = await fetchOn(fetcher(), exchange, key);
    expect(result.status).toBe(status);
    expect(result.requests).toBe(requests);
  });

  it("a wrong secret is an auth failure on every broker", async () => {
    for (const exchange of ["kraken", "coinbase", "alpaca"] as const) {
      const key = seedAccount(emulator, exchange, { USD: "1" });
      const wrong = seedAccount(emulator, exchange, { USD: "1" });
      const result = await fetchOn(fetcher(), exchange, {
        apiKey: key.apiKey,
        secret: wrong.secret,
      });
      expect(result.status, exchange).toBe("auth_failed");
    }
  });

  it.each(["kraken", "coinbase"] as const)(
    "%s key without the balance scope -> permission_denied",
    async (exchange) => {
      const key = seedAccount(emulator, exchange, { USD: "1" }, { permissions: "no_funds_query" });
      const result = await fetchOn(fetcher(), exchange, key);
      expect(result.status).toBe("permission_denied");
    },
  );

  it("alpaca 403 (its answer for a wrong key and for a paper key on live) -> auth_failed naming paper", async () => {
    const key = seedAccount(emulator, "alpaca", { USD: "1" }, { permissions: "no_funds_query" });
    const result = await fetchOn(fetcher(), "alpaca", key);
    expect(result.status).toBe("auth_failed");
    expect(result.message).toMatch(/paper key on the live endpoint/);
    expect(result.message).toMatch(/HTTP 403/);
    expect(result.usdCents).toBeNull();
  });

  it.each(["kraken", "coinbase", "alpaca"] as const)(
    "%s rate limit: retried, then rate_limited",
    async (exchange) => {
      const key = seedAccount(emulator, exchange, { USD: "3.00" });
      emulator.setFault(exchange, key.apiKey, { kind: "rate_limit" });
      const failed = await fetchOn(fetcher(), exchange, key);
      expect(failed.status).toBe("rate_limited");
      expect(failed.message).toMatch(/after 3 attempts/);
      emulator.setFault(exchange, key.apiKey, { kind: "rate_limit", times: 1 });
      const recovered = await fetchOn(fetcher(), exchange, key);
      expect(recovered).toMatchObject({ status: "ok", usdCents: 300n });
    },
  );

  it.each([500, 502, 503])("HTTP %i is retried and recovers", async (status) => {
    const key = seedAccount(emulator, "coinbase", { USD: "1.23" });
    emulator.setFault("coinbase", key.apiKey, { kind: "http", status, times: 2 });
    const result = await fetchOn(fetcher(), "coinbase", key);
    expect(result).toMatchObject({ status: "ok", usdCents: 123n, requests: 3 });
  });

  it("persistent 5xx -> network_error after the bounded attempts", async () => {
    const key = seedAccount(emulator, "alpaca", { USD: "1" });
    emulator.setFault("alpaca", key.apiKey, { kind: "http", status: 503 });
    const result = await fetchOn(fetcher({ attempts: 2 }), "alpaca", key);
    expect(result.status).toBe("network_error");
    expect(result.message).toMatch(/after 2 attempts/);
  });

  it("kraken invalid nonce is retried with a fresh nonce", async () => {
    const key = seedAccount(emulator, "kraken", { USD: "7.77" });
    emulator.setFault("kraken", key.apiKey, { kind: "invalid_nonce", times: 1 });
    const result = await fetchOn(fetcher(), "kraken", key);
    expect(result).toMatchObject({ status: "ok", usdCents: 777n, requests: 2 });
  });

  it("a hang past the timeout -> timeout, not retried", async () => {
    const key = seedAccount(emulator, "kraken", { USD: "1" });
    emulator.setFault("kraken", key.apiKey, { kind: "hang" });
    const started = Date.now();
    const result = await fetchOn(fetcher({ timeoutMs: 300 }), "kraken", key);
    expect(result.status).toBe("timeout");
    expect(result.requests).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
    emulator.setFault("kraken", key.apiKey, null);
  });

  it("malformed JSON -> exchange_error", async () => {
    const key = seedAccount(emulator, "coinbase", { USD: "1" });
    emulator.setFault("coinbase", key.apiKey, { kind: "malformed" });
    const result = await fetchOn(fetcher({ attempts: 1 }), "coinbase", key);
    expect(result.status).toMatch(/exchange_error|network_error/);
  });

  it("unreachable origin -> network_error", async () => {
    const result = await fetcher({ attempts: 1 }).fetchAccountBalance({
      broker: "kraken",
      credentials: seedAccount(emulator, "kraken", { USD: "1" }),
      apiUrl: "http://127.0.0.1:9",
    });
    expect(result.status).toBe("network_error");
  });

  it("no result or message ever carries a key or secret", async () => {
    const results: AccountBalance[] = [];
    const keys: Credentials[] = [];
    for (const exchange of ["kraken", "coinbase", "alpaca"] as const) {
      for (const kind of ["revoked", "rate_limit", "malformed"] as const) {
        const key = seedAccount(emulator, exchange, { USD: "1" });
        keys.push(key);
        emulator.setFault(exchange, key.apiKey, { kind });
        results.push(await fetchOn(fetcher({ attempts: 1 }), exchange, key));
      }
      const ok = seedAccount(emulator, exchange, { USD: "1" });
      keys.push(ok);
      results.push(await fetchOn(fetcher(), exchange, ok));
    }
    expect(results.filter((r) => r.status !== "ok").length).toBe(9);
    const text = JSON.stringify(results, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    for (const key of keys) {
      expect(text).not.toContain(key.apiKey);
      expect(text).not.toContain(key.secret);
      for (const line of key.secret
        .split("\n")
        .filter((l) => l.length > 16 && !l.startsWith("---"))) {
        expect(text).not.toContain(line);
      }
    }
  });
});

describe("the Kraken lane", () => {
  it("spaces requests on one key as the emulator sees them", async () => {
    const key = seedAccount(emulator, "kraken", { USD: "1" });
    const f = fetcher({ krakenLane: new KrakenLane({ spacingMs: 150 }) });
    await Promise.all([1, 2, 3].map(() => fetchOn(f, "kraken", key)));
    const starts = requestsFor(key.apiKey).map((r) => r.startedAt);
    expect(starts).toHaveLength(3);
    for (const gap of gaps(starts)) expect(gap).toBeGreaterThanOrEqual(150);
    expect(emulator.requests.every((r) => r.error === null)).toBe(true);
  });
});
