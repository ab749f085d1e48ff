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

const HOSTILE = `<img src=x onerror="window.pwned=1">`;

/**
 * 30 users beside the guide's alice ($1,000.00) and bob ($2,500.00), 32 in all, with their
 * totals in cents written out here: three whales a cent apart past 2^53 cents (as JS numbers all
 * three are 12345678901234568, so only an exact sort tells them apart, and their id order is not
 * their total order), a hostile name, a user whose only key is revoked (its figure is unknown
 * and left out: $0.00), and User 1 to User 25 at i × $101.01.
 */
const WHALES = [
  { id: "whale-a", name: "Whale A", usd: "12345678901234567.88", cents: 1234567890123456788n },
  { id: "whale-b", name: "Whale B", usd: "12345678901234567.90", cents: 1234567890123456790n },
  { id: "whale-c", name: "Whale C", usd: "12345678901234567.89", cents: 1234567890123456789n },
];
const NUMBERED = Array.from({ length: 25 }, (_, n) => {
  const i = n + 1;
  const cents = BigInt(i) * 10101n;
  const usd = `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;
  return { id: `u${String(i).padStart(2, "0")}`, name: `User ${i}`, usd, cents };
});
const EXTRA = [
  ...WHALES,
  { id: "mallory", name: HOSTILE, usd: "66.60", cents: 6660n },
  { id: "trent", name: "Trent", usd: "10.00", cents: 0n },
  ...NUMBERED,
];
const TOTALS: [string, bigint][] = [
  ["alice", 100000n],
  ["bob", 250000n],
  ...EXTRA.map((u): [string, bigint] => [u.id, u.cents]),
];

const rows = (page: Page) =>
  page
    .locator("#table tbody.users tr[data-row]")
    .evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-row")));
const userRow = (page: Page, id: string) => page.locator(`#table [data-row="user:${id}"]`);

describe("the dashboard's table view in Chromium", () => {
  it("is the default for 32 users: sorts by exact totals, filters, and the toggle is remembered", async () => {
    const s = await guideSetup(emulator, {
      users: EXTRA.map(({ id, name, usd }) => ({ id, name, usd })),
    });
    emulator.setFault("kraken", s.keys.trent?.apiKey ?? "", { kind: "revoked" });
    const served = await serve(s);
    const { page, errors } = await openPage(browser, served.url);
    await userRow(page, "alice").waitFor();

    expect(await page.isChecked("#layout-table")).toBe(true);
    expect(await page.isVisible("#cards")).toBe(false);
    expect(await page.locator("[data-account]").count()).toBe(0);
    expect(await rows(page)).toHaveLength(32);
    expect(await seen(page.locator("#table caption"))).toMatch(/^32 users · /);
    // Columns: user, one per broker (every account's, sorted), total, status.
    expect(await page.locator("#table thead th").allInnerTexts()).toEqual([
      "User ▲",
      "COINBASE",
      "KRAKEN",
      "Total",
      "Status",
    ]);
    expect(await seen(page.locator('#table [data-row="platform"] th'))).toMatch(
      /^Nija System\s+platform account$/,
    );

    // Each figure digit for digit, past 2^53 cents too.
    expect(await seen(userRow(page, "whale-a").locator(".cell-total"))).toBe(
      "$12,345,678,901,234,567.88",
    );
    expect(await seen(userRow(page, "whale-a").locator('[data-broker="kraken"]'))).toMatch(
      /^\$12,345,678,901,234,567\.88\s+✓ ok$/,
    );
    expect(await seen(userRow(page, "alice"))).toMatch(
      /^Alice\s+alice\s+\$250\.00\s+✓ ok\s+\$750\.00\s+✓ ok\s+\$1,000\.00\s+✓ 2 ok$/,
    );
    // Totals past 2^53 cents from the server, shown exactly (the summary and the portfolio panel):
    // users 3 × 12345678901234567.89 ± 0.01 + 25 × 13 × 101.01 + 1000 + 2500 + 66.60, trent's
    // unknown figure left out; the portfolio adds the platform's 6913.46.
    expect(await seen(page.locator("#summary"))).toMatch(
      /Total user capital\s+\$37,037,036,703,740,098\.52/,
    );
    await expect
      .poll(() => seen(page.locator("#portfolio-body .panel-note")), { timeout: 5000 })
      .toMatch(/^Total \$37,037,036,703,747,011\.98 \(platform and users\)/);

    const trent = userRow(page, "trent");
    expect(await trent.locator('[data-broker="kraken"]').getAttribute("data-state")).toBe(
      "auth_failed",
    );
    expect(await seen(trent)).toMatch(/—\s+✗ auth failed\s+\$0\.00\s+✗ 1 failed$/);
    expect(await trent.locator('[data-broker="kraken"]').getAttribute("title")).toMatch(
      /^KRAKEN: auth failed: \S/,
    );

    // Default order: by name, numbers in names in numeric order (User 2 before User 10).
    const numbered = (order: (string | null)[]) => order.filter((r) => /^user:u\d/.test(r ?? ""));
    expect(numbered(await rows(page))).toEqual(NUMBERED.map((u) => `user:${u.id}`));

    const byTotal = [...TOTALS]
      .sort(([a, x], [b, y]) => (x === y ? (a < b ? -1 : 1) : x > y ? -1 : 1))
      .map(([id]) => `user:${id}`);
    expect(byTotal.slice(0, 5)).toEqual([
      "user:whale-b",
      "user:whale-c",
      "user:whale-a",
      "user:u25",
      "user:bob",
    ]);
    await page.click('#table button[data-sort="total"]');
    expect(await rows(page)).toEqual(byTotal);
    if (process.env.DASHBOARD_SCREENSHOT) {
      await page.locator("#table").screenshot({ path: join(ROOT, "docs", "dashboard-table.png") });
    }
    expect(await page.getAttribute("#table th:has(> [data-sort=total])", "aria-sort")).toBe(
      "descending",
    );
    await page.click('#table button[data-sort="total"]');
    expect(await rows(page)).toEqual([...byTotal].reverse());
    expect(await page.getAttribute("#table th:has(> [data-sort=total])", "aria-sort")).toBe(
      "ascending",
    );
    await page.click('#table button[data-sort="name"]');
    await page.click('#table button[data-sort="name"]');
    expect(numbered(await rows(page))).toEqual(NUMBERED.map((u) => `user:${u.id}`).reverse());

    // The filter box: id or name, broker, status words.
    const filter = async (query: string) => {
      await page.fill("#table-filter", query);
      return rows(page);
    };
    expect((await filter("whale")).sort()).toEqual([
      "user:whale-a",
      "user:whale-b",
      "user:whale-c",
    ]);
    expect(await filter("coinbase")).toEqual(["user:alice"]);
    expect(await page.locator('#table [data-row="platform"]').count()).toBe(1);
    expect(await filter("auth failed")).toEqual(["user:trent"]);
    expect(await seen(page.locator("#table caption"))).toMatch(/^1 of 32 users match the filter/);
    expect(await filter("no such thing")).toEqual([]);
    expect(await seen(page.locator("#table tbody.users"))).toBe("No user matches the filter.");
    expect(await filter("")).toHaveLength(32);

    // A hostile name is text in the table too.
    expect(await userRow(page, "mallory").locator(".cell-name").textContent()).toBe(HOSTILE);
    expect(await page.locator("#table img, #table script").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();

    // The toggle, remembered across reloads (localStorage), in both directions.
    await page.check("#layout-cards");
    expect(await page.isVisible("#table")).toBe(false);
    expect(await page.locator("#cards [data-account]").count()).toBe(33);
    // After a reload, once the data is in (the freshness line is written on every render):
    const reloaded = async () => {
      await page.reload();
      await page.locator("#freshness time").waitFor({ timeout: 10_000 });
    };
    await reloaded();
    expect(await page.isChecked("#layout-cards")).toBe(true);
    expect(await page.locator("#cards [data-account]").count()).toBe(33);
    expect(await page.locator("#table [data-row]").count()).toBe(0);
    await page.check("#layout-table");
    await reloaded();
    expect(await page.isChecked("#layout-table")).toBe(true);
    expect(await rows(page)).toHaveLength(32);
    expect(await page.locator("[data-account]").count()).toBe(0);
    expect(errors).toEqual([]);
  }, 30_000);

  it("shows cards for 3 users, the platform titled once, and the data's date with its time and zone", async () => {
    const s = await guideSetup(emulator, {
      platformName: "Platform",
      users: [{ id: "carol", name: "Carol", usd: "5.00" }],
    });
    const served = await serve(s);
    const { page, errors } = await openPage(browser, served.url, { timezoneId: "UTC" });
    const platform = page.locator('[data-account="platform"]');
    await platform.waitFor();

    expect(await page.isChecked("#layout-cards")).toBe(true);
    expect(await page.isVisible("#table")).toBe(false);
    expect(await page.locator("[data-row]").count()).toBe(0);
    expect(await page.locator("#cards [data-account]").count()).toBe(4);

    expect(await platform.locator(".card-name").textContent()).toBe("Platform");
    expect((await seen(platform)).match(/Platform/g)).toHaveLength(1);

    const iso = (await page.getAttribute("#freshness time", "datetime")) ?? "";
    expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const at = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
    expect(await seen(page.locator("#freshness time"))).toBe(`${at(Date.parse(iso))} UTC`);
    expect(await seen(page.locator("#freshness"))).toMatch(
      /^Data from \S+ \S+ UTC · checked \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC · refreshes every 30 s$/,
    );

    // Another zone: local time, and the zone named (India: UTC+5:30 all year, no DST).
    const india = await openPage(browser, served.url, { timezoneId: "Asia/Kolkata" });
    const time = india.page.locator("#freshness time");
    await time.waitFor();
    const shown = (await india.page.getAttribute("#freshness time", "datetime")) ?? "";
    expect(await seen(time)).toBe(`${at(Date.parse(shown) + 5.5 * 3600_000)} GMT+5:30`);
    expect([...errors, ...india.errors]).toEqual([]);
  });
});
