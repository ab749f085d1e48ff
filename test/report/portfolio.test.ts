import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AssetBalance } from "../../src/brokers/types.js";
import { fixedToCents, fixedToString, mulFixed } from "../../src/money.js";
import { stringifyJson } from "../../src/render/json-text.js";
import { type BrokerRow, buildReport, type Report } from "../../src/report/model.js";
import { buildPortfolio, formatShare, portfolioJson } from "../../src/report/portfolio.js";
import { guideAccounts, row, user } from "./fixtures.js";

const a = (total: string, usdCents: bigint | null): AssetBalance => ({
  free: total,
  used: "0",
  total,
  usdCents,
});

const reportTotal = (report: Report) =>
  report.summary.platformTotalCents + report.summary.totalUserCapitalCents;

const sumShares = (shares: (string | null)[]) =>
  shares.reduce((sum, s) => sum + (s === null ? 0n : BigInt(s.replace(".", ""))), 0n);

/**
 * Every kind of row at once. Figures by hand:
 * - platform coinbase (priced): USD 1000.00 + USDC 84.56 + 0.0025 BTC at 60,000 (150.00) = 1,234.56
 * - platform kraken (priced): USD 5038.90 + 0.2 ETH at 3,200 (640.00) = 5,678.90
 * - alice okx (broker equity, totalEq 800.00): USDC 480.00, 0.1 ETH unpriced -> 320.00 not attributed
 * - bob alpaca (cash): USD 2,500.00; 10 AAPL priced at 1,900.00 but a cash valuation leaves it out
 * - erin kraken (priced): 1.005 XRP and 1.005 DOGE at 0.50 = 0.5025 each, 50 cents each rounded
 *   alone, 1.005 = 101 cents rounded once: 1 cent of rounding
 * - carol: a disabled kraken row and an unknown binance row; dave: a duplicate of bob's key
 * Total: 6,913.46 + 800.00 + 2,500.00 + 1.01 = 10,214.47
 */
function mixedReport(): Report {
  return buildReport({
    platform: {
      kind: "platform",
      id: "platform",
      name: "Nija System",
      enabled: true,
      rows: [
        row("coinbase", 123456n, {
          assets: {
            USD: a("1000", 100000n),
            USDC: a("84.56", 8456n),
            BTC: a("0.0025", 15000n),
          },
        }),
        row("kraken", 567890n, { assets: { USD: a("5038.9", 503890n), ETH: a("0.2", 64000n) } }),
      ],
    },
    users: [
      user("alice", [
        row("okx", 80000n, {
          basis: "broker",
          assets: { USDC: a("480", 48000n), ETH: a("0.1", null) },
        }),
      ]),
      user("bob", [
        row("alpaca", 250000n, {
          valuation: "cash",
          basis: "cash",
          assets: { USD: a("2500", 250000n), AAPL: a("10", 190000n) },
        }),
      ]),
      user("erin", [
        row("kraken", 101n, { assets: { XRP: a("1.005", 50n), DOGE: a("1.005", 50n) } }),
      ]),
      user("carol", [
        row("kraken", 0n, { enabled: false, assets: { USD: a("99", 9900n) } }),
        row("binance", null, { status: "network_error" }),
      ]),
      user("dave", [
        row("alpaca", 250000n, {
          duplicateOf: "user bob",
          assets: { USD: a("2500", 250000n) },
        }),
      ]),
    ],
    generatedAt: new Date("2026-01-21T16:00:00.000Z"),
  });
}

