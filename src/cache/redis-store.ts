import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { AccountBalance } from "../brokers/types.js";
import { importModule } from "../import-module.js";
import { redact } from "../secrets.js";
import {
  CACHE_FORMAT,
  type CacheEntry,
  parseCacheEntry,
  serializeCacheEntry,
} from "./balance-cache.js";
import type { BalanceStore } from "./store.js";

export type StoreErrorCode = "invalid_store_url" | "store_unreachable";

/** A shared store that cannot be used. Messages name the URL without its password. */
export class StoreError extends Error {
  override readonly name = "StoreError";
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/** A parsed `--store` URL: what the client needs, and a printable form without the password. */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
  /** `redis://host:port` (plus `/db` when not 0): safe to print. */
  display: string;
}

/** `redis://[user:password@]host[:port][/db]` or `rediss://...`; `password` is used when the URL has none. */
export function parseRedisUrl(text: string, password?: string): RedisTarget {
  const invalid = (why: string) =>
    new StoreError(
      "invalid_store_url",
      `--store: ${why}`,
      "use redis://host:port/db or rediss://host:port/db (the password in REDIS_PASSWORD)",
    );
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid("not a URL");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw invalid(`unsupported scheme ${url.protocol} (redis: or rediss:)`);
  }
  if (!url.hostname) throw invalid("no host");
  const dbText = url.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw invalid(`database must be a number, not "${dbText}"`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port ? Number(url.port) : 6379;
  const fromUrl = url.password ? decodeURIComponent(url.password) : undefined;
  return {
    host,
    port,
    db,
    tls: url.protocol === "rediss:",
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: fromUrl ?? (password || undefined),
    display: `${url.protocol}//${url.hostname}:${port}${db ? `/${db}` : ""}`,
  };
}

export interface RedisStoreOptions {
  /** Namespace of every key, default `sub:v1:`. */
  prefix?: string;
  /** Expiry of a balance entry: how long it may serve, fresh or stale. Default 24 h. */
  retentionMs?: number;
  /** Connect, ping and per-command timeout, default 2000 ms: a dead Redis never hangs a run. */
  timeoutMs?: number;
  /**
   * Expiry of a lock key, renewed while its holder lives (up to the lease the caller asks for).
   * Redis cannot see a holder's pid, so this bounds how long a `kill -9`ed holder blocks others.
   */
  lockRenewMs?: number;
  /** Where operations go once Redis fails mid-run (the on-disk store); none: uncached, unlocked. */
  fallback?: BalanceStore;
  onWarning?: (message: string) => void;
}

const DEFAULT_PREFIX = "sub:v1:";
const DEFAULT_RETENTION_MS = 24 * 3600_000;
const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_LOCK_RENEW_MS = 10_000;
/** A Kraken mark only has to outlive the spacing; an hour leaves room for any --kraken-spacing. */
const MARK_TTL_MS = 3600_000;
/** After a failure, operations go to the fallback this long before Redis is tried again (serve). */
const RETRY_AFTER_MS = 30_000;
const POLL_MIN_MS = 10;
const POLL_MAX_MS = 100;
const HOLDER = `${hostname()}:${process.pid}`;

// Fencing: a lock key holds its owner's random token; only that owner may extend or delete it.
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;
const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The shared store: balance entries, single-flight locks and Kraken lane state in Redis, so
 * runs on several hosts coordinate as runs on one host do through the cache directory.
 *
 *   <prefix>balance:<cacheKey>  the CacheEntry JSON, expiring after the retention bound
 *   <prefix>lock:<name>         "<host>:<pid>:<token>", SET NX PX, renewed while held
 *   <prefix>mark:<name>         epoch ms of the last answer on a Kraken key
 *
 * Keys and values hold fingerprints, balances and host names, never a credential. Any Redis
 * failure is caught: one warning, then the operation (and the next ones, for RETRY_AFTER_MS)
 * goes to the fallback store, so a dying Redis costs coordination, never the report.
 */
export class RedisBalanceStore implements BalanceStore {
  private readonly prefix: string;
  private readonly retentionMs: number;
  private readonly lockRenewMs: number;
  private readonly onWarning: (message: string) => void;
  private readonly warned = new Set<string>();
  private downUntil = 0;
  private everFailed = false;

