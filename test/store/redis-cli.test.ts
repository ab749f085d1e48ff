import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Credentials } from "../../src/brokers/types.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { ROOT, runCli, scratch, spawnCli, writeJson } from "../helpers/cli.js";
import { gaps } from "../helpers/gaps.js";
import { freePort, type RedisServer, startRedis } from "../helpers/redis.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
let redis: RedisServer;
beforeAll(async () => {
  [emulator, redis] = await Promise.all([startEmulator(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([emulator.close(), redis.stop()]);
});
beforeEach(async () => {
  emulator.clearRequests();
  emulator.setLatency(0);
  await redis.client().flushall();
});

/** Users on kraken and coinbase; each "host" gets its own cache directory. */
async function setup(users: string[], brokers = ["kraken", "coinbase"]) {
  const s = await scratch();
  const keys: Credentials[] = [];
  for (const [i, id] of users.entries()) {
    const entries = [];
    for (const broker of brokers) {
      const credentials =
        broker === "kraken"
          ? seedAccount(emulator, "kraken", { USD: `${i + 1}00.01` })
          : seedAccount(emulator, "coinbase", { USDC: `${i + 1}0.10` });
      keys.push(credentials);
      entries.push({ broker, credentials, apiUrl: emulator.urls[broker as "kraken"] });
    }
    await writeJson(join(s.config, "users", `${id}.json`), { user_id: id, brokers: entries });
  }
  const host = (name: string) => join(s.dir, `cache-${name}`);
  const args = (cache: string, extra: string[]) => [
    "--config-dir",
    s.config,
    "--cache-dir",
    cache,
    ...extra,
  ];
  const run = (cache: string, extra: string[], env: Record<string, string> = {}) =>
    runCli(args(cache, extra), { cwd: s.dir, env });
  const spawnRun = (cache: string, extra: string[]) => spawnCli(args(cache, extra), { cwd: s.dir });
  return { ...s, keys, host, run, spawnRun };
}

/** What the on-disk cache holds: each balance entry (kept in segment files) and each other file. */
async function cacheFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".json"));
  const held: string[] = [];
  for (const name of names) {
    if (!name.startsWith("seg-")) held.push(name);
    else held.push(...Object.keys(JSON.parse(await readFile(join(dir, name), "utf8")).entries));
  }
  return held;
}

