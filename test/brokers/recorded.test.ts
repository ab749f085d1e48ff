/**
 * Every parser against the exchanges' own recorded answers (test/fixtures/real/<exchange>, with
 * SOURCES.md beside them), served byte for byte to real ccxt. Expected figures are the ones
 * computed by hand in test/fixtures/real/EXPECTED.md.
 */
import { afterEach, describe, expect, it } from "vitest";
import { BalanceFetcher } from "../../src/brokers/fetch-account-balance.js";
import type { AccountBalance, BrokerOptions, Valuation } from "../../src/brokers/types.js";
import {
  newAlpacaKey,
  newBinanceKey,
  newCoinbaseCdpKey,
  newKrakenKey,
} from "../../src/emulator/index.js";
import { KrakenLane } from "../../src/queue/kraken-lane.js";
import {
  fixture,
  type RecordedServer,
  type Route,
  startRecordedServer,
} from "../helpers/recorded-server.js";

let server: RecordedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const KEYS = {
  kraken: newKrakenKey,
  coinbase: () => newCoinbaseCdpKey("es256"),
  alpaca: () => newAlpacaKey(),
  binance: newBinanceKey,
};

async function fetchFrom(
  broker: keyof typeof KEYS,
  routes: Record<string, Route>,
  valuation: Valuation = "total",
  options: BrokerOptions = {},
): Promise<AccountBalance> {
  server = await startRecordedServer(routes);
  const fetcher = new BalanceFetcher({
    timeoutMs: 2000,
    retryBaseDelayMs: 1,
    attempts: 2,
    valuation,
    krakenLane: new KrakenLane({ spacingMs: 0 }),
  });
  return fetcher.fetchAccountBalance({
    broker,
    credentials: KEYS[broker](),
    apiUrl: server.url,
    options,
  });
}

const kraken = (balanceEx: string, status = 200): Record<string, Route> => ({
  "POST /0/private/BalanceEx": { status, body: balanceEx },
  "GET /0/public/AssetPairs": { body: fixture("kraken", "asset-pairs.docs.json") },
  "GET /0/public/Ticker": { body: fixture("kraken", "ticker.docs.json") },
});

describe("Kraken, documented answers", () => {
  it("BalanceEx at the documented XXBTZUSD ticker: $63,117.24; cash $25,435.21", async () => {
    // 25435.21 + 1.2435 x 30303.2 (c[0]) = 63117.2392 (EXPECTED.md, Kraken)
    const total = await fetchFrom("kraken", kraken(fixture("kraken", "balance-ex.docs.json")));
    expect(total).toMatchObject({
      status: "ok",
      usdCents: 6311724n,
      basis: "priced",
      unpriced: [],
    });
    expect(total.assets.USD).toEqual({
      free: "17185.45",
      used: "8249.76",
      total: "25435.21",
      usdCents: 2543521n,
    });
    expect(total.assets.BTC).toMatchObject({ free: "0.4012", used: "0.8423", total: "1.2435" });
    const cash = await fetchFrom(
      "kraken",
      kraken(fixture("kraken", "balance-ex.strings.edited.json")),
      "cash",
    );
    expect(cash).toMatchObject({ status: "ok", usdCents: 2543521n, basis: "cash", unpriced: [] });
  });

  it("the sibling Balance endpoint's plain strings are a wrong shape, not an empty account", async () => {
    const result = await fetchFrom("kraken", kraken(fixture("kraken", "balance.docs.json")));
    expect(result.status).toBe("exchange_error");
    expect(result.usdCents).toBeNull();
    expect(result.message).toMatch(/Kraken BalanceEx entry ZUSD is not a JSON object/);
  });

  it("values staked variants as their base asset and leaves fee credits out", async () => {
    const body = JSON.stringify({
      error: [],
      result: {
        "XBT.M": { balance: "0.1", hold_trade: "0" },
        KFEE: { balance: "1000.00", hold_trade: "0" },
        "USD.F": { balance: "10.00", hold_trade: "0" },
      },
    });
    const result = await fetchFrom("kraken", kraken(body));
    // 0.1 x 30303.2 + 10.00 = 3040.32; KFEE is not money and not "unpriced".
    expect(result).toMatchObject({ status: "ok", usdCents: 304032n, unpriced: [] });
    expect(Object.keys(result.assets).sort()).toEqual(["BTC.M", "USD.F"]);
  });

  it.each([
    ["error-invalid-key.json", "auth_failed", /EAPI:Invalid key/],
    ["error-permission-denied.json", "permission_denied", /EGeneral:Permission denied/],
  ])("%s -> %s", async (file, status, message) => {
    const result = await fetchFrom("kraken", kraken(fixture("kraken", file)));
    expect(result.status).toBe(status);
    expect(result.message).toMatch(message);
  });
});

