import { request } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { runCli } from "../helpers/cli.js";
import { guideSetup, report, serve, stopAll, withoutTimes } from "./setup.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.clearRequests();
  emulator.setLatency(0);
});
afterEach(stopAll);

const TOKEN = "s3cret-token-for-tests-0123456789abcdef";

/** A raw GET, so tests can set any Host header and see redirects and cookies as sent. */
function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    },
  );
}

describe("serve: the JSON API", () => {
  it("GET /api/balances equals the CLI's --json for the same config and cache", async () => {
    const s = await guideSetup(emulator, { failing: true });
    expect((await report(s, ["--json"])).code).toBe(3); // warms the cache; alpaca is revoked
    const cli = await report(s, ["--json"]);
    const served = await serve(s);
    const api = await fetch(`${served.url}api/balances`);
    expect(api.status).toBe(200);
    expect(api.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const doc = (await api.json()) as {
      summary: { platform_total: number };
      status: { platform: Record<string, { state: string }> };
    };
    expect(withoutTimes(doc)).toEqual(withoutTimes(JSON.parse(cli.stdout)));
    expect(doc.summary.platform_total).toBe(6913.46);
    expect(doc.status.platform.alpaca?.state).toBe("auth_failed");

    // /healthz stays 200 and says the last refresh left a broker failing, and which.
    const health = await fetch(`${served.url}healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: "degraded",
      error: null,
      failing_count: 1,
      failing: [{ account: "platform", broker: "alpaca", state: "auth_failed" }],
    });
    const result = await served.stop();
    expect(result.code).toBe(0);
  });

  it("stops within its grace period on SIGTERM even while a broker hangs", async () => {
    const s = await guideSetup(emulator);
    emulator.setFault("kraken", s.keys.bobKraken?.apiKey as string, { kind: "hang" });
    const served = await serve(s, ["--timeout", "120", "--cache-ttl", "0"]);
    const pending = fetch(`${served.url}api/balances`).catch(() => null);
    // Wait until bob's request is on the wire and hanging.
    for (let i = 0; i < 200 && !emulator.requests.some((r) => r.error === "hang"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const started = Date.now();
    const result = await served.stop();
    // 5 s of grace for answers in flight, then the process ends (documented: within 6 s).
    expect(Date.now() - started).toBeLessThan(7500);
    expect(result.code).toBe(0);
    await pending;
    emulator.setFault("kraken", s.keys.bobKraken?.apiKey as string, null);
  }, 20_000);

  it("ten concurrent API requests and a CLI run make one request per account", async () => {
    const s = await guideSetup(emulator);
    const served = await serve(s);
    emulator.setLatency(150);
    const [answers, cli] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => fetch(`${served.url}api/balances`))),
      report(s, ["--json"]),
    ]);
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(cli.code).toBe(0);
    // Balance requests (the default `total` valuation adds shared public price look-ups).
    const balances = emulator.requests.filter((r) => r.apiKey !== null);
    const perKey = new Map<string, number>();
    for (const r of balances) perKey.set(r.apiKey ?? "", (perKey.get(r.apiKey ?? "") ?? 0) + 1);
    expect(balances).toHaveLength(5);
    expect([...perKey.values()]).toEqual([1, 1, 1, 1, 1]);

    // Inside the TTL, more requests make none at all.
    emulator.clearRequests();
    await Promise.all(Array.from({ length: 5 }, () => fetch(`${served.url}api/balances`)));
    expect(emulator.requests).toHaveLength(0);
  });

  it("finishes an in-flight response on SIGTERM, then exits 0", async () => {
    const s = await guideSetup(emulator);
    const served = await serve(s);
    emulator.setLatency(400);
    const pending = fetch(`${served.url}api/balances`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const exited = served.stop();
    const answer = await pending;
    expect(answer.status).toBe(200);
    const doc = (await answer.json()) as { summary: { total_user_capital: number } };
    expect(doc.summary.total_user_capital).toBe(3500);
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("SIGTERM: shutting down");
  });
});

describe("serve: access and headers", () => {
  it("with a token, every route but /healthz answers 401 without it and shows nothing", async () => {
    const s = await guideSetup(emulator);
    const served = await serve(s, [], { SHOW_USER_BALANCES_TOKEN: TOKEN });
    for (const path of ["", "index.html", "app.js", "app.css", "api/balances", "api/accounts"]) {
      const attempts: Record<string, string>[] = [
        {},
        { Authorization: "Bearer wrong" },
        { Cookie: "sub_token=no" },
      ];
      for (const headers of attempts) {
        const answer = await get(`${served.url}${path}`, headers);
        expect(answer.status, path).toBe(401);
        expect(answer.body).not.toMatch(/alice|5678|Nija/);
        expect(answer.headers["www-authenticate"]).toContain("Bearer");
      }
    }
    expect((await get(`${served.url}api/balances?token=wrong`)).status).toBe(401);
    expect((await get(`${served.url}healthz`)).status).toBe(200);

    const bearer = await get(`${served.url}api/balances`, { Authorization: `Bearer ${TOKEN}` });
    expect(bearer.status).toBe(200);
    expect(JSON.parse(bearer.body).summary.user_count).toBe(2);

    // ?token= on the page moves the token into an HttpOnly cookie and out of the address.
    const page = await get(`${served.url}?token=${TOKEN}`);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe("/");
    const cookie = String(page.headers["set-cookie"]);
    expect(cookie).toMatch(/^sub_token=[^;]+; HttpOnly; SameSite=Lax; Path=\//);
    const withCookie = await get(`${served.url}api/balances`, {
      Cookie: cookie.split(";")[0] ?? "",
    });
    expect(withCookie.status).toBe(200);
  });

  it("refuses a non-loopback host without a token (exit 2), and binds it with one", async () => {
    const s = await guideSetup(emulator);
    const refused = await runCli(["serve", ...s.flags, "--host", "0.0.0.0", "--port", "0"], {
      cwd: s.dir,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "refusing to serve balances on 0.0.0.0 without an access token",
    );
    expect(refused.stdout).toBe("");

    const served = await serve(s, ["--host", "0.0.0.0", "--token", TOKEN]);
    const port = new URL(served.url).port;
    expect((await get(`http://127.0.0.1:${port}/api/balances`)).status).toBe(401);
    expect(
      (await get(`http://127.0.0.1:${port}/api/balances`, { Authorization: `Bearer ${TOKEN}` }))
        .status,
    ).toBe(200);
  });

  it("without a token, answers only loopback Host names (no DNS rebinding)", async () => {
    const s = await guideSetup(emulator);
    const served = await serve(s);
    const rebound = await get(`${served.url}api/balances`, { Host: "evil.example:80" });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain("alice");
    expect((await get(`${served.url}api/balances`, { Host: "localhost" })).status).toBe(200);
  });

  it("sends a strict CSP and nosniff; the page has no inline script or style; no secret is served", async () => {
    const s = await guideSetup(emulator);
    const served = await serve(s);
    const page = await get(served.url);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["cache-control"]).toBe("no-store");
    // Every <script> has a src and is empty; no event-handler or style attributes.
    for (const tag of page.body.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? []) {
      expect(tag).toMatch(/^<script src="\/app\.js" defer><\/script>$/);
    }
    expect(page.body).not.toMatch(/\son[a-z]+=|\sstyle=|<style/i);

    const bodies = await Promise.all(
      ["", "app.js", "app.css", "api/balances", "api/accounts"].map(async (path) => {
        const answer = await get(`${served.url}${path}`);
        expect(answer.status, path).toBe(200);
        expect(answer.headers["content-security-policy"]).toBe(csp);
        expect(answer.headers["x-content-type-options"]).toBe("nosniff");
        return answer.body;
      }),
    );
    for (const key of Object.values(s.keys)) {
      for (const body of bodies) {
        expect(body).not.toContain(key.apiKey);
        expect(body).not.toContain(key.secret);
      }
    }
    expect((await get(`${served.url}nope`)).status).toBe(404);
  });
});
