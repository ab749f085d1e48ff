/**
 * The webhook: one JSON POST per run that fired alerts. Each attempt has a timeout, transient
 * failures (network, timeout, 408, 429, 5xx) are retried with backoff (or after the Retry-After a
 * 429 or 503 asks for, up to a bound), and the whole delivery is bounded in time. What cannot succeed (another 4xx, a request that cannot even be built, a host
 * name that does not exist) is not retried. It never throws: the caller reports a failure on
 * stderr and carries on.
 *
 * A webhook URL often carries its secret in the path or query, so it is only ever shown as its
 * origin; one with credentials before the host (user:pass@) is refused up front (fetch refuses
 * to send it anyway, and it would show up wherever the URL is printed).
 */

import { NOTIFY_URL_ENV } from "../config/bounds.js";

export interface WebhookOptions {
  /** Per attempt, default 5 s. */
  timeoutMs?: number;
  /** Default 3. */
  attempts?: number;
  /** First backoff, doubled after each failure; default 500 ms. */
  backoffMs?: number;
  /** The whole delivery, retries included; default 15 s (stretched by a Retry-After waited). */
  deadlineMs?: number;
  /** The longest Retry-After (429, 503) waited out; a longer one ends the delivery. Default 30 s. */
  maxRetryAfterMs?: number;
  /** Extra request headers (e.g. Authorization from SHOW_USER_BALANCES_NOTIFY_AUTHORIZATION). */
  headers?: Record<string, string>;
}

export type WebhookResult =
  | { ok: true; attempts: number; status: number }
  | { ok: false; attempts: number; error: string };

/** The variable whose value is sent as the webhook's Authorization header. */
export const NOTIFY_AUTH_ENV = "SHOW_USER_BALANCES_NOTIFY_AUTHORIZATION";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The URL without path, query or credentials: webhook paths often embed a secret token. */
export function redactUrl(url: string): string {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? "(a URL)" : origin;
  } catch {
    return "(an invalid URL)";
  }
}

/** Every URL inside a message, reduced to its origin. */
export function redactUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (found) => redactUrl(found));
}

/**
 * A --notify value (or SHOW_USER_BALANCES_NOTIFY_URL's, named by `source`) checked before the
 * run: an http(s) URL without credentials. The error never repeats the value (it may hold a
 * secret), only its origin.
 */
export function checkWebhookUrl(
  value: string,
  source = "--notify",
): { error: string; hint: string } | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return {
      error: `${source} takes an http(s) URL, and this is not a URL`,
      hint: `give the whole URL, e.g. https://hooks.example.com/services/<token>`,
    };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return {
      error: `${source} takes an http(s) URL, not ${url.protocol.replace(/:$/, "")}:`,
      hint: "give the webhook's https:// URL",
    };
  }
  if (url.username !== "" || url.password !== "") {
    return {
      error: `${source} ${redactUrl(value)}: the URL carries credentials (user:password@), which would be sent nowhere safe and shown in process lists`,
      hint: `drop them from the URL and use a token in its path (most webhooks do), or put the header value in ${NOTIFY_AUTH_ENV} (e.g. "Basic <base64 of user:password>"); keep the URL itself out of the command line in ${NOTIFY_URL_ENV}`,
    };
  }
  return null;
}

export async function postWebhook(
  url: string,
  body: string,
  options: WebhookOptions = {},
): Promise<WebhookResult> {
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  let deadline = Date.now() + (options.deadlineMs ?? 15_000);
  let backoff = options.backoffMs ?? 500;
  let error = "not sent";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) return { ok: false, attempts: attempt - 1, error: `${error} (out of time)` };
    let retry = true;
    let askedWaitMs: number | null = null;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "show-user-balances",
          ...options.headers,
        },
        body,
        signal: AbortSignal.timeout(Math.min(timeoutMs, left)),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, attempts: attempt, status: response.status };
      error = `HTTP ${response.status}`;
      retry = response.status === 408 || response.status === 429 || response.status >= 500;
      if (response.status === 429 || response.status === 503) {
        askedWaitMs = retryAfterMs(response.headers.get("retry-after"));
      }
    } catch (e) {
      const name = e instanceof Error ? e.name : "";
      if (name === "TimeoutError" || name === "AbortError") {
        error = `no answer within ${Math.round(Math.min(timeoutMs, left))} ms`;
      } else {
        const cause = causeOf(e);
        error = `network error (${cause.text})`;
        retry = cause.transient;
      }
    }
    if (!retry) return { ok: false, attempts: attempt, error };
    if (askedWaitMs !== null && askedWaitMs > maxRetryAfterMs) {
      const asked = Math.ceil(askedWaitMs / 1000);
      const most = Math.round(maxRetryAfterMs / 1000);
      error = `${error}, asked to retry after ${asked} s (more than the ${most} s a run waits)`;
      return { ok: false, attempts: attempt, error };
    }
    if (attempt < attempts && askedWaitMs !== null) {
      // The receiver said when: wait that instead of the backoff, even past the usual bound.
      deadline = Math.max(deadline, Date.now() + askedWaitMs + timeoutMs);
      await sleep(askedWaitMs);
      continue;
    }
    if (attempt < attempts) {
      const wait = Math.min(backoff, deadline - Date.now());
      if (wait <= 0) return { ok: false, attempts: attempt, error: `${error} (out of time)` };
      await sleep(wait);
      backoff *= 2;
    }
  }
  return { ok: false, attempts, error };
}

/**
 * A Retry-After value in ms: delay-seconds or an HTTP date (RFC 9110 10.2.3); a date already
 * past is 0. Null when absent or unreadable (the backoff applies).
 */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // All three HTTP date forms start with the day's name; Date.parse alone takes "-5" as a year.
  const at = /^[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Codes that say the request can never succeed as given: retrying would only repeat them. */
const PERMANENT = new Set([
  "ENOTFOUND",
  "ERR_INVALID_URL",
  "ERR_INVALID_ARG_VALUE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * Why fetch failed, without the URL (undici puts it in some messages) and whether to try again. A
 * TypeError with no cause is a request fetch refused to build (credentials in the URL, a bad
 * header value): permanent, and its message (which may quote the header) is not repeated.
 */
function causeOf(e: unknown): { text: string; transient: boolean } {
  const cause =
    e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  const code = cause?.code;
  if (code) return { text: code, transient: !PERMANENT.has(code) };
  if (e instanceof TypeError && cause === undefined) {
    return { text: "the request could not be built from the URL and headers", transient: false };
  }
  const message = cause?.message ?? (e instanceof Error ? e.message : String(e));
  return { text: redactUrls(message), transient: true };
}
