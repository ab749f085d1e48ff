/**
 * `show-user-balances history`: the recorded figures over time and their change, or with
 * --interval the last figure per hour, day or week with totals, as a table, one JSON document
 * or CSV. Reads the history database; never fetches.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import type { CliIo, ColorWhen } from "./context.js";
import { addStateDirFlag } from "./monitor.js";
import {
  addColorFlags,
  addFormatFlags,
  addSelectionFlags,
  formatDuration,
  grouped,
  parseDuration,
} from "./options.js";

/** --since/--until as durations: a second to ten years back, so the start is always a real date. */
export const SINCE_BOUNDS = { minMs: 1000, maxMs: 3650 * 86_400_000 };

/** A range bound as given: so long before now, or an absolute time (epoch ms). */
export type TimeBound = { ago: number } | { at: number };

export const HISTORY_FORMATS = ["table", "json", "csv"] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

export interface HistoryFlags {
  user?: string[];
  broker?: string[];
  since: TimeBound;
  until?: TimeBound;
  interval?: "1h" | "1d" | "1w";
  format?: HistoryFormat;
  json?: boolean;
  stateDir?: string;
  configDir: string;
  color: ColorWhen | false;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * An ISO 8601 date or date-time: `2026-11-01` (local midnight), `2026-11-01T09:30` (local),
 * `2026-11-01T09:30:00Z` or with an offset (`+02:00`, `-0500`). Epoch ms, or null when the text
 * is not one or names a day or time that does not exist (2026-02-30, 24:00).
 */
export function parseDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m
    .slice(1, 7)
    .map((v) => (v === undefined ? undefined : Number(v)));
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0"));
  const zone = m[8];
  if (y === undefined || mo === undefined || d === undefined) return null;
  // The fields must name a real day and time: Date.UTC would roll 2026-02-30 into March.
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    check.getUTCHours() !== h ||
    check.getUTCMinutes() !== mi ||
    check.getUTCSeconds() !== s
  ) {
    return null;
  }
  if (zone === undefined) {
    // No zone: local time, as the report prints it (a date alone is local midnight).
    const local = new Date(y, mo - 1, d, h, mi, s, ms);
    local.setFullYear(y);
    return local.getTime();
  }
  if (/^z$/i.test(zone)) return utc;
  const offset = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  const oh = Number(offset?.[2]);
  const om = Number(offset?.[3] ?? 0);
  if (!offset || oh > 23 || om > 59) return null;
  return utc - (offset[1] === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
}

/** --since / --until: a duration back from now (7d, existing bounds) or a date or ISO time. */
export function parseTimeBound(flag: string) {
  const duration = parseDuration(flag, SINCE_BOUNDS);
  return (value: string): TimeBound => {
    if (/^\s*\d{4}-/.test(value)) {
      const at = parseDateTime(value);
      if (at === null) {
        throw new InvalidArgumentError(
          `${flag} takes a real date (2026-11-01, local midnight) or ISO time (2026-11-01T09:30:00Z, 2026-11-01T09:30+02:00, or without a zone for local time).`,
        );
      }
      return { at };
    }
    try {
      return { ago: duration(value) };
    } catch (error) {
      const message = error instanceof Error ? error.message.replace(/\.$/, "") : String(error);
      throw new InvalidArgumentError(
        `${message}, or a date (2026-11-01, local midnight) or ISO time (2026-11-01T09:30:00Z).`,
      );
    }
  };
}

/** A bound as epoch ms, durations counted back from `now`. */
export const resolveBound = (bound: TimeBound, now: number): number =>
  "at" in bound ? bound.at : now - bound.ago;

export const HISTORY_HELP = `
Every figure fetched is recorded once, by the process that fetched it (a report run, --watch,
serve); a failed fetch is recorded with its status and no figure. A user's total is listed when
the user has more than one broker.

--since and --until take a duration back from now (24h, 7d) or a date: 2026-11-01 (local
midnight), 2026-11-01T09:30 (local), 2026-11-01T09:30:00Z or 2026-11-01T09:30+02:00.

--interval 1h|1d|1w: one row per series per interval (its last figure there), intervals aligned
in UTC (weeks start on Monday 00:00Z), with the platform total and the total user capital over
the accounts that have a figure in the interval and how many have none. Times print with their
zone: ISO with Z in JSON and CSV, …Z in the table.

Examples:
  $ show-user-balances history                          # everything from the last 7 days
  $ show-user-balances history --user alice --since 24h
  $ show-user-balances history --broker kraken --json | jq '.series[] | {user, change}'
  $ show-user-balances history --interval 1d --since 30d
  $ show-user-balances history --interval 1h --since 2026-11-01 --until 2026-11-02 --format csv > day.csv`;

export function registerHistory(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
): void {
  const history = program
    .command("history")
    .description("recorded balances over time and their change (see --help)");
  grouped(addSelectionFlags(history), "Range:", (c) =>
    c
      .addOption(
        new Option(
          "--since <when>",
          `from: a duration back (24h, 7d, 30d; ${formatDuration(SINCE_BOUNDS.minMs)}-${formatDuration(SINCE_BOUNDS.maxMs)}) or a date (2026-11-01, 2026-11-01T09:30:00Z)`,
        )
          .argParser(parseTimeBound("--since"))
          .default({ ago: 7 * 86_400_000 }, "7d"),
      )
      .addOption(
        new Option(
          "--until <when>",
          "to: a duration back or a date, as --since (default now)",
        ).argParser(parseTimeBound("--until")),
      )
      .addOption(
        new Option(
          "--interval <interval>",
          "the last figure per interval and account, with totals (aligned in UTC)",
        ).choices(["1h", "1d", "1w"]),
      ),
  );
  history.option(
    "-c, --config-dir <dir>",
    "configuration directory, for settings.json's stateDir when --state-dir is not given",
    "config",
  );
  addStateDirFlag(addColorFlags(addFormatFlags(history)))
    .addHelpText("after", HISTORY_HELP)
    .action(async (flags: HistoryFlags) => {
      const { historyAction } = await import("./history-action.js");
      setExitCode(await historyAction(flags, io));
    });
}
