import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { HistoryStore, type Sample } from "../../src/monitor/history.js";
import { ROOT, runCli, scratch, spawnCli, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";
import { startReceiver } from "./receiver.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

/**
 * alice: kraken $1,000 and coinbase $500, with a user-total threshold (drop > 50 %) and
 * coinbase's LOW turned off in the config (lowUsd 0 overrides --alert-low).
 */
async function setup() {
  const s = await scratch();
  const kraken = seedAccount(emulator, "kraken", { USD: "1000" });
  const coinbase = seedAccount(emulator, "coinbase", { USDC: "500" });
  await writeJson(join(s.config, "users", "alice.json"), {
    user_id: "alice",
    alerts: { dropPct: 50 },
    brokers: [
      { broker: "kraken", credentials: kraken, apiUrl: emulator.urls.kraken },
      {
        broker: "coinbase",
        credentials: coinbase,
        apiUrl: emulator.urls.coinbase,
        alerts: { lowUsd: 0 },
      },
    ],
  });
  const state = join(s.dir, "state");
  const common = ["--config-dir", s.config, "--cache-dir", s.cache, "--state-dir", state];
  const run = (args: string[]) =>
    runCli([...common, "--kraken-spacing", "50", "--cache-ttl", "0", ...args], { cwd: s.dir });
  const history = (args: string[]) =>
    runCli(["history", "--state-dir", state, ...args], { cwd: s.dir });
  return { ...s, kraken, coinbase, state, common, run, history };
}

describe("history and alerts across cron runs", () => {
  it("records every fetch, fires LOW and DROP once at the transition, never on a failed fetch, and posts the webhook", async () => {
    const s = await setup();
    const hook = await startReceiver();
    const alertFlags = ["--json", "--alert-low", "100", "--alert-drop", "20", "--notify", hook.url];

    // 1. Everything above the thresholds: no alert, exit 0; the document carries `alerts: []`.
    const first = await s.run(alertFlags);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).alerts).toEqual([]);

    // 2. kraken falls to $50 and coinbase to $80: LOW and DROP on kraken, DROP (not LOW: the
    //    config turned it off) on coinbase, DROP on the total. Exit 4; the webhook gets them.
    emulator.setBalances("kraken", s.kraken.apiKey, { USD: { free: "50" } });
    emulator.setBalances("coinbase", s.coinbase.apiKey, { USDC: { free: "80" } });
    const second = await s.run(alertFlags);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(4);
    const alerts = JSON.parse(second.stdout).alerts;
    expect(
      alerts.map((a: { type: string; broker: string | null }) => `${a.type} ${a.broker}`),
    ).toEqual([
      "BALANCE_LOW kraken",
      "BALANCE_DROP kraken",
      "BALANCE_DROP coinbase",
      "BALANCE_DROP null",
    ]);
    expect(alerts[0]).toEqual({
      type: "BALANCE_LOW",
      account: "user",
      user: "alice",
      broker: "kraken",
      previous: 1000,
      current: 50,
      change: -950,
      change_pct: -95,
      threshold: 100,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      since: alerts[0].time,
      repeat: false,
    });
    expect(alerts[3]).toMatchObject({ broker: null, previous: 1500, current: 130, threshold: 50 });
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]).toMatchObject({ method: "POST", contentType: "application/json" });
    const payload = hook.received[0]?.body as { alerts: unknown[]; text: string; source: string };
    expect(payload.source).toBe("show-user-balances");
    expect(payload.alerts).toEqual(alerts);
    expect(payload.text).toContain("BALANCE_LOW alice / kraken: $50.00 below $100.00");
    expect(payload.text).toContain("BALANCE_DROP alice / kraken: $50.00, -95% from $1,000.00");

    // 3. Same balances: the conditions hold, nothing fires again, nothing is posted.
    const third = await s.run(alertFlags);
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout).alerts).toEqual([]);
    expect(hook.received).toHaveLength(1);

    // 4. kraken rejects the key: exit 3 (not 4), and the failure is no drop to zero.
    emulator.setFault("kraken", s.kraken.apiKey, { kind: "revoked" });
    const failed = await s.run(alertFlags);
    expect(failed.code).toBe(3);
    expect(JSON.parse(failed.stdout).alerts).toEqual([]);

    // 5. kraken answers again with the same $50: compared with the last good figure, no alert.
    emulator.setFault("kraken", s.kraken.apiKey, null);
    const back = await s.run(alertFlags);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout).alerts).toEqual([]);
    expect(hook.received).toHaveLength(1);

    // The history has every fetch, the failure without a figure, and the change.
    const h = await s.history(["--user", "alice", "--json"]);
    expect(h.code).toBe(0);
    const doc = JSON.parse(h.stdout);
    const kraken = doc.series.find((x: { broker: string | null }) => x.broker === "kraken");
    expect(
      kraken.points.map((p: { usd: number | null; status: string }) => [p.usd, p.status]),
    ).toEqual([
      [1000, "ok"],
      [50, "ok"],
      [50, "ok"],
      [null, "auth_failed"],
      [50, "ok"],
    ]);
    expect(kraken.points[0].assets).toEqual({ USD: "1000" });
    expect(kraken).toMatchObject({
      user: "alice",
      first: 1000,
      last: 50,
      change: -950,
      change_pct: -95,
    });
    const total = doc.series.find((x: { broker: string | null }) => x.broker === null);
    expect(total.points.map((p: { usd: number | null }) => p.usd)).toEqual([
      1500,
      130,
      130,
      null,
      130,
    ]);

    const table = await s.history(["--broker", "kraken"]);
    const lines = table.stdout.split("\n").map((l) => l.trimEnd());
    expect(lines).toContain("   alice / kraken");
    expect(table.stdout).toMatch(/\$50\.00 +-\$950\.00 +-95\.00%/);
    expect(table.stdout).toMatch(/✗ auth failed/);
    expect(table.stdout).toMatch(/CHANGE {2}-\$950\.00 -95\.00% {2}\(5 samples\)/);
    expect(table.stdout).not.toContain("alice / total");
    await hook.close();
  });

  it.each(["never", "off", "0"])(
    "--renotify %s fires once at the transition and never again while it holds",
    async (never) => {
      const s = await setup();
      emulator.setBalances("kraken", s.kraken.apiKey, { USD: { free: "50" } });
      const flags = ["--json", "--alert-low", "100", "--renotify", never];
      expect((await s.run(flags)).code).toBe(4);
      // Was: commander turned the parser's null into "", and every run fired again.
      const again = await s.run(flags);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).alerts).toEqual([]);
    },
  );

  it("shows fired alerts in their own table section and keeps going when the webhook fails", async () => {
    const s = await setup();
    const hook = await startReceiver([500, 500, 500]);
    const result = await s.run(["--alert-low", "5000", "--notify", hook.url, "--no-color"]);
    expect(result.code).toBe(4);
    const lines = result.stdout.split("\n").map((l) => l.trimEnd());
    expect(lines).toContain("ALERTS (1)");
    expect(lines).toContain("   ⚠ BALANCE_LOW   alice / kraken: $1,000.00, below $5,000.00");
    expect(lines.indexOf("ALERTS (1)")).toBeGreaterThan(lines.indexOf("SUMMARY"));
    expect(result.stderr).toMatch(
      /^warning: webhook http:\/\/127\.0\.0\.1:\d+ failed after 3 attempts: HTTP 500/m,
    );
    expect(result.stderr).not.toContain("secret-token");
    await hook.close();
  });

  it("a cache-hit run records nothing (with thresholds it evaluates them); --no-history records nothing at all", async () => {
    const s = await setup();
    const cached = ["--config-dir", s.config, "--cache-dir", s.cache, "--state-dir", s.state];
    const trace = ["--require", join(ROOT, "test", "monitor", "trace-sqlite.cjs")];
    const live = await runCli([...cached, "--kraken-spacing", "50"], {
      cwd: s.dir,
      nodeArgs: trace,
    });
    expect(live.stderr).toContain("[trace] sqlite driver loaded");
    // alice's config has a threshold: the cache-hit run opens the history to evaluate it.
    const hit = await runCli([...cached, "--json"], { cwd: s.dir, nodeArgs: trace });
    expect(hit.code).toBe(0);
    expect(hit.stderr).toBe("[trace] sqlite driver loaded\n");
    expect(JSON.parse(hit.stdout).alerts).toEqual([]);
    await s.run(["--no-history"]);
    const h = JSON.parse((await s.history(["--json"])).stdout);
    expect(h.series.find((x: { broker: string }) => x.broker === "kraken").points).toHaveLength(1);
    // Thresholds from the config alone switch alerting on: the document carries `alerts`.
    const plain = await s.run(["--json"]);
    expect(JSON.parse(plain.stdout).alerts).toEqual([]);
    // A history that cannot be written, with thresholds set (alice's config has one), fails the
    // run loudly: the report is still printed, the file and the fix are named, exit 2.
    const unwritable = await s.run([
      "--json",
      "--state-dir",
      join(s.config, "users", "alice.json"),
    ]);
    expect(unwritable.code).toBe(2);
    expect(JSON.parse(unwritable.stdout).summary.user_totals).toEqual({ alice: 1500 });
    expect(unwritable.stderr).toMatch(
      /^show-user-balances: alerts are off for this run: cannot use .*alice\.json\/history\.sqlite/m,
    );
    expect(unwritable.stderr).toMatch(/^ {2}fix: /m);
    const conflict = await s.run(["--no-history", "--alert-low", "1"]);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain("--no-history");
  });
});

