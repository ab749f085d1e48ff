import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AccountBalance } from "../../src/brokers/types.js";
import { CACHE_FORMAT, DiskBalanceCache } from "../../src/cache/balance-cache.js";
import { openStore } from "../../src/cache/open-store.js";
import {
  parseRedisUrl,
  RedisBalanceStore,
  type RedisStoreOptions,
  StoreError,
} from "../../src/cache/redis-store.js";
import { ROOT } from "../helpers/cli.js";
import { freePort, type RedisServer, startRedis } from "../helpers/redis.js";

const balance: AccountBalance = {
  broker: "kraken",
  status: "ok",
  message: null,
  usdCents: 12345n,
  valuation: "cash",
  environment: "live",
  basis: "cash",
  assets: { USD: { free: "123.45", used: "0", total: "123.45", usdCents: 12345n } },
  unpriced: [],
  fetchedAt: new Date().toISOString(),
  requests: 1,
};

let redis: RedisServer;
const opened: RedisBalanceStore[] = [];
async function connect(options: RedisStoreOptions = {}, server = redis) {
  const store = await RedisBalanceStore.connect(parseRedisUrl(server.url), options);
  opened.push(store);
  return store;
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await redis.stop();
});
beforeEach(async () => {
  await redis.client().flushall();
});

describe("parseRedisUrl", () => {
  it("reads host, port, db, TLS and the password, and prints none of it but the address", () => {
    const t = parseRedisUrl("rediss://:hunter2@cache.internal:6380/3");
    expect(t).toMatchObject({ host: "cache.internal", port: 6380, db: 3, tls: true });
    expect(t.password).toBe("hunter2");
    expect(t.display).toBe("rediss://cache.internal:6380/3");
    expect(parseRedisUrl("redis://h", "fromEnv")).toMatchObject({ port: 6379, db: 0 });
    expect(parseRedisUrl("redis://h", "fromEnv").password).toBe("fromEnv");
    expect(parseRedisUrl("redis://:inUrl@h", "fromEnv").password).toBe("inUrl");
    expect(() => parseRedisUrl("http://h")).toThrow(StoreError);
    expect(() => parseRedisUrl("redis://h/x")).toThrow(/database/);
  });
});

