import ccxt from "ccxt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rebaseApiUrls } from "../../src/brokers/api-url.js";
import {
  type AssetAmount,
  type Emulator,
  newCoinbaseCdpKey,
  newCoinbaseHmacKey,
  startEmulator,
} from "../../src/emulator/index.js";

type Coinbase = InstanceType<typeof ccxt.coinbase>;

interface V3Page {
  accounts: {
    uuid: string;
    currency: string;
    type: string;
    available_balance: { value: string; currency: string };
    hold: { value: string; currency: string };
  }[];
  has_next: boolean;
  cursor: string;
  size: number;
}

interface V2Page {
  pagination: { next_starting_after: string | null; next_uri: string | null; limit: number };
  data: { id: string; type: string; currency: { code: string }; balance: { amount: string } }[];
}

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ coinbase: { requestsPerSecond: 8 } });
  emulator.setPrices("coinbase", { BTC: "65000.10", ETH: "3200" });
});

afterAll(() => emulator.close());

function coinbase(apiKey: string, secret: string): Coinbase {
  const exchange = new ccxt.coinbase({ apiKey, secret, enableRateLimit: false });
  exchange.urls.api = rebaseApiUrls(exchange.urls.api, emulator.urls.coinbase) as never;
  exchange.setMarkets({});
  return exchange;
}

const BALANCES: Record<string, AssetAmount> = {
  USD: { free: "1500.25", used: "20" },
  BTC: { free: "0.5", used: "0.00000001" },
  ETH: { free: "3.25" },
};

type KeyKind = "es256" | "ed25519" | "hmac";

function newKey(kind: KeyKind): { apiKey: string; secret: string } {
  return kind === "hmac" ? newCoinbaseHmacKey() : newCoinbaseCdpKey(kind);
}

function account(
  kind: KeyKind,
  extra: { walletCount?: number; permissions?: "no_funds_query" } = {},
) {
  const key = newKey(kind);
  emulator.addAccount({ exchange: "coinbase", ...key, balances: BALANCES, ...extra });
  return key;
}

async function allV3(exchange: Coinbase, limit: number): Promise<{ pages: V3Page[] }> {
  const pages: V3Page[] = [];
  let cursor = "";
  do {
    const page = (await exchange.v3PrivateGetBrokerageAccounts(
      cursor === "" ? { limit } : { limit, cursor },
    )) as V3Page;
    pages.push(page);
    cursor = page.has_next ? page.cursor : "";
  } while (cursor !== "");
  return { pages };
}