describe("Alpaca, documented answers", () => {
  const alpaca = (account: string, positions = "[]"): Record<string, Route> => ({
    "GET /v2/account": { body: account },
    "GET /v2/positions": { body: positions },
  });

  it("the documented margin account is worth its equity, $103,820.56, not its cash", async () => {
    const routes = alpaca(fixture("alpaca", "account-margin.docs.json"));
    const total = await fetchFrom("alpaca", routes);
    expect(total).toMatchObject({ status: "ok", usdCents: 10382056n, basis: "broker" });
    const cash = await fetchFrom("alpaca", routes, "cash");
    expect(cash).toMatchObject({ status: "ok", usdCents: -2314020n, basis: "cash" });
  });

  it("positions from alpaca-py's tests are holdings priced at current_price", async () => {
    const routes = alpaca(
      fixture("alpaca", "account.docs.json"),
      fixture("alpaca", "positions.alpaca-py-test.json"),
    );
    const result = await fetchFrom("alpaca", routes);
    expect(result.usdCents).toBe(12334611n); // the account's stated equity
    expect(result.assets.AAPL).toMatchObject({ total: "5", usdCents: 60000n });
  });

  it("403 forbidden. points at the key and the paper endpoint", async () => {
    const result = await fetchFrom("alpaca", {
      "GET /v2/account": { status: 403, body: fixture("alpaca", "error-403-forbidden.json") },
      "GET /v2/positions": { status: 403, body: fixture("alpaca", "error-403-forbidden.json") },
    });
    expect(result.status).toBe("auth_failed");
    expect(result.message).toMatch(/wrong key, or a paper key on the live endpoint/);
    expect(result.message).toMatch(/forbidden\./);
  });
});

