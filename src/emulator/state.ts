/** Accounts, prices and per-key counters shared by the exchange servers. */
import { isDecimal, normalize } from "./decimal.js";
import { type CoinbaseVerifier, coinbaseVerifier } from "./keys.js";
import type { AccountSeed, AssetAmount, EmulatorOptions, ExchangeId, Fault } from "./types.js";

export interface Holding {
  free: string;
  used: string;
}

export interface Account {
  exchange: ExchangeId;
  apiKey: string;
  secret: string;
  /** OKX only. */
  passphrase: string | null;
  /** The key belongs to the exchange's test environment (paper, testnet, demo). */
  sandbox: boolean;
  balances: Map<string, Holding>;
  /** Binance funding wallet / OKX funding account. */
  funding: Map<string, Holding>;
  walletCount: number;
  permissions: "full" | "no_funds_query";
  fault: Fault | null;
  /** Requests the fault still applies to; null = until cleared. */
  faultLeft: number | null;
  /** Kraken: last accepted nonce and the private call counter. */
  lastNonce: bigint | null;
  counter: number;
  counterAt: number;
  /** Coinbase: how the key is checked. */
  verifier: CoinbaseVerifier | null;
  /** Coinbase/Alpaca: arrival times (ms) of recent requests, for the sliding window. */
  hits: number[];
  createdAt: string;
}

export interface Limits {
  krakenCounterMax: number;
  krakenDecayPerSecond: number;
  coinbasePerSecond: number;
  alpacaPerMinute: number;
  binanceWeightPerMinute: number;
  binanceBanAfter: number;
  binanceBanSeconds: number;
  okxBalancePer2s: number;
  okxFundingPerSecond: number;
}

/** Exchanges whose test environment the emulator serves. */
const SANDBOXED = new Set<ExchangeId>(["alpaca", "binance", "okx"]);

export function resolveLimits(options: EmulatorOptions): Limits {
  return {
    krakenCounterMax: options.kraken?.counterMax ?? 15,
    krakenDecayPerSecond: options.kraken?.decayPerSecond ?? 0.33,
    coinbasePerSecond: options.coinbase?.requestsPerSecond ?? 30,
    alpacaPerMinute: options.alpaca?.requestsPerMinute ?? 200,
    binanceWeightPerMinute: options.binance?.weightPerMinute ?? 6000,
    binanceBanAfter: options.binance?.banAfter ?? 5,
    binanceBanSeconds: options.binance?.banSeconds ?? 120,
    okxBalancePer2s: options.okx?.balanceRequestsPer2s ?? 10,
    okxFundingPerSecond: options.okx?.fundingRequestsPerSecond ?? 6,
  };
}

export function toHoldings(
  balances: Record<string, AssetAmount>,
  where: string,
): Map<string, Holding> {
  const out = new Map<string, Holding>();
  for (const [code, amount] of Object.entries(balances)) {
    const used = amount.used ?? "0";
    if (!isDecimal(amount.free) || !isDecimal(used)) {
      throw new TypeError(
        `${where}: balance ${code} must be decimal strings, got ${JSON.stringify(amount)}`,
      );
    }
    out.set(code, { free: normalize(amount.free), used: normalize(used) });
  }
  return out;
}

export class EmulatorState {
  readonly limits: Limits;
  latencyMs: number;
  private readonly accounts: Record<ExchangeId, Map<string, Account>> = {
    kraken: new Map(),
    coinbase: new Map(),
    alpaca: new Map(),
    binance: new Map(),
    okx: new Map(),
  };
  private readonly prices: Record<ExchangeId, Map<string, string>> = {
    kraken: new Map(),
    coinbase: new Map(),
    alpaca: new Map(),
    binance: new Map(),
    okx: new Map(),
  };