describe("coinbase emulator", () => {
  for (const kind of ["es256", "ed25519", "hmac"] as const) {
    it(`accepts a ${kind} key on v3 and v2 and rejects a wrong secret as AuthenticationError`, async () => {
      const key = account(kind);
      const exchange = coinbase(key.apiKey, key.secret);
      const v3 = (await exchange.v3PrivateGetBrokerageAccounts({ limit: 250 })) as V3Page;
      expect(v3.accounts.map((a) => a.currency).sort()).toEqual(["BTC", "ETH", "USD"]);
      const v2 = (await exchange.v2PrivateGetAccounts({ limit: 100 })) as V2Page;
      expect(v2.data.map((a) => a.currency.code).sort()).toEqual(["BTC", "ETH", "USD"]);

      const forged = coinbase(key.apiKey, newKey(kind).secret);
      await expect(forged.v3PrivateGetBrokerageAccounts()).rejects.toBeInstanceOf(
        ccxt.AuthenticationError,
      );
      await expect(forged.v2PrivateGetAccounts()).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    });
  }

  it("lists v3 accounts with available and hold, and ccxt's parser sums them", async () => {
    const key = account("es256");
    const exchange = coinbase(key.apiKey, key.secret);
    const page = (await exchange.v3PrivateGetBrokerageAccounts({ limit: 250 })) as V3Page;
    expect(page).toMatchObject({ has_next: false, cursor: "", size: 3 });
    const usd = page.accounts.find((a) => a.currency === "USD");
    expect(usd).toMatchObject({
      type: "ACCOUNT_TYPE_FIAT",
      available_balance: { value: "1500.25", currency: "USD" },
      hold: { value: "20", currency: "USD" },
    });
    const balance = await exchange.fetchBalance({ v3: true });
    expect(balance.total).toMatchObject({ USD: 1520.25, BTC: 0.50000001, ETH: 3.25 });
    expect(balance.used).toMatchObject({ USD: 20 });
  });

  it("paginates 600 v3 wallets with has_next/cursor, default limit 49, max 250", async () => {
    const key = account("ed25519", { walletCount: 600 });
    const exchange = coinbase(key.apiKey, key.secret);
    const first = (await exchange.v3PrivateGetBrokerageAccounts()) as V3Page;
    expect(first.size).toBe(49);
    expect(first.has_next).toBe(true);
    const { pages } = await allV3(exchange, 1000);
    expect(pages.map((p) => p.size)).toEqual([250, 250, 100]);
    const accounts = pages.flatMap((p) => p.accounts);
    expect(new Set(accounts.map((a) => a.uuid)).size).toBe(600);
    const funded = accounts.filter((a) => a.available_balance.value !== "0");
    expect(funded.map((a) => a.currency).sort()).toEqual(["BTC", "ETH", "USD"]);
    // The funded wallets are not all on page one: a client that stops there misses balances.
    expect(pages[0]?.accounts.filter((a) => a.available_balance.value !== "0").length).toBeLessThan(
      3,
    );
  });

  it("paginates 600 v2 wallets with next_starting_after, default limit 25", async () => {
    const key = account("hmac", { walletCount: 600 });
    const exchange = coinbase(key.apiKey, key.secret);
    const first = (await exchange.v2PrivateGetAccounts()) as V2Page;
    expect(first.data).toHaveLength(25);
    expect(first.pagination.next_uri).toBe(
      `/v2/accounts?limit=25&starting_after=${first.pagination.next_starting_after}`,
    );
    const ids: string[] = [];
    const amounts: Record<string, string> = {};
    let after: string | null = null;
    let pages = 0;
    do {
      const page = (await exchange.v2PrivateGetAccounts(
        after === null ? { limit: 300 } : { limit: 300, starting_after: after },
      )) as V2Page;
      pages += 1;
      for (const a of page.data) {
        ids.push(a.id);
        amounts[a.currency.code] = a.balance.amount;
      }
      after = page.pagination.next_starting_after;
    } while (after !== null);
    expect(pages).toBe(2);
    expect(new Set(ids).size).toBe(600);
    // v2 reports the total, padded to the currency's exponent.
    expect(amounts).toMatchObject({
      USD: "1520.25",
      BTC: "0.50000001",
      ETH: "3.25000000",
      ADA: "0.00000000",
    });
  });

  it("rejects expired JWTs and tokens minted for another method or path", async () => {
    const key = account("es256");
    const stale = coinbase(key.apiKey, key.secret);
    stale.seconds = () => Math.floor(Date.now() / 1000) - 600;
    await expect(stale.v3PrivateGetBrokerageAccounts()).rejects.toBeInstanceOf(
      ccxt.AuthenticationError,
    );

    const exchange = coinbase(key.apiKey, key.secret);
    const url = `${emulator.urls.coinbase}/api/v3/brokerage/accounts`;
    const send = (token: string) => fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    const now = exchange.seconds();
    expect((await send(exchange.createAuthToken(now, "GET", url))).status).toBe(200);
    expect((await send(exchange.createAuthToken(now, "POST", url))).status).toBe(401);
    const otherPath = `${emulator.urls.coinbase}/api/v3/brokerage/products`;
    const rejected = await send(exchange.createAuthToken(now, "GET", otherPath));
    expect(rejected.status).toBe(401);
    expect(await rejected.text()).toBe("Unauthorized\n");
  });

  it("rejects a stale HMAC timestamp", async () => {
    const key = account("hmac");
    const exchange = coinbase(key.apiKey, key.secret);
    exchange.nonce = () => Date.now() - 60_000;
    await expect(exchange.v2PrivateGetAccounts()).rejects.toThrow("request timestamp expired");
    await expect(exchange.v2PrivateGetAccounts()).rejects.toBeInstanceOf(ccxt.AuthenticationError);
  });

  it("answers a key without view permission with 403: PermissionDenied on v3", async () => {
    const key = account("es256", { permissions: "no_funds_query" });
    const exchange = coinbase(key.apiKey, key.secret);
    await expect(exchange.v3PrivateGetBrokerageAccounts()).rejects.toBeInstanceOf(
      ccxt.PermissionDenied,
    );
    // v2 says invalid_scope, which ccxt maps to the parent class.
    await expect(exchange.v2PrivateGetAccounts()).rejects.toBeInstanceOf(ccxt.AuthenticationError);
  });

  it("rate-limits per key with 429 RateLimitExceeded", async () => {
    const key = account("hmac");
    const exchange = coinbase(key.apiKey, key.secret);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => exchange.v3PrivateGetBrokerageAccounts()),
    );
    const refused = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(8);
    expect(refused).toHaveLength(2);
    for (const r of refused) expect(r.reason).toBeInstanceOf(ccxt.RateLimitExceeded);
    const other = account("hmac");
    await expect(
      coinbase(other.apiKey, other.secret).v3PrivateGetBrokerageAccounts(),
    ).resolves.toBeDefined();
  });

  it("serves public products with prices from setPrices, no auth", async () => {
    const exchange = coinbase("", "");
    const response = (await exchange.v3PublicGetBrokerageMarketProducts()) as {
      products: { product_id: string; price: string }[];
    };
    expect(response.products.map((p) => [p.product_id, p.price]).sort()).toEqual([
      ["BTC-USD", "65000.1"],
      ["ETH-USD", "3200"],
    ]);
    emulator.clearRequests();
    await exchange.v3PublicGetBrokerageMarketProducts({ product_ids: ["ETH-USD"] });
    expect(emulator.requests[0]).toMatchObject({
      apiKey: null,
      status: 200,
      path: "/api/v3/brokerage/market/products",
    });
  });

  it("records JWT requests under the key name from the token", async () => {
    const key = account("es256");
    emulator.clearRequests();
    await coinbase(key.apiKey, key.secret).v3PrivateGetBrokerageAccounts({ limit: 5 });
    expect(emulator.requests).toEqual([
      expect.objectContaining({
        exchange: "coinbase",
        method: "GET",
        path: "/api/v3/brokerage/accounts",
        query: { limit: "5" },
        apiKey: key.apiKey,
        status: 200,
        error: null,
      }),
    ]);
  });
});
