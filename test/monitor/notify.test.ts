import { describe, expect, it } from "vitest";
import { checkWebhookUrl, postWebhook, redactUrl, redactUrls } from "../../src/monitor/notify.js";
import { startReceiver } from "./receiver.js";

describe("postWebhook", () => {
  it("POSTs the payload as JSON", async () => {
    const r = await startReceiver();
    const result = await postWebhook(r.url, JSON.stringify({ alerts: [1] }));
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
    const result = await postWebhook(r.url, "{}", { backoffMs: 10 });
    expect(result).toMatchObject({ ok: true, attempts: 3 });
    expect(r.received).toHaveLength(3);
    await r.close();
  });

  it("does not retry a 4xx and reports it instead of throwing", async () => {
    const r = await startReceiver([404]);
    expect(await postWebhook(r.url, "{}", { backoffMs: 10 })).toEqual({
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
    const result = await postWebhook(r.url, "{}", {
      timeoutMs: 200,
      backoffMs: 50,
      deadlineMs: 600,
    });
    expect(result.ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(1500);
    await r.close();
  });

  it("reports a refused connection, and never prints the URL's secret path", async () => {
    const r = await startReceiver();
    await r.close();
    const result = await postWebhook(r.url, "{}", { attempts: 2, backoffMs: 10 });
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result.ok || result.error).toMatch(/network error/);
    expect(redactUrl(r.url)).not.toContain("secret-token");
  });

  it("never retries what cannot succeed: a URL fetch refuses to build is one attempt, no URL shown", async () => {
    const r = await startReceiver();
    const withCredentials = r.url.replace("http://", "http://user:hunter2@");
    const result = await postWebhook(withCredentials, "{}", { backoffMs: 10 });
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(JSON.stringify(result)).not.toMatch(/hunter2|secret-token/);
    expect(r.received).toEqual([]);
    await r.close();
  });
});

describe("checkWebhookUrl", () => {
  it("refuses credentials in the URL, naming only the origin, with the fix", () => {
    const bad = checkWebhookUrl("https://bob:hunter2@hooks.example.com/x/secret-token");
    expect(bad?.error).toContain("https://hooks.example.com");
    expect(bad?.error).toContain("credentials");
    expect(bad?.hint).toMatch(/token in its path.*SHOW_USER_BALANCES_NOTIFY_AUTHORIZATION/);
    expect(JSON.stringify(bad)).not.toMatch(/hunter2|bob|secret-token/);
  });

  it("refuses a non-URL and another scheme without repeating the value", () => {
    expect(JSON.stringify(checkWebhookUrl("hunter2-not-a-url"))).not.toContain("hunter2");
    expect(checkWebhookUrl("ftp://example.com/x")?.error).toContain("not ftp:");
    expect(checkWebhookUrl("https://hooks.example.com/services/T0/B0/XYZ")).toBeNull();
  });

  it("redactUrls reduces every URL in a message to its origin", () => {
    expect(redactUrls("failed: fetch https://u:p@h.example:8443/a/b?token=1 refused")).toBe(
      "failed: fetch https://h.example:8443 refused",
    );
  });
});
