import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderPortfolio } from "../../src/render/portfolio.js";
import { renderAssets, renderStatus } from "../../src/render/status.js";
import { loadPalette } from "../../src/render/style.js";
import { renderTable } from "../../src/render/table.js";
import {
  displayWidth,
  screenTop,
  terminalWidth,
  wrapHanging,
  wrapWords,
} from "../../src/render/width.js";
import { buildReport, type Report } from "../../src/report/model.js";
import { buildPortfolio } from "../../src/report/portfolio.js";
import { guideAccounts, row, user } from "../report/fixtures.js";

const lines = (text: string) => text.replace(/\n$/, "").split("\n");
const widest = (text: string) => Math.max(...lines(text).map(displayWidth));

describe("displayWidth", () => {
  it("counts terminal columns: emoji and CJK take 2, marks and colour escapes none", () => {
    expect(displayWidth("🔷 PLATFORM")).toBe(11);
    expect(displayWidth("👤")).toBe(2);
    expect(displayWidth("✗○ⓘ⚠—")).toBe(5);
    expect(displayWidth("日本語")).toBe(6);
    expect(displayWidth("e\u0301")).toBe(1);
    expect(displayWidth("\u001b[31mred\u001b[39m")).toBe(3);
  });
});

describe("wrapWords and wrapHanging", () => {
  it("breaks at spaces, keeps aligned runs of spaces, and indents continuations", () => {
    expect(wrapWords("one two three four", 9)).toEqual(["one two", "three", "four"]);
    expect(wrapWords("   Total:    $1.00", 40)).toEqual(["   Total:    $1.00"]);
    expect(wrapHanging("✗ auth failed: kraken rejected the API key", 20, 2)).toBe(
      ["✗ auth failed:", "  kraken rejected", "  the API key"].join("\n"),
    );
  });

  it("cuts only a word longer than a whole line, between code points", () => {
    expect(wrapWords("key ABCDEFGHIJ", 4)).toEqual(["key", "ABCD", "EFGH", "IJ"]);
    expect(wrapWords("👤👤👤", 4)).toEqual(["👤👤", "👤"]);
  });

  it("never makes a line wider than asked, and loses no word", () => {
    const word = fc.oneof(
      fc.constantFrom("🔷", "👤", "✗", "日本", "e\u0301", "—", "KRAKEN_USER_ALICE_API_KEY"),
      fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 12 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }),
    );
    const text = fc
      .array(fc.tuple(word, fc.constantFrom(" ", "  ", "   ")), { maxLength: 20 })
      .map((parts) => parts.map(([w, gap]) => w.replace(/[\s]/g, "x") + gap).join(""));
    fc.assert(
      // At least room for one wide character after the indent.
      fc.property(
        text,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 2, max: 60 }),
        (t, i, room) => {
          const w = i + room;
          const wrapped = wrapHanging(t, w, i);
          for (const line of lines(wrapped)) expect(displayWidth(line)).toBeLessThanOrEqual(w);
          expect(wrapped.replace(/\s/g, "")).toBe(t.replace(/\s/g, ""));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("terminalWidth", () => {
  it("takes a terminal's columns, else a sane COLUMNS, else 80; never below 40", () => {
    expect(terminalWidth({ isTTY: true, columns: 132 }, { COLUMNS: "60" })).toBe(132);
    expect(terminalWidth({}, { COLUMNS: "120" })).toBe(120);
    expect(terminalWidth({}, {})).toBe(80);
    for (const bad of ["", "abc", "0", "-5", "12.5", "99999", "1e3"]) {
      expect(terminalWidth({}, { COLUMNS: bad }), bad).toBe(80);
    }
    expect(terminalWidth({}, { COLUMNS: "20" })).toBe(40);
    expect(terminalWidth({ isTTY: true, columns: 0 }, {})).toBe(80);
  });
});

describe("screenTop", () => {
  it("shows the top of a tall text and says how many lines are left out", () => {
    const text = `${Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n")}\n`;
    const shown = lines(screenTop(text, 24, 80));
    expect(shown).toHaveLength(24);
    expect(shown[0]).toBe("line 1");
    expect(shown[22]).toBe("line 23");
    expect(shown[23]).toMatch(/^… 7 more lines/);
    expect(screenTop("a\nb\n", 24, 80)).toBe("a\nb");
  });

  it("counts a line wider than the screen as the rows it takes", () => {
    const shown = lines(screenTop(`${"x".repeat(100)}\na\nb\nc\n`, 3, 60));
    expect(shown).toEqual(["x".repeat(100), expect.stringMatching(/^… 3 more lines/)]);
  });
});

/** The guide's report plus what makes lines long: a long name, reasons, a paper account, assets. */
function wideReport(): Report {
  const guide = guideAccounts();
  guide.users.push(
    user(
      "carol",
      [
        row("kraken", null, {
          status: "auth_failed",
          message: "kraken rejected the API key (EAPI:Invalid key) after three attempts",
        }),
        row("coinbase", 0n, {
          status: "no_credentials",
          message: "no API credentials configured",
          source: "none",
          fetchedAt: null,
        }),
        row("alpaca", 1234n, {
          status: "timeout",
          message: "alpaca did not answer within 10 s",
          source: "stale",
          ageSeconds: 7300,
          environment: "paper",
        }),
        row("binance", 5000n, {
          assets: {
            USDT: { free: "49.123456789", used: "0.876543211", total: "50", usdCents: 5000n },
            BTC: { free: "0.000000012345", used: "0", total: "0.000000012345", usdCents: null },
          },
        }),
      ],
      { name: "Carol Ann Longname-Smithers of the Very Long Trading Desk" },
    ),
  );
  return buildReport(guide);
}

const credentials = () => "KRAKEN_USER_CAROL_API_KEY";

describe("the views at 80 and 60 columns", () => {
  for (const width of [80, 60]) {
    it(`fit ${width} columns: table, status, assets and portfolio`, async () => {
      const report = wideReport();
      for (const palette of [undefined, await loadPalette(true)]) {
        const views = {
          table: renderTable(report, { width, palette }),
          status: renderStatus(report, { width, palette, credentials }),
          assets: renderAssets(report, { width, palette }),
          portfolio: renderPortfolio(buildPortfolio(report), { width, palette }),
        };
        for (const [view, text] of Object.entries(views)) {
          expect(widest(text), view).toBeLessThanOrEqual(width);
        }
      }
    });

    it(`at ${width} columns a long reason continues under its first word, never at column 0`, () => {
      const table = lines(renderTable(wideReport(), { width }));
      const at = table.findIndex((line) => line.includes("✗ auth failed:"));
      const column = (table[at] ?? "").indexOf("✗") + 2;
      const next = table[at + 1] ?? "";
      expect(next.slice(0, column).trim()).toBe("");
      expect(next.slice(column)).toMatch(/^\S/);
      expect(table.join(" ").replace(/\s+/g, " ")).toContain(
        "✗ auth failed: kraken rejected the API key (EAPI:Invalid key) after three attempts",
      );
      expect(table[0]).toBe("=".repeat(width));
      expect(table).toContain(`   ${"-".repeat(width - 4)}`);
    });
  }

  it("keeps the guide's layout at 80 columns and above", () => {
    const report = buildReport(guideAccounts());
    expect(renderTable(report, { width: 80 })).toBe(renderTable(report));
    expect(renderTable(report, { width: 200 })).toBe(renderTable(report));
    expect(renderStatus(report, { width: 200 })).toBe(renderStatus(report));
    expect(renderAssets(report, { width: 80 })).toBe(renderAssets(report));
  });

  it("--status: the full grid when it fits, a detail column at 80, records below", () => {
    const report = wideReport();
    const wide = renderStatus(report, { width: 200, credentials });
    expect(lines(wide)[1]).toMatch(
      /│ Account .*│ Source .*│ Fetched .*│ Detail .*│ Credentials +│$/,
    );
    // Narrower, the detail column wraps inside the full grid while it still holds its words.
    const wrapped = renderStatus(report, { width: 160, credentials });
    expect(lines(wrapped)[1]).toMatch(/│ Source .*│ Detail .*│ Credentials +│$/);
    expect(widest(wrapped)).toBeLessThanOrEqual(160);
    expect(lines(wrapped).length).toBeGreaterThan(lines(wide).length);
    const guide = renderStatus(buildReport(guideAccounts()), { width: 80, credentials });
    expect(lines(guide)[1]).toMatch(/^│ Account +│ Broker +│ State +│ Balance +│ Detail +│$/);
    // The credential name does not fit beside its label: it moves to the next line, indented.
    expect(guide).toMatch(/│ credentials: +│\n.*│ {3}KRAKEN_USER_CAROL_API_KEY +│\n/);
    const narrow = renderStatus(report, { width: 60, credentials });
    expect(narrow).not.toContain("│");
    expect(narrow).toContain("carol  alpaca (paper)  timeout  $12.34\n");
    expect(narrow).toContain("   Detail: stale (2h), fetched 2026-01-21 16:00:00Z\n");
    expect(narrow).toMatch(/^ {11}no figure \(not in the totals\): kraken rejected/m);
  });

  it("--assets: free and used give way to the total when all columns do not fit", () => {
    const assets = renderAssets(wideReport(), { width: 60 });
    expect(lines(assets)[1]).toMatch(/^│ Account +│ Broker +│ Asset +│ Total +│ USD +│$/);
    expect(assets).toMatch(/│ carol +│ binance +│ BTC +│ 0\.000000012345 │ — +│/);
  });

  it("fit any width from 40 up, whatever the names, reasons and amounts", () => {
    const text = fc.string({ unit: "grapheme", maxLength: 90 });
    fc.assert(
      fc.property(
        fc.integer({ min: 40, max: 130 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
        text,
        text,
        fc.option(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n })),
        (width, id, name, message, cents) => {
          const report = buildReport({
            platform: null,
            users: [
              user(
                id,
                [
                  row("kraken", cents, {
                    status: cents === null ? "exchange_error" : "ok",
                    message,
                    assets: { BTC: { free: message, used: "0", total: "1", usdCents: cents } },
                  }),
                ],
                { name },
              ),
            ],
            generatedAt: new Date(2026, 0, 21, 16, 0, 0),
          });
          const views = [
            renderTable(report, { width }),
            renderStatus(report, { width, credentials: () => message }),
            renderAssets(report, { width }),
            renderPortfolio(buildPortfolio(report), { width }),
          ];
          for (const view of views) expect(widest(view)).toBeLessThanOrEqual(width);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("at a width too small for label and amount, the amount goes below in its column", () => {
    const report = buildReport({
      platform: null,
      users: [user("a", [row("coinbaseexchange", 1234567890123456789n)])],
      generatedAt: new Date(2026, 0, 21, 16, 0, 0),
    });
    const table = renderTable(report, { width: 40 });
    expect(widest(table)).toBeLessThanOrEqual(40);
    expect(table).toContain("      COINBASEEXCHANGE\n");
    expect(table).toContain(`${" ".repeat(14)}$12,345,678,901,234,567.89\n`);
  });
});
