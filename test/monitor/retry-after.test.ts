import { describe, expect, it } from "vitest";
import { postWebhook, retryAfterMs } from "../../src/monitor/notify.js";
import { startReceiver } from "./receiver.js";

describe("retryAfterMs", () => {
  const now = Date.parse("2026-11-27T10:00:00Z");

  it("reads delay-seconds and HTTP dates (RFC 9110 10.2.3), a past date as 0", () => {
    expect(retryAfterMs("2", now)).toBe(2000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Fri, 27 Nov 2026 10:00:05 GMT", now)).toBe(5000);
    expect(retryAfterMs("Fri, 27 Nov 2026 09:00:00 GMT", now)).toBe(0);
  });

  it("is null when absent or unreadable, so the backoff applies", () => {
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(retryAfterMs("-5", now)).toBeNull();
  });
});

describe("postWebhook and Retry-After", () => {
  it("waits the seconds a 429 asks for instead of the backoff, then delivers", async () => {
    const r = await startReceiver([{ status: 429, headers: { "retry-after": "1" } }]);
    const result = await postWebhook(r.url, "{}", { backoffMs: 10 });
    expect(result).toEqual({ ok: true, attempts: 2, status: 200 });
    const [first, second] = r.times as [number, number];
    expect(second - first).toBeGreaterThanOrEqual(950);
    await r.close();
  });

  it("waits until the HTTP date a 503 names", async () => {
    // HTTP dates have whole seconds: ask for the second after next, so the wait is 1-2 s.
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000);
    const r = await startReceiver([{ status: 503, headers: { "retry-after": at.toUTCString() } }]);
    const result = await postWebhook(r.url, "{}", { backoffMs: 10 });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(r.times[1]).toBeGreaterThanOrEqual(at.getTime() - 50);
    await r.close();
  });

  it("waits out a Retry-After longer than the delivery's usual bound, up to the limit", async () => {
    const r = await startReceiver([{ status: 429, headers: { "retry-after": "1" } }]);
    const result = await postWebhook(r.url, "{}", { deadlineMs: 300, backoffMs: 10 });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    await r.close();
  });

  it("gives up at once, saying so, when the wait asked for is past the limit", async () => {
    const r = await startReceiver([{ status: 429, headers: { "retry-after": "120" } }]);
    const started = Date.now();
    const result = await postWebhook(r.url, "{}", { backoffMs: 10 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toEqual({
      ok: false,
      attempts: 1,
      error: "HTTP 429, asked to retry after 120 s (more than the 30 s a run waits)",
    });
    expect(r.received).toHaveLength(1);
    await r.close();
  });

  it("ignores Retry-After on other statuses: a 500 keeps the backoff", async () => {
    const r = await startReceiver([{ status: 500, headers: { "retry-after": "120" } }]);
    const started = Date.now();
    const result = await postWebhook(r.url, "{}", { backoffMs: 10 });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(Date.now() - started).toBeLessThan(2000);
    await r.close();
  });
});
