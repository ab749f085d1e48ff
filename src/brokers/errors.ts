import type { BalanceStatus } from "./types.js";

export interface ClassifiedFailure {
  status: Exclude<BalanceStatus, "ok">;
  message: string;
  retryable: boolean;
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

/** Exchange error codes worth showing (e.g. "EAPI:Invalid key", "40110000"): short and secret-free. */
function exchangeDetail(error: unknown): string | null {
  const text = error instanceof Error ? error.message : String(error);
  const kraken = /E[A-Z][A-Za-z]+:[A-Za-z ]+/.exec(text);
  if (kraken) return kraken[0];
  const http = /\b([1-5]\d\d) ([A-Z][A-Za-z ]+)\b/.exec(text);
  if (http) return `HTTP ${http[1]} ${http[2]?.trim()}`;
  return null;
}

/**
 * Maps any error thrown while fetching a balance to a status and a short message. The message is
 * ours plus, at most, the exchange's error code: never the raw ccxt message, which can echo
 * request details.
 */
export function classifyError(error: unknown, broker: string): ClassifiedFailure {
  const names = errorClassNames(error);
  const detail = exchangeDetail(error);
  const withDetail = (text: string) => (detail ? `${text} (${detail})` : text);
  const is = (name: string) => names.includes(name);
  if (is("PermissionDenied")) {
    return {
      status: "permission_denied",
      message: withDetail(`${broker} key lacks permission to read balances`),
      retryable: false,
    };
  }
  if (is("AuthenticationError")) {
    return {
      status: "auth_failed",
      message: withDetail(`${broker} rejected the API key or signature`),
      retryable: false,
    };
  }
  if (is("RequestTimeout")) {
    return { status: "timeout", message: `${broker} did not answer in time`, retryable: false };
  }
  if (is("DDoSProtection") || is("RateLimitExceeded")) {
    return {
      status: "rate_limited",
      message: withDetail(`${broker} rate limit hit`),
      retryable: true,
    };
  }
  if (is("InvalidNonce")) {
    return {
      status: "network_error",
      message: withDetail(`${broker} refused the request nonce`),
      retryable: true,
    };
  }
  if (is("ExchangeNotAvailable")) {
    return {
      status: "network_error",
      message: withDetail(`${broker} is unavailable`),
      retryable: true,
    };
  }
  if (is("NetworkError")) {
    return {
      status: "network_error",
      message: withDetail(`cannot reach ${broker}`),
      retryable: true,
    };
  }
  if (is("BadResponse") || error instanceof SyntaxError) {
    return {
      status: "exchange_error",
      message: `${broker} sent a response that is not valid`,
      retryable: false,
    };
  }
  if (is("NotSupported")) {
    return {
      status: "unsupported_broker",
      message: `${broker} does not support reading balances`,
      retryable: false,
    };
  }
  return {
    status: "exchange_error",
    message: withDetail(`${broker} returned an error`),
    retryable: false,
  };
}