describe("Coinbase, documented answers", () => {
  const coinbase = (accounts: string | Route): Record<string, Route> => ({
    "GET /api/v3/brokerage/accounts": typeof accounts === "string" ? { body: accounts } : accounts,
    "GET /api/v3/brokerage/market/products": {
      body: fixture("coinbase", "products-public.docs.json"),
    },
  });

  it("a server repeating its cursor never doubles a figure: 2.46 BTC x 140.21 = $344.92", async () => {
    // The documented page says has_next with cursor 789100; served again for that cursor, it
    // repeats the cursor: paging stops and the wallet is counted once.
    const result = await fetchFrom("coinbase", coinbase(fixture("coinbase", "accounts.docs.json")));
    expect(result).toMatchObject({ status: "ok", usdCents: 34492n, requests: 2 });
    expect(result.assets.BTC).toMatchObject({ free: "1.23", used: "1.23", total: "2.46" });
  });

  it("a vault wallet is counted; a wallet type we do not know is listed, not dropped", async () => {
    const page = JSON.parse(fixture("coinbase", "accounts.docs.json"));
    const wallet = page.accounts[0];
    page.has_next = false;
    page.accounts = [
      { ...wallet, type: "ACCOUNT_TYPE_VAULT" },
      { ...wallet, uuid: "other", type: "ACCOUNT_TYPE_SOMETHING_NEW" },
    ];
    const result = await fetchFrom("coinbase", coinbase(JSON.stringify(page)));
    expect(result.status).toBe("ok");
    expect(result.usdCents).toBe(34492n);
    expect(result.unpriced).toEqual(["BTC@SOMETHING_NEW"]);
    expect(result.assets["BTC@SOMETHING_NEW"]).toMatchObject({ total: "2.46", usdCents: null });
  });

  it("a server that always says has_next stops at the page ceiling as an error", async () => {
    let n = 0;
    const endless: Route = () => {
      n += 1;
      return { body: JSON.stringify({ accounts: [], has_next: true, cursor: `c${n}` }) };
    };
    const result = await fetchFrom("coinbase", coinbase(endless), "total", { maxPages: 5 });
    expect(result.status).toBe("exchange_error");
    expect(result.message).toMatch(/stopped after 5 pages/);
    expect(result.usdCents).toBeNull();
    expect(n).toBe(5);
  });

  it("keeps Coinbase's own detail: missing required scopes", async () => {
    const result = await fetchFrom(
      "coinbase",
      coinbase({ status: 403, body: fixture("coinbase", "error-403-missing-scopes.edited.json") }),
    );
    expect(result.status).toBe("permission_denied");
    expect(result.message).toMatch(/PERMISSION_DENIED: Missing required scopes/);
  });

  it("a 401 'request timestamp expired' is clock skew, retried once, and says so", async () => {
    const result = await fetchFrom(
      "coinbase",
      coinbase({ status: 401, body: fixture("coinbase", "error-401-timestamp-expired-v2.json") }),
    );
    expect(result.status).toBe("auth_failed");
    expect(result.message).toMatch(/request time is outside its window/);
    expect(result.message).toMatch(/check this machine's clock \(it reads 20\d\d-/);
    expect(result.requests).toBe(2);
  });

  it("a 404 is an exchange error, not retried", async () => {
    const result = await fetchFrom("coinbase", coinbase({ status: 404, body: "{}" }));
    expect(result).toMatchObject({ status: "exchange_error", requests: 1 });
    expect(result.message).toMatch(/HTTP 404/);
  });
});

describe("Binance, documented answers", () => {
  const binance = (account: Route): Record<string, Route> => ({
    "GET /api/v3/account": account,
    "GET /api/v3/ticker/price": { body: fixture("binance", "ticker-price-list.docs.json") },
  });

  it("the documented account: BTC and LTC held, no USD price documented for either", async () => {
    const result = await fetchFrom(
      "binance",
      binance({ body: fixture("binance", "account.docs.json") }),
    );
    expect(result.status).toBe("ok");
    expect(result.usdCents).toBe(0n);
    expect(result.unpriced).toEqual(["BTC", "LTC"]);
    expect(result.message).toBe("no USD price for BTC, LTC");
  });

  it("-2015 -> auth_failed with Binance's own text", async () => {
    const result = await fetchFrom(
      "binance",
      binance({ status: 401, body: fixture("binance", "error-2015-invalid-key.json") }),
    );
    expect(result.status).toBe("auth_failed");
    expect(result.message).toMatch(/-2015: Invalid API-key, IP, or permissions for action/);
  });

  it("429 asking for 45 s is reported at once, never hammered", async () => {
    const started = Date.now();
    const result = await fetchFrom(
      "binance",
      binance({
        status: 429,
        body: fixture("binance", "error-429-rate-limit.binanceus.json"),
        headers: { "retry-after": "45" },
      }),
    );
    expect(result.status).toBe("rate_limited");
    expect(result.message).toMatch(/asked to wait 45 s/);
    expect(result.requests).toBe(1);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("418 (IP ban) with a short Retry-After is waited out, then retried", async () => {
    let calls = 0;
    const started = Date.now();
    const result = await fetchFrom(
      "binance",
      binance(() => {
        calls += 1;
        return calls === 1
          ? {
              status: 418,
              body: fixture("binance", "error-418-ip-banned.edited.json"),
              headers: { "retry-after": "1" },
            }
          : { body: fixture("binance", "account.docs.json") };
      }),
    );
    expect(result.status).toBe("ok");
    expect(calls).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
