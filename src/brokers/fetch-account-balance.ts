import type { Balances } from "ccxt";
import type { Fixed } from "../money.js";
import { KrakenLane } from "../queue/kraken-lane.js";
import { redact } from "../secrets.js";
import { adapterFor } from "./adapters.js";
import { loadExchangeClass } from "./ccxt-loader.js";
import { classifyError } from "./errors.js";
import { createExchange, type RequestLane } from "./exchange.js";
import {
  type AccountBalance,
  type BalanceStatus,
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
  /** Called before each retry, for diagnostics. */
  onRetry?: (broker: string, attempt: number, message: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Fetches broker account balances through real ccxt classes. One fetcher serves a whole run:
 * public price look-ups (valuation `total`) are made once per exchange and shared by every
 * account on it, and Kraken requests share one lane.
 */
export class BalanceFetcher {
  private readonly options: Required<Omit<BalanceFetcherOptions, "krakenLane" | "onRetry">> &
    BalanceFetcherOptions;
  private readonly priceBooks = new Map<string, Promise<Map<string, Fixed>>>();
  private readonly krakenLane: RequestLane;
  private priceRequestCount = 0;

  constructor(options: BalanceFetcherOptions = {}) {
    this.options = {
      timeoutMs: 10_000,
      attempts: 3,
      retryBaseDelayMs: 500,
      valuation: "cash",
      stablecoins: DEFAULT_STABLECOINS,
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
    const options = request.options ?? {};
    const valuation = options.valuation ?? this.options.valuation;
    const started = { requests: 0 };
    const result = (status: BalanceStatus, message: string | null): AccountBalance => ({
      broker,
      status,
      message,
      usdCents: 0,
      valuation,
      assets: {},
      unpriced: [],
      fetchedAt: new Date().toISOString(),
      requests: started.requests,
    });
    const credentials = request.credentials;
    if (!credentials) return result("no_credentials", "no API credentials configured");
    const Class = await loadExchangeClass(broker);
    if (!Class) return result("unsupported_broker", `"${broker}" is not a ccxt exchange id`);
    const secrets = [credentials.apiKey, credentials.secret, credentials.password, credentials.uid];
    const adapter = adapterFor(broker);
    const { exchange, requests, lastStatus } = createExchange(Class, {
      credentials,
      apiUrl: request.apiUrl,
      timeoutMs: this.options.timeoutMs,
      ccxtOptions: { ...adapter.privateExchangeOptions, ...options.ccxt },
      privateLane: broker === "kraken" ? this.krakenLane : undefined,
    });
    adapter.prepare?.(exchange);
    if (!exchange.has.fetchBalance) {
      return result("unsupported_broker", `${broker} does not support reading balances in ccxt`);
    }
    let balance: Balances | undefined;
    for (let attempt = 1; balance === undefined; attempt += 1) {
      try {
        balance = await adapter.fetchBalance(exchange, options);
      } catch (error) {
        const failure = classifyError(error, broker, lastStatus());
        started.requests = requests();
        const message = redact(failure.message, secrets);
        if (!failure.retryable || attempt >= this.options.attempts) {
          const tries = attempt > 1 ? ` after ${attempt} attempts` : "";
          return result(failure.status, `${message}${tries}`);
        }
        this.options.onRetry?.(broker, attempt, message);
        const backoff = this.options.retryBaseDelayMs * 2 ** (attempt - 1);
        await sleep(backoff + Math.random() * backoff * 0.25);
      }
    }
    started.requests = requests();
    let prices = adapter.pricesFromBalance?.(balance) ?? new Map<string, Fixed>();
    let message: string | null = null;
    if (valuation === "total") {
      try {
        const shared = await this.usdPrices(broker, request.apiUrl ?? null);
        prices = new Map([...shared, ...prices]);
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
      ...result("ok", message),
      usdCents: valued.usdCents,
      assets: valued.assets,
      unpriced: valued.unpriced,
    };
  }

  /** One public price look-up per exchange and origin per fetcher, however many accounts ask. */
  private usdPrices(broker: string, apiUrl: string | null): Promise<Map<string, Fixed>> {
    const key = `${broker} ${apiUrl ?? ""}`;
    let pending = this.priceBooks.get(key);
    if (!pending) {
      pending = (async () => {
        const Class = await loadExchangeClass(broker);
        if (!Class) return new Map<string, Fixed>();
        const { exchange, requests } = createExchange(Class, {
          credentials: null,
          apiUrl,
          timeoutMs: this.options.timeoutMs,
        });
        try {
          return await adapterFor(broker).fetchUsdPrices(exchange);
        } finally {
          this.priceRequestCount += requests();
        }
      })();
      this.priceBooks.set(key, pending);
    }
    return pending;
  }
}
