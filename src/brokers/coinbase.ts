import type { Balances, Exchange } from "ccxt";
import { type Fixed, toFixed } from "../money.js";
import { type BrokerAdapter, expectArray, expectObject } from "./adapter.js";
import { coinbaseTokenSigner } from "./coinbase-jwt.js";
import type { BrokerOptions } from "./types.js";

/** The parts of ccxt's coinbase class we use, typed by what Coinbase sends. */
type CoinbaseApi = {
  safeCurrencyCode(id: string): string;
  parseCustomBalance(response: object, params: object): Balances;
  v3PrivateGetBrokerageAccounts(params?: object): Promise<unknown>;
  v2PrivateGetAccounts(params?: object): Promise<unknown>;
  v3PublicGetBrokerageMarketProducts(params?: object): Promise<unknown>;
};

interface V3Page {
  accounts?: unknown[];
  has_next?: boolean;
  cursor?: string;
}

interface V2Page {
  data?: unknown[];
  pagination?: { next_starting_after?: string | null };
}

interface Product {
  base_currency_id?: string;
  quote_currency_id?: string;
  price?: string;
}

/** Guards against an API that keeps answering "there is more": 1,000 pages of 250 wallets. */
const MAX_PAGES = 1000;
const PAGE_SIZE = 250;

/**
 * Coinbase lists one wallet per currency and pages the list; ccxt's fetchBalance reads only the
 * first page, so we follow every page and hand the whole list to ccxt's own parser. Advanced Trade
 * (v3, with holds) by default; `accountsApi: "v2"` uses the Coinbase App listing instead.
 */
export const coinbaseAdapter: BrokerAdapter = {
  // ccxt calls createAuthToken only for CDP keys (legacy HMAC keys keep its own signing).
  prepare(exchange: Exchange): void {
    const view = exchange as unknown as { createAuthToken: unknown };
    view.createAuthToken = coinbaseTokenSigner(exchange.apiKey, exchange.secret);
  },

  async fetchBalance(exchange: Exchange, options: BrokerOptions): Promise<Balances> {
    const api = exchange as unknown as CoinbaseApi;
    const wallets: unknown[] = [];
    const seen = new Set<string>();
    if (options.accountsApi === "v2") {
      let after: string | null | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const request = after ? { limit: PAGE_SIZE, starting_after: after } : { limit: PAGE_SIZE };
        const response = expectObject(
          await api.v2PrivateGetAccounts(request),
          "Coinbase accounts page",
        ) as V2Page;
        wallets.push(...expectArray(response.data, "Coinbase accounts page data"));
        after = response.pagination?.next_starting_after;
        if (!after || seen.has(after)) break;
        seen.add(after);
      }
      return api.parseCustomBalance({ data: wallets }, {});
    }
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const request = cursor ? { limit: PAGE_SIZE, cursor } : { limit: PAGE_SIZE };
      const response = expectObject(
        await api.v3PrivateGetBrokerageAccounts(request),
        "Coinbase accounts page",
      ) as V3Page;
      wallets.push(...expectArray(response.accounts, "Coinbase accounts page accounts"));
      cursor = response.cursor;
      if (!response.has_next || !cursor || seen.has(cursor)) break;
      seen.add(cursor);
    }
    return api.parseCustomBalance({ accounts: wallets }, {});
  },

  /** One public request: the product list carries every product's last price. */
  async fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>> {
    const api = exchange as unknown as CoinbaseApi;
    const answer = expectObject(
      await api.v3PublicGetBrokerageMarketProducts(),
      "Coinbase products",
    );
    const products = expectArray(answer.products, "Coinbase products list") as Product[];
    const prices = new Map<string, Fixed>();
    // USD first so a USDC quote never overrides a USD one.
    for (const quote of ["USDC", "USD"]) {
      for (const product of products) {
        if (product.quote_currency_id !== quote || !product.base_currency_id || !product.price) {
          continue;
        }
        prices.set(api.safeCurrencyCode(product.base_currency_id), toFixed(product.price));
      }
    }
    return prices;
  },
};
