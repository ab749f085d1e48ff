import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AccountBalance } from "../../src/brokers/types.js";
import { cacheKey, DiskBalanceCache } from "../../src/cache/balance-cache.js";
import { DEFAULT_CACHE_POLICY, fetchThroughCache } from "../../src/cache/cached-fetch.js";
import { keyFingerprint } from "../../src/secrets.js";

const scratch = () => mkdtemp(join(tmpdir(), "sub-cache-"));

function balance(cents: bigint | null, status: AccountBalance["status"] = "ok"): AccountBalance {
  return {
    broker: "kraken",
    status,
    message: status === "ok" ? null : "kraken rejected the API key or signature",
    usdCents: cents,
    valuation: "cash",
    environment: "live",
    basis: "cash",
    assets: status === "ok" ? { USD: { free: "1", used: "0", total: "1", usdCents: cents } } : {},
    unpriced: [],
    fetchedAt: new Date().toISOString(),
    requests: 1,
  };
}

const API_KEY = "K-distinctive-api-key-0001";
const KEY_PARTS = {
  account: "user:alice",
  broker: "kraken",
  keyFingerprint: keyFingerprint(API_KEY),
  apiUrl: null,
  valuation: "cash",
};

describe("DiskBalanceCache", () => {
  it("stores privately and atomically, and never the key itself", async () => {
    const dir = await scratch();
    const cache = new DiskBalanceCache(join(dir, "c"));
    const key = cacheKey(KEY_PARTS);
    await cache.write(key, balance(12345n));
    expect((await cache.read(key))?.balance.usdCents).toBe(12345n);
    expect((await stat(join(dir, "c"))).mode & 0o777).toBe(0o700);
    const files = await readdir(join(dir, "c"));
    const entry = files.find((f) => f.endsWith(".json")) as string;
    expect((await stat(join(dir, "c", entry))).mode & 0o777).toBe(0o600);
    expect(files.some((f) => f.endsWith(".tmp"))).toBe(false);
    const text = await readFile(join(dir, "c", entry), "utf8");
    expect(text).not.toContain(API_KEY);
    expect(key).not.toContain(API_KEY);
  });

  it("keys differ by account, key, origin and valuation", () => {
    const base = cacheKey(KEY_PARTS);
    expect(cacheKey({ ...KEY_PARTS, account: "user:bob" })).not.toBe(base);
    expect(cacheKey({ ...KEY_PARTS, keyFingerprint: keyFingerprint("other") })).not.toBe(base);
    expect(cacheKey({ ...KEY_PARTS, apiUrl: "http://127.0.0.1:1" })).not.toBe(base);
    expect(cacheKey({ ...KEY_PARTS, valuation: "total" })).not.toBe(base);
    expect(cacheKey(KEY_PARTS)).toBe(base);
  });

  it("ignores a corrupt segment or an old-format entry with one warning, then rewrites it", async () => {
    const key = cacheKey(KEY_PARTS);
    const corruptions = [
      (good: string) => good.slice(0, 20),
      () => "not json",
      () => JSON.stringify({ entries: { [key]: { format: 0, storedAt: 1 } } }),
    ];
    for (const corrupt of corruptions) {
      const dir = await scratch();
      await new DiskBalanceCache(dir).write(key, balance(100n));
      const [segment] = (await readdir(dir)).filter((f) => f.startsWith("seg-"));
      const file = join(dir, segment as string);
      const text = corrupt(await readFile(file, "utf8"));
      await writeFile(file, text);
      const warnings: string[] = [];
      const cache = new DiskBalanceCache(dir, (m) => warnings.push(m));
      expect(await cache.read(key), text).toBeNull();
      expect(await cache.read(key), text).toBeNull();
      expect(warnings, text).toHaveLength(1);
      expect(warnings[0], text).toMatch(/will be (rewritten|removed)/);
      await cache.write(key, balance(200n));
      expect((await new DiskBalanceCache(dir).read(key))?.balance.usdCents, text).toBe(200n);
    }
  });

  it("leaves a segment of a shape it does not read alone (a later version's), with one warning", async () => {
    const dir = await scratch();
    const other = "seg-1700000000000-1.abcd.1.json";
    await writeFile(join(dir, other), JSON.stringify({ format: 9, records: [] }));
    const warnings: string[] = [];
    const cache = new DiskBalanceCache(dir, (m) => warnings.push(m));
    const key = cacheKey(KEY_PARTS);
    expect(await cache.read(key)).toBeNull();
    await cache.write(key, balance(300n));
    expect(await cache.read(key, { fresh: true })).toMatchObject({ balance: { usdCents: 300n } });
    expect(warnings).toEqual([expect.stringContaining("not a form this version reads")]);
    expect(await readdir(dir)).toContain(other);
  });

  it("keeps entries in few files: a flush per burst, merged past 8 segments, nothing lost", async () => {
    const dir = await scratch();
    const writer = new DiskBalanceCache(dir);
    const keys = Array.from({ length: 300 }, (_, i) =>
      cacheKey({ ...KEY_PARTS, account: `u${i}` }),
    );
    // 100 rounds of 3 writes at once: one segment each, merged as they pass 8.
    for (let round = 0; round < 100; round += 1) {
      await Promise.all(
        keys
          .slice(round * 3, round * 3 + 3)
          .map((k, i) => writer.write(k, balance(BigInt(round * 3 + i)))),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const files = (await readdir(dir)).filter((f) => f.startsWith("seg-"));
    expect(files.length).toBeLessThanOrEqual(9);
    expect(files.length).toBeGreaterThan(0);
    const reader = new DiskBalanceCache(dir);
    for (const [i, k] of keys.entries()) {
      expect((await reader.read(k))?.balance.usdCents, k).toBe(BigInt(i));
    }
    // The newest entry of a key wins, whichever segment holds it.
    await writer.write(keys[0] as string, balance(999n));
    expect((await new DiskBalanceCache(dir).read(keys[0] as string))?.balance.usdCents).toBe(999n);
  });

  it("loses nothing when three processes write and merge segments in one directory at once", async () => {
    const dir = await scratch();
    // The built module (npm test builds first): plain node children on every Node line.
    const store = new URL("../../dist/cache/balance-cache.js", import.meta.url).href;
    const script = (writer: number) => `
      const { DiskBalanceCache } = await import(${JSON.stringify(store)});
      const cache = new DiskBalanceCache(${JSON.stringify(dir)}, (m) => console.error(m));
      for (let round = 0; round < 60; round += 1) {
        await Promise.all([0, 1, 2].map((i) => cache.write(
          "w${writer}-" + (round * 3 + i),
          { broker: "kraken", status: "ok", message: null, usdCents: BigInt(round * 3 + i),
            valuation: "cash", environment: "live", basis: "cash", assets: {}, unpriced: [],
            fetchedAt: new Date().toISOString(), requests: 1 },
        )));
      }`;
    const children = [1, 2, 3].map(
      (writer) =>
        new Promise<string>((resolve) => {
          const child = spawn(process.execPath, ["--input-type=module", "-e", script(writer)], {
            stdio: ["ignore", "ignore", "pipe"],
          });
          let stderr = "";
          child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          child.once("exit", () => resolve(stderr));
        }),
    );
    expect(await Promise.all(children)).toEqual(["", "", ""]);
    const reader = new DiskBalanceCache(dir);
    for (const writer of [1, 2, 3]) {
      for (let n = 0; n < 180; n += 1) {
        expect((await reader.read(`w${writer}-${n}`))?.balance.usdCents, `w${writer}-${n}`).toBe(
          BigInt(n),
        );
      }
    }
    // 180 flushes, merged as they went: each process merges once it knows of more than 8
    // segments (about 3 x 9 remain at most; a merge skipped while another holds the lock waits
    // for a later flush).
    const segments = (await readdir(dir)).filter((f) => f.startsWith("seg-"));
    expect(segments.length).toBeLessThan(36);
  });

  it("a fresh read sees what another run wrote since; the first form's entry files are removed", async () => {
    const dir = await scratch();
    const key = cacheKey(KEY_PARTS);
    await writeFile(join(dir, `${key}.json`), "{}");
    const first = new DiskBalanceCache(dir);
    const second = new DiskBalanceCache(dir);
    expect(await second.read(key)).toBeNull();
    await first.write(key, balance(321n));
    expect(await second.read(key)).toBeNull(); // read ahead: not asked to look again
    expect((await second.read(key, { fresh: true }))?.balance.usdCents).toBe(321n);
    expect(await readdir(dir)).not.toContain(`${key}.json`);
  });
});

describe("fetchThroughCache", () => {
  const key = cacheKey(KEY_PARTS);
  const counting = (result: AccountBalance) => {
    const calls = { n: 0 };
    const fetchLive = async () => {
      calls.n += 1;
      return result;
    };
    return { calls, fetchLive };
  };

  it("serves a fresh entry without fetching, and fetches again once it expires", async () => {
    const cache = new DiskBalanceCache(await scratch());
    const live = counting(balance(500n));
    const first = await fetchThroughCache(cache, DEFAULT_CACHE_POLICY, key, live.fetchLive);
    expect(first.source).toBe("live");
    const second = await fetchThroughCache(cache, DEFAULT_CACHE_POLICY, key, live.fetchLive);
    expect(second).toMatchObject({ source: "cached", balance: { usdCents: 500n } });
    expect(live.calls.n).toBe(1);
    const expired = { ...DEFAULT_CACHE_POLICY, ttlMs: 0 };
    expect((await fetchThroughCache(cache, expired, key, live.fetchLive)).source).toBe("live");
    expect(live.calls.n).toBe(2);
  });

  it("refresh skips reading but writes; off neither reads nor writes", async () => {
    const cache = new DiskBalanceCache(await scratch());
    const live = counting(balance(700n));
    await fetchThroughCache(cache, { ...DEFAULT_CACHE_POLICY, mode: "off" }, key, live.fetchLive);
    expect(await cache.read(key)).toBeNull();
    await fetchThroughCache(
      cache,
      { ...DEFAULT_CACHE_POLICY, mode: "refresh" },
      key,
      live.fetchLive,
    );
    await fetchThroughCache(
      cache,
      { ...DEFAULT_CACHE_POLICY, mode: "refresh" },
      key,
      live.fetchLive,
    );
    expect(live.calls.n).toBe(3);
    expect((await cache.read(key))?.balance.usdCents).toBe(700n);
  });

  it("shows the last good figure marked stale when the live fetch fails, keeping the failure", async () => {
    const cache = new DiskBalanceCache(await scratch());
    await cache.write(key, balance(4200n), Date.now() - 3600_000);
    // A transient failure: an auth failure would be remembered (refusal.test.ts), not asked.
    const failing = counting(balance(null, "network_error"));
    const figure = await fetchThroughCache(cache, DEFAULT_CACHE_POLICY, key, failing.fetchLive);
    expect(figure.source).toBe("stale");
    expect(figure.ageSeconds).toBeGreaterThanOrEqual(3599);
    expect(figure.balance).toMatchObject({ usdCents: 4200n, status: "network_error" });
    // A failure is never cached over the good figure.
    expect((await cache.read(key))?.balance.status).toBe("ok");
    const tooOld = { ...DEFAULT_CACHE_POLICY, staleMaxAgeMs: 60_000 };
    const plain = await fetchThroughCache(cache, tooOld, key, failing.fetchLive);
    expect(plain).toMatchObject({
      source: "live",
      balance: { usdCents: null, status: "network_error" },
    });
  });

  it("makes one fetch when two callers ask for one account at once (single flight)", async () => {
    const dir = await scratch();
    const a = new DiskBalanceCache(dir);
    const b = new DiskBalanceCache(dir);
    let calls = 0;
    const slow = async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return balance(900n);
    };
    const policy = { ...DEFAULT_CACHE_POLICY, mode: "refresh" as const };
    const [x, y] = await Promise.all([
      fetchThroughCache(a, policy, key, slow),
      fetchThroughCache(b, policy, key, slow),
    ]);
    expect(calls).toBe(1);
    expect([x.source, y.source].sort()).toEqual(["cached", "live"]);
    expect(y.balance.usdCents).toBe(900n);
  });

  it("treats an entry dated in the future as expired, not fresh", async () => {
    const cache = new DiskBalanceCache(await scratch());
    await cache.write(key, balance(100n), Date.now() + 3600_000);
    const live = counting(balance(200n));
    const figure = await fetchThroughCache(cache, DEFAULT_CACHE_POLICY, key, live.fetchLive);
    expect(figure).toMatchObject({ source: "live", balance: { usdCents: 200n } });
  });

  it("keeps cents past 2^53 exactly through the file", async () => {
    const cache = new DiskBalanceCache(await scratch());
    await cache.write(key, balance(1234567890123456789n));
    expect((await cache.read(key))?.balance.usdCents).toBe(1234567890123456789n);
  });
});
