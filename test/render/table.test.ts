import { describe, expect, it } from "vitest";
import { renderJson } from "../../src/render/json.js";
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
        "Generated: 2026-01-21 16:00:00",
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
          row("kraken", 0, { status: "auth_failed", message: "kraken rejected the API key" }),
          row("coinbase", 0, {
            status: "no_credentials",
            message: "no API credentials configured",
          }),
          row("alpaca", 1234, { source: "cached", ageSeconds: 45 }),
        ]),
      ],
      generatedAt: new Date(),
    });
    const text = renderTable(report);
    expect(text).toMatch(/KRAKEN +\$0\.00 {2}✗ auth failed: kraken rejected the API key/);
    expect(text).toMatch(/COINBASE +\$0\.00 {2}○ no credentials/);
    expect(text).toMatch(/ALPACA +\$12\.34 {2}\(cached 45s ago\)/);
    expect(text).toContain("1 broker account did not answer: the totals are partial.");
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
    expect(doc.timestamp).toBe(new Date(2026, 0, 21, 16, 0, 0).toISOString());
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
    });
    expect(doc.status.users.alice.kraken).toMatchObject({ state: "ok", source: "live" });
    expect(doc.partial).toBe(false);
    expect(doc.assets).toBeUndefined();
  });
});
