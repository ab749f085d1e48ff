import { describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/model.js";
import { guideAccounts, row, user } from "./fixtures.js";

describe("buildReport", () => {
  it("totals the guide's example exactly", () => {
    const report = buildReport(guideAccounts());
    expect(report.platform?.totalCents).toBe(691346);
    expect(report.users.map((u) => [u.id, u.totalCents])).toEqual([
      ["alice", 100000],
      ["bob", 250000],
    ]);
    expect(report.summary).toEqual({
      platformTotalCents: 691346,
      userTotals: { alice: 100000, bob: 250000 },
      totalUserCapitalCents: 350000,
      userCount: 2,
      averagePerUserCents: 175000,
    });
    expect(report.failedCount).toBe(0);
  });

  it("sorts users by total, highest first, on request", () => {
    const report = buildReport({ ...guideAccounts(), sort: "total" });
    expect(report.users.map((u) => u.id)).toEqual(["bob", "alice"]);
  });

  it("counts failed brokers but not missing credentials or disabled rows", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("a", [
          row("kraken", 0, { status: "auth_failed", message: "rejected" }),
          row("coinbase", 0, { status: "no_credentials" }),
          row("alpaca", 0, { status: "timeout", enabled: false }),
        ]),
      ],
      generatedAt: new Date(),
    });
    expect(report.failedCount).toBe(1);
    expect(report.summary.platformTotalCents).toBe(0);
  });

  it("keeps disabled users visible but out of the totals", () => {
    const report = buildReport({
      platform: null,
      users: [user("a", [row("kraken", 100)]), user("b", [row("kraken", 999)], { enabled: false })],
      generatedAt: new Date(),
    });
    expect(report.users.map((u) => u.id)).toEqual(["a", "b"]);
    expect(report.summary.userCount).toBe(1);
    expect(report.summary.totalUserCapitalCents).toBe(100);
    expect(report.summary.userTotals).toEqual({ a: 100 });
  });

  it("sums many cent amounts whose float sum drifts", () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(`b${i}`, 10));
    const report = buildReport({
      platform: null,
      users: [user("a", rows)],
      generatedAt: new Date(),
    });
    expect(report.summary.totalUserCapitalCents).toBe(100);
    expect(Array.from({ length: 10 }, () => 0.1).reduce((a, b) => a + b)).not.toBe(1);
  });
});
