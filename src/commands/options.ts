import { type Command, InvalidArgumentError, Option } from "commander";
import { type OpenedStore, openStore, StoreError } from "../cache/open-store.js";
import { defaultCacheDir } from "../cache/paths.js";
import type { LoadedConfig } from "../config/index.js";
import { DEFAULT_KRAKEN_SPACING_MS } from "../queue/kraken-lane.js";
import { DEFAULT_CONCURRENCY } from "../report/collect.js";
import type { RunOptions } from "../run.js";
import { type CliIo, EXIT, warn } from "./context.js";

export const positiveNumber = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`${flag} must be a positive number.`);
  }
  return n;
};

export const positiveInteger = (flag: string) => (value: string) => {
  const n = positiveNumber(flag)(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${flag} must be a whole number.`);
  return n;
};

/** "90", "90s", "15m", "24h", "7d" to milliseconds. */
export function parseDuration(flag: string) {
  return (value: string): number => {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
    if (!match) {
      throw new InvalidArgumentError(`${flag} takes a duration such as 90s, 15m, 24h or 7d.`);
    }
    const unit =
      { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? "s"] ?? 1000;
    return Number(match[1]) * unit;
  };
}

/** The flags every command that fetches shares. */
export interface RunFlags {
  configDir: string;
  valuation: "cash" | "total";
  timeout: number;
  retries: number;
  concurrency: number;
  krakenSpacing: number;
  krakenConcurrency: number;
  cache: boolean;
  cacheDir?: string;
  cacheTtl: number;
  refresh?: boolean;
  staleMaxAge: number;
  includeDisabled?: boolean;
  verbose?: boolean;
  store?: string;
  storeRequired?: boolean;
}

export function addRunFlags(command: Command, include: { refresh?: boolean } = {}): Command {
  command
    .option(
      "-c, --config-dir <dir>",
      "configuration directory (platform.json, users/*.json)",
      "config",
    )
    .addOption(
      new Option(
        "--valuation <mode>",
        "cash: USD and stablecoins at par; total: every asset at market",
      )
        .choices(["cash", "total"])
        .default("cash"),
    )
    .option("--timeout <seconds>", "per-request timeout", positiveNumber("--timeout"), 10)
    .option("--retries <n>", "attempts for transient failures", positiveInteger("--retries"), 3)
    .option(
      "--concurrency <n>",
      "concurrent fetches on non-Kraken brokers",
      positiveInteger("--concurrency"),
      DEFAULT_CONCURRENCY,
    )
    .option(
      "--kraken-spacing <ms>",
      "minimum ms between two requests on one Kraken key",
      positiveInteger("--kraken-spacing"),
      DEFAULT_KRAKEN_SPACING_MS,
    )
    .option(
      "--kraken-concurrency <n>",
      "Kraken requests at once on different keys (one key is never used twice at once)",
      positiveInteger("--kraken-concurrency"),
      1,
    )
    .option(
      "--cache-dir <dir>",
      "balance cache directory (default $XDG_CACHE_HOME/show-user-balances)",
    )
    .addOption(
      new Option("--cache-ttl <duration>", "how long a cached balance is served")
        .argParser(parseDuration("--cache-ttl"))
        .default(120_000, "120s"),
    );
  // `serve` leaves it out: there --refresh is the page's interval, and a server that always
  // fetched live would cost more API calls than the CLI.
  if (include.refresh !== false) {
    command.option("--refresh", "fetch everything live now (the fresh result is still cached)");
  }
  return command
    .option("--no-cache", "neither read nor write the cache")
    .addOption(
      new Option(
        "--stale-max-age <duration>",
        "oldest cached figure shown, marked stale, when a live fetch fails",
      )
        .argParser(parseDuration("--stale-max-age"))
        .default(86_400_000, "24h"),
    )
    .option("--include-disabled", "also list disabled users and brokers, marked disabled")
    .option(
      "--store <url>",
      "shared cache, locks and Kraken lanes in Redis: redis://host:port/db or rediss://... (env SHOW_USER_BALANCES_STORE; password in REDIS_PASSWORD)",
    )
    .option(
      "--store-required",
      "exit 2 instead of falling back to the on-disk cache when Redis fails",
    )
    .option("-v, --verbose", "report retries and other diagnostics on stderr");
}

/**
 * Opens the store named by --store, SHOW_USER_BALANCES_STORE or settings.json `store` (in that
 * order; read after .env is loaded). Undefined: the run's default on-disk cache. A number: the
 * exit code, after the error is printed. The caller closes the store when the run ends.
 */
export async function openRunStore(
  flags: RunFlags,
  config: LoadedConfig,
  options: RunOptions,
  io: CliIo,
): Promise<OpenedStore | undefined | number> {
  const url = flags.store ?? process.env.SHOW_USER_BALANCES_STORE ?? config.settings.store;
  if (!url || url === "disk" || options.cache?.mode === "off") return undefined;
  try {
    return await openStore({
      url,
      password: process.env.REDIS_PASSWORD,
      required: flags.storeRequired,
      cacheDir: options.cacheDir ?? defaultCacheDir(),
      retentionMs: Math.max(options.cache?.ttlMs ?? 0, options.cache?.staleMaxAgeMs ?? 0),
      onWarning: options.onWarning,
    });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    warn(io, `show-user-balances: ${error.message}`);
    warn(io, `  fix: ${error.hint}`);
    return EXIT.config;
  }
}

/** The config-loading part of the run options (before the config is read). */
export function loadOptions(flags: RunFlags): RunOptions {
  return { configDir: flags.configDir, includeDisabled: flags.includeDisabled };
}

/** Run options from flags, with settings.json filling in what the command line left at default. */
export function runOptions(
  command: Command,
  flags: RunFlags,
  config: LoadedConfig,
  io: CliIo,
): RunOptions {
  const settings = config.settings;
  const pick = <T>(flag: keyof RunFlags, fromSettings: T | undefined, fromFlag: T): T =>
    command.getOptionValueSource(flag) === "cli" || fromSettings === undefined
      ? fromFlag
      : fromSettings;
  const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);
  return {
    ...loadOptions(flags),
    valuation: pick("valuation", settings.valuation, flags.valuation),
    stablecoins: settings.stablecoins,
    timeoutMs: pick("timeout", ms(settings.timeoutSeconds), flags.timeout * 1000),
    attempts: pick("retries", settings.retries, flags.retries),
    concurrency: pick("concurrency", settings.concurrency, flags.concurrency),
    krakenSpacingMs: pick("krakenSpacing", settings.krakenSpacingMs, flags.krakenSpacing),
    krakenConcurrency: pick(
      "krakenConcurrency",
      settings.krakenConcurrency,
      flags.krakenConcurrency,
    ),
    cacheDir: flags.cacheDir,
    cache: {
      mode: !flags.cache ? "off" : flags.refresh ? "refresh" : "use",
      ttlMs: pick("cacheTtl", ms(settings.cacheTtlSeconds), flags.cacheTtl),
      staleMaxAgeMs: pick("staleMaxAge", ms(settings.staleMaxAgeSeconds), flags.staleMaxAge),
    },
    onWarning: (message) => warn(io, `warning: ${message}`),
    onRetry: flags.verbose
      ? (broker, attempt, message) =>
          warn(io, `retrying ${broker} (attempt ${attempt + 1}): ${message}`)
      : undefined,
  };
}
