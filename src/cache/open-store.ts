import { DiskBalanceCache } from "./balance-cache.js";
import { parseRedisUrl, RedisBalanceStore, StoreError } from "./redis-store.js";
import type { BalanceStore } from "./store.js";

export { StoreError };

export interface OpenStoreOptions {
  /** `redis://` or `rediss://` URL of the shared store; absent or "disk": the on-disk store. */
  url?: string;
  /** Redis password when the URL carries none (REDIS_PASSWORD). */
  password?: string;
  /** Throw StoreError instead of falling back to the disk store when Redis cannot be used. */
  required?: boolean;
  /** The on-disk store's directory: the default, the fallback and the mid-run fallback. */
  cacheDir: string;
  /** How long a Redis entry is kept: the longer of the TTL and the stale-max-age. */
  retentionMs?: number;
  /** Connect and per-command timeout for Redis, default 2000 ms. */
  timeoutMs?: number;
  onWarning?: (message: string) => void;
}

export interface OpenedStore {
  store: BalanceStore;
  kind: "redis" | "disk";
  /** True when Redis failed during the run (figures went through the disk store instead). */
  readonly degraded: boolean;
  /** Ends the Redis connection, so the process can exit. */
  close(): Promise<void>;
}

/**
 * The store a run uses: Redis when a URL is given and it answers a ping within the timeout, else
 * the on-disk cache with one warning (or StoreError when `required`). Shared by the CLI, `serve`
 * and the library API.
 */
export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  const onWarning = options.onWarning ?? (() => undefined);
  const disk = new DiskBalanceCache(options.cacheDir, onWarning);
  const onDisk: OpenedStore = {
    store: disk,
    kind: "disk",
    degraded: false,
    close: async () => undefined,
  };
  if (!options.url || options.url === "disk") return onDisk;
  const target = parseRedisUrl(options.url, options.password);
  try {
    const redis = await RedisBalanceStore.connect(target, {
      retentionMs: options.retentionMs,
      timeoutMs: options.timeoutMs,
      fallback: disk,
      onWarning,
    });
    return {
      store: redis,
      kind: "redis",
      get degraded() {
        return redis.failed;
      },
      close: () => redis.close(),
    };
  } catch (error) {
    if (options.required || !(error instanceof StoreError)) throw error;
    onWarning(`${error.message}; using the on-disk cache`);
    return onDisk;
  }
}