describe("RedisBalanceStore", () => {
  it("stores entries under the namespace with the retention as expiry", async () => {
    const store = await connect({ retentionMs: 60_000 });
    await store.write("kraken-abc", balance, 1000);
    const client = redis.client();
    expect(await client.keys("*")).toEqual(["sub:v1:balance:kraken-abc"]);
    const ttl = await client.pttl("sub:v1:balance:kraken-abc");
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const other = await connect();
    expect(await other.read("kraken-abc")).toEqual({
      format: CACHE_FORMAT,
      storedAt: 1000,
      balance,
    });
    expect(await other.read("kraken-none")).toBeNull();
  });

  it("ignores a corrupt entry with one warning", async () => {
    const warnings: string[] = [];
    const store = await connect({ onWarning: (m) => warnings.push(m) });
    await redis.client().set("sub:v1:balance:k", '{"format":1,"storedAt":');
    expect(await store.read("k")).toBeNull();
    expect(await store.read("k")).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("sub:v1:balance:k");
  });

  it("locks exclusively, waits at most waitMs, and hands over on release", async () => {
    const a = await connect();
    const b = await connect();
    const release = await a.lock("acct", 1000, 60_000);
    expect(release).not.toBeNull();
    const started = Date.now();
    expect(await b.lock("acct", 300, 60_000)).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const waiting = b.lock("acct", 5000, 60_000);
    await new Promise((r) => setTimeout(r, 100));
    const released = Date.now();
    await release?.();
    const second = await waiting;
    expect(second).not.toBeNull();
    expect(Date.now() - released).toBeLessThan(300);
    await second?.();
    expect(await redis.client().exists("sub:v1:lock:acct")).toBe(0);
  });

  it("releases only its own lock (fencing token): a late release leaves the next holder's lock", async () => {
    const a = await connect();
    const b = await connect();
    const late = await a.lock("acct", 1000, 200); // lease 200 ms, never renewed past it
    await new Promise((r) => setTimeout(r, 400));
    const current = await b.lock("acct", 1000, 60_000);
    expect(current).not.toBeNull();
    const holder = await redis.client().get("sub:v1:lock:acct");
    await late?.();
    expect(await redis.client().get("sub:v1:lock:acct")).toBe(holder);
    await current?.();
  });

  it("renews a held lock past its expiry while the holder lives, up to the lease", async () => {
    const a = await connect({ lockRenewMs: 300 });
    const b = await connect();
    const release = await a.lock("acct", 1000, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await b.lock("acct", 0, 60_000)).toBeNull();
    await release?.();
    expect(await b.lock("acct", 0, 60_000)).not.toBeNull();
  });

  it("a holder killed with SIGKILL blocks others no longer than the lock's expiry", async () => {
    const script = `
      import { parseRedisUrl, RedisBalanceStore } from ${JSON.stringify(join(ROOT, "dist", "cache", "redis-store.js"))};
      const store = await RedisBalanceStore.connect(parseRedisUrl(${JSON.stringify(redis.url)}), { lockRenewMs: 1000 });
      await store.lock("victim", 1000, 120_000);
      process.stdout.write("locked\\n");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise((resolve) => child.stdout.once("data", resolve));
    const other = await connect();
    // Held and renewed while the holder lives.
    await new Promise((r) => setTimeout(r, 1200));
    expect(await other.lock("victim", 0, 60_000)).toBeNull();
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const killed = Date.now();
    const release = await other.lock("victim", 10_000, 60_000);
    expect(release).not.toBeNull();
    expect(Date.now() - killed).toBeLessThanOrEqual(1000 + 150);
  });

  it("keeps Kraken marks with an expiry", async () => {
    const store = await connect();
    expect(await store.readMark("kraken-k")).toBe(0);
    await store.writeMark("kraken-k", 1234);
    expect(await store.readMark("kraken-k")).toBe(1234);
    expect(await redis.client().pttl("sub:v1:mark:kraken-k")).toBeGreaterThan(0);
  });
});

describe("when Redis fails", () => {
  it("mid-run: one warning, every operation goes to the disk store, none hangs", async () => {
    const own = await startRedis();
    const dir = await mkdtemp(join(tmpdir(), "sub-fallback-"));
    const disk = new DiskBalanceCache(dir);
    const warnings: string[] = [];
    const store = await connect({ fallback: disk, onWarning: (m) => warnings.push(m) }, own);
    await store.write("k", balance, 1000);
    expect(await store.read("k")).not.toBeNull();
    expect(store.failed).toBe(false);
    await own.stop("SIGKILL");

    const started = Date.now();
    expect(await store.read("k")).toBeNull(); // the disk store has no entry yet
    await store.write("k", balance, 2000);
    expect((await disk.read("k"))?.storedAt).toBe(2000);
    expect((await store.read("k"))?.storedAt).toBe(2000);
    const release = await store.lock("k", 1000, 60_000);
    expect(release).not.toBeNull();
    await release?.();
    await store.writeMark("m", 5);
    expect(await store.readMark("m")).toBe(5);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(store.failed).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^Redis at redis:\/\/127\.0\.0\.1:\d+ failed during the run \(.+\); using the on-disk cache$/,
    );
  });

  it("at start: a closed port and a silent server fail within the timeout; openStore falls back", async () => {
    const closed = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    let started = Date.now();
    const error = await RedisBalanceStore.connect(parseRedisUrl(closed)).catch((e) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toMatch(
      /^cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED/,
    );
    expect(error.message).not.toContain("hunter2");
    expect(Date.now() - started).toBeLessThan(1000);

    // Accepts connections, never answers: only the timeout ends the wait.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address ? address.port : 0;
    started = Date.now();
    const timedOut = await RedisBalanceStore.connect(parseRedisUrl(`redis://127.0.0.1:${port}`), {
      timeoutMs: 500,
    }).catch((e) => e);
    expect(timedOut).toBeInstanceOf(StoreError);
    expect(Date.now() - started).toBeLessThan(1500);
    for (const s of sockets) s.destroy();
    silent.close();

    const warnings: string[] = [];
    const dir = await mkdtemp(join(tmpdir(), "sub-fallback-"));
    const fallback = await openStore({
      url: closed,
      cacheDir: dir,
      onWarning: (m) => warnings.push(m),
    });
    expect(fallback.kind).toBe("disk");
    expect(fallback.store).toBeInstanceOf(DiskBalanceCache);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/using the on-disk cache$/);
    await expect(openStore({ url: closed, cacheDir: dir, required: true })).rejects.toThrow(
      StoreError,
    );
  });

  it("a wrong password is reported without the password", async () => {
    const locked = await startRedis(["--requirepass", "s3cret-pass"]);
    try {
      const error = await RedisBalanceStore.connect(
        parseRedisUrl(`redis://:wrong-pass@127.0.0.1:${locked.port}`),
      ).catch((e) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(error.message).not.toContain("wrong-pass");
      const ok = await RedisBalanceStore.connect(parseRedisUrl(locked.url, "s3cret-pass"));
      await ok.write("k", balance);
      expect(await ok.read("k")).not.toBeNull();
      await ok.close();
    } finally {
      await locked.stop();
    }
  });
});
