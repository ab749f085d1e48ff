import type { Exchange } from "ccxt";
import { type Fixed, priceOrNull } from "../money.js";
import {
  addHolding,
  type BrokerAdapter,
  type BrokerBalance,
  expectArray,
  expectObject,
  expectString,
  type Holding,
  readAmount,
} from "./adapter.js";
import { coinbaseTokenSigner } from "./coinbase-jwt.js";
import { MalformedResponseError } from "./errors.js";
import type { BrokerOptions } from "./types.js";

/** The parts of ccxt's coinbase class we use. */
type CoinbaseApi = {
  safeCurrencyCode(id: string): string;
  v3PrivateGetBrokerageAccounts(params?: object): Promise<unknown>;
  v2PrivateGetAccounts(params?: object): Promise<unknown>;
  v3PublicGetBrokerageMarketProducts(params?: object): Promise<unknown>;
};

/**
 * Wallet types whose balance is money in the account: v3 `ACCOUNT_TYPE_CRYPTO|FIAT|VAULT` (the
 * documented example writes plain `FIAT`), v2 `wallet|fiat|vault`.
 */
const COUNTED_TYPES = new Set(["CRYPTO", "FIAT", "VAULT", "WALLET"]);

const typeName = (type: string) => type.replace(/^ACCOUNT_TYPE_/i, "").toUpperCase();

const PAGE_SIZE = 250;
/** 40 pages of 250 wallets; a server that keeps saying "there is more" past that is wrong. */
const DEFAULT_MAX_PAGES = 40;
/** Paging stops, as an error, after this long even if pages remain. */
const MAX_PAGING_MS = 60_000;

/**
 * Wallets of every type that carry a balance. ccxt's parser keeps only crypto and fiat wallets,
 * so a vault would vanish; we read the list ourselves. A wallet type we do not know is kept under
 * `CODE@TYPE` and listed as not valued, never dropped.
 */
class WalletBook {
  readonly holdings = new Map<string, Holding>();
  readonly unvaluable = new Set<string>();
  private readonly seen = new Set<string>();

  constructor(private readonly api: CoinbaseApi) {}

  add(id: string | undefined, type: string, currency: string, holding: Holding): void {
    // A wallet listed twice (a server repeating a page) is counted once.
    if (id !== undefined) {
      if (this.seen.has(id)) return;
      this.seen.add(id);
    }
    if (holding.total === 0n) return;
    let code = this.api.safeCurrencyCode(currency);
    if (!COUNTED_TYPES.has(typeName(type))) {
      code = `${code}@${typeName(type)}`;
      this.unvaluable.add(code);
    }
    addHolding(this.holdings, code, holding);
  }

  result(): BrokerBalance {
    return { holdings: this.holdings, unvaluable: [...this.unvaluable].sort() };
  }
}

/** Follows a cursor until the list ends; repeated or empty cursors end it, a ceiling fails it. */
async function paginate(
  maxPages: number,
  readPage: (cursor: string | undefined) => Promise<string | undefined>,
): Promise<void> {
  const requested = new Set<string>();
  const deadline = Date.now() + MAX_PAGING_MS;
  let cursor: string | undefined;
  for (let page = 1; ; page += 1) {
    const next = await readPage(cursor);
    if (!next || requested.has(next)) return;
    if (page >= maxPages || Date.now() > deadline) {
      throw new MalformedResponseError(
        `stopped after ${page} pages of wallets (the list did not end; options.maxPages raises the ceiling)`,
      );
    }
    requested.add(next);
    cursor = next;
  }
}

function v3Wallet(book: WalletBook, raw: unknown, where: string): void {
  const wallet = expectObject(raw, where);
  const available = expectObject(wallet.available_balance, `${where}.available_balance`);
  const hold = wallet.hold === undefined ? null : expectObject(wallet.hold, `${where}.hold`);
  const currency = expectString(wallet.currency ?? available.currency, `${where}.currency`);
  const free = readAmount(available.value, `${currency}.available_balance`);
  const used = hold ? readAmount(hold.value, `${currency}.hold`) : 0n;
  const type = typeof wallet.type === "string" ? wallet.type : "ACCOUNT_TYPE_UNSPECIFIED";
  const id = typeof wallet.uuid === "string" ? wallet.uuid : undefined;
  book.add(id, type, currency, { free, used, total: free + used });
}

