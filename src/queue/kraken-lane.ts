/**
 * The Kraken queue. Kraken nonces must strictly increase per API key and its private endpoints
 * are rate limited per key, so every private Kraken request passes through one lane that never
 * runs two requests on one key at once, runs at most `concurrency` Kraken requests overall
 * (default 1: the original system's strictly sequential behaviour), and sends a request on a key
 * only `spacingMs` after the previous one on that key has been answered. Measuring from the
 * answer, not from our send, is what guarantees the spacing as the exchange sees it: a send can
 * reach the wire late (connection set-up, a first request's lazy initialisation), an answer
 * always arrives after the exchange saw the request. It costs one round trip per repeated key,
 * which only shared keys and retries pay.
 */
export interface KrakenLaneOptions {
  spacingMs?: number;
  concurrency?: number;
  /**
   * Extends the lane across processes: a lock per key, and the last send per key, kept in the
   * cache directory, so two runs never use one key at once or send nonces out of order.
   */
  shared?: SharedLaneState;
}

/** Cross-process state of the lane (the disk cache implements it). */
export interface SharedLaneState {
  lock(name: string, waitMs: number, leaseMs: number): Promise<(() => Promise<void>) | null>;
  readMark(name: string): Promise<number>;
  writeMark(name: string, value: number): Promise<void>;
}

export const DEFAULT_KRAKEN_SPACING_MS = 1100;

/** A lane lock older than this belongs to a run that died mid-request (requests time out well before). */
const SHARED_LEASE_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Waiting {
  key: string;
  start: () => void;
}

export class KrakenLane {
  readonly spacingMs: number;
  readonly concurrency: number;
  private readonly shared: SharedLaneState | undefined;
  private readonly waiting: Waiting[] = [];
  private readonly busyKeys = new Set<string>();
  /** Epoch ms the last request per key was answered (epoch: other processes compare it). */
  private readonly lastDone = new Map<string, number>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: KrakenLaneOptions = {}) {
    this.spacingMs = options.spacingMs ?? DEFAULT_KRAKEN_SPACING_MS;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.shared = options.shared;
  }

  /**
   * Runs `task` (one private request on `key`, a key fingerprint) when the lane allows it. The
   * task calls `paceSend()` right before its request goes out; it returns once the spacing since
   * the previous answer on that key, in this process or another, has passed.
   */
  run<T>(key: string, task: (paceSend: () => Promise<void>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        key,
        start: () => {
          let holdsSlot = true;
          const freeSlot = () => {
            if (holdsSlot) this.inFlight -= 1;
            holdsSlot = false;
          };
          const answered = () => {
            freeSlot();
            this.pump();
          };
          this.holdKey(key, task, answered)
            .then(resolve, reject)
            .finally(() => {
              freeSlot();
              this.busyKeys.delete(key);
              this.pump();
            });
        },
      });
      this.pump();
    });
  }

  /**
   * `answered` frees the lane slot once the request is answered: another key's request goes out
   * while this key's mark is written and its lock released (the key stays busy until then).
   */
  private async holdKey<T>(
    key: string,
    task: (paceSend: () => Promise<void>) => Promise<T>,
    answered: () => void,
  ): Promise<T> {
    const name = `kraken-${key}`;
    const release = await this.shared?.lock(name, SHARED_LEASE_MS, SHARED_LEASE_MS);
    try {
      return await task(async () => {
        const shared = (await this.shared?.readMark(name)) ?? 0;
        const previous = Math.max(this.lastDone.get(key) ?? 0, shared);
        // +1: Date.now() truncates to the millisecond.
        const wait = previous + this.spacingMs + 1 - Date.now();
        if (wait > 0) await sleep(wait);
      });
    } finally {
      const done = Date.now();
      this.lastDone.set(key, done);
      answered();
      await this.shared?.writeMark(name, done).catch(() => undefined);
      await release?.();
    }
  }

  /** Starts every waiting request whose key is free and due, up to the concurrency. */
  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.waiting.length && this.inFlight < this.concurrency; ) {
      const item = this.waiting[i] as Waiting;
      const dueAt = (this.lastDone.get(item.key) ?? 0) + this.spacingMs;
      if (this.busyKeys.has(item.key) || dueAt > Date.now()) {
        if (!this.busyKeys.has(item.key)) earliest = Math.min(earliest, dueAt);
        i += 1;
        continue;
      }
      this.waiting.splice(i, 1);
      this.inFlight += 1;
      this.busyKeys.add(item.key);
      item.start();
    }
    if (this.waiting.length > 0 && this.inFlight < this.concurrency && earliest < Infinity) {
      this.timer = setTimeout(() => this.pump(), Math.max(1, earliest - Date.now()));
    }
  }
}