  /** Connects and pings within `timeoutMs`; throws StoreError when Redis cannot be used. */
  static async connect(
    target: RedisTarget,
    options: RedisStoreOptions = {},
  ): Promise<RedisBalanceStore> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Loaded here, not at the top: a run on the disk store never pays for the client.
    const { Redis } = await importModule<typeof import("ioredis")>("ioredis");
    const client = new Redis({
      host: target.host,
      port: target.port,
      db: target.db,
      username: target.username,
      password: target.password,
      tls: target.tls ? { servername: target.host } : undefined,
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      // Fail at once while disconnected instead of queueing (and hanging) the command.
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    let lastError: Error | null = null;
    // Without a listener ioredis prints every connection error; failures are reported by us.
    client.on("error", (error: Error) => {
      lastError = error;
    });
    try {
      await withTimeout(
        client.connect().then(() => client.ping()),
        timeoutMs,
        "connecting",
      );
    } catch (error) {
      client.disconnect();
      const cause = (lastError ?? (error as Error)).message;
      throw new StoreError(
        "store_unreachable",
        `cannot reach Redis at ${target.display} (${redact(cause, [target.password])})`,
        "start Redis or correct --store; REDIS_PASSWORD holds its password",
      );
    }
    return new RedisBalanceStore(client, target, options);
  }

  constructor(
    private readonly client: Redis,
    readonly target: RedisTarget,
    private readonly options: RedisStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.retentionMs = Math.max(1000, Math.round(options.retentionMs ?? DEFAULT_RETENTION_MS));
    this.lockRenewMs = options.lockRenewMs ?? DEFAULT_LOCK_RENEW_MS;
    this.onWarning = options.onWarning ?? (() => undefined);
  }

  /** True once Redis failed during this store's life (the run went on without it). */
  get failed(): boolean {
    return this.everFailed;
  }

  key(kind: "balance" | "lock" | "mark", name: string): string {
    return `${this.prefix}${kind}:${name}`;
  }

  read(key: string): Promise<CacheEntry | null> {
    return this.guarded(
      async (redis) => this.parse(key, await redis.get(this.key("balance", key))),
      async () => (await this.options.fallback?.read(key)) ?? null,
    );
  }

  private parse(key: string, text: string | null): CacheEntry | null {
    if (text === null) return null;
    const entry = parseCacheEntry(text);
    if (entry) return entry;
    this.warnOnce(
      key,
      `ignoring cache entry ${this.key("balance", key)} in Redis (corrupt or from an older version); it will be rewritten`,
    );
    return null;
  }

  async write(key: string, balance: AccountBalance, storedAt = Date.now()): Promise<void> {
    const entry: CacheEntry = { format: CACHE_FORMAT, storedAt, balance };
    await this.guarded(
      async (redis) => {
        await redis.set(
          this.key("balance", key),
          serializeCacheEntry(entry),
          "PX",
          this.retentionMs,
        );
      },
      async () => this.options.fallback?.write(key, balance, storedAt),
    );
  }

  /**
   * `SET NX PX` with a random token, polled until `waitMs`. The key expires after `lockRenewMs`
   * and is renewed while held, for at most `leaseMs` in all (the caller's abandonment bound).
   */
  lock(name: string, waitMs: number, leaseMs: number): Promise<(() => Promise<void>) | null> {
    return this.guarded(
      async (redis) => {
        const key = this.key("lock", name);
        const token = `${HOLDER}:${randomBytes(12).toString("hex")}`;
        const expiry = Math.max(1, Math.min(leaseMs, this.lockRenewMs));
        const deadline = Date.now() + waitMs;
        for (let pause = POLL_MIN_MS; ; pause = Math.min(pause * 2, POLL_MAX_MS)) {
          if ((await redis.set(key, token, "PX", expiry, "NX")) === "OK") {
            return this.holding(name, key, token, expiry, leaseMs);
          }
          const left = deadline - Date.now();
          if (left <= 0) return null;
          await sleep(Math.min(pause, left));
        }
      },
      async () => (await this.options.fallback?.lock(name, waitMs, leaseMs)) ?? null,
    );
  }

  private holding(
    name: string,
    key: string,
    token: string,
    expiry: number,
    leaseMs: number,
  ): () => Promise<void> {
    const until = Date.now() + leaseMs;
    const renew = setInterval(
      () => {
        const left = until - Date.now();
        if (left <= 0) {
          clearInterval(renew);
          return;
        }
        this.client.eval(RENEW, 1, key, token, Math.min(expiry, left)).then(
          (renewed) => {
            if (renewed === 0) {
              clearInterval(renew);
              this.warnOnce(`lost:${name}`, `lost the Redis lock ${key} (it expired while held)`);
            }
          },
          () => undefined, // Redis down: reported by the next operation; the key expires.
        );
      },
      Math.max(1, Math.floor(expiry / 3)),
    );
    renew.unref();
    return async () => {
      clearInterval(renew);
      await this.client.eval(RELEASE, 1, key, token).catch(() => undefined);
    };
  }

  readMark(name: string): Promise<number> {
    return this.guarded(
      async (redis) => Number(await redis.get(this.key("mark", name))) || 0,
      async () => (await this.options.fallback?.readMark(name)) ?? 0,
    );
  }

  async writeMark(name: string, value: number): Promise<void> {
    await this.guarded(
      async (redis) => {
        await redis.set(this.key("mark", name), String(value), "PX", MARK_TTL_MS);
      },
      async () => this.options.fallback?.writeMark(name, value),
    );
  }

  /** Closes the connection so the process can exit. */
  async close(): Promise<void> {
    try {
      if (this.client.status === "ready") await withTimeout(this.client.quit(), 500, "quit");
    } catch {
      // closed below either way
    } finally {
      this.client.disconnect();
    }
  }

  private async guarded<T>(
    operation: (redis: Redis) => Promise<T>,
    fallback: () => Promise<T>,
  ): Promise<T> {
    if (Date.now() < this.downUntil) return fallback();
    try {
      return await operation(this.client);
    } catch (error) {
      this.downUntil = Date.now() + RETRY_AFTER_MS;
      this.everFailed = true;
      const cause = redact((error as Error).message, [this.target.password]);
      this.warnOnce(
        "down",
        `Redis at ${this.target.display} failed during the run (${cause}); ${
          this.options.fallback ? "using the on-disk cache" : "going on uncached"
        }`,
      );
      return fallback();
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.onWarning(message);
  }
}
