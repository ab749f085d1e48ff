/**
 * `show-user-balances history`: the recorded figures over time and their change, as a table or
 * one JSON document. Reads the history database; never fetches.
 */
import { type Command, Option } from "commander";
import type { CliIo } from "./context.js";
import { formatDuration, parseDuration } from "./options.js";

/** --since: a second to ten years back, so the start is always a real date. */
export const SINCE_BOUNDS = { minMs: 1000, maxMs: 3650 * 86_400_000 };

export interface HistoryFlags {
  user?: string[];
  broker?: string[];
  since: number;
  json?: boolean;
  stateDir?: string;
  color: boolean;
}

export const HISTORY_HELP = `
Every report run records what it fetched live (cached figures were recorded when fetched); a
failed fetch is recorded with its status and no figure. A user's total is listed when the user has
more than one broker.

Examples:
  $ show-user-balances history                          # everything from the last 7 days
  $ show-user-balances history --user alice --since 24h
  $ show-user-balances history --broker kraken --json | jq '.series[] | {user, change}'`;

export function registerHistory(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
): void {
  // Root options would otherwise also be parsed after `history` and shadow its own --user, --json.
  program.enablePositionalOptions();
  program
    .command("history")
    .description("recorded balances over time and their change (see --help)")
    .option("-u, --user <id...>", "only these users (leaves the platform out)")
    .option("-b, --broker <id...>", "only these brokers (ccxt ids)")
    .addOption(
      new Option(
        "--since <duration>",
        `how far back: 24h, 7d, 30d ... (${formatDuration(SINCE_BOUNDS.minMs)}-${formatDuration(SINCE_BOUNDS.maxMs)})`,
      )
        .argParser(parseDuration("--since", SINCE_BOUNDS))
        .default(7 * 86_400_000, "7d"),
    )
    .option("--json", "print one JSON document on stdout")
    .option(
      "--state-dir <dir>",
      "history database directory (default $XDG_STATE_HOME/show-user-balances)",
    )
    .option("--no-color", "no colour")
    .addHelpText("after", HISTORY_HELP)
    .action(async (flags: HistoryFlags) => {
      const { historyAction } = await import("./history-action.js");
      setExitCode(await historyAction(flags, io));
    });
}