describe("a history store that cannot be used", () => {
  it("with thresholds: exit 2 naming the file and the fix, the report still printed; `history` says the same", async () => {
    const s = await setup();
    await mkdir(s.state, { recursive: true });
    const file = join(s.state, "history.sqlite");
    await writeFile(file, "not a database\n".repeat(200));
    const run = await s.run(["--json", "--alert-low", "100"]);
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout);
    expect(doc.summary.user_totals).toEqual({ alice: 1500 });
    expect(doc).not.toHaveProperty("alerts");
    expect(run.stderr).toContain(`${file} is not a usable history database`);
    expect(run.stderr).toContain(`fix: move it aside (mv ${file} ${file}.bad)`);

    const history = await s.history(["--json"]);
    expect(history.code).toBe(2);
    expect(history.stdout).toBe("");
    expect(history.stderr).toContain(`${file} is not a usable history database`);
    expect(history.stderr).not.toContain("internal error");

    // Moved aside, it is recreated and alerts work again.
    await rename(file, `${file}.bad`);
    expect((await s.run(["--json", "--alert-low", "100"])).code).toBe(0);
  });

  it("without thresholds only the recording is lost: a warning, exit 0", async () => {
    const s = await scratch();
    const kraken = seedAccount(emulator, "kraken", { USD: "10" });
    await writeJson(join(s.config, "users", "bo.json"), {
      user_id: "bo",
      brokers: [{ broker: "kraken", credentials: kraken, apiUrl: emulator.urls.kraken }],
    });
    const state = join(s.dir, "state");
    await mkdir(state);
    await writeFile(join(state, "history.sqlite"), "garbage".repeat(500));
    const run = await runCli(
      ["--config-dir", s.config, "--cache-dir", s.cache, "--state-dir", state, "--json"],
      { cwd: s.dir },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^warning: history not recorded: .*history\.sqlite is not a usable/m,
    );
  });

  it("a missing SQLite binding with thresholds: exit 2 with the fix, never a silent exit 0", async () => {
    const s = await setup();
    const broken = ["--require", join(ROOT, "test", "monitor", "no-sqlite.cjs")];
    const run = await runCli(
      [...s.common, "--kraken-spacing", "50", "--json", "--alert-drop", "20"],
      { cwd: s.dir, nodeArgs: broken },
    );
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).summary.user_count).toBe(1);
    expect(run.stderr).toMatch(/no SQLite driver: node:sqlite is not available .*libsql/);
    expect(run.stderr).toMatch(/fix: use Node\.js 22\.13 or later .*npm ci/);
  });
});

