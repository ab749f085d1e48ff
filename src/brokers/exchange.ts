import type { Exchange } from "ccxt";
import { keyFingerprint } from "../secrets.js";
import { rebaseApiUrls } from "./api-url.js";
import type { ExchangeClass } from "./ccxt-loader.js";
import type { Credentials } from "./types.js";

/**
 * Serialises private requests per key (see queue/kraken-lane.ts). The task gets `paceSend`, to
 * call right before its request goes on the wire: the lane's spacing is measured between sends.
 */
export interface RequestLane {
  run<T>(key: string, task: (paceSend: () => Promise<void>) => Promise<T>): Promise<T>;
}

export interface ExchangeSetup {
  credentials: Credentials | null;
  apiUrl?: string | null;
  timeoutMs: number;
  /** Extra ccxt constructor options from the account's config. */
  ccxtOptions?: Record<string, unknown>;
  /** When set, every private request of this instance runs through the lane, keyed by the key. */
  privateLane?: RequestLane;
}

/** A ccxt instance plus what we observe of its traffic. */
export interface ObservedExchange {
  exchange: Exchange;
  /** HTTP requests sent so far. */
  requests(): number;
  /** HTTP status of the latest response, null before any or after a request that got none. */
  lastStatus(): number | null;
}

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * Builds a real ccxt exchange for one account: credentials, timeout, optional API origin, and
 * observation. ccxt signs and sends every request itself; we only count `fetch` calls, note the
 * status its error handler sees, and, for lanes, wrap `fetch2` (which signs, so a nonce is taken
 * only once the lane lets the request go).
 */
export function createExchange(Class: ExchangeClass, setup: ExchangeSetup): ObservedExchange {
  const exchange = new Class({
    enableRateLimit: true,
    timeout: setup.timeoutMs,
    ...setup.ccxtOptions,
    ...(setup.credentials ?? {}),
  });
  if (setup.apiUrl) {
    exchange.urls.api = rebaseApiUrls(exchange.urls.api, setup.apiUrl) as typeof exchange.urls.api;
  }
  const target = exchange as unknown as Record<"fetch" | "fetch2" | "handleErrors", Method>;
  let count = 0;
  let status: number | null = null;
  let pace: (() => Promise<void>) | null = null;

  const fetch = target.fetch.bind(exchange);
  target.fetch = async (...args) => {
    if (pace) await pace();
    count += 1;
    status = null;
    return fetch(...args);
  };
  const handleErrors = target.handleErrors.bind(exchange) as unknown as (
    ...a: unknown[]
  ) => unknown;
  target.handleErrors = ((code: unknown, ...rest: unknown[]) => {
    status = typeof code === "number" ? code : null;
    return handleErrors(code, ...rest);
  }) as unknown as Method;

  const lane = setup.privateLane;
  const apiKey = setup.credentials?.apiKey;
  if (lane && apiKey) {
    const laneKey = keyFingerprint(apiKey);
    const fetch2 = target.fetch2.bind(exchange);
    target.fetch2 = (path, api, ...rest) => {
      if (!isPrivate(api)) return fetch2(path, api, ...rest);
      return lane.run(laneKey, async (paceSend) => {
        pace = paceSend;
        try {
          return await fetch2(path, api, ...rest);
        } finally {
          pace = null;
        }
      });
    };
  }
  return { exchange, requests: () => count, lastStatus: () => status };
}

function isPrivate(api: unknown): boolean {
  return api === "private" || (Array.isArray(api) && api.includes("private"));
}
