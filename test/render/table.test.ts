import { describe, expect, it } from "vitest";
import { renderJson } from "../../src/render/json.js";
import { renderAssets, renderStatus } from "../../src/render/status.js";
import { loadPalette } from "../../src/render/style.js";
import { renderTable } from "../../src/render/table.js";
import { buildReport } from "../../src/report/model.js";
import { guideAccounts, row, user } from "../report/fixtures.js";

const trimLines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");

describe("renderTable", () => {
  it("prints the guide's report layout with aligned amounts", () => {
    const text = trimLines(renderTable(buildReport(guideAccounts())));
    expect(text).toBe(
      `${[
        "=".repeat(80),
        "USER ACCOUNT BALANCES",
        "=".repeat(80),
        "Generated: 2026-01-21 16:00:00Z",
        "=".repeat(80),
        "",
        "🔷 PLATFORM ACCOUNT (Nija System)",
        "-".repeat(80),
        "   COINBASE             $1,234.56",
        "   KRAKEN               $5,678.90",
        "-".repeat(80),
        "   TOTAL                $6,913.46",
        "",
        "🔷 USER ACCOUNTS",
        "-".repeat(80),
        "",
        "   👤 User: alice",
        `   ${"-".repeat(76)}`,
        "      COINBASE            $250.00",
        "      KRAKEN              $750.00",
        `   ${"-".repeat(76)}`,
        "      SUBTOTAL          $1,000.00",
        "",
        "   👤 User: bob",
        `   ${"-".repeat(76)}`,
        "      KRAKEN            $2,500.00",
        `   ${"-".repeat(76)}`,
        "      SUBTOTAL          $2,500.00",
        "",
        "=".repeat(80),
        "SUMMARY",
        "=".repeat(80),
        "   Total Users:           2",
        "   Total User Capital:    $3,500.00",
        "   Average per User:      $1,750.00",
        "=".repeat(80),
      ].join("\n")}\n`,
    );
  });

  it("says why a row is not ok, next to its amount, and flags a partial report", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("carol", [
          row("kraken", null, { status: "auth_failed", message: "kraken rejected the API key" }),
          row("coinbase", 0n, {
            status: "no_credentials",
            message: "no API credentials configured",
            source: "none",
            fetchedAt: null,
          }),
          row("alpaca", 1234n, { source: "cached", ageSeconds: 45 }),
        ]),
      ],
      generatedAt: new Date(),
    });
    const text = renderTable(report);
    // Unknown is not zero: the failed row shows "—", the guide's "$0.00 ○ no credentials" stays.
    expect(text).toMatch(/KRAKEN +— {2}✗ auth failed: kraken rejected the API key/);
    expect(text).toMatch(/COINBASE +\$0\.00 {2}○ no credentials/);
    expect(text).toMatch(/ALPACA +\$12\.34 {2}\(cached 45s ago\)/);
    expect(text).toMatch(/SUBTOTAL +\$12\.34 {2}\(1 broker unknown: not included\)/);
    expect(text).toContain("Not included:          1 broker account with no figure");
    expect(text).toContain("1 broker account did not answer: the totals are partial.");
  });

  it("prints amounts past 2^53 cents exactly, in the table and in JSON", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("a", [row("kraken", 9007199254740993n)]),
        user("b", [row("kraken", 1234567890123456789n)]),
      ],
      generatedAt: new Date(),
    });
    const text = renderTable(report);
    expect(text).toContain("$90,071,992,547,409.93");
    expect(text).toContain("$12,345,678,901,234,567.89");
    const json = renderJson(report);
    expect(json).toContain('"a": 90071992547409.93');
    expect(json).toContain('"b": 12345678901234567.89');
    expect(json).toContain('"total_user_capital": 12435750893781977.82');
    expect(() => JSON.parse(json)).not.toThrow();
  });

  it("emits no ANSI escapes unless colour is asked for", async () => {
    const report = buildReport(guideAccounts());
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes
    const ansi = /\u001b\[/;
    expect(renderTable(report)).not.toMatch(ansi);
    expect(renderTable(report, { palette: await loadPalette(true) })).toMatch(ansi);
    expect(renderTable(report, { palette: await loadPalette(false) })).not.toMatch(ansi);
  });
});

describe("renderJson", () => {
  it("keeps the guide's document shape with cent-exact numbers", () => {
    const doc = JSON.parse(renderJson(buildReport(guideAccounts())));
    expect(doc.timestamp).toBe("2026-01-21T16:00:00.000Z");
    expect(doc.balances).toEqual({
      platform: { coinbase: 1234.56, kraken: 5678.9 },
      users: { alice: { coinbase: 250, kraken: 750 }, bob: { kraken: 2500 } },
    });
    expect(doc.summary).toEqual({
      platform_total: 6913.46,
      user_totals: { alice: 1000, bob: 2500 },
      total_user_capital: 3500,
      user_count: 2,
      average_per_user: 1750,
      accounts_unknown: 0,
      users_unknown: 0,
      duplicate_usd: 0,
    });
    expect(doc.status.users.alice.kraken).toMatchObject({ state: "ok", source: "live" });
    expect(renderJson(buildReport(guideAccounts()))).toContain('"platform_total": 6913.46,');
    expect(doc.partial).toBe(false);
    expect(doc.assets).toBeUndefined();
  });
});

describe("terminal safety", () => {
  it("prints names and messages from config and exchanges without escape sequences", () => {
    const report = buildReport({
      platform: {
        kind: "platform",
        id: "platform",
        name: "Ops\u001b]0;pwned\u0007 \u001b[2J",
        enabled: true,
        rows: [],
      },
      users: [
        user(
          "eve",
          [row("kraken", null, { status: "exchange_error", message: "bad\u001b[31m\u202e" })],
          {
            name: "Eve\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\\nFAKE LINE",
          },
        ),
      ],
      generatedAt: new Date(),
    });
    const text = renderTable(report);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for what must not be there
    expect(text).not.toMatch(/[\u001b\u0007\u009b\u202e]/);
    expect(text).toContain("Ops");
    expect(text).toContain("eve (Evelink FAKE LINE)");
  });
});

describe("renderStatus and renderAssets", () => {
  it("names a non-live environment and marks 'unpriced' only what the JSON lists", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("a", [
          row("alpaca", 100000n, { environment: "paper" }),
          row("kraken", 5000n, {
            valuation: "cash",
            basis: "cash",
            assets: {
              USD: { free: "50", used: "0", total: "50", usdCents: 5000n },
              BTC: { free: "1", used: "0", total: "1", usdCents: null },
            },
          }),
          row("coinbase", 0n, {
            unpriced: ["XYZ"],
            assets: { XYZ: { free: "3", used: "0", total: "3", usdCents: null } },
          }),
        ]),
      ],
      generatedAt: new Date(),
    });
    const status = renderStatus(report);
    expect(status).toContain("alpaca (paper)");
    expect(status).not.toContain("kraken (live)");
    const assets = renderAssets(report);
    expect(assets).toMatch(/kraken +│ BTC .*│ — +│/);
    expect(assets).toMatch(/coinbase +│ XYZ .*│ unpriced │/);
    const doc = JSON.parse(renderJson(report, { assets: true }));
    expect(doc.status.users.a.kraken.unpriced).toEqual([]);
    expect(doc.status.users.a.coinbase.unpriced).toEqual(["XYZ"]);
    expect(doc.status.users.a.alpaca.environment).toBe("paper");
  });
});
