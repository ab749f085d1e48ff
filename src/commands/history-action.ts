/**
 * The `history` command's work, loaded only when the command runs (it opens SQLite and renders
 * tables; a report run must not pay for that).
 */
import { HistoryError, HistoryStore } from "../monitor/history.js";
import { defaultStateDir } from "../monitor/paths.js";
import { historyToJson, renderHistory, type Series, toSeries } from "../render/history.js";
import { loadPalette } from "../render/style.js";
import { type CliIo, EXIT, useColor, warn } from "./context.js";
import type { HistoryFlags } from "./history.js";

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

export async function historyAction(flags: HistoryFlags, io: CliIo): Promise<number> {
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
    const palette = await loadPalette(useColor(io, flags.color, false));
    io.stdout.write(renderHistory(series, { since, palette }));
  }
  return EXIT.ok;
}
