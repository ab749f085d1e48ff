import type { Exchange } from "ccxt";
import { keyFingerprint } from "../secrets.js";
import { rebaseApiUrls } from "./api-url.js";
import type { ExchangeClass } from "./ccxt-loader.js";
import type { HttpAnswer } from "./errors.js";
import { sendHttpRequest } from "./http-client.js";
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
  /** ccxt's sandbox mode: Alpaca paper, Binance testnet, OKX demo trading. */
  sandbox?: boolean;
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
  /** The latest HTTP answer, null before any or after a request that got none. */
  lastAnswer(): HttpAnswer | null;
}

type Method = (...args: unknown[]) => Promise<unknown>;

/** One configured ccxt instance per exchange, origin and options, shared by every account. */
const bases = new Map<string, Exchange>();

/**
 * A ccxt instance costs ~3 ms to construct (it copies a snake_case alias of every method) and,
 * with ccxt's default HTTP client, opens a connection pool of its own. So each exchange, origin
 * and option set gets one configured instance, and each account a thin view of it
 * (`Object.create`) holding only its own credentials, timeout, throttle, implicit API methods and
 * observers (~0.5 ms): per-request state that ccxt writes to `this` lands on the view.
 *
 * Every instance sends through http-client.ts (Node's http/https, one keep-alive pool per scheme).
 */
function baseExchange(Class: ExchangeClass, setup: ExchangeSetup): Exchange {
  const key = JSON.stringify([
    Class.name,
    setup.apiUrl ?? null,
    setup.sandbox ?? false,
    setup.ccxtOptions ?? {},
  ]);
  let base = bases.get(key);
  if (!base) {
    base = new Class({
      enableRateLimit: true,
      fetchImplementation: sendHttpRequest,
      ...setup.ccxtOptions,
    });
    // Sandbox first: it swaps in the test URLs, which an apiUrl then rebases like the others.
    if (setup.sandbox) base.setSandboxMode(true);
    if (setup.apiUrl) {
      base.urls.api = rebaseApiUrls(base.urls.api, setup.apiUrl) as typeof base.urls.api;
    }
    shareImplicitMethods(base);
    // ccxt looks for optional proxy-agent modules before a request, and settles its HTTP client,
    // remembering both on `this`: done here once, every view inherits them.
    const loader = base as unknown as Record<
      "loadProxyModules" | "loadFetchImplementation",
      () => Promise<void>
    >;
    void loader.loadProxyModules();
    void loader.loadFetchImplementation();
    bases.set(key, base);
  }
  return base;
}

type RestApiHost = {
  api: unknown;
  defineRestApi(api: unknown, methodName: string): void;
  defineRestApiEndpoint(...args: unknown[]): void;
};

/**
 * ccxt defines the implicit API methods (`privatePostBalanceEx` ...) as arrow functions over the
 * instance that built them, so a view calling them would sign with the shared instance's (empty)
 * credentials. Redefined once here as methods of whatever `this` they are called on, every view
 * inherits them; rebuilding ~700 closures per account cost ~0.7 ms each. The endpoint names and
 * arguments are ccxt's own (its `defineRestApiEndpoint`), only the binding differs.
 */
function shareImplicitMethods(base: Exchange): void {
  const host = base as unknown as RestApiHost & Record<string, unknown>;
  const capitalize = (s: string) => (s.length ? s.charAt(0).toUpperCase() + s.slice(1) : s);
  host.defineRestApiEndpoint = (
    methodName: unknown,
    uppercaseMethod: unknown,
    lowercaseMethod: unknown,
    camelcaseMethod: unknown,
    path: unknown,
    paths: unknown,
    config: unknown = {},
  ) => {
    const p = path as string;
    const prefixes = paths as string[];
    const splitPath = p.split(/[^a-zA-Z0-9]/);
    const camelcase =
      [prefixes[0], ...prefixes.slice(1).map(capitalize)].join("") +
      (camelcaseMethod as string) +
      capitalize(splitPath.map(capitalize).join(""));
    const underscore = `${[
      prefixes[0],
      ...prefixes
        .slice(1)
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    ].join("_")}_${lowercaseMethod as string}_${splitPath
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x.length > 0)
      .join("_")}`;
    const typeArgument = prefixes.length > 1 ? prefixes : prefixes[0];
    const method = async function (this: Record<string, Method>, params = {}, context = {}) {
      return this[methodName as string]?.(
        p,
        typeArgument,
        uppercaseMethod,
        params,
        undefined,
        undefined,
        config,
        context,
      );
    };
    host[camelcase] = method;
    host[underscore] = method;
  };
  host.defineRestApi(host.api, "request");
}

/**
 * A real ccxt exchange for one account: credentials, timeout, optional API origin, and
 * observation. ccxt signs and sends every request itself; we only count `fetch` calls, note the
 * status its error handler sees, and, for lanes, wrap `fetch2` (which signs, so a nonce is taken
 * only once the lane lets the request go).
 */
export function createExchange(Class: ExchangeClass, setup: ExchangeSetup): ObservedExchange {
  const exchange = Object.create(baseExchange(Class, setup)) as Exchange;
  Object.assign(exchange, setup.credentials ?? {});
  exchange.timeout = setup.timeoutMs;
  const view = exchange as unknown as { initThrottler(): void };
  // A throttle of its own: ccxt's rate limits are per key.
  view.initThrottler();
  const target = exchange as unknown as Record<"fetch" | "fetch2" | "handleErrors", Method>;
  let count = 0;
  // As ccxt handed it over; made an HttpAnswer only when asked (on a failure).
  let answer: { status: number; headers: unknown; body: unknown } | null = null;
  let pace: (() => Promise<void>) | null = null;

  const fetch = target.fetch.bind(exchange);
  target.fetch = async (...args) => {
    if (pace) await pace();
    count += 1;
    answer = null;
    return fetch(...args);
  };
  const handleErrors = target.handleErrors.bind(exchange) as unknown as (
    ...a: unknown[]
  ) => unknown;
  // ccxt hands every answer to handleErrors(code, reason, url, method, headers, body, ...)
  // before it maps errors: the one place the status, headers and body are all seen.
  target.handleErrors = ((code: unknown, reason, url, method, headers, body, ...rest) => {
    answer = typeof code === "number" ? { status: code, headers, body } : null;
    return handleErrors(code, reason, url, method, headers, body, ...rest);
  }) as Method;

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
  const lastAnswer = (): HttpAnswer | null =>
    answer && {
      status: answer.status,
      headers: lowerCaseHeaders(answer.headers),
      body: String(answer.body ?? ""),
    };
  return { exchange, requests: () => count, lastAnswer };
}

function lowerCaseHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers && typeof headers === "object") {
    for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
  }
  return out;
}

function isPrivate(api: unknown): boolean {
  return api === "private" || (Array.isArray(api) && api.includes("private"));
}