describe("--watch", () => {
  it("prints one JSON document per line and stops cleanly on SIGTERM with exit 0", async () => {
    const s = await setup();
    const { child, done } = spawnCli(
      [...s.common, "--kraken-spacing", "50", "--cache-ttl", "0", "--json", "--watch", "1"],
      { cwd: s.dir },
    );
    let seen = "";
    await new Promise<void>((resolve) => {
      child.stdout?.on("data", (d) => {
        seen += d;
        if (seen.split("\n").length > 3) resolve();
      });
    });
    child.kill("SIGTERM");
    const { code, stdout, stderr } = await done;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout.endsWith("\n")).toBe(true);
    const lines = stdout.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      const doc = JSON.parse(line);
      expect(doc.summary.user_totals).toEqual({ alice: 1500 });
    }
  });

  it("as a table on a pipe, prints one report after another", async () => {
    const s = await setup();
    const { child, done } = spawnCli([...s.common, "--kraken-spacing", "50", "--watch", "1"], {
      cwd: s.dir,
    });
    let seen = "";
    await new Promise<void>((resolve) => {
      child.stdout?.on("data", (d) => {
        seen += d;
        if (seen.split("USER ACCOUNT BALANCES").length > 2) resolve();
      });
    });
    child.kill("SIGINT");
    const { code, stdout } = await done;
    expect(code).toBe(0);
    expect(stdout).not.toContain("\u001b[2J");
    expect(stdout.split("USER ACCOUNT BALANCES").length).toBeGreaterThan(2);
  });
});

