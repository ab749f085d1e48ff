import type { Exchange } from "ccxt";
import { keyFingerprint } from "../secrets.js";
import { rebaseApiUrls } from "./api-url.js";
import type { ExchangeClass } from "./ccxt-loader.js";
import type { Credentials } from "./types.js";

/** Serialises private requests per key; see queue/kraken-lane.ts. */
export interface RequestLane {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
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

/** A ccxt instance plus the number of HTTP requests it has sent. */
export interface CountedExchange {
  exchange: Exchange;
  requests(): number;
}

type Fetch = (url: string, method?: string, headers?: unknown, body?: unknown) => Promise<unknown>;
type Fetch2 = (path: unknown, api?: unknown, ...rest: unknown[]) => Promise<unknown>;

/**
 * Builds a real ccxt exchange for one account: credentials, timeout, optional API origin, and a
 * request counter. ccxt signs and sends every request itself; we only observe `fetch` and, for
 * lanes, wrap `fetch2` (which signs, so a nonce is taken only once the lane lets the request go).
 */
export function createExchange(Class: ExchangeClass, setup: ExchangeSetup): CountedExchange {
  const exchange = new Class({
    enableRateLimit: true,
    timeout: setup.timeoutMs,
    ...setup.ccxtOptions,
    ...(setup.credentials ?? {}),
  });
  if (setup.apiUrl) {
    exchange.urls.api = rebaseApiUrls(exchange.urls.api, setup.apiUrl) as typeof exchange.urls.api;
  }
  let count = 0;
  const target = exchange as unknown as { fetch: Fetch; fetch2: Fetch2 };
  const fetch = target.fetch.bind(exchange);
  target.fetch = (...args) => {
    count += 1;
    return fetch(...args);
  };
  const lane = setup.privateLane;
  const apiKey = setup.credentials?.apiKey;
  if (lane && apiKey) {
    const laneKey = keyFingerprint(apiKey);
    const fetch2 = target.fetch2.bind(exchange);
    target.fetch2 = (path, api, ...rest) =>
      isPrivate(api) ? lane.run(laneKey, () => fetch2(path, api, ...rest)) : fetch2(path, api, ...rest);
  }
  return { exchange, requests: () => count };
}

function isPrivate(api: unknown): boolean {
  return api === "private" || (Array.isArray(api) && api.includes("private"));
}