function v2Wallet(book: WalletBook, raw: unknown, where: string): void {
  const wallet = expectObject(raw, where);
  const balance = expectObject(wallet.balance, `${where}.balance`);
  const currency = expectString(balance.currency, `${where}.balance.currency`);
  const total = readAmount(balance.amount, `${currency}.balance`);
  const type = typeof wallet.type === "string" ? wallet.type : "unspecified";
  const id = typeof wallet.id === "string" ? wallet.id : undefined;
  book.add(id, type, currency, { free: total, used: 0n, total });
}

/**
 * Coinbase lists one wallet per currency and type, and pages the list; ccxt's fetchBalance reads
 * only the first page. Advanced Trade (v3, with holds) by default; `accountsApi: "v2"` reads the
 * Coinbase App listing instead.
 */
export const coinbaseAdapter: BrokerAdapter = {
  // ccxt calls createAuthToken only for CDP keys (legacy HMAC keys keep its own signing).
  prepare(exchange: Exchange): void {
    const view = exchange as unknown as { createAuthToken: unknown };
    view.createAuthToken = coinbaseTokenSigner(exchange.apiKey, exchange.secret);
  },

  async fetchBalance(exchange: Exchange, options: BrokerOptions): Promise<BrokerBalance> {
    const api = exchange as unknown as CoinbaseApi;
    const book = new WalletBook(api);
    const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    if (options.accountsApi === "v2") {
      await paginate(maxPages, async (after) => {
        const request = after ? { limit: PAGE_SIZE, starting_after: after } : { limit: PAGE_SIZE };
        const page = expectObject(
          await api.v2PrivateGetAccounts(request),
          "Coinbase accounts page",
        );
        const data = expectArray(page.data, "Coinbase accounts page data");
        for (const [i, wallet] of data.entries()) v2Wallet(book, wallet, `data[${i}]`);
        const pagination = page.pagination as { next_starting_after?: unknown } | undefined;
        const next = pagination?.next_starting_after;
        return typeof next === "string" ? next : undefined;
      });
      return book.result();
    }
    await paginate(maxPages, async (cursor) => {
      const request = cursor ? { limit: PAGE_SIZE, cursor } : { limit: PAGE_SIZE };
      const page = expectObject(
        await api.v3PrivateGetBrokerageAccounts(request),
        "Coinbase accounts page",
      );
      const accounts = expectArray(page.accounts, "Coinbase accounts page accounts");
      for (const [i, wallet] of accounts.entries()) v3Wallet(book, wallet, `accounts[${i}]`);
      return page.has_next === true && typeof page.cursor === "string" ? page.cursor : undefined;
    });
    return book.result();
  },

  /** One public request: the product list carries every product's last price. */
  async fetchUsdPrices(exchange: Exchange): Promise<Map<string, Fixed>> {
    const api = exchange as unknown as CoinbaseApi;
    const answer = expectObject(
      await api.v3PublicGetBrokerageMarketProducts(),
      "Coinbase products",
    );
    const products = expectArray(answer.products, "Coinbase products list");
    const prices = new Map<string, Fixed>();
    // USD last so a USD quote wins over a USDC one.
    for (const quote of ["USDC", "USD"]) {
      for (const raw of products) {
        const product = raw as Record<string, unknown> | null;
        if (product?.quote_currency_id !== quote || typeof product.base_currency_id !== "string") {
          continue;
        }
        const price = priceOrNull(product.price);
        if (price !== null) prices.set(api.safeCurrencyCode(product.base_currency_id), price);
      }
    }
    return prices;
  },
};
