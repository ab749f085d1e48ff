import { configAccounts } from "../config/accounts.js";
import { ConfigError, formatProblem, formatWarning, type LoadedConfig } from "../config/index.js";
import { safeLines } from "../render/sanitize.js";
import { hasNoUserBrokers, loadRunConfig, NO_USER_BROKERS_HELP, type RunOptions } from "../run.js";

/** Exit codes, documented in --help and the README. */
export const EXIT = { ok: 0, internal: 1, config: 2, partial: 3, alert: 4 } as const;

/** Where a command writes: stdout carries only its output, everything else goes to stderr. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

/**
 * One diagnostic on stderr. Diagnostics quote file names, ids and broker messages, so control
 * characters and escape sequences are stripped here, once for all of them.
 */
export function warn(io: CliIo, text: string): void {
  io.stderr.write(`${safeLines(text)}\n`);
}

/** `--color <when>`; `--no-color` is `never` (commander stores it as false). */
export const COLOR_WHEN = ["auto", "always", "never"] as const;
export type ColorWhen = (typeof COLOR_WHEN)[number];

/**
 * Whether to colour this output. Machine output (JSON, CSV) never is. Otherwise, first match wins:
 * --color always|never (--no-color); NO_COLOR set to anything; FORCE_COLOR ("0" or "false": no,
 * any other non-empty value: yes); TERM=dumb; else only when stdout is a terminal. `true` (a
 * command without --color) is auto.
 */
export function useColor(
  io: CliIo,
  flag: ColorWhen | boolean,
  machine: boolean,
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (machine || flag === false || flag === "never") return false;
  if (flag === "always") return true;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR) return !/^(0|false)$/i.test(env.FORCE_COLOR);
  return env.TERM !== "dumb" && Boolean(io.stdout.isTTY);
}

/**
 * Loads the configuration and reports its warnings and problems on stderr. Returns the exit code
 * instead when nothing can be loaded.
 */
export async function loadConfigFor(
  io: CliIo,
  options: RunOptions,
): Promise<LoadedConfig | number> {
  let config: LoadedConfig;
  try {
    config = await loadRunConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      warn(io, `show-user-balances: ${error.message}`);
      if (error.hint) warn(io, `  fix: ${error.hint}`);
      return EXIT.config;
    }
    throw error;
  }
  for (const warning of config.warnings) warn(io, `warning: ${formatWarning(warning)}`);
  for (const problem of config.problems) warn(io, `error: ${formatProblem(problem)}`);
  return config;
}

export const NO_ACCOUNTS_HELP = `No accounts configured: no platform and no user in the config directory.
  Fixes:
    1. Check --config-dir (default ./config) and that config/users/*.json files exist
    2. Or give the platform's credentials in the environment (e.g. KRAKEN_PLATFORM_API_KEY)`;

/**
 * What to show when nothing is enabled. The report is always printed (a cron job or a `jq` pipe
 * always gets a document); the original's "No user brokers configured", with its fixes, goes to
 * stderr. When every user is disabled they are listed as disabled (reloading with
 * includeDisabled), so the report says why it is empty. Returns the config to report on and the
 * exit code it implies: 2 when the directory holds no account at all, since that is a
 * misconfiguration (wrong --config-dir, files not deployed) a cron job must not report as success;
 * null otherwise (a deliberately disabled set of users is a valid state: exit 0).
 */
export async function configToShow(
  io: CliIo,
  config: LoadedConfig,
  options: RunOptions,
): Promise<{ config: LoadedConfig; code: number | null }> {
  let shown = config;
  const noEnabledUser = !config.users.some((user) => user.enabled);
  if (noEnabledUser && !options.includeDisabled) {
    try {
      const all = await loadRunConfig({ ...options, includeDisabled: true });
      if (all.users.length > 0) shown = { ...config, users: all.users };
    } catch {
      // The first load succeeded; a second that fails changes nothing to report.
    }
  }
  if (!shown.platform && shown.users.length === 0) {
    warn(io, NO_ACCOUNTS_HELP);
    return { config: shown, code: EXIT.config };
  }
  if (hasNoUserBrokers(shown)) warn(io, NO_USER_BROKERS_HELP);
  return { config: shown, code: null };
}

/**
 * A --user or --broker value that names nothing in the configuration: a typo, reported with what
 * exists (exit 2), rather than an empty report that looks like a success.
 */
export function unknownFilters(
  config: LoadedConfig,
  filters: RunFilters,
): { error: string; hint: string } | null {
  const accounts = configAccounts(config);
  const userIds = config.users.map((user) => user.id);
  const brokerIds = [...new Set(accounts.flatMap((a) => a.brokers.map((b) => b.broker)))].sort();
  const missingUsers = (filters.users ?? []).filter((id) => !userIds.includes(id));
  const missingBrokers = (filters.brokers ?? []).filter(
    (id) => !brokerIds.includes(id.toLowerCase()),
  );
  const list = (ids: readonly string[]) => (ids.length ? ids.join(", ") : "(none)");
  if (missingUsers.length > 0) {
    return {
      error: `--user ${missingUsers.join(" ")}: no such user in the configuration`,
      hint: `users: ${list(userIds)}${filters.includeDisabled ? "" : " (a disabled user is listed only with --include-disabled)"}`,
    };
  }
  if (missingBrokers.length > 0) {
    return {
      error: `--broker ${missingBrokers.join(" ")}: no account uses that broker`,
      hint: `brokers in use: ${list(brokerIds)}`,
    };
  }
  return null;
}

interface RunFilters {
  users?: readonly string[];
  brokers?: readonly string[];
  includeDisabled?: boolean;
}

/** unknownFilters as a command step: prints the typo and what exists; exit 2, or null to go on. */
export function checkFilters(io: CliIo, config: LoadedConfig, filters: RunFilters): number | null {
  const typo = unknownFilters(config, filters);
  if (!typo) return null;
  warn(io, `show-user-balances: ${typo.error}`);
  warn(io, `  fix: ${typo.hint}`);
  return EXIT.config;
}
