import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Credentials } from "../../src/brokers/types.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { HISTORY_FILE } from "../../src/monitor/history.js";
import { ROOT, runCli, scratch, spawnCli, writeJson } from "../helpers/cli.js";
import { gaps } from "../helpers/gaps.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.clearRequests();
  emulator.setLatency(0);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Balance requests only: the default `total` valuation adds public price look-ups. */
const privateRequests = () => emulator.requests.filter((r) => r.apiKey !== null);

/** Three users on kraken and coinbase, credentials inline (files are 0600). */
async function setup(users = ["ann", "ben", "cat"]) {
  const s = await scratch();
  const keys: Credentials[] = [];
  for (const [i, id] of users.entries()) {
    const kraken = seedAccount(emulator, "kraken", { USD: `${i + 1}00.01` });
    const coinbase = seedAccount(emulator, "coinbase", { USDC: `${i + 1}0.10` });
    keys.push(kraken, coinbase);
    await writeJson(join(s.config, "users", `${id}.json`), {
      user_id: id,
      brokers: [
        { broker: "kraken", credentials: kraken, apiUrl: emulator.urls.kraken },
        { broker: "coinbase", credentials: coinbase, apiUrl: emulator.urls.coinbase },
      ],
    });
  }
  const run = (args: string[], nodeArgs: string[] = []) =>
    runCli(["--config-dir", s.config, "--cache-dir", s.cache, ...args], { cwd: s.dir, nodeArgs });
  return { ...s, keys, run };
}

describe("the balance cache across runs", () => {
  it("a second run inside the TTL makes no request and loads no ccxt; --refresh fetches again", async () => {
    const s = await setup();
    const first = await s.run(["--json", "--kraken-spacing", "50"]);
    expect(first.code).toBe(0);
    expect(privateRequests()).toHaveLength(6);
    emulator.clearRequests();

    const trace = ["--import", join(ROOT, "test", "helpers", "trace-heavy-modules.mjs")];
    const second = await s.run(["--json"], trace);
    expect(second.code).toBe(0);
    expect(emulator.requests).toHaveLength(0);
    expect(second.stderr).not.toContain("[trace] ccxt module loaded");
    // Nor zod (issue 14): the config is read by fast-parse.ts, the entries by cache-entry.ts.
    expect(second.stderr).not.toContain("[trace] zod module loaded");
    // Nor child_process, which commander requires for subcommands this CLI does not have.
    const builtins = ["--require", join(ROOT, "test", "helpers", "trace-builtins.cjs")];
    const hit = await s.run(["--json"], builtins);
    expect(hit.code).toBe(0);
    expect(hit.stderr).not.toContain("[trace] builtin loaded: child_process");
    const doc = JSON.parse(second.stdout);
    expect(doc.summary).toEqual(JSON.parse(first.stdout).summary);
    expect(doc.status.users.ann.kraken).toMatchObject({ state: "ok", source: "cached" });
    expect(doc.status.users.ann.kraken.age_seconds).toBeGreaterThanOrEqual(0);

    const table = await s.run([]);
    expect(table.stdout).toMatch(/KRAKEN +\$100\.01 {2}\(cached \d+s ago\)/);

    const refreshed = await s.run(
      ["--json", "--refresh", "--kraken-spacing", "50"],
      [...trace, ...builtins],
    );
    expect(privateRequests()).toHaveLength(6);
    expect(refreshed.stderr).toContain("[trace] builtin loaded: internal/fs/promises");
    // The tracer is live: a fetching run does report ccxt.
    expect(refreshed.stderr).toContain("[trace] ccxt module loaded");
    // ... from the build's pre-bundled module, not ccxt's ~66 files (issue 14: the first request).
    expect(refreshed.stderr).toMatch(/ccxt module loaded: file:\S*\/dist\/ccxt\/kraken\.js/);
    expect(refreshed.stderr).not.toContain("/node_modules/ccxt/");
    // The tracer sees zod where it is loaded: a settings.json is checked with it.
    await writeJson(join(s.config, "settings.json"), { valuation: "total" });
    const withSettings = await s.run(["--json"], trace);
    expect(withSettings.stderr).toContain("[trace] zod module loaded");
    expect(JSON.parse(refreshed.stdout).status.users.ann.kraken.source).toBe("live");
  });

  it("--no-cache neither reads nor writes balances (only the Kraken lane's locks); --cache-ttl 0 always fetches", async () => {
    const s = await setup(["dan"]);
    await s.run(["--no-cache"]);
    const kept = (await readdir(s.cache, { recursive: true }).catch(() => [])).filter(
      (f) => !f.startsWith("locks"),
    );
    expect(kept).toEqual([]);
    await s.run(["--cache-ttl", "0"]);
    await s.run(["--cache-ttl", "0"]);
    expect(privateRequests()).toHaveLength(6);
  });

  it("a failing broker shows its last good figure marked stale, and the run still exits 3", async () => {
    const s = await setup(["eve"]);
    await s.run([]);
    emulator.setFault("kraken", s.keys[0]?.apiKey as string, { kind: "revoked" });
    const json = await s.run(["--json", "--cache-ttl", "0"]);
    expect(json.code).toBe(3);
    const doc = JSON.parse(json.stdout);
    expect(doc.balances.users.eve.kraken).toBe(100.01);
    expect(doc.status.users.eve.kraken).toMatchObject({ state: "auth_failed", source: "stale" });
    const table = await s.run(["--cache-ttl", "0"]);
    expect(table.stdout).toMatch(/KRAKEN +\$100\.01 {2}⚠ stale \d+s ago: auth failed/);
    const tooOld = await s.run(["--json", "--cache-ttl", "0", "--stale-max-age", "0s"]);
    expect(JSON.parse(tooOld.stdout).balances.users.eve.kraken).toBeNull();
  });
});

