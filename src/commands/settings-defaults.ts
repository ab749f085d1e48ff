/**
 * settings.json and environment variables as the flags' defaults. Per flag, the first that is
 * set wins: the command line, the flag's environment variable (where it has one), settings.json,
 * the built-in default. Applied once the config is loaded (so a variable from .env counts) and
 * before the command reads a flag; commander's value source tells a default from a given flag.
 */
import type { Command } from "commander";
import { defaultCacheDir } from "../cache/paths.js";
import { NOTIFY_URL_ENV } from "../config/bounds.js";
import type { LoadedConfig } from "../config/index.js";
import type { Settings } from "../config/schemas.js";
import { usdNumberToCents } from "../monitor/alerts.js";
import { checkWebhookUrl } from "../monitor/notify.js";
import { defaultStateDir } from "../monitor/paths.js";
import { type CliIo, EXIT, loadConfigFor, warn } from "./context.js";
import {
  checkRunDirectories,
  loadOptions,
  type RunFlags,
  refuseSpecialDirectory,
} from "./options.js";

const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);

/**
 * Each setting as the value its flag holds once parsed (ms for durations, cents for dollars,
 * Infinity for a renotify of never), keyed by the flag's attribute name. `stablecoins` has no
 * flag, and `store` is resolved with its variable where the store is opened (openRunStore).
 */
export function settingsAsFlags(s: Settings): Record<string, unknown> {
  return {
    valuation: s.valuation,
    timeout: s.timeoutSeconds,
    retries: s.retries,
    concurrency: s.concurrency,
    krakenSpacing: s.krakenSpacingMs,
    krakenConcurrency: s.krakenConcurrency,
    cache: s.cache,
    cacheDir: s.cacheDir,
    cacheTtl: ms(s.cacheTtlSeconds),
    staleMaxAge: ms(s.staleMaxAgeSeconds),
    stateDir: s.stateDir,
    history: s.history,
    historyRetention: ms(s.historyRetentionSeconds),
    alertLow: s.alertLowUsd === undefined ? undefined : usdNumberToCents(s.alertLowUsd),
    alertDrop: s.alertDropPct,
    dropWindow: ms(s.dropWindowSeconds),
    renotify: s.renotifySeconds === "never" ? Number.POSITIVE_INFINITY : ms(s.renotifySeconds),
    notify: s.notify,
  };
}

/** Flags with a variable of their own, read after .env is loaded. */
const FLAG_ENV: Record<string, string> = { notify: NOTIFY_URL_ENV };

/** What --no-history turns off for the run, whatever settings.json says. */
const ALERT_FLAGS = new Set(["alertLow", "alertDrop", "dropWindow", "renotify", "notify"]);

/** The settings that name directories, checked as the flags' values are. */
const DIRECTORY_SETTINGS = ["cacheDir", "stateDir"] as const;

/**
 * What every command that fetches does first: refuse a cache or state directory where files
 * cannot be kept, load the config (its problems on stderr), then fill the flags the command line
 * left at their defaults from the environment and settings.json. A number is the exit code.
 */
export async function loadSettledConfig(
  command: Command,
  flags: Pick<RunFlags, "configDir" | "includeDisabled" | "cacheDir"> & { stateDir?: string },
  io: CliIo,
  recordsHistory: boolean,
  /** Use and keep the config's snapshot for this build (run.ts configSnapshot). */
  configSnapshot?: string,
): Promise<LoadedConfig | number> {
  const badDir = checkRunDirectories(io, flags, {
    cacheDir: defaultCacheDir(),
    ...(recordsHistory ? { stateDir: defaultStateDir() } : {}),
  });
  if (badDir !== null) return badDir;
  const loaded = await loadConfigFor(io, {
    ...loadOptions(flags),
    ...(configSnapshot === undefined ? {} : { configSnapshot, cacheDir: flags.cacheDir }),
  });
  if (typeof loaded === "number") return loaded;
  return applySettings(command, flags, loaded.settings, io) ?? loaded;
}

/**
 * Fills `flags` (and the command's option values) from the environment and settings.json where
 * the command line left a flag at its default. Returns the exit code after saying why when a
 * value cannot be used (exit 2), else null.
 */
export function applySettings(
  command: Command,
  flags: object,
  settings: Settings,
  io: CliIo,
  env: Record<string, string | undefined> = process.env,
): number | null {
  const given = (key: string) => {
    const source = command.getOptionValueSource(key);
    return source === "cli" || source === "env";
  };
  const declared = new Set(command.options.map((option) => option.attributeName()));
  const historyOff = given("history") && command.getOptionValue("history") === false;
  for (const [key, fromSettings] of Object.entries(settingsAsFlags(settings))) {
    if (!declared.has(key) || given(key) || (historyOff && ALERT_FLAGS.has(key))) continue;
    const variable = FLAG_ENV[key];
    const fromEnv = variable ? env[variable] || undefined : undefined;
    if (variable && fromEnv !== undefined) {
      const bad = checkWebhookUrl(fromEnv, variable);
      if (bad) {
        warn(io, `show-user-balances: ${bad.error}`);
        warn(io, `  fix: ${bad.hint}`);
        return EXIT.config;
      }
    }
    const value = fromEnv ?? fromSettings;
    if (value === undefined) continue;
    command.setOptionValueWithSource(key, value, fromEnv !== undefined ? "env" : "config");
    (flags as Record<string, unknown>)[key] = value;
  }
  for (const key of DIRECTORY_SETTINGS) {
    const dir = command.getOptionValue(key);
    if (command.getOptionValueSource(key) !== "config" || typeof dir !== "string") continue;
    const refused = refuseSpecialDirectory(io, `settings.json ${key}`, dir);
    if (refused !== null) return refused;
  }
  return null;
}