describe("alerts on cached figures", () => {
  it("a plain cache-hit run opens no history; two runs with a threshold seeing one cached figure fire it once", async () => {
    const s = await scratch();
    const kraken = seedAccount(emulator, "kraken", { USD: "50" });
    await writeJson(join(s.config, "users", "cy.json"), {
      user_id: "cy",
      brokers: [{ broker: "kraken", credentials: kraken, apiUrl: emulator.urls.kraken }],
    });
    const state = join(s.dir, "state");
    const args = ["--config-dir", s.config, "--cache-dir", s.cache, "--state-dir", state];
    const trace = ["--require", join(ROOT, "test", "monitor", "trace-sqlite.cjs")];
    const run = (extra: string[]) =>
      runCli([...args, "--kraken-spacing", "50", "--json", ...extra], {
        cwd: s.dir,
        nodeArgs: trace,
      });
    const live = await run([]);
    expect(live.code).toBe(0);
    expect(live.stderr).toBe("[trace] sqlite driver loaded\n");
    // Served from the cache, no threshold: no SQLite module, no file opened.
    const plain = await run([]);
    expect(plain.stderr).toBe("");
    expect(JSON.parse(plain.stdout).status.users.cy.kraken.source).toBe("cached");
    // Two processes at once on the same cached $50: the transition fires in exactly one.
    const both = await Promise.all([run(["--alert-low", "100"]), run(["--alert-low", "100"])]);
    expect(both.map((r) => r.code).sort()).toEqual([0, 4]);
    const docs = both.map((r) => JSON.parse(r.stdout));
    for (const doc of docs) expect(doc.status.users.cy.kraken.source).toBe("cached");
    expect(docs.flatMap((d) => d.alerts)).toEqual([
      expect.objectContaining({ type: "BALANCE_LOW", user: "cy", broker: "kraken", current: 50 }),
    ]);
    // And later runs on the same figure stay quiet.
    expect((await run(["--alert-low", "100"])).code).toBe(0);
    const h = await runCli(["history", "--state-dir", state, "--json"], { cwd: s.dir });
    const series = JSON.parse(h.stdout).series;
    expect(series.map((x: { points: unknown[] }) => x.points.length)).toEqual([1]);
  });
});

