/**
 * The `history` command's work, loaded only when the command runs (it opens SQLite and renders
 * tables; a report run must not pay for that).
 */
import { join } from "node:path";
import { ConfigError, formatProblem } from "../config/errors.js";
import { loadSettings } from "../config/load.js";
import { seriesId } from "../monitor/alerts.js";
import {
  HISTORY_FILE,
  HistoryError,
  HistoryStore,
  historyError,
  type Sample,
} from "../monitor/history.js";
import { intervalCount, MAX_INTERVALS, sampleIntervals } from "../monitor/intervals.js";
import { defaultStateDir } from "../monitor/paths.js";
import {
  historyToCsv,
  historyToJson,
  intervalsToCsv,
  intervalsToJson,
  renderHistory,
  renderIntervals,
  type Series,
  toSeries,
} from "../render/history.js";
import { stringifyJson } from "../render/json-text.js";
import { loadPalette } from "../render/style.js";
import { type CliIo, EXIT, useColor, warn } from "./context.js";
import { type HistoryFlags, type HistoryFormat, resolveBound } from "./history.js";
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

/** The output format asked for: --format, or --json as its short form; a conflict is usage. */
function formatOf(flags: HistoryFlags): HistoryFormat | { error: string; hint: string } {
  if (flags.json && flags.format && flags.format !== "json") {
    return {
      error: `--json and --format ${flags.format} ask for two different outputs`,
      hint: "keep one: --json is short for --format json",
    };
  }
  return flags.format ?? (flags.json ? "json" : "table");
}

/**
 * settings.json's stateDir, as the report runs that record use it: null when there is no
 * settings file or it sets none; the exit code after its problems are shown when it is broken.
 */
async function settingsStateDir(configDir: string, io: CliIo): Promise<string | null | number> {
  let loaded: Awaited<ReturnType<typeof loadSettings>>;
  try {
    loaded = await loadSettings(configDir);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    warn(io, `show-user-balances: ${error.message}`);
    if (error.hint) warn(io, `  fix: ${error.hint}`);
    return EXIT.config;
  }
  for (const problem of loaded.problems) warn(io, `show-user-balances: ${formatProblem(problem)}`);
  if (loaded.problems.length > 0) return EXIT.config;
  return loaded.settings.stateDir ?? null;
}

export async function historyAction(flags: HistoryFlags, io: CliIo): Promise<number> {
  const format = formatOf(flags);
  if (typeof format !== "string") {
    warn(io, `show-user-balances: ${format.error}`);
    warn(io, `  fix: ${format.hint}`);
    return EXIT.config;
  }
  const fromSettings =
    flags.stateDir === undefined ? await settingsStateDir(flags.configDir, io) : null;
  if (typeof fromSettings === "number") return fromSettings;
  const stateDir = flags.stateDir ?? fromSettings ?? defaultStateDir();
  const refused = refuseSpecialDirectory(io, "--state-dir", stateDir);
  if (refused !== null) return refused;
  const nowMs = Date.now();
  const until = new Date(flags.until ? resolveBound(flags.until, nowMs) : nowMs);
  const since = new Date(resolveBound(flags.since, nowMs));
  if (since.getTime() >= until.getTime()) {
    warn(
      io,
      `show-user-balances: --since (${since.toISOString()}) is not before --until (${until.toISOString()})`,
    );
    warn(io, "  fix: give an earlier --since or a later --until (durations count back from now)");
    return EXIT.config;
  }
  if (
    flags.interval &&
    intervalCount(since.getTime(), until.getTime(), flags.interval) > MAX_INTERVALS
  ) {
    warn(
      io,
      `show-user-balances: --interval ${flags.interval} over that range makes more than ${MAX_INTERVALS} intervals`,
    );
    warn(io, "  fix: a wider --interval (1d, 1w) or a shorter range (--since, --until)");
    return EXIT.config;
  }
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
  let samples: Sample[] = [];
  try {
    if (store) {
      const typo = unknownFilter(store, flags);
      if (typo) {
        warn(io, `show-user-balances: ${typo.error}`);
        warn(io, `  fix: ${typo.hint}`);
        return EXIT.config;
      }
    }
    samples =
      store?.query({
        since: since.getTime(),
        until: until.getTime(),
        users: flags.user,
        brokers: flags.broker,
      }) ?? [];
  } catch (error) {
    // A file that opened but breaks when read (damaged pages) says the same as one that did not.
    return fail(io, historyError(error, store?.file ?? join(stateDir, HISTORY_FILE)));
  } finally {
    store?.close();
  }
  const series = withoutRedundantTotals(toSeries(samples));
  if (flags.interval) {
    const shown = new Set(series.map((s) => seriesId("", s.key)));
    // A view of some brokers has no account totals: its totals add up the broker figures.
    const units = flags.broker?.length ? ("brokers" as const) : ("accounts" as const);
    const intervals = sampleIntervals(samples, {
      interval: flags.interval,
      since: since.getTime(),
      until: until.getTime(),
      units,
    }).map((i) => ({ ...i, samples: i.samples.filter((x) => shown.has(seriesId("", x.key))) }));
    const view = { interval: flags.interval, since, until, units, intervals };
    if (format === "json") {
      io.stdout.write(`${stringifyJson(intervalsToJson(view), 2)}\n`);
    } else if (format === "csv") {
      io.stdout.write(intervalsToCsv(view));
    } else {
      const palette = await loadPalette(useColor(io, flags.color, false));
      io.stdout.write(renderIntervals(view, { palette }));
    }
    return EXIT.ok;
  }
  if (format === "json") {
    io.stdout.write(`${stringifyJson(historyToJson(series, since, until), 2)}\n`);
  } else if (format === "csv") {
    io.stdout.write(historyToCsv(series));
  } else {
    const palette = await loadPalette(useColor(io, flags.color, false));
    io.stdout.write(renderHistory(series, { since, palette }));
  }
  return EXIT.ok;
}