describe("the config snapshot across runs", () => {
  it("serves a hit without reading the user files; a fetch reads the credentials again", async () => {
    const s = await setup(["dan", "eve"]);
    // Files changed in the last 2 s leave no snapshot (a change within the file times' grain
    // could go unseen).
    await sleep(2100);
    const args = ["--json", "--valuation", "cash", "--kraken-spacing", "0"];
    const cold = await s.run(args);
    expect(cold.code, cold.stderr).toBe(0);
    expect(privateRequests()).toHaveLength(4);
    const dir = join(s.cache, "config");
    const [name] = await readdir(dir);
    if (!name) throw new Error("no snapshot written");
    const snapshot = join(dir, name);
    const ino = statSync(snapshot).ino;
    const bytes = readFileSync(snapshot);
    for (const key of s.keys) {
      expect(bytes.includes(key.apiKey)).toBe(false);
      expect(bytes.includes(key.secret)).toBe(false);
    }
    const figures = (out: string) => JSON.parse(out).balances;

    const builtins = ["--require", join(ROOT, "test", "helpers", "trace-builtins.cjs")];
    const hit = await s.run(args, builtins);
    expect(hit.code, hit.stderr).toBe(0);
    expect(figures(hit.stdout)).toEqual(figures(cold.stdout));
    expect(privateRequests()).toHaveLength(4);
    // Read, not rewritten.
    expect(statSync(snapshot).ino).toBe(ino);
    // Nothing read the files, and nothing loaded fs/promises (the directories' asynchronous
    // listing is the full read's).
    expect(hit.stderr).not.toContain("[trace] builtin loaded");

    // Every figure expired: each fetch signs with the credentials read from the files again (the
    // emulator checks every signature).
    const refetch = await s.run([...args, "--cache-ttl", "0"]);
    expect(refetch.code, refetch.stderr).toBe(0);
    expect(figures(refetch.stdout)).toEqual(figures(cold.stdout));
    expect(privateRequests()).toHaveLength(8);
    expect(privateRequests().every((r) => r.status === 200)).toBe(true);
    expect(statSync(snapshot).ino).toBe(ino);
  });
});

describe("work a cold run overlaps with its network wait", () => {
  it("opens the history store while the first request waits for its answer; a hit opens none", async () => {
    const s = await setup(["ivy"]);
    const history = join(s.dir, "state", HISTORY_FILE);
    const args = ["--json", "--valuation", "cash", "--state-dir", join(s.dir, "state")];
    emulator.setLatency(800);
    const { done } = spawnCli(["--config-dir", s.config, "--cache-dir", s.cache, ...args], {
      cwd: s.dir,
    });
    const waitFor = async (what: () => boolean, ms = 20_000) => {
      for (const end = Date.now() + ms; !what() && Date.now() < end; ) await sleep(5);
      return what();
    };
    expect(await waitFor(() => privateRequests().length > 0)).toBe(true);
    expect(await waitFor(() => existsSync(history), 700)).toBe(true);
    // No request had been answered when the store was opened.
    expect(privateRequests().filter((r) => r.status !== 0)).toEqual([]);
    expect((await done).code).toBe(0);

    emulator.setLatency(0);
    rmSync(join(s.dir, "state"), { recursive: true });
    const hit = await s.run(args);
    expect(hit.code, hit.stderr).toBe(0);
    expect(existsSync(history)).toBe(false);
  });
});

