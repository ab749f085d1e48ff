import { safeText } from "../render/sanitize.js";
import type { BalanceStatus } from "./types.js";

export interface ClassifiedFailure {
  status: Exclude<BalanceStatus, "ok">;
  message: string;
  retryable: boolean;
  /** Seconds the exchange asked us to wait (Retry-After), when it said. */
  retryAfterSeconds?: number;
  /** Clock skew: worth one retry (a fresh timestamp), never more. */
  clockSkew?: boolean;
}

/** Thrown by adapters when an answer does not have the shape the exchange documents. */
export class MalformedResponseError extends Error {
  override readonly name = "MalformedResponseError";
}

/** Thrown by adapters for an account option they cannot use (a config problem; no retry). */
export class BrokerOptionError extends Error {
  override readonly name = "BrokerOptionError";
}

/** The last HTTP answer an exchange instance saw (see exchange.ts). */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
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

/** The exchange's own code and text, from its JSON error body (each exchange has its shape). */
interface ExchangeDetail {
  code: string | null;
  text: string | null;
}

function detailFromBody(body: string | undefined): ExchangeDetail {
  let parsed: unknown;
  try {
    parsed = body ? JSON.parse(body) : undefined;
  } catch {
    return { code: null, text: null };
  }
  if (parsed === null || typeof parsed !== "object") return { code: null, text: null };
  const o = parsed as Record<string, unknown>;
  const str = (v: unknown) =>
    typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null;
  // Kraken {"error":["EAPI:Invalid key"]}
  if (Array.isArray(o.error) && o.error.length > 0) {
    const first = str(o.error[0]);
    return { code: first, text: null };
  }
  // Coinbase v2 {"errors":[{"id":"authentication_error","message":"request timestamp expired"}]}
  if (Array.isArray(o.errors) && o.errors[0] && typeof o.errors[0] === "object") {
    const first = o.errors[0] as Record<string, unknown>;
    return { code: str(first.id), text: str(first.message) };
  }
  // Coinbase {"error":"PERMISSION_DENIED","message":"...","error_details":"missing required scopes"}
  if (typeof o.error === "string") {
    return { code: o.error, text: str(o.error_details) ?? str(o.message) };
  }
  // Binance {"code":-2015,"msg":"..."}; OKX {"code":"50111","msg":"..."}; Alpaca {"code":40110000,"message":"..."}
  const code = str(o.code);
  const text = str(o.msg) ?? str(o.message);
  return { code: code === "0" ? null : code, text };
}

/** The text of a ccxt error (which quotes the body), for exchanges whose body we did not see. */
function detailFromMessage(error: unknown): ExchangeDetail {
  const text = error instanceof Error ? error.message : String(error);
  const kraken = /\bE[A-Z][A-Za-z]+:[A-Za-z ]+[A-Za-z]/.exec(text);
  if (kraken) return { code: kraken[0], text: null };
  const brace = text.indexOf("{");
  return brace >= 0 ? detailFromBody(text.slice(brace)) : { code: null, text: null };
}

/** Control characters out, one line, bounded: exchange text goes to terminals and logs. */
function clean(text: string): string {
  return safeText(text).replace(/\s+/g, " ").trim().slice(0, 200);
}

type Kind = Exclude<BalanceStatus, "ok" | "no_credentials" | "config_error">;

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

/** Answers that mean "your clock is off": Binance -1021, OKX 50102, Coinbase's expired token. */
function isClockSkew(detail: ExchangeDetail): boolean {
  if (detail.code === "-1021" || detail.code === "50102") return true;
  return /timestamp.*(expired|outside)|request (time|timestamp) (is )?(expired|too)/i.test(
    detail.text ?? "",
  );
}

/** Exchange codes with a meaning of their own, whatever the HTTP status. */
const CODES: Record<string, [Kind, string]> = {
  "EAPI:Invalid signature": ["auth_failed", "rejected the request signature"],
  "EAPI:Invalid key": ["auth_failed", "rejected the API key"],
  "EGeneral:Permission denied": ["permission_denied", "key lacks permission to read balances"],
  "-2015": ["auth_failed", "rejected the API key, its IP whitelist or its permissions"],
  "-2014": ["auth_failed", "rejected the API key format"],
  "-1022": ["auth_failed", "rejected the request signature"],
  "50111": ["auth_failed", "rejected the API key (OK-ACCESS-KEY)"],
  "50119": ["auth_failed", "does not know the API key (deleted, or never created)"],
  "50113": ["auth_failed", "rejected the request signature (OK-ACCESS-SIGN)"],
  "50105": ["auth_failed", "rejected the passphrase (OK-ACCESS-PASSPHRASE)"],
  "50101": ["auth_failed", "says the key belongs to the other environment (live vs demo)"],
  "50011": ["rate_limited", "rate limit hit"],
  "50061": ["rate_limited", "rate limit hit"],
};

