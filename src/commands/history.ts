/**
 * `show-user-balances history`: the recorded figures over time and their change, as a table or
 * one JSON document. Reads the history database; never fetches.
 */
import { type Command, Option } from "commander";
import { HistoryError, HistoryStore } from "../monitor/history.js";
import { defaultStateDir } from "../monitor/paths.js";
import { historyToJson, renderHistory, type Series, toSeries } from "../render/history.js";
import { type CliIo, EXIT, useColor, warn } from "./context.js";
import { parseDuration } from "./options.js";

interface HistoryFlags {
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

/** A total is worth a series of its own only next to two or more broker series. */
function withoutRedundantTotals(series: Series[]): Series[] {
  const brokers = new Map<string, number>();
  for (const s of series) {
    if (s.key.broker === null) continue;
    const id = `${s.key.kind}:${s.key.account}`;
    brokers.set(id, (brokers.get(id) ?? 0) + 1);
  }
  return series.filter(
    (s) => s.key.broker !== null || (brokers.get(`${s.key.kind}:${s.key.account}`) ?? 0) > 1,
  );
}

export function historyAction(flags: HistoryFlags, io: CliIo): number {
  const stateDir = flags.stateDir ?? defaultStateDir();
  const now = new Date();
  const since = new Date(now.getTime() - flags.since);
  let store: HistoryStore | null;
  try {
    store = HistoryStore.open(stateDir, { mustExist: true });
  } catch (error) {
    if (!(error instanceof HistoryError)) throw error;
    warn(io, `show-user-balances: ${error.message}`);
    warn(io, `  fix: ${error.hint}`);
    return EXIT.config;
  }
  if (!store) {
    warn(
      io,
      `No history in ${stateDir} yet: every report run that fetches records there (--state-dir to look elsewhere).`,
    );
  }
  let series: Series[] = [];
  try {
    const samples =
      store?.query({
        since: since.getTime(),
        users: flags.user,
        brokers: flags.broker,
      }) ?? [];
    series = withoutRedundantTotals(toSeries(samples));
  } finally {
    store?.close();
  }
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(historyToJson(series, since, now), null, 2)}\n`);
  } else {
    io.stdout.write(renderHistory(series, { since, color: useColor(io, flags.color, false) }));
  }
  return EXIT.ok;
}

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
      new Option("--since <duration>", "how far back: 24h, 7d, 30d ...")
        .argParser(parseDuration("--since"))
        .default(7 * 86_400_000, "7d"),
    )
    .option("--json", "print one JSON document on stdout")
    .option(
      "--state-dir <dir>",
      "history database directory (default $XDG_STATE_HOME/show-user-balances)",
    )
    .option("--no-color", "no colour")
    .addHelpText("after", HISTORY_HELP)
    .action((flags: HistoryFlags) => {
      setExitCode(historyAction(flags, io));
    });
}
