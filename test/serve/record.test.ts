import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { runCli } from "../helpers/cli.js";
import { guideSetup, report, serve, stopAll } from "./setup.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());
afterEach(stopAll);

interface Doc {
  status: { users: Record<string, Record<string, { source: string; fetched_at: string }>> };
  alerts?: { type: string; user: string | null; broker: string | null; current: number }[];
}

interface HistoryDoc {
  series: { user: string | null; broker: string | null; points: { time: string; usd: number }[] }[];
}

describe("serve records what it fetches; cron alerts on what serve keeps cached", () => {
  it("with serve refreshing, a cron run on carol at $50 fires BALANCE_LOW (exit 4) once, and the history holds each process's fetch once", async () => {
    const s = await guideSetup(emulator, { users: [{ id: "carol", name: "Carol", usd: "50.00" }] });
    const served = await serve(s, ["--refresh", "1"]);
    const balances = async () => (await (await fetch(`${served.url}api/balances`)).json()) as Doc;

    // The dashboard's refreshes: the first fetches (and records), the next are cache hits.
    const first = await balances();
    const servedAt = first.status.users.carol?.kraken?.fetched_at as string;
    for (let i = 0; i < 3; i++) {
      const again = await balances();
      expect(again.status.users.carol?.kraken).toMatchObject({
        source: "cached",
        fetched_at: servedAt,
      });
    }

    // cron: every figure comes from the cache serve keeps fresh, and the alert still fires.
    const cron = await report(s, ["--json", "--alert-low", "100"]);
    expect(cron.stderr).toBe("");
    expect(cron.code).toBe(4);
    const doc = JSON.parse(cron.stdout) as Doc;
    expect(doc.status.users.carol?.kraken).toMatchObject({
      source: "cached",
      fetched_at: servedAt,
    });
    expect(doc.alerts).toEqual([
      expect.objectContaining({
        type: "BALANCE_LOW",
        user: "carol",
        broker: "kraken",
        current: 50,
      }),
    ]);
    // The next cron run sees the same figure: the transition already fired.
    const quiet = await report(s, ["--json", "--alert-low", "100"]);
    expect(quiet.code).toBe(0);
    expect((JSON.parse(quiet.stdout) as Doc).alerts).toEqual([]);

    // A cron run that fetches records its own sample; serve then serves that one from the cache
    // and records nothing more.
    const fetching = await report(s, ["--json", "--refresh", "--alert-low", "100"]);
    expect(fetching.code).toBe(0);
    const cronAt = (JSON.parse(fetching.stdout) as Doc).status.users.carol?.kraken
      ?.fetched_at as string;
    expect(cronAt).not.toBe(servedAt);
    const after = await balances();
    expect(after.status.users.carol?.kraken).toMatchObject({
      source: "cached",
      fetched_at: cronAt,
    });
    expect((await served.stop()).code).toBe(0);

    const history = await runCli(
      ["history", "--state-dir", join(s.state, "show-user-balances"), "--user", "carol", "--json"],
      { cwd: s.dir },
    );
    expect(history.code).toBe(0);
    const series = (JSON.parse(history.stdout) as HistoryDoc).series;
    expect(series.map((x) => x.broker)).toEqual(["kraken"]);
    expect(series[0]?.points.map((p) => [p.time, p.usd])).toEqual([
      [servedAt, 50],
      [cronAt, 50],
    ]);
  });
});

describe("serve --poll", () => {
  it("refreshes on its own schedule with no page open, and records what it fetched", async () => {
    const s = await guideSetup(emulator, { users: [{ id: "dora", name: "Dora", usd: "75.00" }] });
    emulator.clearRequests();
    const served = await serve(s, ["--poll", "60"]);
    // No request to the server at all: the first poll fetches every account at start.
    const deadline = Date.now() + 10_000;
    while (emulator.requests.filter((r) => r.apiKey !== null).length === 0) {
      if (Date.now() > deadline) throw new Error("serve --poll made no request");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await served.stop()).code).toBe(0);
    const history = await runCli(
      ["history", "--state-dir", join(s.state, "show-user-balances"), "--user", "dora", "--json"],
      { cwd: s.dir },
    );
    const series = (JSON.parse(history.stdout) as HistoryDoc).series;
    expect(series[0]?.points.map((p) => p.usd)).toEqual([75]);
  });

  it("refuses a poll interval under a minute", async () => {
    const s = await guideSetup(emulator, { users: [{ id: "dora", name: "Dora", usd: "75.00" }] });
    const result = await runCli(["serve", ...s.flags, "--port", "0", "--poll", "5"], {
      cwd: s.dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--poll/);
  });
});