  constructor(options: EmulatorOptions) {
    this.limits = resolveLimits(options);
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** Adds or replaces the account behind seed.apiKey (a replaced key starts with fresh counters). */
  addAccount(seed: AccountSeed): void {
    const where = `${seed.exchange} account ${seed.apiKey}`;
    if (!(seed.exchange in this.accounts)) throw new TypeError(`unknown exchange ${seed.exchange}`);
    if (seed.apiKey === "" || seed.secret === "")
      throw new TypeError(`${where}: apiKey and secret are required`);
    if (seed.exchange === "okx" && !seed.passphrase)
      throw new TypeError(`${where}: OKX keys need their passphrase`);
    if (seed.exchange !== "okx" && seed.passphrase !== undefined)
      throw new TypeError(`${where}: only OKX keys have a passphrase`);
    if (seed.sandbox && !SANDBOXED.has(seed.exchange))
      throw new TypeError(`${where}: the emulator has no ${seed.exchange} test environment`);
    if (seed.funding !== undefined && seed.exchange !== "binance" && seed.exchange !== "okx")
      throw new TypeError(`${where}: only Binance and OKX have a funding wallet`);
    const account: Account = {
      exchange: seed.exchange,
      apiKey: seed.apiKey,
      secret: seed.secret,
      passphrase: seed.passphrase ?? null,
      sandbox: seed.sandbox ?? false,
      balances: toHoldings(seed.balances, where),
      funding: toHoldings(seed.funding ?? {}, `${where} funding`),
      walletCount: seed.walletCount ?? 0,
      permissions: seed.permissions ?? "full",
      fault: null,
      faultLeft: null,
      lastNonce: null,
      counter: 0,
      counterAt: Date.now(),
      verifier: seed.exchange === "coinbase" ? coinbaseVerifier(seed.secret) : null,
      hits: [],
      createdAt: new Date().toISOString(),
    };
    this.accounts[seed.exchange].set(seed.apiKey, account);
  }

  account(exchange: ExchangeId, apiKey: string | null): Account | undefined {
    return apiKey === null ? undefined : this.accounts[exchange].get(apiKey);
  }

  /** The account only if it lives in that environment: a live key is unknown to the test servers. */
  accountIn(exchange: ExchangeId, apiKey: string | null, sandbox: boolean): Account | undefined {
    const account = this.account(exchange, apiKey);
    return account?.sandbox === sandbox ? account : undefined;
  }

  accountsOf(exchange: ExchangeId): Iterable<Account> {
    return this.accounts[exchange].values();
  }

  require(exchange: ExchangeId, apiKey: string): Account {
    const account = this.accounts[exchange].get(apiKey);
    if (account === undefined)
      throw new Error(`no ${exchange} account with key ${apiKey}; call addAccount first`);
    return account;
  }

  setPrices(exchange: ExchangeId, usdPrices: Record<string, string>): void {
    const prices = this.prices[exchange];
    for (const [code, price] of Object.entries(usdPrices)) {
      if (!isDecimal(price))
        throw new TypeError(`${exchange} price ${code} must be a decimal string, got ${price}`);
      prices.set(code, normalize(price));
    }
  }

  pricesOf(exchange: ExchangeId): ReadonlyMap<string, string> {
    return this.prices[exchange];
  }

  /** The fault for this request, counting it against `times`. */
  takeFault(account: Account): Fault | null {
    const fault = account.fault;
    if (fault === null) return null;
    if (account.faultLeft !== null) {
      account.faultLeft -= 1;
      if (account.faultLeft <= 0) {
        account.fault = null;
        account.faultLeft = null;
      }
    }
    return fault;
  }

  /** Sliding-window limiter; true when the request is over the limit (and then not counted). */
  overWindow(account: Account, now: number, windowMs: number, max: number): boolean {
    const since = now - windowMs;
    while (account.hits.length > 0 && (account.hits[0] ?? 0) <= since) account.hits.shift();
    if (account.hits.length >= max) return true;
    account.hits.push(now);
    return false;
  }
}
