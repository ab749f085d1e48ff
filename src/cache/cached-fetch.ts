import type { AccountBalance } from "../brokers/types.js";
import { STATUS_LABELS } from "../render/labels.js";
import type { FigureSource } from "../report/model.js";
import type { CacheEntry } from "./balance-cache.js";
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
  /** Set when the key's refusal was remembered, not asked: when it will be asked again (ms). */
  retryAfter?: number;
}

/**
 * Failures of the key itself (revoked, wrong, without permission): asking again before the TTL
 * passes would only repeat them (a revoked key was tried on every run), so they are remembered.
 * Transient failures (timeout, network, rate limit) are not: the next run asks again.
 */
const KEY_REFUSALS: ReadonlySet<AccountBalance["status"]> = new Set([
  "auth_failed",
  "permission_denied",
]);

/** Where a key's refusal is kept: beside its figure, under the same credential-free key. */
export const refusalKey = (key: string) => `${key}.refused`;

/** Clocks of hosts sharing a store differ a little; more than this is not a fresh entry. */
const CLOCK_TOLERANCE_MS = 5_000;

const ageOf = (storedAt: number) => Math.max(0, Math.round((Date.now() - storedAt) / 1000));

/** A fresh entry under the "use" policy: within the TTL, and not dated in the future. */
const freshForUse = (storedAt: number, policy: CachePolicy) =>
  storedAt <= Date.now() + CLOCK_TOLERANCE_MS && Date.now() - storedAt < policy.ttlMs;

/**
 * The figure a fresh entry gives, when the store can say at once (BalanceStore.readNow); null
 * when the account has to go through fetchThroughCache.
 */
export function cachedFigureNow(
  cache: BalanceStore | null,
  policy: CachePolicy,
  key: string | null,
): Figure | null {
  if (!cache?.readNow || !key || policy.mode !== "use") return null;
  const entry = cache.readNow(key);
  if (!entry || !freshForUse(entry.storedAt, policy)) return null;
  return { balance: entry.balance, source: "cached", ageSeconds: ageOf(entry.storedAt) };
}

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
    policy.mode === "use"
      ? freshForUse(storedAt, policy)
      : storedAt <= Date.now() + CLOCK_TOLERANCE_MS && storedAt > startedAt;
  const before = policy.mode === "use" ? await cache.read(key) : null;
  if (before && usable(before.storedAt)) {
    return { balance: before.balance, source: "cached", ageSeconds: ageOf(before.storedAt) };
  }
  const refused = await rememberedRefusal(cache, policy, key, before);
  if (refused) return refused;
  const release = await cache.lock(key, policy.lockWaitMs, policy.lockLeaseMs);
  try {
    // Fresh: what a run that held the lock before this one wrote.
    const latest = await cache.read(key, { fresh: true });
    if (latest && usable(latest.storedAt)) {
      return { balance: latest.balance, source: "cached", ageSeconds: ageOf(latest.storedAt) };
    }
    // The run this one waited for may have just been refused (the fresh read above saw it).
    const refusedMeanwhile = await rememberedRefusal(cache, policy, key, latest ?? before);
    if (refusedMeanwhile) return refusedMeanwhile;
    const live = await fetchLive();
    if (live.status === "ok") {
      await cache.write(key, live);
      return { balance: live, source: "live", ageSeconds: null };
    }
    if (KEY_REFUSALS.has(live.status) && policy.ttlMs > 0) {
      await cache.write(refusalKey(key), live);
    }
    return withStale(live, latest ?? before, policy);
  } finally {
    await release?.();
  }
}

/**
 * The failure shown in place of a figure: the last good figure no older than the stale limit,
 * marked stale and carrying the failure's status, or the failure itself.
 */
function withStale(
  failure: AccountBalance,
  previous: CacheEntry | null,
  policy: CachePolicy,
): Figure {
  const previousAge = previous ? Date.now() - previous.storedAt : Number.POSITIVE_INFINITY;
  if (previous && previousAge >= -CLOCK_TOLERANCE_MS && previousAge <= policy.staleMaxAgeMs) {
    return {
      balance: {
        ...previous.balance,
        status: failure.status,
        message: failure.message,
        requests: failure.requests,
      },
      source: "stale",
      ageSeconds: ageOf(previous.storedAt),
    };
  }
  return { balance: failure, source: "live", ageSeconds: null };
}

/**
 * The key's refusal, remembered within the TTL, as this run's answer (with the last good figure,
 * stale, when there is one): no request is made. Null when the key is to be asked (only `use` mode remembers;
 * --refresh asks at once).
 */
async function rememberedRefusal(
  cache: BalanceStore,
  policy: CachePolicy,
  key: string,
  good: CacheEntry | null,
): Promise<Figure | null> {
  if (policy.mode !== "use") return null;
  const refusal = await cache.read(refusalKey(key));
  if (!refusal || !KEY_REFUSALS.has(refusal.balance.status)) return null;
  const at = refusal.storedAt;
  const now = Date.now();
  // A good figure since the refusal is younger than it, so still fresh: served before this.
  if (at > now + CLOCK_TOLERANCE_MS || now - at >= policy.ttlMs) return null;
  const retryAfter = at + policy.ttlMs;
  const until = new Date(retryAfter).toISOString().replace(/\.\d{3}Z$/, "Z");
  const why = refusal.balance.message ?? STATUS_LABELS[refusal.balance.status];
  const failure: AccountBalance = {
    ...refusal.balance,
    // No "n minutes ago": the same refusal reads the same in every run, the CLI and `serve`.
    message: `${why}; remembered, not retried until ${until}; --refresh retries now`,
    requests: 0,
  };
  const figure = withStale(failure, good, policy);
  // Without a figure to stand in, the refusal itself is what the cache served.
  if (figure.source === "live")
    return { ...figure, source: "cached", ageSeconds: ageOf(at), retryAfter };
  return { ...figure, retryAfter };
}
