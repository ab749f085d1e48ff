import { describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/model.js";
import { guideAccounts, row, user } from "./fixtures.js";

describe("buildReport", () => {
  it("totals the guide's example exactly", () => {
    const report = buildReport(guideAccounts());
    expect(report.platform?.totalCents).toBe(691346n);
    expect(report.users.map((u) => [u.id, u.totalCents])).toEqual([
      ["alice", 100000n],
      ["bob", 250000n],
    ]);
    expect(report.summary).toEqual({
      platformTotalCents: 691346n,
      userTotals: { alice: 100000n, bob: 250000n },
      totalUserCapitalCents: 350000n,
      userCount: 2,
      averagePerUserCents: 175000n,
      accountsUnknown: 0,
      usersUnknown: 0,
      duplicateCents: 0n,
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
          row("kraken", null, { status: "auth_failed", message: "rejected" }),
          row("coinbase", 0n, { status: "no_credentials", source: "none", fetchedAt: null }),
          row("alpaca", 0n, { status: "timeout", enabled: false }),
        ]),
      ],
      generatedAt: new Date(),
    });
    expect(report.failedCount).toBe(1);
    expect(report.summary.accountsUnknown).toBe(1);
    expect(report.users[0]?.unknownCount).toBe(1);
  });

  it("never counts an unknown figure as zero: 40 users at $20 and one failed user", () => {
    const users = Array.from({ length: 40 }, (_, i) =>
      user(`u${String(i).padStart(2, "0")}`, [row("kraken", 2000n)]),
    );
    users.push(user("zz-failed", [row("kraken", null, { status: "timeout" })]));
    const report = buildReport({ platform: null, users, generatedAt: new Date() });
    // Was $19.51 (800 / 41): the failed user counted as $0.
    expect(report.summary.averagePerUserCents).toBe(2000n);
    expect(report.summary.totalUserCapitalCents).toBe(80000n);
    expect(report.summary.userCount).toBe(41);
    expect(report.summary.usersUnknown).toBe(1);
    expect(report.summary.accountsUnknown).toBe(1);
  });

  it("a stale figure after a failure is known: summed, not unknown", () => {
    const report = buildReport({
      platform: null,
      users: [user("a", [row("kraken", 500n, { status: "timeout", source: "stale" })])],
      generatedAt: new Date(),
    });
    expect(report.summary.totalUserCapitalCents).toBe(500n);
    expect(report.summary.accountsUnknown).toBe(0);
    expect(report.failedCount).toBe(1);
  });

  it("sums a shared credential's figure once and says how much was left out", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("Bob", [row("kraken", 250000n)]),
        user("bob", [row("kraken", 250000n, { duplicateOf: "user Bob" })]),
      ],
      generatedAt: new Date(),
    });
    expect(report.summary.totalUserCapitalCents).toBe(250000n);
    expect(report.summary.duplicateCents).toBe(250000n);
  });

  it("keeps disabled users visible but out of the totals", () => {
    const report = buildReport({
      platform: null,
      users: [
        user("a", [row("kraken", 100n)]),
        user("b", [row("kraken", 999n)], { enabled: false }),
      ],
      generatedAt: new Date(),
    });
    expect(report.users.map((u) => u.id)).toEqual(["a", "b"]);
    expect(report.summary.userCount).toBe(1);
    expect(report.summary.totalUserCapitalCents).toBe(100n);
    expect(report.summary.userTotals).toEqual({ a: 100n });
  });

  it("sums figures past 2^53 cents exactly", () => {
    const report = buildReport({
      platform: null,
      users: [user("a", [row("kraken", 9007199254740993n), row("coinbase", 1n)])],
      generatedAt: new Date(),
    });
    expect(report.summary.totalUserCapitalCents).toBe(9007199254740994n);
  });
});
