import { describe, expect, it } from "vitest";
import { postWebhook, redactUrl } from "../../src/monitor/notify.js";
import { startReceiver } from "./receiver.js";

describe("postWebhook", () => {
  it("POSTs the payload as JSON", async () => {
    const r = await startReceiver();
    const result = await postWebhook(r.url, { alerts: [1] });
    expect(result).toEqual({ ok: true, attempts: 1, status: 200 });
    expect(r.received).toEqual([
      {
        method: "POST",
        path: "/hooks/secret-token",
        contentType: "application/json",
        body: { alerts: [1] },
      },
    ]);
    await r.close();
  });

  it("retries a 5xx with backoff, then succeeds", async () => {
    const r = await startReceiver([503, 500]);
    const result = await postWebhook(r.url, {}, { backoffMs: 10 });
    expect(result).toMatchObject({ ok: true, attempts: 3 });
    expect(r.received).toHaveLength(3);
    await r.close();
  });

  it("does not retry a 4xx and reports it instead of throwing", async () => {
    const r = await startReceiver([404]);
    expect(await postWebhook(r.url, {}, { backoffMs: 10 })).toEqual({
      ok: false,
      attempts: 1,
      error: "HTTP 404",
    });
    await r.close();
  });

  it("is bounded in time when the receiver never answers", async () => {
    const r = await startReceiver();
    r.hangUp();
    const started = Date.now();
    const result = await postWebhook(r.url, {}, { timeoutMs: 200, backoffMs: 50, deadlineMs: 600 });
    expect(result.ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(1500);
    await r.close();
  });

  it("reports a refused connection, and never prints the URL's secret path", async () => {
    const r = await startReceiver();
    await r.close();
    const result = await postWebhook(r.url, {}, { attempts: 2, backoffMs: 10 });
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result.ok || result.error).toMatch(/network error/);
    expect(redactUrl(r.url)).not.toContain("secret-token");
  });
});