describe("the Kraken queue and single flight across processes", () => {
  it("keeps >= 1.1 s between requests on one key by default, across five --no-cache runs at once", async () => {
    // Regression: --no-cache dropped the lane's cross-process lock, and five parallel runs on one
    // key sent nonces out of order (EAPI:Invalid nonce).
    const s = await scratch();
    const shared = seedAccount(emulator, "kraken", { USD: "5" });
    const account = { broker: "kraken", credentials: shared, apiUrl: emulator.urls.kraken };
    await writeJson(join(s.config, "users", "x.json"), { user_id: "x", brokers: [account] });
    const args = ["--config-dir", s.config, "--cache-dir", s.cache, "--json", "--no-cache"];
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => runCli([...args, "--valuation", "cash"], { cwd: s.dir })),
    );
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    const sent = emulator.requests.filter((r) => r.apiKey === shared.apiKey);
    expect(sent).toHaveLength(5);
    expect(sent.map((r) => r.error)).toEqual([null, null, null, null, null]);
    for (const gap of gaps(sent.map((r) => r.startedAt))) expect(gap).toBeGreaterThanOrEqual(1100);
    // Nothing was kept but the lane's own locks and marks.
    expect((await readdir(s.cache)).filter((f) => f !== "locks")).toEqual([]);
  });

  it("--refresh keeps the lane too: parallel refreshes on one key never overlap", async () => {
    const s = await scratch();
    const shared = seedAccount(emulator, "kraken", { USD: "5" });
    const account = { broker: "kraken", credentials: shared, apiUrl: emulator.urls.kraken };
    await writeJson(join(s.config, "users", "x.json"), { user_id: "x", brokers: [account] });
    const args = ["--config-dir", s.config, "--cache-dir", s.cache, "--json", "--refresh"];
    const flags = [...args, "--valuation", "cash", "--kraken-spacing", "300"];
    const runs = await Promise.all([1, 2, 3].map(() => runCli(flags, { cwd: s.dir })));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const sent = emulator.requests.filter((r) => r.apiKey === shared.apiKey);
    expect(sent.map((r) => r.error)).toEqual(sent.map(() => null));
    for (const gap of gaps(sent.map((r) => r.startedAt))) expect(gap).toBeGreaterThanOrEqual(300);
  });

  it("two runs started together make one request per account and no invalid nonce", async () => {
    emulator.setLatency(150);
    const s = await setup(["fin", "gus", "hal", "ivy"]);
    const args = [
      "--config-dir",
      s.config,
      "--cache-dir",
      s.cache,
      "--json",
      "--kraken-spacing",
      "200",
    ];
    const [a, b] = await Promise.all([runCli(args, { cwd: s.dir }), runCli(args, { cwd: s.dir })]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(JSON.parse(a.stdout).summary).toEqual(JSON.parse(b.stdout).summary);
    expect(privateRequests()).toHaveLength(8);
    expect(emulator.requests.filter((r) => r.error !== null)).toEqual([]);
    const perKey = new Map<string, number>();
    for (const r of privateRequests())
      perKey.set(r.apiKey ?? "", (perKey.get(r.apiKey ?? "") ?? 0) + 1);
    expect([...perKey.values()].every((n) => n === 1)).toBe(true);
  });

  it("a run killed with SIGKILL mid-fetch blocks the next run for no longer than a moment", async () => {
    emulator.setLatency(2000);
    const s = await setup(["jo"]);
    const args = ["--config-dir", s.config, "--cache-dir", s.cache, "--json"];
    const victim = spawnCli(args, { cwd: s.dir });
    // Wait until its requests are on the wire, so it holds the locks.
    for (let i = 0; i < 100 && emulator.requests.length < 2; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(emulator.requests.length).toBeGreaterThanOrEqual(2);
    victim.child.kill("SIGKILL");
    await victim.done;
    emulator.setLatency(0);
    const started = Date.now();
    const next = await runCli(args, { cwd: s.dir });
    expect(next.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe("crash safety of cache writes", () => {
  it("a writer killed with SIGKILL mid-write leaves every entry readable", async () => {
    const s = await scratch();
    const script = `
      import { DiskBalanceCache } from ${JSON.stringify(join(ROOT, "dist", "cache", "balance-cache.js"))};
      const cache = new DiskBalanceCache(${JSON.stringify(s.cache)});
      const assets = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => ["A" + i, { free: "1", used: "0", total: "1", usdCents: null }]));
      const balance = { broker: "kraken", status: "ok", message: null, usdCents: 1n, valuation: "cash", environment: "live", basis: "cash", assets, unpriced: [], fetchedAt: new Date().toISOString(), requests: 1 };
      process.stdout.write("ready\\n");
      for (let i = 0; ; i++) await cache.write("kraken-" + (i % 4), { ...balance, usdCents: BigInt(i) });
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise((resolve) => child.stdout.once("data", resolve));
    await new Promise((r) => setTimeout(r, 400));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const { DiskBalanceCache } = await import("../../src/cache/balance-cache.js");
    const warnings: string[] = [];
    const cache = new DiskBalanceCache(s.cache, (m) => warnings.push(m));
    const entries = await Promise.all([0, 1, 2, 3].map((i) => cache.read(`kraken-${i}`)));
    expect(entries.every((e) => e !== null && e.balance.status === "ok")).toBe(true);
    expect(warnings).toEqual([]);
  });
});
