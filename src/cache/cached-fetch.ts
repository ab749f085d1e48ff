import type { AccountBalance } from "../brokers/types.js";
import type { FigureSource } from "../report/model.js";
import type { BalanceStore } from "./store.js";

export interface CachePolicy {
  /** use: serve fresh entries; refresh: always fetch, still store; off: neither read nor write. */
  mode: "use" | "refresh" | "off";
  ttlMs: number;
  /** How old a good figure may be to stand in, marked stale, for a failed fetch. */
  staleMaxAgeMs: number;
  /** How long to wait for another run that is fetching the same account. */
  lockWaitMs: number;
  /** A fetch lock held longer than this is taken to be abandoned. */
  lockLeaseMs: number;
}

export const DEFAULT_CACHE_POLICY: CachePolicy = {
  mode: "use",
  ttlMs: 120_000,
  staleMaxAgeMs: 24 * 3600_000,
  lockWaitMs: 120_000,
  lockLeaseMs: 120_000,
};

export interface Figure {
  balance: AccountBalance;
  source: FigureSource;
  ageSeconds: number | null;
}

/** Clocks of hosts sharing a store differ a little; more than this is not a fresh entry. */
const CLOCK_TOLERANCE_MS = 5_000;

const ageOf = (storedAt: number) => Math.max(0, Math.round((Date.now() - storedAt) / 1000));

/**
 * One account's figure through the cache: a fresh entry is served as is; otherwise the account
 * is fetched under a cross-process lock (single flight: a run that finds another fetching waits
 * and takes its result), stored when good, and, when the fetch fails, the last good figure stands
 * in marked stale while the status keeps the failure.
 */
export async function fetchThroughCache(
  cache: BalanceStore | null,
  policy: CachePolicy,
  key: string | null,
  fetchLive: () => Promise<AccountBalance>,
): Promise<Figure> {
  if (!cache || !key || policy.mode === "off") {
    return { balance: await fetchLive(), source: "live", ageSeconds: null };
  }
  const startedAt = Date.now();
  // An entry dated in the future (a clock stepped back, a tampered file) is expired, not fresh.
  const usable = (storedAt: number) =>
    storedAt <= Date.now() + CLOCK_TOLERANCE_MS &&
    (policy.mode === "use" ? Date.now() - storedAt < policy.ttlMs : storedAt > startedAt);
  const before = policy.mode === "use" ? await cache.read(key) : null;
  if (before && usable(before.storedAt)) {
    return { balance: before.balance, source: "cached", ageSeconds: ageOf(before.storedAt) };
  }
  const release = await cache.lock(key, policy.lockWaitMs, policy.lockLeaseMs);
  try {
    const latest = await cache.read(key);
    if (latest && usable(latest.storedAt)) {
      return { balance: latest.balance, source: "cached", ageSeconds: ageOf(latest.storedAt) };
    }
    const live = await fetchLive();
    if (live.status === "ok") {
      await cache.write(key, live);
      return { balance: live, source: "live", ageSeconds: null };
    }
    const previous = latest ?? before;
    const previousAge = previous ? Date.now() - previous.storedAt : Number.POSITIVE_INFINITY;
    if (previous && previousAge >= -CLOCK_TOLERANCE_MS && previousAge <= policy.staleMaxAgeMs) {
      return {
        balance: {
          ...previous.balance,
          status: live.status,
          message: live.message,
          requests: live.requests,
        },
        source: "stale",
        ageSeconds: ageOf(previous.storedAt),
      };
    }
    return { balance: live, source: "live", ageSeconds: null };
  } finally {
    await release?.();
  }
}
