import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CACHE_FORMAT, parseCacheEntry } from "../../src/cache/balance-cache.js";
import { readCacheEntry } from "../../src/cache/cache-entry.js";
import { CacheEntrySchema } from "../../src/cache/entry-schema.js";

// Values each field may take: valid ones, near misses, and wrong types.
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 4 }),
  fc.constant([]),
  fc.constant({}),
);
const cents = fc.oneof(
  { weight: 10, arbitrary: fc.constant(null) },
  { weight: 30, arbitrary: fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom("1.5", "1e3", "", " 1", `1${"0".repeat(80)}`) },
  { weight: 1, arbitrary: anyValue },
);
/** Mostly a valid value, sometimes a near miss of the right type. */
const pick = <T>(valid: T[], nearMiss: T[]) =>
  fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.constantFrom(...nearMiss) },
  );
const maybe = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 30, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
const asset = fc.record(
  {
    free: maybe(fc.constantFrom("1.5", "0")),
    used: maybe(fc.constant("0")),
    total: maybe(fc.constant("1.5")),
    usdCents: cents,
  },
  { requiredKeys: ["free", "used", "total", "usdCents"] },
);
const balance = fc.record(
  {
    broker: maybe(fc.constantFrom("kraken", "coinbase")),
    status: maybe(pick(["ok", "auth_failed", "timeout"], ["remembered", "OK"])),
    message: maybe(fc.constantFrom(null, "why")),
    usdCents: cents,
    valuation: maybe(pick(["cash", "total"], ["equity"])),
    environment: maybe(pick(["live", "paper", "testnet"], ["demo"])),
    basis: maybe(pick([null, "broker", "priced", "cash"], ["other"])),
    assets: maybe(fc.dictionary(fc.constantFrom("USD", "BTC", "ETH"), maybe(asset))),
    unpriced: maybe(fc.array(maybe(fc.constantFrom("XYZ", "ABC")), { maxLength: 3 })),
    fetchedAt: maybe(fc.constantFrom(null, "2026-01-21T16:00:00.000Z")),
    requests: maybe(pick([0, 1, 3], [-1, 1.5, Number.MAX_SAFE_INTEGER + 2])),
  },
  // Only the fields with defaults may be missing.
  {
    requiredKeys: [
      "broker",
      "status",
      "message",
      "usdCents",
      "valuation",
      "assets",
      "unpriced",
      "fetchedAt",
      "requests",
    ],
  },
);
const entry = fc.record(
  {
    format: maybe(pick([CACHE_FORMAT], [1, 3])),
    storedAt: maybe(pick([0, 1_700_000_000_000], [Number.POSITIVE_INFINITY, Number.NaN])),
    balance: maybe(balance),
  },
  { requiredKeys: ["format", "storedAt", "balance"] },
);

describe("readCacheEntry", () => {
  it("answers exactly as CacheEntrySchema does, defaults included", () => {
    let accepted = 0;
    fc.assert(
      fc.property(entry, (value) => {
        const zod = CacheEntrySchema.safeParse(value);
        const fast = readCacheEntry(value, CACHE_FORMAT);
        if (zod.success) accepted += 1;
        expect(fast).toEqual(zod.success ? zod.data : null);
      }),
      { numRuns: 3000 },
    );
    // The generator reaches both answers, so the comparison is not of rejections only.
    expect(accepted).toBeGreaterThan(100);
  });

  it("reads what serializeCacheEntry wrote, cents exact, through parseCacheEntry", () => {
    const text = JSON.stringify({
      format: CACHE_FORMAT,
      storedAt: 1_700_000_000_000,
      balance: {
        broker: "kraken",
        status: "ok",
        message: null,
        usdCents: "1234567890123456789012",
        valuation: "total",
        assets: { USD: { free: "1", used: "0", total: "1", usdCents: "100" } },
        unpriced: [],
        fetchedAt: null,
        requests: 1,
      },
    });
    const parsed = parseCacheEntry(text);
    expect(parsed?.balance.usdCents).toBe(1234567890123456789012n);
    expect(parsed?.balance).toMatchObject({ environment: "live", basis: null });
    expect(parseCacheEntry(text.slice(0, -2))).toBeNull();
  });
});

describe("asset codes that are Object.prototype's names", () => {
  it("stay assets of the entry", () => {
    const text = `{"format":${CACHE_FORMAT},"storedAt":1,"balance":{"broker":"kraken","status":"ok","message":null,"usdCents":"0","valuation":"total","assets":{"__proto__":{"free":"1","used":"0","total":"1","usdCents":null},"valueOf":{"free":"2","used":"0","total":"2","usdCents":null}},"unpriced":["__proto__","valueOf"],"fetchedAt":null,"requests":1}}`;
    const assets = parseCacheEntry(text)?.balance.assets ?? {};
    expect(Object.keys(assets)).toEqual(["__proto__", "valueOf"]);
    expect(Object.getPrototypeOf(assets)).toBe(Object.prototype);
  });
});