function kindOf(
  broker: string,
  names: string[],
  detail: ExchangeDetail,
  httpStatus: number | null,
): [Kind, string?] {
  const is = (name: string) => names.includes(name);
  if (is("RequestTimeout")) return ["timeout"];
  if (is("MalformedResponseError") || is("BadResponse") || is("SyntaxError")) {
    return ["exchange_error", "sent a response that is not valid"];
  }
  const known = detail.code ? CODES[detail.code] : undefined;
  if (known) return known;
  // The HTTP status is the exchange's plainest word; ccxt's class for it varies by exchange
  // (Alpaca's 401 becomes PermissionDenied, Coinbase's 500 a plain ExchangeError).
  if ((httpStatus === 401 || httpStatus === 403) && broker === "alpaca") {
    // Alpaca's answer for a wrong key and for a key of the other environment (paper/live).
    return [
      "auth_failed",
      "refused the key: a wrong key, or a paper key on the live endpoint (see `paper`)",
    ];
  }
  if (httpStatus === 401) return ["auth_failed"];
  if (httpStatus === 403) return ["permission_denied"];
  if (httpStatus === 429 || httpStatus === 418) return ["rate_limited"];
  if (httpStatus !== null && httpStatus >= 500) return ["network_error", "is unavailable"];
  if (httpStatus !== null && httpStatus >= 400) return ["exchange_error", "refused the request"];
  if (is("PermissionDenied")) return ["permission_denied"];
  if (is("AuthenticationError")) return ["auth_failed"];
  if (is("DDoSProtection") || is("RateLimitExceeded")) return ["rate_limited"];
  if (is("InvalidNonce")) return ["network_error", "refused the request nonce"];
  if (is("ExchangeNotAvailable")) return ["network_error", "is unavailable"];
  if (is("NetworkError")) return ["network_error"];
  if (is("NotSupported")) return ["unsupported_broker"];
  return ["exchange_error"];
}

function retryAfter(answer: HttpAnswer | null): number | undefined {
  const value = answer?.headers["retry-after"];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/**
 * Maps any error thrown while fetching a balance (and the last HTTP answer, when there was one)
 * to a status, a message that points at the fix, and whether a retry may help. The message keeps
 * the exchange's own code and text (cleaned); the caller redacts credentials. See types.ts.
 */
export function classifyError(
  error: unknown,
  broker: string,
  answer: HttpAnswer | null = null,
): ClassifiedFailure {
  // Our own errors by class (the bundle renames classes); ccxt's by name (its bundle keeps them).
  if (error instanceof BrokerOptionError) {
    const text = error instanceof Error ? error.message : String(error);
    return { status: "config_error", message: clean(`${broker} ${text}`), retryable: false };
  }
  if (error instanceof MalformedResponseError) {
    const text = error instanceof Error ? error.message : String(error);
    const what = text.startsWith("sent ") ? text : `sent an answer of the wrong shape: ${text}`;
    return { status: "exchange_error", message: clean(`${broker} ${what}`), retryable: false };
  }
  const names = errorClassNames(error);
  if (!names.includes("BaseError") && !(error instanceof SyntaxError)) {
    // Not ccxt's and not the exchange's: a fault of ours, named as such (never retried).
    const text = error instanceof Error ? error.message : String(error);
    return {
      status: "exchange_error",
      message: clean(`internal error while reading ${broker}: ${text}`),
      retryable: false,
    };
  }
  const httpStatus = answer?.status ?? null;
  const fromBody = answer ? detailFromBody(answer.body) : null;
  const detail = fromBody?.code || fromBody?.text ? fromBody : detailFromMessage(error);
  if (isClockSkew(detail)) {
    const said = [detail.code, detail.text].filter(Boolean).join(" ");
    return {
      status: "auth_failed",
      message: clean(
        `${broker} says the request time is outside its window (${said}): check this machine's clock (it reads ${new Date().toISOString()})`,
      ),
      retryable: false,
      clockSkew: true,
    };
  }
  const [kind, phrase] = kindOf(broker, names, detail, httpStatus);
  const base = phrase ? `${broker} ${phrase}` : WORDING[kind](broker);
  const parts = [
    httpStatus && httpStatus >= 400 ? `HTTP ${httpStatus}` : null,
    detail.code && !phrase?.includes(detail.code) ? detail.code : null,
    detail.text,
  ].filter(Boolean);
  const failure: ClassifiedFailure = {
    status: kind,
    message: clean(parts.length ? `${base} (${parts.join(": ")})` : base),
    retryable: RETRYABLE.has(kind),
  };
  const wait = kind === "rate_limited" ? retryAfter(answer) : undefined;
  if (wait !== undefined) {
    failure.retryAfterSeconds = wait;
    failure.message += ` (asked to wait ${Math.ceil(wait)} s)`;
  }
  return failure;
}