describe("history --interval", () => {
  it("--interval 1d --since 7d: one row per UTC day per account from a seeded store, with totals", async () => {
    const s = await scratch();
    const state = join(s.dir, "state");
    const DAY = 86_400_000;
    const today = Math.floor(Date.now() / DAY) * DAY;
    const store = HistoryStore.open(state) as HistoryStore;
    const samples: Sample[] = [];
    for (let d = 1; d <= 6; d++) {
      for (const hour of [6, 18]) {
        const at = today - d * DAY + hour * 3_600_000;
        const accounts = [
          ["platform", "platform", 500_000n],
          ["user", "alice", 75_000n],
          ["user", "bob", 250_000n],
        ] as const;
        for (const [kind, account, base] of accounts) {
          if (account === "bob" && d === 3) continue; // bob was not recorded that day
          const cents = base + BigInt(d * 100 + hour);
          for (const broker of ["kraken", null]) {
            samples.push({
              kind,
              account,
              broker,
              at,
              status: "ok",
              cents,
              valuation: null,
              assets: null,
            });
          }
        }
      }
    }
    store.transaction(() => store.record(samples));
    store.close();
    const history = (args: string[]) =>
      runCli(["history", "--state-dir", state, "--interval", "1d", "--since", "7d", ...args], {
        cwd: s.dir,
      });

    const json = await history(["--json"]);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    // since is 7 days back from now, inside the day 7 days ago: 8 UTC days up to today.
    expect(doc.intervals).toHaveLength(8);
    expect(doc.intervals[0].start).toBe(new Date(today - 7 * DAY).toISOString());
    const days = doc.intervals.slice(1, 7);
    for (const [i, day] of days.entries()) {
      const d = 6 - i;
      expect(day.start).toBe(new Date(today - d * DAY).toISOString());
      const rows = day.samples.map(
        (x: { user: string | null; broker: string }) => x.user ?? "platform",
      );
      expect(rows).toEqual(d === 3 ? ["platform", "alice"] : ["platform", "alice", "bob"]);
      // The day's last figure: the 18:00Z one.
      for (const x of day.samples) {
        expect(x.time).toBe(new Date(today - d * DAY + 18 * 3_600_000).toISOString());
      }
      expect(day.platform_total.usd).toBe((500_000 + d * 100 + 18) / 100);
      expect(day.total_user_capital).toEqual({
        usd: d === 3 ? (75_000 + d * 100 + 18) / 100 : (325_000 + 2 * (d * 100 + 18)) / 100,
        accounts_missing: d === 3 ? 1 : 0,
      });
    }
    expect(doc.intervals[7].samples).toEqual([]);

    const table = await history(["--no-color"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines.filter((l) => l.includes("alice / kraken"))).toHaveLength(6);
    expect(lines.filter((l) => l.includes("bob / kraken"))).toHaveLength(5);
    expect(lines.filter((l) => / {3}\d{4}-\d\d-\d\d 00:00Z to /.test(l))).toHaveLength(8);
    expect(table.stdout).toContain("(1 account with no figure: not included)");
    expect(
      lines
        .filter((l) => l.includes("alice / kraken"))
        .every((l) => /18:00:00Z$/.test(l.trimEnd())),
    ).toBe(true);

    const csv = await history(["--format", "csv"]);
    const csvLines = csv.stdout.split("\r\n");
    expect(csvLines[0]).toBe(
      "interval_start,interval_end,account,user,broker,time,usd,status,accounts_missing",
    );
    expect(csvLines.filter((l) => l.includes(",kraken,"))).toHaveLength(17);
    expect((await history(["--json", "--format", "csv"])).code).toBe(2);
  });
});

describe("history reads the state directory settings.json names", () => {
  it("uses stateDir from --config-dir's settings.json when --state-dir is not given; a broken file is exit 2", async () => {
    const s = await setup();
    const stateFromSettings = join(s.dir, "from-settings");
    await writeJson(join(s.config, "settings.json"), { stateDir: stateFromSettings });
    // The report records where settings.json says (no --state-dir given).
    const report = await runCli(
      ["--config-dir", s.config, "--cache-dir", s.cache, "--kraken-spacing", "50", "--json"],
      { cwd: s.dir },
    );
    expect(report.code).toBe(0);
    // history finds it through the same settings, before or after the subcommand name.
    for (const args of [
      ["history", "--config-dir", s.config, "--json"],
      ["--config-dir", s.config, "history", "--json"],
    ]) {
      const found = await runCli(args, { cwd: s.dir });
      expect(found.code, found.stderr).toBe(0);
      expect(JSON.parse(found.stdout).series.map((x: { broker: string }) => x.broker)).toEqual(
        expect.arrayContaining(["kraken", "coinbase"]),
      );
    }
    // --state-dir wins; a settings file that is not JSON is named, exit 2.
    const elsewhere = await runCli(
      ["history", "--config-dir", s.config, "--state-dir", s.state, "--json"],
      { cwd: s.dir },
    );
    expect(elsewhere.stdout).not.toContain("coinbase");
    await writeJson(join(s.config, "settings.json"), "{ not json");
    const broken = await runCli(["history", "--config-dir", s.config], { cwd: s.dir });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("settings.json");
  });
});
