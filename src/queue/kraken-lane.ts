/**
 * The Kraken queue. Kraken nonces must strictly increase per API key and its private endpoints
 * are rate limited per key, so every private Kraken request passes through one lane that keeps
 * at least `spacingMs` between the starts of consecutive requests on one key, never runs two
 * requests on one key at once, and runs at most `concurrency` Kraken requests overall (default 1:
 * the original system's strictly sequential behaviour).
 */
export interface KrakenLaneOptions {
  spacingMs?: number;
  concurrency?: number;
}

export const DEFAULT_KRAKEN_SPACING_MS = 1100;

interface Waiting {
  key: string;
  start: () => void;
}

export class KrakenLane {
  readonly spacingMs: number;
  readonly concurrency: number;
  private readonly waiting: Waiting[] = [];
  private readonly busyKeys = new Set<string>();
  private readonly lastStart = new Map<string, number>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: KrakenLaneOptions = {}) {
    this.spacingMs = options.spacingMs ?? DEFAULT_KRAKEN_SPACING_MS;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** Runs `task` (one private request on `key`, a key fingerprint) when the lane allows it. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        key,
        start: () => {
          task()
            .then(resolve, reject)
            .finally(() => {
              this.inFlight -= 1;
              this.busyKeys.delete(key);
              this.pump();
            });
        },
      });
      this.pump();
    });
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.waiting.length && this.inFlight < this.concurrency; ) {
      const item = this.waiting[i] as Waiting;
      if (this.busyKeys.has(item.key)) {
        i += 1;
        continue;
      }
      const readyAt = (this.lastStart.get(item.key) ?? Number.NEGATIVE_INFINITY) + this.spacingMs;
      const now = performance.now();
      if (readyAt > now) {
        earliest = Math.min(earliest, readyAt);
        i += 1;
        continue;
      }
      this.waiting.splice(i, 1);
      this.inFlight += 1;
      this.busyKeys.add(item.key);
      this.lastStart.set(item.key, now);
      item.start();
    }
    if (this.waiting.length > 0 && this.inFlight < this.concurrency && earliest < Infinity) {
      this.timer = setTimeout(() => this.pump(), Math.max(1, earliest - performance.now()));
    }
  }
}
