import { mkdtemp } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Locator } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../src/config/index.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { HistoryStore, type Sample } from "../../src/monitor/history.js";
import { buildReport } from "../../src/report/model.js";
import { ReportSource } from "../../src/serve/report-source.js";
import { createDashboardServer } from "../../src/serve/server.js";
import { ROOT, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";
import { row, user } from "../report/fixtures.js";
import { launchChromium, openPage, seen } from "./browser.js";
import { guideSetup, serve, stopAll } from "./setup.js";

const HOUR = 3600_000;

let emulator: Emulator;
let browser: Browser;
beforeAll(async () => {
  [emulator, browser] = await Promise.all([startEmulator(), launchChromium()]);
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await emulator?.close();
});
const servers: Server[] = [];
afterEach(async () => {
  await stopAll();
  for (const server of servers.splice(0)) server.close();
});

const open = (url: string) => openPage(browser, url, { viewport: { width: 1200, height: 900 } });

/** SVG text has no innerText: what it draws is its text content. */
const drawn = async (locator: Locator) => (await locator.textContent()) ?? "";
const usd = (value: number | null) =>
  value === null
    ? "—"
    : new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(value);

function total(kind: "platform" | "user", account: string, at: number, cents: bigint | null) {
  return {
    kind,
    account,
    broker: null,
    at,
    status: cents === null ? "partial" : "ok",
    cents,
    valuation: null,
    assets: null,
  } satisfies Sample;
}

type Points = [number, number | null][];
interface HistoryDoc {
  range: string;
  recorded: boolean;
  platform_total: Points;
  total_user_capital: Points;
  users: Record<string, Points>;
}
interface PortfolioDoc {
  total_usd: number;
  assets: {
    asset: string;
    members: string[];
    usd: number | null;
    share_percent: number | null;
  }[];
}
const known = (points: Points) => points.filter((p) => p[1] !== null);
const first = (points: Points) => known(points)[0]?.[1] ?? null;
const last = (points: Points) => known(points).at(-1)?.[1] ?? null;

describe("the dashboard's history chart and portfolio panel in Chromium", () => {
  it("draws the seeded history, switches range, and shows the portfolio as the API gives it", async () => {
    const s = await guideSetup(emulator);
    // carol holds bitcoin, so the portfolio has two lines: 0.01 BTC at $60,000.00 = $600.00.
    emulator.setPrices("kraken", { BTC: "60000.00" });
    const carol = seedAccount(emulator, "kraken", { BTC: "0.01" });
    await writeJson(join(s.config, "users", "carol.json"), {
      user_id: "carol",
      name: "Carol",
      brokers: [{ broker: "kraken", credentials: carol, apiUrl: emulator.urls.kraken }],
    });
    // The history, through the store's API, at fixed offsets from now. The last figures are the
    // guide's, so the chart ends where /api/balances stands whether or not serve records too.
    const now = Date.now();
    const store = HistoryStore.open(join(s.state, "show-user-balances")) as HistoryStore;
    store.record([
      total("platform", "platform", now - 3 * 24 * HOUR, 600_000n),
      total("platform", "platform", now - 20 * HOUR, 650_000n),
      total("platform", "platform", now - 16 * HOUR, 670_000n),
      total("platform", "platform", now - 9 * HOUR, null), // a broker failed: a gap
      total("platform", "platform", now - 2 * HOUR, 691_346n),
      total("user", "alice", now - 20 * HOUR, 90_000n),
      total("user", "bob", now - 20 * HOUR, 240_000n),
      total("user", "carol", now - 20 * HOUR, 55_000n),
      total("user", "alice", now - 2 * HOUR, 100_000n),
      total("user", "bob", now - 2 * HOUR, 250_000n),
      total("user", "carol", now - 2 * HOUR, 60_000n),
    ]);
    store.close();

    const served = await serve(s);
    const { page, errors } = await open(served.url);
    const chart = page.locator('svg[data-chart="totals"]');
    await chart.waitFor();
    await page.locator("#portfolio-body .share").first().waitFor();

    const api = async <T>(path: string) =>
      (await (await fetch(`${served.url}${path}`)).json()) as T;
    const balances = await api<{
      summary: { platform_total: number; total_user_capital: number };
    }>("api/balances");
    const history = await api<HistoryDoc>("api/history?range=24h");
    expect(history.recorded).toBe(true);

    // Direct labels at the lines' ends: the last recorded figures, which are the balances'.
    const platformEnd = await drawn(chart.locator('[data-series="platform_total"]'));
    const capitalEnd = await drawn(chart.locator('[data-series="total_user_capital"]'));
    expect(platformEnd).toBe(`Platform ${usd(last(history.platform_total))}`);
    expect(capitalEnd).toBe(`Users ${usd(last(history.total_user_capital))}`);
    expect(platformEnd).toBe(`Platform ${usd(balances.summary.platform_total)}`);
    expect(capitalEnd).toBe(`Users ${usd(balances.summary.total_user_capital)}`);
    expect(platformEnd).toBe("Platform $6,913.46");
    expect(capitalEnd).toBe("Users $4,100.00");

    const caption = await seen(page.locator("#chart figcaption"));
    expect(caption).toContain(
      `Platform total ${usd(first(history.platform_total))} → ${usd(last(history.platform_total))}`,
    );
    expect(caption).toContain("Platform total $6,500.00 → $6,913.46");
    expect(caption).toContain("Total user capital $3,850.00 → $4,100.00");
    expect(caption).toMatch(/^Last 24 h: /);

    // The failed refresh breaks the platform line: its first run is the two points before it.
    const platformPaths = chart.locator("path.series-platform");
    expect(await platformPaths.first().getAttribute("d")).toMatch(
      /^M[\d.]+ [\d.]+ L[\d.]+ [\d.]+$/,
    );
    // Told apart without colour: a dashed line with square markers against a solid one.
    const dash = (selector: string) =>
      chart
        .locator(selector)
        .first()
        .evaluate((node) => {
          // No DOM lib in the tests' tsconfig: the browser's global, typed for this one use.
          const view = globalThis as unknown as {
            getComputedStyle(element: unknown): { strokeDasharray: string };
          };
          return view.getComputedStyle(node).strokeDasharray;
        });
    expect(await dash("path.series-platform")).toBe("none");
    expect(await dash("path.series-capital")).not.toBe("none");
    expect(await chart.locator("rect.marker.series-capital").count()).toBeGreaterThan(0);
    expect(await chart.locator("circle.marker.series-platform").count()).toBeGreaterThan(0);
    const ticks = await chart.locator("text.tick").allTextContents();
    expect(ticks.filter((t) => t.startsWith("$")).length).toBeGreaterThanOrEqual(3);
    // 24 h spans two dates: each time on the axis carries its date, and the legend names the zone.
    const times = ticks.filter((t) => !t.startsWith("$"));
    expect(times).toHaveLength(4);
    for (const t of times) expect(t).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{2}:\d{2}$/);
    expect(await seen(page.locator("#chart .legend"))).toMatch(
      /Platform total \(solid, dots\)\s+Total user capital \(dashed, squares\)\s+Times in \S+/,
    );

    // A sparkline per card, labelled with its first and last figure of the range.
    const spark = (account: string) =>
      seen(page.locator(`[data-account="${account}"] .spark-text`));
    for (const id of ["alice", "bob", "carol"]) {
      const points = history.users[id] ?? [];
      expect(await spark(`user:${id}`)).toBe(`24 h: ${usd(first(points))} → ${usd(last(points))}`);
    }
    expect(await spark("user:alice")).toBe("24 h: $900.00 → $1,000.00");
    expect(await spark("platform")).toBe("24 h: $6,500.00 → $6,913.46");
    expect(
      await page.locator('[data-account="user:alice"] .spark svg').getAttribute("aria-label"),
    ).toBe("24 h: $900.00 → $1,000.00");

    // The portfolio panel: every line as /api/portfolio gives it.
    const portfolio = await api<PortfolioDoc>("api/portfolio");
    expect(portfolio.total_usd).toBe(11013.46);
    expect(await seen(page.locator("#portfolio-body .panel-note"))).toContain("Total $11,013.46");
    const lines = page.locator("#portfolio-body .share");
    expect(await lines.count()).toBe(portfolio.assets.length);
    for (const [i, line] of portfolio.assets.entries()) {
      const shown = lines.nth(i);
      expect(await shown.getAttribute("data-asset")).toBe(line.asset);
      expect(await seen(shown.locator(".share-usd"))).toBe(usd(line.usd));
      expect(await seen(shown.locator(".share-pct"))).toBe(
        line.share_percent === null ? "—" : `${line.share_percent.toFixed(2)} %`,
      );
    }
    expect(await seen(lines.nth(0))).toMatch(/^USD \(USD, USDC, USDT\)\s+\$10,413\.46\s+94\.55 %/);
    expect(await seen(lines.nth(1))).toMatch(/^BTC\s+\$600\.00\s+5\.45 %/);

    if (process.env.DASHBOARD_SCREENSHOT) {
      await page.setViewportSize({ width: 1200, height: 760 });
      await page.screenshot({ path: join(ROOT, "docs", "dashboard-history.png"), fullPage: true });
    }

    // The range picker: 7 days reaches the figure of three days ago.
    await page.getByLabel("7 d").check();
    await expect
      .poll(() => seen(page.locator("#chart figcaption")), { timeout: 5000 })
      .toMatch(/^Last 7 d: /);
    const week = await api<HistoryDoc>("api/history?range=7d");
    expect(await seen(page.locator("#chart figcaption"))).toContain(
      `Platform total ${usd(first(week.platform_total))} → ${usd(last(week.platform_total))}`,
    );
    expect(usd(first(week.platform_total))).toBe("$6,000.00");
    expect(await spark("platform")).toBe("7 d: $6,000.00 → $6,913.46");
    expect(errors).toEqual([]);
  }, 30_000);

  it("says so when there is no history, shows the portfolio, then draws the first figure", async () => {
    const config = { platform: null, users: [] } as unknown as LoadedConfig;
    const dir = await mkdtemp(join(tmpdir(), "sub-no-history-"));
    const report = buildReport({
      platform: null,
      users: [
        user("alice", [
          row("kraken", 123_456n, {
            assets: { USD: { free: "1234.56", used: "0", total: "1234.56", usdCents: 123_456n } },
          }),
        ]),
      ],
      generatedAt: new Date(),
    });
    const server = createDashboardServer({
      source: new ReportSource(config, {}, async () => report),
      names: { platform: null, users: { alice: { name: "Alice", enabled: true } } },
      token: null,
      refreshSeconds: 30,
      historyDir: dir,
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const { page, errors } = await open(url);
    await page.locator("#portfolio-body .share").first().waitFor();
    await expect
      .poll(() => seen(page.locator("#chart")))
      .toBe(
        "No history recorded yet: report runs that fetch (and serve, as it refreshes) record it.",
      );
    expect(await page.locator("#chart svg").count()).toBe(0);
    expect(await page.locator('[data-account="user:alice"] .spark').count()).toBe(0);
    expect(await seen(page.locator("#portfolio-body .share"))).toMatch(
      /^USD\s+\$1,234\.56\s+100\.00 %/,
    );
    // The first figure recorded (the 24 h answer is still the cached one; 7 d is read now).
    const store = HistoryStore.open(dir) as HistoryStore;
    store.record([
      total("platform", "platform", Date.now() - HOUR, null),
      total("user", "alice", Date.now() - HOUR, 123_456n),
    ]);
    store.close();
    await page.getByLabel("7 d").check();
    await page.locator('svg[data-chart="totals"]').waitFor();
    expect(await seen(page.locator("#chart figcaption"))).toBe(
      "Last 7 d: Platform total unknown (a broker failed) · Total user capital $1,234.56 → " +
        "$1,234.56. A gap is a time with an unknown figure (a broker failed).",
    );
    expect(await seen(page.locator('[data-account="user:alice"] .spark-text'))).toBe(
      "7 d: $1,234.56, one figure so far",
    );
    const answer = await fetch(`${url}api/history?range=30d`);
    expect(await answer.json()).toMatchObject({
      range: "30d",
      recorded: true,
      platform_total: [[expect.any(Number), null]],
      users: { alice: [[expect.any(Number), 1234.56]] },
    });
    expect((await fetch(`${url}api/history?range=1y`)).status).toBe(400);
    expect(errors).toEqual([]);
  });
});
