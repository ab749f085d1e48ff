import type { AccountInput, BrokerRow } from "../../src/report/model.js";

/** A live ok row worth `cents`. */
export function row(
  broker: string,
  cents: bigint | null,
  extra: Partial<BrokerRow> = {},
): BrokerRow {
  return {
    broker,
    status: "ok",
    message: null,
    usdCents: cents,
    valuation: "total",
    environment: "live",
    basis: "priced",
    assets: {},
    unpriced: [],
    fetchedAt: "2026-01-21T16:00:00.000Z",
    requests: 1,
    enabled: true,
    source: "live",
    ageSeconds: null,
    ...extra,
  };
}

export function user(
  id: string,
  rows: BrokerRow[],
  extra: Partial<AccountInput> = {},
): AccountInput {
  return { kind: "user", id, name: null, enabled: true, rows, ...extra };
}

/** The guide's example: platform 1,234.56 + 5,678.90; alice 250 + 750; bob 2,500. */
export function guideAccounts() {
  return {
    platform: {
      kind: "platform" as const,
      id: "platform",
      name: "Nija System",
      enabled: true,
      rows: [row("coinbase", 123456n), row("kraken", 567890n)],
    },
    users: [
      user("bob", [row("kraken", 250000n)]),
      user("alice", [row("coinbase", 25000n), row("kraken", 75000n)]),
    ],
    generatedAt: new Date("2026-01-21T16:00:00.000Z"),
  };
}
