/**
 * `show-user-balances doctor`: checks the setup end to end and prints a checklist with the fix
 * for each failure (or one JSON document). The checks are in doctor-checks.ts (local) and
 * doctor-exchange.ts (clock and keys); this file declares the command and runs them.
 */
import type { Command } from "commander";
import { SETTING_BOUNDS } from "../config/bounds.js";
import type { CliIo, ColorWhen } from "./context.js";
import { addStateDirFlag } from "./monitor.js";
import { addColorFlags, grouped, HELP_GROUP, numberIn } from "./options.js";

export interface DoctorFlags {
  configDir: string;
  cacheDir?: string;
  stateDir?: string;
  timeout?: number;
  json?: boolean;
  color: ColorWhen | false;
}

export const DOCTOR_HELP = `
Checks, in order, each a line marked ✓ (ok), ! (warning) or ✗ (failed, with the fix):
  config       the config files load (every problem with its file, field and fix)
  permissions  .env and config files holding keys are not readable by group or others
  credentials  each enabled account finds its keys (variable names shown, never values)
  cache        the cache directory can be written (and the shared store answers, if set)
  history      the history database opens
  clock        this machine's clock against each exchange's server time
  auth         one balance request per distinct key, as the report makes it (never cached)
It reads .env from the working directory, as the report does. Nothing is printed from a key.

Examples:
  $ show-user-balances doctor
  $ show-user-balances doctor --config-dir /srv/platform/config --json | jq '.checks[] | select(.state != "ok")'

Exit codes:
  0  every check passed (warnings allowed)
  2  a config, permissions, cache or history check failed (wins over 3)
  3  a credentials, clock or auth check failed`;

export function registerDoctor(program: Command, io: CliIo, setExitCode: (code: number) => void) {
  const B = SETTING_BOUNDS.timeoutSeconds;
  const doctor = program
    .command("doctor")
    .description("check the config, permissions, store, clock and every key; print the fixes")
    .addHelpText("after", DOCTOR_HELP);
  grouped(doctor, HELP_GROUP.config, (c) =>
    c.option(
      "-c, --config-dir <dir>",
      "configuration directory (platform.json, users/*.json)",
      "config",
    ),
  );
  grouped(doctor, HELP_GROUP.fetch, (c) =>
    c.option(
      "--timeout <seconds>",
      `per-request timeout, ${B.min}-${B.max} s (default: settings.json timeoutSeconds, else 10)`,
      numberIn("--timeout", B.min, B.max, { unit: "seconds" }),
    ),
  );
  grouped(doctor, HELP_GROUP.cache, (c) =>
    c.option(
      "--cache-dir <dir>",
      "balance cache directory (default: settings.json cacheDir, else $XDG_CACHE_HOME/show-user-balances)",
    ),
  );
  grouped(doctor, HELP_GROUP.output, (c) =>
    c.option("--json", "print one JSON document: {checks: [{name, state, detail, fix}], ...}"),
  );
  return addColorFlags(addStateDirFlag(doctor)).action(async (flags: DoctorFlags) => {
    const { doctorAction } = await import("./doctor-action.js");
    setExitCode(await doctorAction(flags, io));
  });
}
