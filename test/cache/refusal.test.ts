import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccountBalance } from "../../src/brokers/types.js";
import { DiskBalanceCache } from "../../src/cache/balance-cache.js";
import {
  type CachePolicy,
  DEFAULT_CACHE_POLICY,
  fetchThroughCache,
  refusalKey,
} from "../../src/cache/cached-fetch.js";
import { openStore } from "../../src/cache/open-store.js";
import { type RedisServer, startRedis } from "../helpers/redis.js";

const KEY = "coinbase-0123456789abcdef01234567";

function answer(status: AccountBalance["status"], cents: bigint | null = null): AccountBalance {
  return {
    broker: "coinbase",
    status,
    message: status === "ok" ? null : `coinbase answered ${status}`,
    usdCents: cents,
    valuation: "cash",
    environment: "live",
    basis: cents === null ? null : "cash",
    assets: {},
    unpriced: [],
    fetchedAt: new Date().toISOString(),
    requests: 1,
  };
}

/** The account's fetches, answered in turn (the last one repeats), counted. */
function broker(...answers: AccountBalance[]) {
  let asked = 0;
  return {
    fetch: async () => answers[Math.min(asked++, answers.length - 1)] as AccountBalance,
    asked: () => asked,
  };
}

async function store() {
  return new DiskBalanceCache(await mkdtemp(join(tmpdir(), "sub-refusal-")));
}

const policy = (over: Partial<CachePolicy> = {}): CachePolicy => ({
  ...DEFAULT_CACHE_POLICY,
  ...over,
});

describe("remembered refusals", () => {
  it("permission_denied is remembered too; the figure says until when, with no request", async () => {
    const cache = await store();
    const b = broker(answer("permission_denied"));
    const first = await fetchThroughCache(cache, policy(), KEY, b.fetch);
    const second = await fetchThroughCache(cache, policy(), KEY, b.fetch);
    expect(b.asked()).toBe(1);
    expect(first.retryAfter).toBeUndefined();
    expect(second).toMatchObject({ source: "cached", balance: { status: "permission_denied" } });
    expect(second.balance.requests).toBe(0);
    expect(second.retryAfter).toBeGreaterThan(Date.now() + 100_000);
    expect(second.balance.message).toBe(
      `coinbase answered permission_denied; remembered, not retried until ${new Date(second.retryAfter as number).toISOString().replace(/\.\d+Z$/, "Z")}; --refresh retries now`,
    );
  });

  it("is not remembered with a TTL of 0, and not read by --refresh or written by --no-cache", async () => {
    const b = broker(answer("auth_failed"));
    const zero = await store();
    await fetchThroughCache(zero, policy({ ttlMs: 0 }), KEY, b.fetch);
    await fetchThroughCache(zero, policy({ ttlMs: 0 }), KEY, b.fetch);
    expect(b.asked()).toBe(2);

    const cache = await store();
    await fetchThroughCache(cache, policy(), KEY, b.fetch);
    await fetchThroughCache(cache, policy({ mode: "refresh" }), KEY, b.fetch);
    expect(b.asked()).toBe(4);
    const off = await store();
    await fetchThroughCache(off, policy({ mode: "off" }), KEY, b.fetch);
    expect(await off.read(refusalKey(KEY))).toBeNull();
  });

  it("a good figure fetched after the refusal (another run's --refresh) is served instead", async () => {
    const cache = await store();
    const b = broker(answer("auth_failed"), answer("ok", 5000n));
    await fetchThroughCache(cache, policy(), KEY, b.fetch);
    await fetchThroughCache(cache, policy({ mode: "refresh" }), KEY, b.fetch);
    const next = await fetchThroughCache(cache, policy(), KEY, b.fetch);
    expect(b.asked()).toBe(2);
    expect(next).toMatchObject({ source: "cached", balance: { status: "ok", usdCents: 5000n } });
    expect(next.retryAfter).toBeUndefined();
  });

  it("ignores a refusal dated in the future (a clock stepped back)", async () => {
    const cache = await store();
    await cache.write(refusalKey(KEY), answer("auth_failed"), Date.now() + 3_600_000);
    const b = broker(answer("ok", 100n));
    const figure = await fetchThroughCache(cache, policy(), KEY, b.fetch);
    expect(b.asked()).toBe(1);
    expect(figure.balance.status).toBe("ok");
  });
});

describe("remembered refusals in Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  it("a refusal one host met is remembered by another sharing the store", async () => {
    const open = async () =>
      openStore({ url: redis.url, required: true, cacheDir: join(tmpdir(), "sub-unused") });
    const [hostA, hostB] = [await open(), await open()];
    const b = broker(answer("auth_failed"));
    await fetchThroughCache(hostA.store, policy(), KEY, b.fetch);
    const other = await fetchThroughCache(hostB.store, policy(), KEY, b.fetch);
    expect(b.asked()).toBe(1);
    expect(other).toMatchObject({ source: "cached", balance: { status: "auth_failed" } });
    expect(other.retryAfter).toBeGreaterThan(Date.now());
    await hostA.close();
    await hostB.close();
  });
});
