import type { BalanceStore } from "../cache/store.js";

/**
 * A store reduced to what the Kraken lane and single flight need (locks and marks) for runs that
 * must neither read nor keep balances (--no-cache): reads find nothing, writes keep nothing.
 */
export function laneOnlyStore(store: BalanceStore): BalanceStore {
  return {
    read: async () => null,
    write: async () => undefined,
    lock: (name, waitMs, leaseMs) => store.lock(name, waitMs, leaseMs),
    readMark: (name) => store.readMark(name),
    writeMark: (name, value) => store.writeMark(name, value),
  };
}
