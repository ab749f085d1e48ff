/**
 * The `history` command's work, loaded only when the command runs (it opens SQLite and renders
 * tables; a report run must not pay for that).
 */
import { join } from "node:path";
import { HISTORY_FILE, HistoryError, HistoryStore, historyError } from "../monitor/history.js";
import { defaultStateDir } from "../monitor/paths.js";
import { historyToJson, renderHistory, type Series, toSeries } from "../render/history.js";
import { stringifyJson } from "../render/json-text.js";
import { loadPalette } from "../render/style.js";
import { type CliIo, EXIT, useColor, warn } from "./context.js";
import type { HistoryFlags } from "./history.js";
import { refuseSpecialDirectory } from "./options.js";

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

function fail(io: CliIo, error: HistoryError): number {
  warn(io, `show-user-balances: ${error.message}`);
  warn(io, `  fix: ${error.hint}`);
  return EXIT.config;
}

/** A --user or --broker that names no series ever recorded: a typo, exit 2 with what exists. */
function unknownFilter(
  store: HistoryStore,
  flags: HistoryFlags,
): { error: string; hint: string } | null {
  if (!flags.user?.length && !flags.broker?.length) return null;
  const all = store.recordedSeries();
  const users = [...new Set(all.filter((s) => s.kind === "user").map((s) => s.account))].sort();
  const brokers = [...new Set(all.flatMap((s) => (s.broker === null ? [] : [s.broker])))].sort();
  const list = (ids: string[]) => (ids.length ? ids.join(", ") : "(none)");
  const missingUsers = (flags.user ?? []).filter((id) => !users.includes(id));
  if (missingUsers.length > 0) {
    return {
      error: `--user ${missingUsers.join(" ")}: nothing recorded for that user`,
      hint: `users in the history: ${list(users)}`,
    };
  }
  const missingBrokers = (flags.broker ?? []).filter((id) => !brokers.includes(id.toLowerCase()));
  if (missingBrokers.length > 0) {
    return {
      error: `--broker ${missingBrokers.join(" ")}: nothing recorded for that broker`,
      hint: `brokers in the history: ${list(brokers)}`,
    };
  }
  return null;
}

export async function historyAction(flags: HistoryFlags, io: CliIo): Promise<number> {
  const stateDir = flags.stateDir ?? defaultStateDir();
  const refused = refuseSpecialDirectory(io, "--state-dir", stateDir);
  if (refused !== null) return refused;
  const now = new Date();
  const since = new Date(now.getTime() - flags.since);
  let store: HistoryStore | null;
  try {
    store = HistoryStore.open(stateDir, { mustExist: true });
  } catch (error) {
    if (!(error instanceof HistoryError)) throw error;
    return fail(io, error);
  }
  if (!store) {
    warn(
      io,
      `No history in ${stateDir} yet: every report run that fetches records there (--state-dir to look elsewhere).`,
    );
  }
  let series: Series[] = [];
  try {
    if (store) {
      const typo = unknownFilter(store, flags);
      if (typo) {
        warn(io, `show-user-balances: ${typo.error}`);
        warn(io, `  fix: ${typo.hint}`);
        return EXIT.config;
      }
    }
    const samples =
      store?.query({
        since: since.getTime(),
        users: flags.user,
        brokers: flags.broker,
      }) ?? [];
    series = withoutRedundantTotals(toSeries(samples));
  } catch (error) {
    // A file that opened but breaks when read (damaged pages) says the same as one that did not.
    return fail(io, historyError(error, store?.file ?? join(stateDir, HISTORY_FILE)));
  } finally {
    store?.close();
  }
  if (flags.json) {
    io.stdout.write(`${stringifyJson(historyToJson(series, since, now), 2)}\n`);
  } else {
    const palette = await loadPalette(useColor(io, flags.color, false));
    io.stdout.write(renderHistory(series, { since, palette }));
  }
  return EXIT.ok;
}