describe("buildPortfolio", () => {
  it("reconciles with the report to the cent: broker equity, cash valuation and rounding lines", () => {
    const report = mixedReport();
    const p = buildPortfolio(report);
    expect(p.totalCents).toBe(1021447n);
    expect(p.totalCents).toBe(reportTotal(report));
    const valued = p.lines.filter((l) => l.usdCents !== null);
    expect(valued.reduce((sum, l) => sum + (l.usdCents ?? 0n), 0n)).toBe(p.totalCents);
    expect(
      p.lines.map((l) => [l.kind, l.asset, l.amount, l.usdCents, l.sharePercent, l.accounts]),
    ).toEqual([
      // 910,346 / 1,021,447 = 89.1231...%; shares by largest remainder add up to 100.00
      ["asset", "USD", "9103.46", 910346n, "89.12", 4],
      ["asset", "ETH", "0.3", 64000n, "6.27", 2],
      ["asset", "BTC", "0.0025", 15000n, "1.47", 1],
      ["asset", "DOGE", "1.005", 50n, "0.01", 1],
      ["asset", "XRP", "1.005", 50n, "0.00", 1],
      [
        "broker_equity",
        "other: broker-stated equity not attributed to assets",
        null,
        32000n,
        "3.13",
        1,
      ],
      [
        "rounding",
        "rounding: account figures rounded once, assets one by one",
        null,
        1n,
        "0.00",
        1,
      ],
      ["asset", "AAPL", "10", null, null, 1],
    ]);
    expect(sumShares(p.lines.map((l) => l.sharePercent))).toBe(10000n);
    expect(p.rows).toEqual({ counted: 5, disabled: 1, unknown: 1, duplicate: 1 });
  });

  it("merges the stablecoins into one USD line, or splits them on request", () => {
    const merged = buildPortfolio(mixedReport()).lines[0];
    expect(merged?.members).toEqual(["USD", "USDC"]);
    const split = buildPortfolio(mixedReport(), { splitStablecoins: true });
    expect(split.totalCents).toBe(1021447n);
    const byAsset = Object.fromEntries(split.lines.map((l) => [l.asset, l]));
    expect(byAsset.USD?.amount).toBe("8538.9");
    expect(byAsset.USD?.usdCents).toBe(853890n);
    expect(byAsset.USDC?.amount).toBe("564.56");
    expect(byAsset.USDC?.usdCents).toBe(56456n);
    expect(sumShares(split.lines.map((l) => l.sharePercent))).toBe(10000n);
  });

  it("keeps the unvalued part of a partly priced asset, and lists its holders by value", () => {
    const eth = buildPortfolio(mixedReport()).lines.find((l) => l.asset === "ETH");
    expect(eth?.unvaluedAmount).toBe("0.1");
    expect(eth?.topHolders).toEqual([
      {
        kind: "platform",
        account: "platform",
        broker: "kraken",
        label: "platform / kraken",
        amount: "0.2",
        usdCents: 64000n,
      },
      {
        kind: "user",
        account: "alice",
        broker: "okx",
        label: "alice / okx",
        amount: "0.1",
        usdCents: null,
      },
    ]);
    const usd = buildPortfolio(mixedReport(), { topHolders: 2 }).lines[0];
    expect(usd?.topHolders.map((h) => [h.label, h.amount, h.usdCents])).toEqual([
      ["platform / kraken", "5038.9", 503890n],
      ["bob / alpaca", "2500", 250000n],
    ]);
  });

  it("counts a cash row's other assets nowhere but shows their amounts", () => {
    const aapl = buildPortfolio(mixedReport()).lines.find((l) => l.asset === "AAPL");
    expect(aapl).toMatchObject({
      amount: "10",
      usdCents: null,
      unvaluedAmount: "10",
      unpriced: false,
    });
  });

  it("gives a row with no assets (a figure from an older cache) an explicit line", () => {
    const report = buildReport(guideAccounts());
    const p = buildPortfolio(report);
    expect(p.totalCents).toBe(reportTotal(report));
    expect(p.lines.map((l) => [l.kind, l.usdCents, l.sharePercent])).toEqual([
      ["unattributed", 1041346n, "100.00"],
    ]);
  });

  it("has no shares when the total is zero, and no lines for zero holdings", () => {
    const report = buildReport({
      platform: null,
      users: [user("zed", [row("kraken", 0n, { assets: { USD: a("0", 0n), BTC: a("0", 0n) } })])],
      generatedAt: new Date(0),
    });
    const p = buildPortfolio(report);
    expect(p.totalCents).toBe(0n);
    expect(p.lines).toEqual([]);
  });

  it("leaves out disabled users' rows as the report does", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("on", [row("kraken", 100n, { assets: { USD: a("1", 100n) } })]),
        user("off", [row("kraken", 500n, { assets: { USD: a("5", 500n) } })], { enabled: false }),
      ],
      generatedAt: new Date(0),
    });
    const p = buildPortfolio(report);
    expect(p.totalCents).toBe(reportTotal(report));
    expect(p.totalCents).toBe(100n);
    expect(p.rows.disabled).toBe(1);
  });

  it("reconciles and sums shares to exactly 100 for any priced rows (property)", () => {
    const holding = fc.record({
      code: fc.constantFrom("USD", "USDT", "BTC", "ETH", "SOL", "XYZ"),
      amount: fc.bigInt({ min: 0n, max: 10n ** 24n }),
      price: fc.option(fc.bigInt({ min: 1n, max: 10n ** 23n }), { nil: null }),
    });
    const account = fc.record({
      basis: fc.constantFrom("priced", "broker", "cash"),
      equity: fc.bigInt({ min: 0n, max: 10n ** 12n }),
      holdings: fc.uniqueArray(holding, { selector: (h) => h.code, maxLength: 6 }),
    });
    fc.assert(
      fc.property(fc.array(account, { minLength: 1, maxLength: 6 }), (accounts) => {
        const rows: BrokerRow[] = accounts.map((acc, i) => {
          const assets: Record<string, AssetBalance> = {};
          let sum = 0n;
          for (const h of acc.holdings) {
            const stable = h.code === "USD" || h.code === "USDT";
            const price = stable ? 10n ** 18n : h.price;
            const value = price === null ? null : mulFixed(h.amount, price);
            if (value !== null && (acc.basis !== "cash" || stable)) sum += value;
            assets[h.code] = a(
              fixedToString(h.amount),
              value === null ? null : fixedToCents(value),
            );
          }
          const cents = acc.basis === "broker" ? acc.equity : fixedToCents(sum);
          return row(`b${i}`, cents, { basis: acc.basis as BrokerRow["basis"], assets });
        });
        const report = buildReport({
          platform: null,
          users: [user("u", rows)],
          generatedAt: new Date(0),
        });
        const p = buildPortfolio(report);
        expect(p.totalCents).toBe(reportTotal(report));
        const lineSum = p.lines.reduce((s, l) => s + (l.usdCents ?? 0n), 0n);
        expect(lineSum).toBe(p.totalCents);
        if (p.totalCents !== 0n && p.lines.some((l) => l.sharePercent !== null)) {
          expect(sumShares(p.lines.map((l) => l.sharePercent))).toBe(10000n);
        }
        // A priced or cash row never needs more than rounding to reconcile.
        expect(p.lines.some((l) => l.kind === "unattributed")).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe("formatShare", () => {
  it("prints basis points as a two-decimal percentage", () => {
    expect(formatShare(10000n)).toBe("100.00");
    expect(formatShare(1234n)).toBe("12.34");
    expect(formatShare(5n)).toBe("0.05");
    expect(formatShare(-5n)).toBe("-0.05");
  });
});

describe("portfolioJson", () => {
  it("writes money and shares as exact number literals", () => {
    const text = stringifyJson(portfolioJson(buildPortfolio(mixedReport())), 0);
    expect(text).toContain('"total_usd":10214.47');
    expect(text).toContain(
      '{"kind":"asset","asset":"USD","members":["USD","USDC"],"amount":"9103.46","usd":9103.46,"share_percent":89.12,',
    );
    expect(text).toContain(
      '"asset":"AAPL","members":["AAPL"],"amount":"10","usd":null,"share_percent":null',
    );
    const doc = JSON.parse(text);
    expect(doc.rows).toEqual({ counted: 5, disabled: 1, unknown: 1, duplicate: 1 });
    expect(doc.assets[1].top_holders[1]).toEqual({
      account: "alice",
      kind: "user",
      broker: "okx",
      label: "alice / okx",
      amount: "0.1",
      usd: null,
    });
  });

  it("keeps cents past 2^53 exact", () => {
    const big = 9007199254740993n;
    const report = buildReport({
      platform: null,
      users: [
        user("whale", [row("kraken", big, { assets: { USD: a("90071992547409.93", big) } })]),
      ],
      generatedAt: new Date(0),
    });
    expect(stringifyJson(portfolioJson(buildPortfolio(report)), 0)).toContain(
      '"total_usd":90071992547409.93',
    );
  });
});
