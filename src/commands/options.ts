import { realpathSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type OpenedStore, openStore, StoreError } from "../cache/open-store.js";
import { defaultCacheDir } from "../cache/paths.js";
import { SETTING_BOUNDS } from "../config/bounds.js";
import type { LoadedConfig } from "../config/index.js";
import { DEFAULT_KRAKEN_SPACING_MS } from "../queue/kraken-lane.js";
import { DEFAULT_CONCURRENCY } from "../report/collect.js";
import type { RunOptions } from "../run.js";
import { type CliIo, COLOR_WHEN, checkFilters, configToShow, EXIT, warn } from "./context.js";

/** A number (or whole number) within [min, max]; the message names the flag and the range. */
export function numberIn(
  flag: string,
  min: number,
  max: number,
  options: { integer?: boolean; unit?: string } = {},
) {
  const what = options.integer ? "a whole number" : "a number";
  const unit = options.unit ? ` ${options.unit}` : "";
  return (value: string): number => {
    const n = value.trim() === "" ? Number.NaN : Number(value);
    if (!Number.isFinite(n) || n < min || n > max || (options.integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${flag} takes ${what} from ${min} to ${max}${unit}.`);
    }
    return n;
  };
}

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** 90_000 -> "90s", 86_400_000 -> "1d": how ranges are shown in messages and --help. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * "90", "90s", "15m", "24h", "7d" to milliseconds, within [minMs, maxMs]: a bounded range keeps
 * every later date finite (`--since 99999999999d` would make an invalid Date).
 */
export function parseDuration(flag: string, bounds: { minMs: number; maxMs: number }) {
  const range = `from ${formatDuration(bounds.minMs)} to ${formatDuration(bounds.maxMs)}`;
  return (value: string): number => {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
    if (!match) {
      throw new InvalidArgumentError(
        `${flag} takes a duration such as 90s, 15m, 24h or 7d (${range}).`,
      );
    }
    const ms = Number(match[1]) * UNITS[(match[2] ?? "s") as keyof typeof UNITS];
    if (!Number.isFinite(ms) || ms < bounds.minMs || ms > bounds.maxMs) {
      throw new InvalidArgumentError(`${flag} takes a duration ${range}.`);
    }
    return ms;
  };
}

const seconds = (s: number) => s * 1000;
const B = SETTING_BOUNDS;
export const CACHE_TTL_BOUNDS = {
  minMs: seconds(B.cacheTtlSeconds.min),
  maxMs: seconds(B.cacheTtlSeconds.max),
};
export const STALE_MAX_AGE_BOUNDS = {
  minMs: seconds(B.staleMaxAgeSeconds.min),
  maxMs: seconds(B.staleMaxAgeSeconds.max),
};

/**
 * A directory under /proc, /sys or /dev (after following symlinks), where files are not files:
 * writes there hang or fail in odd ways. /dev/shm is an ordinary tmpfs and is allowed.
 */
export function specialDirectory(dir: string): string | null {
  const absolute = resolve(dir);
  const candidates = [absolute];
  // The deepest existing ancestor, resolved, catches a symlink into /proc.
  for (let probe = absolute; ; probe = dirname(probe)) {
    try {
      candidates.push(join(realpathSync(probe), relative(probe, absolute)));
      break;
    } catch {
      if (dirname(probe) === probe) break;
    }
  }
  for (const path of candidates) {
    if (/^\/(proc|sys|dev)(\/|$)/.test(path) && !/^\/dev\/shm(\/|$)/.test(path)) return path;
  }
  return null;
}

/** Exit 2 with the fix when a state or cache directory is a special file system; else null. */
export function refuseSpecialDirectory(io: CliIo, flag: string, dir: string): number | null {
  const special = specialDirectory(dir);
  if (special === null) return null;
  const root = `/${special.split("/")[1] ?? ""}`;
  warn(io, `show-user-balances: ${flag} ${dir} is under ${root}, where files cannot be kept.`);
  warn(io, `  fix: point ${flag} at an ordinary directory (the default is under $HOME)`);
  return EXIT.config;
}

/** The flags every command that fetches shares. */
export interface RunFlags {
  configDir: string;
  valuation: "cash" | "total";
  timeout: number;
  /** Tries after the first attempt. */
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

/** The valuation flag's help, shared with --help and the README. */
export const VALUATION_HELP =
  "total (default): what the account is worth, free and held, at the broker's equity or market prices; cash: USD and stablecoins at par";

/**
 * Help headings. Each flag is declared once, under one of them, by the function that adds it to
 * every command taking it (here, and the monitoring flags in monitor.ts).
 */
export const HELP_GROUP = {
  config: "Configuration:",
  selection: "Selection:",
  output: "Output:",
  fetch: "Fetching:",
  cache: "Cache and shared store:",
  monitor: "History, alerts and watch:",
} as const;

/**
 * Adds options under a help heading, then restores the command's default heading (commander
 * files options added later, and its lazily made --help, under whatever default is current).
 */
export function grouped(command: Command, heading: string, add: (command: Command) => void) {
  const previous = command.optionsGroup();
  add(command.optionsGroup(heading));
  return command.optionsGroup(previous);
}

export function addRunFlags(command: Command, include: { refresh?: boolean } = {}): Command {
  grouped(command, HELP_GROUP.config, (c) =>
    c
      .option(
        "-c, --config-dir <dir>",
        "configuration directory (platform.json, users/*.json)",
        "config",
      )
      .addOption(
        new Option("--valuation <mode>", VALUATION_HELP)
          .choices(["total", "cash"])
          .default("total"),
      )
      .option("--include-disabled", "also list disabled users and brokers, marked disabled"),
  );
  grouped(command, HELP_GROUP.fetch, (c) =>
    c
      .option(
        "--timeout <seconds>",
        `per-request timeout, ${B.timeoutSeconds.min}-${B.timeoutSeconds.max} s`,
        numberIn("--timeout", B.timeoutSeconds.min, B.timeoutSeconds.max, { unit: "seconds" }),
        10,
      )
      .option(
        "--retries <n>",
        `retries after a first attempt that failed transiently, ${B.retries.min}-${B.retries.max}`,
        numberIn("--retries", B.retries.min, B.retries.max, { integer: true }),
        2,
      )
      .option(
        "--concurrency <n>",
        `fetches at once on each non-Kraken broker, ${B.concurrency.min}-${B.concurrency.max}`,
        numberIn("--concurrency", B.concurrency.min, B.concurrency.max, { integer: true }),
        DEFAULT_CONCURRENCY,
      )
      .option(
        "--kraken-spacing <ms>",
        `minimum ms between two requests on one Kraken key, ${B.krakenSpacingMs.min}-${B.krakenSpacingMs.max}`,
        numberIn("--kraken-spacing", B.krakenSpacingMs.min, B.krakenSpacingMs.max, {
          integer: true,
          unit: "ms",
        }),
        DEFAULT_KRAKEN_SPACING_MS,
      )
      .option(
        "--kraken-concurrency <n>",
        `Kraken requests at once on different keys (one key is never used twice at once), ${B.krakenConcurrency.min}-${B.krakenConcurrency.max}`,
        numberIn("--kraken-concurrency", B.krakenConcurrency.min, B.krakenConcurrency.max, {
          integer: true,
        }),
        1,
      )
      .option("-v, --verbose", "report retries and other diagnostics on stderr"),
  );
  return grouped(command, HELP_GROUP.cache, (c) => {
    c.option(
      "--cache-dir <dir>",
      "balance cache directory (default $XDG_CACHE_HOME/show-user-balances)",
    ).addOption(
      new Option(
        "--cache-ttl <duration>",
        `how long a cached balance is served, ${formatDuration(CACHE_TTL_BOUNDS.minMs)}-${formatDuration(CACHE_TTL_BOUNDS.maxMs)}`,
      )
        .argParser(parseDuration("--cache-ttl", CACHE_TTL_BOUNDS))
        .default(120_000, "120s"),
    );
    // `serve` leaves it out: there --refresh is the page's interval, and a server that always
    // fetched live would cost more API calls than the CLI.
    if (include.refresh !== false) {
      c.option("--refresh", "fetch everything live now (the fresh result is still cached)");
    }
    c.option(
      "--no-cache",
      "neither read nor write cached balances (Kraken pacing and locks still hold)",
    )
      .addOption(
        new Option(
          "--stale-max-age <duration>",
          `oldest cached figure shown, marked stale, when a live fetch fails, ${formatDuration(STALE_MAX_AGE_BOUNDS.minMs)}-${formatDuration(STALE_MAX_AGE_BOUNDS.maxMs)}`,
        )
          .argParser(parseDuration("--stale-max-age", STALE_MAX_AGE_BOUNDS))
          .default(86_400_000, "24h"),
      )
      .option(
        "--store <url>",
        "shared cache, locks and Kraken lanes in Redis: redis://host:port/db or rediss://... (env SHOW_USER_BALANCES_STORE; password in REDIS_PASSWORD)",
      )
      .option(
        "--store-required",
        "exit 2 instead of falling back to the on-disk cache when Redis fails",
      );
  });
}

/**
 * A list flag's value: `alice,bob` is two ids, and the ids of every value (`-u alice bob`,
 * `-u alice -u bob,carol`) add up. An empty id (`-u ""`, `-u a,,b`) is a usage error.
 */
export function listOf(flag: string) {
  return (value: string, previous: string[] | undefined): string[] => {
    const ids = value.split(",").map((id) => id.trim());
    if (ids.some((id) => id === "")) {
      throw new InvalidArgumentError(
        `${flag} takes ids: alice,bob or alice bob (no empty one in "${value}").`,
      );
    }
    return [...(previous ?? []), ...ids];
  };
}

/** --user and --broker: the accounts a command looks at. */
export function addSelectionFlags(command: Command): Command {
  return grouped(command, HELP_GROUP.selection, (c) =>
    c
      .addOption(
        new Option("-u, --user <id...>", "only these users (leaves the platform out)").argParser(
          listOf("--user"),
        ),
      )
      .addOption(
        new Option("-b, --broker <id...>", "only these brokers (ccxt ids)").argParser(
          listOf("--broker"),
        ),
      ),
  );
}

/** --color <when> and its older spelling --no-color, on every command that prints a table. */
export function addColorFlags(command: Command): Command {
  return grouped(command, HELP_GROUP.output, (c) =>
    c
      .addOption(
        new Option(
          "--color <when>",
          "colour the output: auto (on a terminal; NO_COLOR, FORCE_COLOR and TERM=dumb honoured), always, never",
        )
          .choices(COLOR_WHEN)
          .default("auto"),
      )
      .option("--no-color", "--color never"),
  );
}

/**
 * Opens the store named by --store, SHOW_USER_BALANCES_STORE or settings.json `store` (in that
 * order; read after .env is loaded). Undefined: the run's default on-disk cache. A number: the
 * exit code, after the error is printed. The caller closes the store when the run ends, and
 * passes it through `withStore`. With --no-cache a Redis store is still opened: runReport gives
 * it to the Kraken lane, whose cross-process pacing holds whatever the cache does.
 */
export async function openRunStore(
  flags: RunFlags,
  config: LoadedConfig,
  options: RunOptions,
  io: CliIo,
): Promise<OpenedStore | undefined | number> {
  const url = flags.store ?? process.env.SHOW_USER_BALANCES_STORE ?? config.settings.store;
  if (!url || url === "disk") return undefined;
  let opened: OpenedStore;
  try {
    opened = await openStore({
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
  return opened;
}

/** The run options with the opened store (with --no-cache, only the Kraken lane uses it). */
export function withStore(options: RunOptions, opened: OpenedStore | undefined): RunOptions {
  return opened ? { ...options, store: opened.store } : options;
}

/**
 * The directories a run writes to, refused when they are under /proc, /sys or /dev (exit 2):
 * the cache directory, and the state directory when given.
 */
export function checkRunDirectories(
  io: CliIo,
  flags: { cacheDir?: string; stateDir?: string },
  defaults: { cacheDir: string; stateDir?: string },
): number | null {
  return (
    refuseSpecialDirectory(io, "--cache-dir", flags.cacheDir ?? defaults.cacheDir) ??
    (defaults.stateDir !== undefined || flags.stateDir !== undefined
      ? refuseSpecialDirectory(io, "--state-dir", flags.stateDir ?? defaults.stateDir ?? "")
      : null)
  );
}

/**
 * From a loaded config to a run ready to fetch: what to show (with the exit code an empty
 * config earns), the --user/--broker filters checked against it, the run options and the store.
 * A number is the exit code.
 */
export async function prepareFetch(
  command: Command,
  flags: RunFlags & { user?: string[]; broker?: string[] },
  loaded: LoadedConfig,
  io: CliIo,
): Promise<
  | number
  | { config: LoadedConfig; emptyCode: number | null; options: RunOptions; opened?: OpenedStore }
> {
  const { config, code: emptyCode } = await configToShow(io, loaded, loadOptions(flags));
  const typo = checkFilters(io, config, {
    users: flags.user,
    brokers: flags.broker,
    includeDisabled: flags.includeDisabled,
  });
  if (typo !== null) return typo;
  const options = runOptions(command, flags, config, io);
  const opened = await openRunStore(flags, config, options, io);
  if (typeof opened === "number") return opened;
  return { config, emptyCode, options, opened };
}

/** The config-loading part of the run options (before the config is read). */
export function loadOptions(flags: Pick<RunFlags, "configDir" | "includeDisabled">): RunOptions {
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
    // --retries counts the tries after the first: attempts are one more.
    attempts: pick("retries", settings.retries, flags.retries) + 1,
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

/** What a command prints: the table, one JSON document, or CSV. */
export type OutputFormat = "table" | "json" | "csv";

/**
 * `--format table|json|csv` and its short form `--json`. No default value: `history` reads an
 * unset format as "table" too, and a --json given before a subcommand then fills its own.
 */
export function addFormatFlags(command: Command): Command {
  return grouped(command, HELP_GROUP.output, (c) =>
    c
      .option(
        "--json",
        "print one JSON document on stdout (diagnostics go to stderr); --format json",
      )
      .addOption(
        new Option(
          "--format <format>",
          "output: table (default), one JSON document, or CSV (RFC 4180)",
        ).choices(["table", "json", "csv"]),
      ),
  );
}

/** The format asked for, or a usage error when --json and another --format disagree. */
export function outputFormat(flags: {
  json?: boolean;
  format?: OutputFormat;
}): OutputFormat | { error: string; hint: string } {
  if (!flags.json) return flags.format ?? "table";
  if (flags.format !== undefined && flags.format !== "json") {
    return {
      error: `--json and --format ${flags.format} ask for two different outputs`,
      hint: "keep one: --json is short for --format json",
    };
  }
  return "json";
}

/** `--split-stablecoins`: the portfolio's USD and stablecoins on lines of their own. */
export function addSplitStablecoinsFlag(command: Command): Command {
  return grouped(command, HELP_GROUP.output, (c) =>
    c.option(
      "--split-stablecoins",
      "portfolio: keep USD and each stablecoin on its own line (default: one USD line, at par)",
    ),
  );
}