describe("two hosts, one Redis", () => {
  it("two runs with separate cache directories make one request per account, no invalid nonce, and store no secret", async () => {
    emulator.setLatency(150);
    const s = await setup(["fin", "gus", "hal", "ivy"]);
    const flags = ["--json", "--store", redis.url, "--kraken-spacing", "200"];
    const [a, b] = await Promise.all([s.run(s.host("a"), flags), s.run(s.host("b"), flags)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stderr + b.stderr).toBe("");
    expect(JSON.parse(a.stdout).summary).toEqual(JSON.parse(b.stdout).summary);
    // Balance requests (the default `total` valuation adds public price look-ups).
    const balances = emulator.requests.filter((r) => r.apiKey !== null);
    expect(balances).toHaveLength(8);
    expect(emulator.requests.filter((r) => r.error !== null)).toEqual([]);
    expect(new Set(balances.map((r) => r.apiKey)).size).toBe(8);
    // Nothing went to disk: Redis was the store.
    expect(await cacheFiles(s.host("a"))).toEqual([]);
    expect(await cacheFiles(s.host("b"))).toEqual([]);

    // A third host is served from Redis: no request, no ccxt.
    emulator.clearRequests();
    const trace = ["--import", join(ROOT, "test", "helpers", "trace-heavy-modules.mjs")];
    const third = await runCli(
      ["--config-dir", s.config, "--cache-dir", s.host("c"), "--json", "--store", redis.url],
      { cwd: s.dir, nodeArgs: trace },
    );
    expect(third.code).toBe(0);
    expect(emulator.requests).toHaveLength(0);
    expect(third.stderr).not.toContain("[trace] ccxt module loaded");
    expect(JSON.parse(third.stdout).status.users.fin.kraken.source).toBe("cached");

    // Every key is namespaced; no key or value holds an API key or secret.
    const client = redis.client();
    const keys = await client.keys("*");
    expect(keys.filter((k) => k.startsWith("sub:v1:balance:"))).toHaveLength(8);
    expect(keys.filter((k) => k.startsWith("sub:v1:mark:kraken-"))).toHaveLength(4);
    expect(keys.every((k) => /^sub:v1:(balance|mark|lock):[a-z0-9-]+$/.test(k))).toBe(true);
    const values = await Promise.all(keys.map((k) => client.get(k)));
    const dump = [...keys, ...values].join("\n");
    for (const key of s.keys) {
      expect(dump).not.toContain(key.apiKey);
      for (const line of key.secret.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-")))
        expect(dump).not.toContain(line);
    }
  });

  it("keeps the Kraken spacing on one key across processes, --no-cache ones included", async () => {
    emulator.setLatency(50);
    const s = await scratch();
    const shared = seedAccount(emulator, "kraken", { USD: "5" });
    const account = { broker: "kraken", credentials: shared, apiUrl: emulator.urls.kraken };
    await writeJson(join(s.config, "users", "x.json"), { user_id: "x", brokers: [account] });
    // TTL 0 or --no-cache: each process fetches itself, so 4 requests on one key, paced via Redis.
    const args = (cache: string) => [
      "--config-dir",
      s.config,
      "--cache-dir",
      join(s.dir, cache),
      "--json",
      "--cache-ttl",
      "0",
      "--kraken-spacing",
      "400",
      "--store",
      redis.url,
    ];
    const runs = await Promise.all([
      runCli(args("a"), { cwd: s.dir }),
      runCli(args("b"), { cwd: s.dir }),
      runCli([...args("c"), "--no-cache"], { cwd: s.dir }),
      runCli([...args("d"), "--no-cache"], { cwd: s.dir }),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const sent = emulator.requests.filter((r) => r.apiKey === shared.apiKey);
    expect(sent).toHaveLength(4);
    expect(sent.every((r) => r.error === null)).toBe(true);
    for (const gap of gaps(sent.map((r) => r.startedAt))) expect(gap).toBeGreaterThanOrEqual(400);
  });

  it("a run killed with SIGKILL mid-fetch blocks another host no longer than the lock lease", async () => {
    emulator.setLatency(3000);
    const s = await setup(["jo"]);
    const victim = s.spawnRun(s.host("a"), ["--json", "--store", redis.url]);
    for (let i = 0; i < 150 && emulator.requests.length < 2; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(emulator.requests.length).toBeGreaterThanOrEqual(2);
    const client = redis.client();
    const locks = await client.keys("sub:v1:lock:*");
    expect(locks).not.toEqual([]);
    // The longest any of its locks can still block: their remaining expiry (10 s at most).
    const blockMs = Math.max(...(await Promise.all(locks.map((k) => client.pttl(k)))));
    expect(blockMs).toBeLessThanOrEqual(10_000);
    victim.child.kill("SIGKILL");
    await victim.done;
    emulator.setLatency(0);
    const started = Date.now();
    const next = await s.run(s.host("b"), ["--json", "--store", redis.url]);
    expect(next.code).toBe(0);
    // Not the 120 s account lease: the lock expires 10 s after its last renewal at most.
    expect(Date.now() - started).toBeLessThan(blockMs + 3000);
  }, 30_000);
});

describe("when Redis is not there", () => {
  it("stopped mid-run: one warning, the rest goes through the disk cache, the report is whole", async () => {
    const own = await startRedis();
    emulator.setLatency(200);
    const s = await setup(["ka", "kb", "kc", "kd"], ["kraken"]);
    const started = Date.now();
    const run = s.spawnRun(s.host("a"), ["--json", "--store", own.url, "--kraken-spacing", "50"]);
    for (let i = 0; i < 150 && emulator.requests.length < 1; i++)
      await new Promise((r) => setTimeout(r, 20));
    await own.stop("SIGKILL");
    const result = await run.done;
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.balances.users).toEqual({
      ka: { kraken: 100.01 },
      kb: { kraken: 200.01 },
      kc: { kraken: 300.01 },
      kd: { kraken: 400.01 },
    });
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^warning: Redis at redis:\/\/127\.0\.0\.1:\d+ failed during the run \(.+\); using the on-disk cache$/,
    );
    expect((await cacheFiles(s.host("a"))).length).toBeGreaterThanOrEqual(3);
    expect(emulator.requests.filter((r) => r.error !== null)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it("unreachable at start: one warning and the disk cache, or exit 2 with --store-required; never the password", async () => {
    const s = await setup(["lu"]);
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}/2`;
    const started = Date.now();
    const fallback = await s.run(s.host("a"), ["--json", "--store", url]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fallback.code).toBe(0);
    expect(JSON.parse(fallback.stdout).balances.users.lu.kraken).toBe(100.01);
    expect(fallback.stderr).toMatch(
      /^warning: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/2 \(.*ECONNREFUSED.*\); using the on-disk cache\n$/,
    );
    expect(await cacheFiles(s.host("a"))).toHaveLength(2);

    const required = await s.run(s.host("b"), ["--json", "--store", url, "--store-required"]);
    expect(required.code).toBe(2);
    expect(required.stdout).toBe("");
    expect(required.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/2/);
    expect(fallback.stderr + required.stderr).not.toContain("hunter2");
    expect(await cacheFiles(s.host("b"))).toEqual([]);

    // The same from the environment and from settings.json.
    const fromEnv = await s.run(s.host("c"), ["--json"], { SHOW_USER_BALANCES_STORE: url });
    expect(fromEnv.stderr).toContain("warning: cannot reach Redis at");
    await writeJson(join(s.config, "settings.json"), { store: url });
    const fromSettings = await s.run(s.host("d"), ["--json", "--store-required"]);
    expect(fromSettings.code).toBe(2);
    expect(fromSettings.stderr).not.toContain("hunter2");
  });

  it("a password from REDIS_PASSWORD reaches a server that requires one", async () => {
    const locked = await startRedis(["--requirepass", "pa55-word-x"]);
    try {
      const s = await setup(["mo"]);
      const ok = await s.run(s.host("a"), ["--json", "--store", locked.url, "--store-required"], {
        REDIS_PASSWORD: "pa55-word-x",
      });
      expect(ok.code).toBe(0);
      expect(ok.stderr).toBe("");
      expect(await locked.client().keys("sub:v1:balance:*")).toHaveLength(2);
      const wrong = await s.run(
        s.host("b"),
        ["--json", "--store", locked.url, "--store-required"],
        {
          REDIS_PASSWORD: "not-it-at-all",
        },
      );
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).not.toContain("not-it-at-all");
    } finally {
      await locked.stop();
    }
  });
});
