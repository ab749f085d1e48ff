import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { ROOT } from "../helpers/cli.js";
import { launchChromium, openPage, seen } from "./browser.js";
import { guideSetup, serve, stopAll } from "./setup.js";

let emulator: Emulator;
let browser: Browser;
beforeAll(async () => {
  [emulator, browser] = await Promise.all([startEmulator(), launchChromium()]);
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await emulator?.close();
});
beforeEach(() => emulator.clearRequests());
afterEach(stopAll);

const open = (url: string) => openPage(browser, url);
const card = (page: Page, account: string) => page.locator(`[data-account="${account}"]`);
const text = (page: Page, selector: string) => seen(page.locator(selector));

describe("the dashboard in Chromium", () => {
  it("shows the guide's figures in cards, a failed broker with its reason, and filters", async () => {
    const s = await guideSetup(emulator, { failing: true });
    const served = await serve(s);
    const { page, errors } = await open(served.url);
    await card(page, "platform").waitFor();

    const platform = await text(page, '[data-account="platform"]');
    // Titled with its name once; the line under it says what it is.
    expect(platform).toMatch(/^Nija System\s+platform account\s+\$6,913\.46/);
    expect(await text(page, '[data-account="platform"] [data-broker="coinbase"]')).toMatch(
      /COINBASE\s+\$1,234\.56\s+✓ ok, live/,
    );
    expect(await text(page, '[data-account="platform"] [data-broker="kraken"]')).toContain(
      "$5,678.90",
    );
    const failed = page.locator('[data-account="platform"] [data-broker="alpaca"]');
    expect(await failed.getAttribute("data-state")).toBe("auth_failed");
    // No figure and no older one: a dash, never $0.00.
    expect(await seen(failed)).toMatch(/ALPACA\s+—\s+✗ auth failed: \S.+/);

    const alice = await text(page, '[data-account="user:alice"]');
    expect(alice).toMatch(/Alice\s+id: alice\s+\$1,000\.00/);
    expect(alice).toMatch(/COINBASE\s+\$250\.00/);
    expect(alice).toMatch(/KRAKEN\s+\$750\.00/);
    expect(await text(page, '[data-account="user:bob"]')).toMatch(/Bob\s+id: bob\s+\$2,500\.00/);

    const summary = await text(page, "#summary");
    expect(summary).toMatch(/Users\s+2/);
    expect(summary).toMatch(/Total user capital\s+\$3,500\.00/);
    expect(summary).toMatch(/Average per user\s+\$1,750\.00/);
    expect(summary).toContain("1 broker failed: totals are partial");
    expect(await text(page, "#freshness")).toMatch(/^Data from .+ · refreshes every 30 s$/);

    if (process.env.DASHBOARD_SCREENSHOT) {
      await mkdir(join(ROOT, "docs"), { recursive: true });
      await page.setViewportSize({ width: 1100, height: 480 });
      await page.screenshot({ path: join(ROOT, "docs", "dashboard.png"), fullPage: true });
    }

    // Sort and filter in the page.
    await page.selectOption("#sort", "total");
    expect(
      await page
        .locator("[data-account]")
        .evaluateAll((n) => n.map((e) => e.getAttribute("data-account"))),
    ).toEqual(["platform", "user:bob", "user:alice"]);
    await page.fill("#filter-user", "ali");
    expect(await page.locator("[data-account]").count()).toBe(1);
    await card(page, "user:alice").waitFor();
    await page.fill("#filter-user", "");
    await page.selectOption("#filter-broker", "coinbase");
    expect(
      await page
        .locator("[data-account]")
        .evaluateAll((n) => n.map((e) => e.getAttribute("data-account"))),
    ).toEqual(["platform", "user:alice"]);
    expect(await page.locator("[data-broker]").count()).toBe(2);

    expect(errors).toEqual([]);
  });

  it("refreshes itself on the interval, without reloading the page", async () => {
    const s = await guideSetup(emulator);
    const served = await serve(s, ["--refresh", "1", "--cache-ttl", "0"]);
    const { page, errors } = await open(served.url);
    const kraken = page.locator('[data-account="user:alice"] [data-broker="kraken"]');
    await kraken.waitFor();
    expect(await seen(kraken)).toContain("$750.00");
    await page.evaluate(() => {
      (globalThis as { sameDocument?: boolean }).sameDocument = true;
    });
    emulator.setBalances("kraken", s.keys.aliceKraken?.apiKey ?? "", { USD: { free: "812.34" } });
    await expect.poll(() => seen(kraken), { timeout: 10_000, interval: 200 }).toContain("$812.34");
    expect(await text(page, '[data-account="user:alice"] .card-total')).toBe("$1,062.34");
    expect(await text(page, "#summary")).toMatch(/Total user capital\s+\$3,562\.34/);
    expect(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(
      true,
    );
    expect(errors).toEqual([]);
  });

  it("enforces the token: 401 and nothing shown without it, cards once opened with ?token=", async () => {
    const s = await guideSetup(emulator);
    const token = "browser-token-0123456789abcdef";
    const served = await serve(s, [], { SHOW_USER_BALANCES_TOKEN: token });
    const context = await browser.newContext();
    const page = await context.newPage();
    const denied = await page.goto(served.url);
    expect(denied?.status()).toBe(401);
    expect(await text(page, "body")).not.toMatch(/alice|\$/i);
    expect(await page.locator("[data-account]").count()).toBe(0);

    const opened = await page.goto(`${served.url}?token=${token}`);
    expect(opened?.status()).toBe(200);
    expect(page.url()).toBe(served.url); // the token left the address bar
    await card(page, "user:bob").waitFor();
    expect(await text(page, '[data-account="user:bob"]')).toContain("$2,500.00");
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "sub_token", httpOnly: true, sameSite: "Lax" });
  });

  it("shows a hostile user name as text, never as markup", async () => {
    const hostile = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>&amp;"'`;
    const s = await guideSetup(emulator, {
      users: [{ id: "mallory", name: hostile, usd: "66.60" }],
    });
    const served = await serve(s);
    const { page, errors } = await open(served.url);
    const mallory = card(page, "user:mallory");
    await mallory.waitFor();
    const name = mallory.locator(".card-name");
    expect(await name.textContent()).toBe(hostile);
    expect(await name.isVisible()).toBe(true);
    expect(await page.locator("#cards img, #cards script, #summary img").count()).toBe(0);
    await page.fill("#filter-user", "<img");
    expect(await page.locator("[data-account]").count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it("shows a name without its BiDi overrides and control characters", async () => {
    const s = await guideSetup(emulator, {
      users: [{ id: "trent", name: "Tr\u202eent\u2066\u001b[31m Red\u0007", usd: "1.00" }],
    });
    const served = await serve(s);
    const { page, errors } = await open(served.url);
    const trent = card(page, "user:trent");
    await trent.waitFor();
    expect(await trent.locator(".card-name").textContent()).toBe("Trent Red");
    expect(errors).toEqual([]);
  });
});
