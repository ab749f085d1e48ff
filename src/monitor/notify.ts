/**
 * The webhook: one JSON POST per run that fired alerts. Each attempt has a timeout, transient
 * failures (network, timeout, 429, 5xx) are retried with backoff, and the whole delivery is
 * bounded in time. It never throws: the caller reports a failure on stderr and carries on.
 */

export interface WebhookOptions {
  /** Per attempt, default 5 s. */
  timeoutMs?: number;
  /** Default 3. */
  attempts?: number;
  /** First backoff, doubled after each failure; default 500 ms. */
  backoffMs?: number;
  /** The whole delivery, retries included; default 15 s. */
  deadlineMs?: number;
}

export type WebhookResult =
  | { ok: true; attempts: number; status: number }
  | { ok: false; attempts: number; error: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The URL without path, query or credentials: webhook paths often embed a secret token. */
export function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

export async function postWebhook(
  url: string,
  payload: unknown,
  options: WebhookOptions = {},
): Promise<WebhookResult> {
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = Date.now() + (options.deadlineMs ?? 15_000);
  let backoff = options.backoffMs ?? 500;
  const body = JSON.stringify(payload);
  let error = "not sent";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) return { ok: false, attempts: attempt - 1, error: `${error} (out of time)` };
    let retry = true;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "show-user-balances" },
        body,
        signal: AbortSignal.timeout(Math.min(timeoutMs, left)),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, attempts: attempt, status: response.status };
      error = `HTTP ${response.status}`;
      retry = response.status === 429 || response.status >= 500;
    } catch (e) {
      const name = e instanceof Error ? e.name : "";
      error =
        name === "TimeoutError" || name === "AbortError"
          ? `no answer within ${Math.round(Math.min(timeoutMs, left))} ms`
          : `network error (${causeOf(e)})`;
    }
    if (!retry) return { ok: false, attempts: attempt, error };
    if (attempt < attempts) {
      const wait = Math.min(backoff, deadline - Date.now());
      if (wait <= 0) return { ok: false, attempts: attempt, error: `${error} (out of time)` };
      await sleep(wait);
      backoff *= 2;
    }
  }
  return { ok: false, attempts, error };
}

function causeOf(e: unknown): string {
  const cause =
    e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}
