import type { BalanceStatus } from "./types.js";

export interface ClassifiedFailure {
  status: Exclude<BalanceStatus, "ok">;
  message: string;
  retryable: boolean;
}

/** Thrown by adapters when an answer does not have the shape the exchange documents. */
export class MalformedResponseError extends Error {
  override readonly name = "MalformedResponseError";
}

/** ccxt error class names from most to least specific, walking each error's prototype chain. */
function errorClassNames(error: unknown): string[] {
  const names: string[] = [];
  let proto = error !== null && typeof error === "object" ? Object.getPrototypeOf(error) : null;
  while (proto && proto !== Object.prototype) {
    const name = (proto.constructor as { name?: string } | undefined)?.name;
    if (name) names.push(name);
    proto = Object.getPrototypeOf(proto);
  }
  return names;
}

/**
 * The exchange's own error code, worth showing and secret-free: Kraken's "EAPI:Invalid key",
 * Alpaca's numeric codes, Coinbase's error ids. Never the raw ccxt message, which echoes bodies.
 */
function exchangeCode(error: unknown): string | null {
  const text = error instanceof Error ? error.message : String(error);
  const kraken = /\bE[A-Z][A-Za-z]+:[A-Za-z ]+[A-Za-z]/.exec(text);
  if (kraken) return kraken[0];
  const numeric = /"code"\s*:\s*"?(\d{3,})/.exec(text);
  if (numeric) return `code ${numeric[1]}`;
  const id = /"(?:id|error)"\s*:\s*"([A-Za-z_]{3,40})"/.exec(text);
  return id ? (id[1] ?? null) : null;
}

type Kind = Exclude<BalanceStatus, "ok" | "no_credentials">;

const WORDING: Record<Kind, (broker: string) => string> = {
  auth_failed: (b) => `${b} rejected the API key or signature`,
  permission_denied: (b) => `${b} key lacks permission to read balances`,
  rate_limited: (b) => `${b} rate limit hit`,
  network_error: (b) => `cannot reach ${b}`,
  timeout: (b) => `${b} did not answer in time`,
  exchange_error: (b) => `${b} returned an error`,
  unsupported_broker: (b) => `${b} does not support reading balances`,
};

const RETRYABLE = new Set<Kind>(["rate_limited", "network_error"]);

function kindOf(names: string[], code: string | null, httpStatus: number | null): [Kind, string?] {
  const is = (name: string) => names.includes(name);
  if (is("RequestTimeout")) return ["timeout"];
  if (is("MalformedResponseError") || is("BadResponse") || is("SyntaxError")) {
    return ["exchange_error", "sent a response that is not valid"];
  }
  // The HTTP status is the exchange's plainest word; ccxt's class for it varies by exchange
  // (Alpaca's 401 becomes PermissionDenied, Coinbase's 500 a plain ExchangeError).
  if (httpStatus === 401) return ["auth_failed"];
  if (httpStatus === 403) return ["permission_denied"];
  if (httpStatus === 429) return ["rate_limited"];
  if (httpStatus !== null && httpStatus >= 500) return ["network_error", "is unavailable"];
  // Kraken answers 200 with an error list; ccxt does not map a bad signature.
  if (code === "EAPI:Invalid signature") return ["auth_failed"];
  if (is("PermissionDenied")) return ["permission_denied"];
  if (is("AuthenticationError")) return ["auth_failed"];
  if (is("DDoSProtection") || is("RateLimitExceeded")) return ["rate_limited"];
  if (is("InvalidNonce")) return ["network_error", "refused the request nonce"];
  if (is("ExchangeNotAvailable")) return ["network_error", "is unavailable"];
  if (is("NetworkError")) return ["network_error"];
  if (is("NotSupported")) return ["unsupported_broker"];
  return ["exchange_error"];
}

/**
 * Maps any error thrown while fetching a balance (and the HTTP status of the answer, when there
 * was one) to a status, a short message and whether a retry may help. See types.ts for the table.
 */
export function classifyError(
  error: unknown,
  broker: string,
  httpStatus: number | null = null,
): ClassifiedFailure {
  const code = exchangeCode(error);
  const [kind, phrase] = kindOf(errorClassNames(error), code, httpStatus);
  const base = phrase ? `${broker} ${phrase}` : WORDING[kind](broker);
  const detail = [httpStatus ? `HTTP ${httpStatus}` : null, code].filter(Boolean).join(", ");
  return {
    status: kind,
    message: detail ? `${base} (${detail})` : base,
    retryable: RETRYABLE.has(kind),
  };
}
