/**
 * The config's plain rules, kept apart from the zod schemas (schemas.ts) so that what only needs
 * a range or a pattern (the flags, a run the cache serves) does not load zod.
 */

export const USER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;

/** An http(s) URL with a host. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/**
 * The documented range of each run setting, shared by the command-line flags and settings.json
 * (README "Flags"): values outside it are refused with exit 2 instead of misbehaving (a timeout of
 * 1e308 timed every broker out; a watch interval past 2^31-1 ms made setTimeout fire at once).
 */
export const SETTING_BOUNDS = {
  timeoutSeconds: { min: 0.1, max: 600 },
  // Retries after the first attempt: 0-9 is 1-10 attempts.
  retries: { min: 0, max: 9 },
  concurrency: { min: 1, max: 1024 },
  krakenSpacingMs: { min: 0, max: 60_000 },
  krakenConcurrency: { min: 1, max: 64 },
  cacheTtlSeconds: { min: 0, max: 30 * 86_400 },
  staleMaxAgeSeconds: { min: 0, max: 365 * 86_400 },
  historyRetentionSeconds: { min: 86_400, max: 3650 * 86_400 },
  dropWindowSeconds: { min: 60, max: 365 * 86_400 },
  renotifySeconds: { min: 60, max: 365 * 86_400 },
} as const;

/** The flag each bounded setting stands in for, named in the message. */
export const BOUNDED_FLAGS: Record<keyof typeof SETTING_BOUNDS, string> = {
  timeoutSeconds: "--timeout",
  retries: "--retries",
  concurrency: "--concurrency",
  krakenSpacingMs: "--kraken-spacing",
  krakenConcurrency: "--kraken-concurrency",
  cacheTtlSeconds: "--cache-ttl",
  staleMaxAgeSeconds: "--stale-max-age",
  historyRetentionSeconds: "--history-retention",
  dropWindowSeconds: "--drop-window",
  renotifySeconds: "--renotify",
};

/** The webhook URL's variable: a secret kept out of the command line (and so out of `ps`). */
export const NOTIFY_URL_ENV = "SHOW_USER_BALANCES_NOTIFY_URL";
