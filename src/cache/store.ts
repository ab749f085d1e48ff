import type { AccountBalance } from "../brokers/types.js";
import type { SharedLaneState } from "../queue/kraken-lane.js";
import type { CacheEntry } from "./balance-cache.js";

/**
 * Where cached balances, single-flight locks and the Kraken lanes' shared state live. The on-disk
 * store (DiskBalanceCache) is the embedded default; another backend implements the same five
 * operations. Keys and values never hold a credential.
 */
export interface BalanceStore extends SharedLaneState {
  /**
   * The entry under `key`, or null when there is none or it cannot be used. `fresh`: what other
   * runs wrote up to now must be seen (a store that reads ahead reads again).
   */
  read(key: string, options?: { fresh?: boolean }): Promise<CacheEntry | null>;
  /**
   * `read(key)` answered at once, where the store can (the disk cache reads ahead): a run the
   * cache serves then takes no promise per account. Optional.
   */
  readNow?(key: string): CacheEntry | null;
  /** Stores a good balance; failures to store are reported through the store's warnings. */
  write(key: string, balance: AccountBalance, storedAt?: number): Promise<void>;
  /** A cross-process lock; null when `waitMs` passed (or the store cannot lock) without it. */
  lock(name: string, waitMs: number, leaseMs: number): Promise<(() => Promise<void>) | null>;
}
