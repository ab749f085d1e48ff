import { ConfigError, formatProblem, formatWarning, type LoadedConfig } from "../config/index.js";
import { hasNoUserBrokers, loadRunConfig, NO_USER_BROKERS_HELP, type RunOptions } from "../run.js";

/** Exit codes, documented in --help and the README. */
export const EXIT = { ok: 0, internal: 1, config: 2, partial: 3, alert: 4 } as const;

/** Where a command writes: stdout carries only its output, everything else goes to stderr. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

export function warn(io: CliIo, text: string): void {
  io.stderr.write(`${text}\n`);
}

/** Colour only on a terminal, never with NO_COLOR, --no-color or machine output. */
export function useColor(io: CliIo, flag: boolean, machine: boolean): boolean {
  return flag && !machine && Boolean(io.stdout.isTTY) && !process.env.NO_COLOR;
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

/**
 * The original's "No user brokers configured", with its fixes, on stderr. Returns the exit code
 * when there is nothing at all to show; a platform without users is still worth a report.
 */
export function checkSomethingToShow(io: CliIo, config: LoadedConfig): number | null {
  if (!config.platform && config.users.length === 0) {
    warn(io, NO_USER_BROKERS_HELP);
    return EXIT.config;
  }
  if (hasNoUserBrokers(config)) warn(io, NO_USER_BROKERS_HELP);
  return null;
}
