import { describe, expect, it } from "vitest";
import type { AssetBalance } from "../../src/brokers/types.js";
import { renderPortfolio } from "../../src/render/portfolio.js";
import { buildReport } from "../../src/report/model.js";
import { buildPortfolio } from "../../src/report/portfolio.js";
import { row, user } from "../report/fixtures.js";

const a = (total: string, usdCents: bigint | null): AssetBalance => ({
  free: total,
  used: "0",
  total,
  usdCents,
});

const trim = (text: string) => text.replace(/ +$/gm, "");

function report() {
  return buildReport({
    platform: {
      kind: "platform",
      id: "platform",
      name: null,
      enabled: true,
      rows: [
        row("kraken", 70400n, {
          assets: { USD: a("100", 10000n), ETH: a("0.2", 60400n), KFEE: a("5", null) },
          unpriced: ["KFEE"],
        }),
      ],
    },
    users: [
      user("\u001b[31mmallory\u001b[0m", [
        row("okx", 50000n, {
          basis: "broker",
          assets: { USDC: a("200", 20000n), ETH: a("0.1", null) },
        }),
        row("alpaca", null, { status: "auth_failed" }),
      ]),
    ],
    generatedAt: new Date("2026-01-21T16:00:00.000Z"),
  });
}

describe("renderPortfolio", () => {
  it("lists assets by value, the broker-equity line, unpriced assets last, and what it left out", () => {
    // By hand: 704.00 + 500.00 = 1,204.00; ETH 604.00 = 50.166%, USD and the broker's
    // 300.00 = 24.917% each: floors 50.16 + 24.91 + 24.91, the two largest remainders get 0.01.
    expect(trim(renderPortfolio(buildPortfolio(report())))).toBe(
      [
        "PORTFOLIO  2026-01-21 16:00:00Z  (2 broker accounts; stablecoins at par on the USD line)",
        "┌───────────────────────┬────────────────┬───────────┬────────┬──────────┬───────────────────────────────┐",
        "│ Asset                 │         Amount │       USD │  Share │ Accounts │ Top holders                   │",
        "├───────────────────────┼────────────────┼───────────┼────────┼──────────┼───────────────────────────────┤",
        "│ ETH                   │            0.3 │   $604.00 │ 50.16% │        2 │ platform / kraken 0.2 $604.00 │",
        "│                       │ 0.1 not valued │           │        │          │ mallory / okx 0.1             │",
        "│ USD (USD, USDC)       │            300 │   $300.00 │ 24.92% │        2 │ mallory / okx 200 $200.00     │",
        "│                       │                │           │        │          │ platform / kraken 100 $100.00 │",
        "│ other (broker equity) │                │   $300.00 │ 24.92% │        1 │ mallory / okx $300.00         │",
        "│ KFEE                  │              5 │  unpriced │        │        1 │ platform / kraken 5           │",
        "│ TOTAL                 │                │ $1,204.00 │        │          │                               │",
        "└───────────────────────┴────────────────┴───────────┴────────┴──────────┴───────────────────────────────┘",
        "other (broker equity): account equity as the broker states it (Alpaca equity, OKX totalEq) beyond its assets' values.",
        "Not included, as in the report's totals: 1 broker account with no figure.",
        "",
      ].join("\n"),
    );
  });
});
