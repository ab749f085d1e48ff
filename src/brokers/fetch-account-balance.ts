import { NO_PUBLIC_CACHE, type PublicCache } from "../cache/public-cache.js";
import { NON_CCXT_BROKERS } from "../config/broker-ids.js";
import { type Fixed, fixedToString, priceOrNull } from "../money.js";
import { KrakenLane } from "../queue/kraken-lane.js";
import { redact } from "../secrets.js";
import type { BrokerBalance } from "./adapter.js";
import { adapterFor } from "./adapters.js";
import { loadExchangeClass } from "./ccxt-loader.js";
import { type ClassifiedFailure, classifyError } from "./errors.js";
import { createExchange, type RequestLane } from "./exchange.js";
import {
  type AccountBalance,
  type BrokerAccountRequest,
  DEFAULT_STABLECOINS,
  type Valuation,
} from "./types.js";
import { valueBalance } from "./valuation.js";

export interface BalanceFetcherOptions {
  /** Per HTTP request, default 10 s. */
  timeoutMs?: number;
  /** Attempts for transient failures (network, 5xx, rate limit, Kraken invalid nonce), default 3. */
  attempts?: number;
  /** First backoff delay; doubles each retry (with jitter), default 500 ms. */
  retryBaseDelayMs?: number;
  valuation?: Valuation;
  stablecoins?: readonly string[];
  /** Sequences private Kraken requests (see queue/kraken-lane.ts); default: a lane of its own. */
  krakenLane?: RequestLane;
  /** Remembers public prices and pair lists across runs (see cache/public-cache.ts). */
  publicCache?: PublicCache;
  /** How long remembered prices stay good, default 120 s (the balance cache TTL). */
  priceTtlMs?: number;
  /** Called before each retry, for diagnostics. */
  onRetry?: (broker: string, attempt: number, message: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Retry-After longer than this is reported, not waited for: a cron run should not hang. */
const MAX_RETRY_AFTER_MS = 30_000;

/** The row of an account whose figure is not (yet) known. */
function failedBalance(
  broker: string,
  valuation: Valuation,
  request: BrokerAccountRequest,
): AccountBalance {
  return {
    broker,
    status: "exchange_error",
    message: null,
    usdCents: null,
    valuation,
    environment: request.sandbox ? (broker === "alpaca" ? "paper" : "testnet") : "live",
    basis: null,
    assets: {},
    unpriced: [],
    fetchedAt: new Date().toISOString(),
    requests: 0,
  };
}

/**
 * Fetches broker account balances through real ccxt classes. One fetcher serves a whole run:
 * public price look-ups (valuation `total`) are made once per exchange and shared by every
 * account on it, and Kraken requests share one lane.
 */
export class BalanceFetcher {
  private readonly options: Required<
    Omit<BalanceFetcherOptions, "krakenLane" | "onRetry" | "publicCache">
  > &
    BalanceFetcherOptions;
  private readonly priceBooks = new Map<string, Promise<Map<string, Fixed>>>();
  private readonly krakenLane: RequestLane;
  private priceRequestCount = 0;

  constructor(options: BalanceFetcherOptions = {}) {
    this.options = {
      timeoutMs: 10_000,
      attempts: 3,
      retryBaseDelayMs: 500,
      valuation: "total",
      stablecoins: DEFAULT_STABLECOINS,
      priceTtlMs: 120_000,
      // An option passed as undefined means "not set", not "none".
      ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
    };
    this.krakenLane = options.krakenLane ?? new KrakenLane();
  }

  get defaultValuation(): Valuation {
    return this.options.valuation;
  }

  /** HTTP requests made for shared public prices so far. */
  get priceRequests(): number {
    return this.priceRequestCount;
  }

  async fetchAccountBalance(request: BrokerAccountRequest): Promise<AccountBalance> {
    const broker = request.broker.toLowerCase();
    const valuation = request.options?.valuation ?? this.options.valuation;
    const { apiKey, secret, password, uid } = request.credentials ?? {};
    const secrets = [apiKey, secret, password, uid];
    try {
      return await this.fetchUnguarded(broker, valuation, request, secrets);
    } catch (error) {
      // A fault inside one account's parsing or valuation is that row's error, never the run's.
      const text = error instanceof Error ? error.message : String(error);
      return {
        ...failedBalance(broker, valuation, request),
        status: "exchange_error",
        message: redact(`internal error while reading ${broker}: ${text}`, secrets).slice(0, 200),
      };
    }
  }

  private async fetchUnguarded(
    broker: string,
    valuation: Valuation,
    request: BrokerAccountRequest,
    secrets: ReadonlyArray<string | undefined>,
  ): Promise<AccountBalance> {
    const options = request.options ?? {};
    const base = failedBalance(broker, valuation, request);
    const credentials = request.credentials;
    if (NON_CCXT_BROKERS.includes(broker)) {
      // The original's other broker types: listed and counted, but no ccxt class reads them.
      return {
        ...base,
        status: "unsupported_broker",
        message: `"${broker}" is not available through ccxt`,
        fetchedAt: null,
      };
    }
    if (!credentials && request.credentialProblem) {
      // Credentials that were configured but could not be read (the config changed mid-run).
      return {
        ...base,
        status: "config_error",
        message: request.credentialProblem,
        fetchedAt: null,
      };
    }
    if (!credentials) {
      // The guide's "$0.00 ○ no credentials": nothing fetched, nothing owed.
      return {
        ...base,
        status: "no_credentials",
        message: "no API credentials configured",
        usdCents: 0n,
        fetchedAt: null,
      };
    }
    const credentialProblem = request.credentialProblem || request.keyCheck?.();
    if (credentialProblem) {
      return {
        ...base,
        status: "config_error",
        message: credentialProblem,
        fetchedAt: null,
      };
    }
    const Class = await loadExchangeClass(broker);
    if (!Class) {
      return {
        ...base,
        status: "unsupported_broker",
        message: `"${broker}" is not available through ccxt`,
        fetchedAt: null,
      };
    }
    const adapter = adapterFor(broker);
    const { exchange, requests, lastAnswer } = createExchange(Class, {
      credentials,
      apiUrl: request.apiUrl,
      sandbox: request.sandbox,
      timeoutMs: this.options.timeoutMs,
      ccxtOptions: { ...adapter.privateExchangeOptions, ...options.ccxt },
      privateLane: broker === "kraken" ? this.krakenLane : undefined,
    });
    adapter.prepare?.(exchange);
    if (!exchange.has.fetchBalance) {
      return {
        ...base,
        status: "unsupported_broker",
        message: `${broker} does not support reading balances in ccxt`,
        fetchedAt: null,
      };
    }
    let balance: BrokerBalance | undefined;
    let skewRetried = false;
    for (let attempt = 1; balance === undefined; attempt += 1) {
      try {
        balance = await adapter.fetchBalance(exchange, options);
      } catch (error) {
        const failure = classifyError(error, broker, lastAnswer());
        const message = redact(failure.message, secrets);
        const failed = (text: string) => ({
          ...base,
          status: failure.status,
          message: text,
          fetchedAt: new Date().toISOString(),
          requests: requests(),
        });
        const wait = this.retryDelayMs(failure, attempt, skewRetried);
        if (wait === null) {
          return failed(`${message}${attempt > 1 ? ` after ${attempt} attempts` : ""}`);
        }
        if (failure.clockSkew) skewRetried = true;
        this.options.onRetry?.(broker, attempt, message);
        await sleep(wait);
      }
    }
    let prices = new Map<string, Fixed>();
    let message: string | null = null;
    if (valuation === "total" && balance.equityUsd === undefined) {
      try {
        prices = await this.usdPrices(broker, request.apiUrl ?? null, request.sandbox ?? false);
      } catch (error) {
        message = `prices unavailable: ${classifyError(error, broker).message}`;
      }
    }
    const stablecoins = new Set(options.stablecoins ?? this.options.stablecoins);
    const valued = valueBalance(balance, valuation, stablecoins, prices);
    if (!message && valued.unpriced.length > 0) {
      message = `no USD price for ${valued.unpriced.join(", ")}`;
    }
    return {
      ...base,
      status: "ok",
      message,
      fetchedAt: new Date().toISOString(),
      usdCents: valued.usdCents,
      basis: valued.basis,
      assets: valued.assets,
      unpriced: valued.unpriced,
      requests: requests(),
    };
  }

  /**
   * How long to wait before trying again, or null to stop: transient failures back off
   * exponentially; a rate limit waits at least what the exchange asked (and gives up when that
   * is longer than a run should wait); a clock-skew answer is retried once.
   */
  private retryDelayMs(
    failure: ClassifiedFailure,
    attempt: number,
    skewRetried: boolean,
  ): number | null {
    if (failure.clockSkew) return skewRetried ? null : 0;
    if (!failure.retryable || attempt >= this.options.attempts) return null;
    const backoff = this.options.retryBaseDelayMs * 2 ** (attempt - 1);
    const jittered = backoff + Math.random() * backoff * 0.25;
    const asked = (failure.retryAfterSeconds ?? 0) * 1000;
    if (asked > MAX_RETRY_AFTER_MS) return null;
    return Math.max(jittered, asked);
  }

  /** One public price look-up per exchange and origin per fetcher, however many accounts ask. */
  private usdPrices(
    broker: string,
    apiUrl: string | null,
    sandbox: boolean,
  ): Promise<Map<string, Fixed>> {
    const key = `${broker} ${apiUrl ?? ""} ${sandbox}`;
    let pending = this.priceBooks.get(key);
    if (!pending) {
      pending = (async () => {
        const Class = await loadExchangeClass(broker);
        if (!Class) return new Map<string, Fixed>();
        const { exchange, requests } = createExchange(Class, {
          credentials: null,
          apiUrl,
          sandbox,
          timeoutMs: this.options.timeoutMs,
        });
        const cache = this.options.publicCache ?? NO_PUBLIC_CACHE;
        try {
          // Remembered as decimal strings: the prices of the last few minutes serve a cold run.
          const stored = await cache.remember(
            `prices ${key}`,
            this.options.priceTtlMs,
            async () => {
              const prices = await adapterFor(broker).fetchUsdPrices(exchange, cache);
              return Object.fromEntries([...prices].map(([code, p]) => [code, fixedToString(p)]));
            },
          );
          return new Map(
            Object.entries(stored).flatMap(([code, text]) => {
              const price = priceOrNull(text);
              return price === null ? [] : [[code, price] as const];
            }),
          );
        } finally {
          this.priceRequestCount += requests();
        }
      })();
      this.priceBooks.set(key, pending);
    }
    return pending;
  }
}
