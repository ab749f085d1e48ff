import type { Command } from "commander";
import { Option } from "commander";
import { configAccounts } from "../config/accounts.js";
import type { LoadedConfig } from "../config/index.js";
import type { Alert } from "../monitor/alerts.js";
import { HistoryError } from "../monitor/history.js";
import { alertToJson, renderAlerts } from "../render/alerts.js";
import { toJsonDocument } from "../render/json.js";
import { stringifyJson } from "../render/json-text.js";
import { safeText } from "../render/sanitize.js";
import { loadPalette } from "../render/style.js";
import { terminalWidth } from "../render/width.js";
import type { BrokerRow, Report, ReportAccount } from "../report/model.js";
import { runReport } from "../run.js";
import { type CliIo, type ColorWhen, EXIT, useColor, warn } from "./context.js";
import {
  addMonitorFlags,
  createMonitor,
  type MonitorFlags,
  monitorUsageError,
  openWatchScreen,
  type WatchScreen,
  watchLoop,
} from "./monitor.js";
import {
  addColorFlags,
  addFormatFlags,
  addRunFlags,
  addSelectionFlags,
  addSplitStablecoinsFlag,
  grouped,
  HELP_GROUP,
  type OutputFormat,
  outputFormat,
  prepareFetch,
  type RunFlags,
  withStore,
} from "./options.js";
import { loadSettledConfig } from "./settings-defaults.js";

interface ReportFlags extends RunFlags, MonitorFlags {
  /** Set for --json and --format json alike (see outputFormat). */
  json?: boolean;
  format?: OutputFormat;
  portfolio?: boolean;
  splitStablecoins?: boolean;
  status?: boolean;
  assets?: boolean;
  user?: string[];
  broker?: string[];
  sort: "name" | "total";
  explainCredentials?: boolean;
  color: ColorWhen | false;
}

export const REPORT_HELP = `
Examples:
  $ show-user-balances                              # the formatted report
  $ show-user-balances --json | jq '.summary'       # JSON for scripts
  $ show-user-balances --json | jq -r '.status.users | to_entries[] | select(any(.value[]; .state != "ok")) | .key'
  $ show-user-balances --status                     # connection detail per account and broker
  $ show-user-balances --user alice --assets        # one user, asset by asset
  $ show-user-balances --format csv > balances.csv  # one CSV line per account and broker
  $ show-user-balances --format csv --assets        # one CSV line per account, broker and asset
  $ show-user-balances portfolio                    # every asset held, its value and share
  $ show-user-balances --json --portfolio | jq '.portfolio.assets[0]'
  */5 * * * * cd /srv/platform && /usr/local/bin/show-user-balances --json 2>> balances.err | jq -c . >> balances.ndjson
  */5 * * * * cd /srv/platform && /usr/local/bin/show-user-balances --alert-low 100 --alert-drop 20 > /dev/null
      (cron's PATH is short: give the full path, see \`npm prefix -g\`; the webhook URL in .env as
      SHOW_USER_BALANCES_NOTIFY_URL, out of ps and crontab)
  $ show-user-balances history --user alice --since 7d   # recorded figures and their change
  $ show-user-balances --watch 60 --json >> balances.ndjson  # one JSON line a minute until Ctrl-C

Flags of the report (--config-dir, --json, --user, ...) go before or after a subcommand:
--config-dir x serve is serve --config-dir x. List flags take a,b or a b (-u alice,bob).

Environment:
  .env in the working directory is loaded first (never overriding set variables).
  <BROKER>_API_URL points a broker at another origin (proxy, emulator).
  --color auto (the default) honours NO_COLOR, then FORCE_COLOR, then TERM=dumb.
  COLUMNS is the width the table fits when stdout is not a terminal (default 80).
  SHOW_USER_BALANCES_NOTIFY_URL is the --notify webhook (kept out of ps); the flag wins over it.
  SHOW_USER_BALANCES_NOTIFY_AUTHORIZATION is sent as the --notify webhook's Authorization header.
  config/settings.json holds defaults for the flags (config/settings.example.json lists them).

Exit codes:
  0  every broker with credentials answered
  1  unexpected internal error (set DEBUG=1 for a stack trace)
  2  usage or configuration error (wins over 3)
  3  the report was printed, but at least one broker failed
  4  the report was printed and at least one alert fired (3 and 2 win over 4)`;

function explainCredentials(config: LoadedConfig): string {
  const accounts = configAccounts(config);
  const lines: string[] = [];
  for (const account of accounts) {
    for (const broker of account.brokers) {
      const e = broker.credentialsExplain;
      const who = account.kind === "platform" ? "platform" : `user ${account.id}`;
      lines.push(
        safeText(
          `${who} / ${broker.broker}: ${e.used ? `using ${e.used}` : "no credentials found"}`,
        ),
      );
      if (e.tried.length) lines.push(safeText(`  tried: ${e.tried.join(", ")}`));
    }
  }
  return `${lines.join("\n")}\n`;
}

/**
 * --explain-credentials --json: per account and broker, the variable names (or config fields)
 * looked up in order and the one used, or null when none was found. Names only, never values.
 */
function explainCredentialsJson(config: LoadedConfig): string {
  const credentials = configAccounts(config).flatMap((account) =>
    account.brokers.map((broker) => ({
      account: account.kind,
      user: account.kind === "user" ? account.id : null,
      broker: broker.broker,
      found: broker.credentialsExplain.used !== null,
      source: broker.credentialsExplain.source,
      used: broker.credentialsExplain.used,
      tried: broker.credentialsExplain.tried,
    })),
  );
  return `${stringifyJson({ credentials }, 2)}\n`;
}

/** The credential variable (or config location) behind a row, for the status view. */
function credentialsColumn(config: LoadedConfig) {
  return (account: ReportAccount, row: BrokerRow) => {
    const source =
      account.kind === "platform" ? config.platform : config.users.find((u) => u.id === account.id);
    return source?.brokers.find((b) => b.broker === row.broker)?.credentialsExplain.used ?? "none";
  };
}

/** Adds the report's own flags to the root command (the report is the default command). */
export function addReportFlags(command: Command): Command {
  addFormatFlags(addSelectionFlags(addRunFlags(command)));
  grouped(command, HELP_GROUP.output, (c) =>
    c
      .option("--status", "show the detailed connection view per account and broker")
      .option(
        "--assets",
        "add the per-asset breakdown (JSON: the `assets` field; CSV: one line per asset)",
      )
      .option(
        "--portfolio",
        "add the portfolio: every asset across all accounts, its value and share (JSON: the `portfolio` field; CSV: one line per asset)",
      ),
  );
  addSplitStablecoinsFlag(command);
  grouped(command, HELP_GROUP.output, (c) =>
    c
      .addOption(
        new Option("--sort <order>", "order of users").choices(["name", "total"]).default("name"),
      )
      .option(
        "--explain-credentials",
        "print the credential variables looked up per account, found or not (never values); with --json as a JSON document",
      ),
  );
  return addMonitorFlags(addColorFlags(command));
}

/** The portfolio of a report, with the config's stablecoins (loaded only when asked for). */
async function portfolioOf(report: Report, flags: ReportFlags, config: LoadedConfig) {
  const { buildPortfolio } = await import("../report/portfolio.js");
  return buildPortfolio(report, {
    splitStablecoins: flags.splitStablecoins,
    stablecoins: config.settings.stablecoins,
  });
}

/**
 * The report as text: a JSON document (one line in watch mode), CSV, the status view or the
 * table. Renderers and their libraries (chalk, cli-table3) load only for the output asked for.
 */
async function renderReport(
  report: Report,
  alerts: Alert[] | null,
  flags: ReportFlags,
  config: LoadedConfig,
  color: boolean,
  width: number,
): Promise<string> {
  if (flags.json) {
    const portfolio = flags.portfolio ? await portfolioOf(report, flags, config) : null;
    const doc = {
      ...toJsonDocument(report, { assets: flags.assets }),
      ...(alerts ? { alerts: alerts.map(alertToJson) } : {}),
      ...(portfolio
        ? { portfolio: (await import("../report/portfolio.js")).portfolioJson(portfolio) }
        : {}),
    };
    return `${stringifyJson(doc, flags.watch ? 0 : 2)}\n`;
  }
  if (flags.format === "csv") {
    const csv = await import("../render/csv.js");
    if (flags.portfolio) {
      const { renderPortfolioCsv } = await import("../render/portfolio.js");
      return renderPortfolioCsv(await portfolioOf(report, flags, config));
    }
    return flags.assets ? csv.renderAssetsCsv(report) : csv.renderReportCsv(report);
  }
  const palette = await loadPalette(color);
  const tail = alerts?.length ? `\n${renderAlerts(alerts, { palette })}` : "";
  let portfolio = "";
  if (flags.portfolio) {
    const { renderPortfolio } = await import("../render/portfolio.js");
    const shown = await portfolioOf(report, flags, config);
    portfolio = `\n${renderPortfolio(shown, { palette, width })}`;
  }
  const grids = flags.status || flags.assets ? await import("../render/status.js") : null;
  if (grids && flags.status) {
    return (
      grids.renderStatus(report, { palette, width, credentials: credentialsColumn(config) }) +
      portfolio +
      tail
    );
  }
  const { renderTable } = await import("../render/table.js");
  const assets = grids && flags.assets ? `\n${grids.renderAssets(report, { palette, width })}` : "";
  return renderTable(report, { palette, width }) + assets + portfolio + tail;
}

/** Output flags that cannot go together: a usage error (exit 2), or null. */
function formatUsageError(flags: ReportFlags) {
  const format = outputFormat(flags);
  if (typeof format !== "string") return format;
  if (format === "csv" && flags.explainCredentials) {
    return {
      error: "--explain-credentials prints text or one JSON document, not CSV",
      hint: "drop --format csv, or use --json",
    };
  }
  if (format === "csv" && flags.watch !== undefined) {
    return {
      error: "--watch prints tables or JSON lines, not CSV (one CSV document has one header)",
      hint: "drop --watch and run from cron, or use --watch with --json",
    };
  }
  if (format === "csv" && flags.assets && flags.portfolio) {
    return {
      error: "--format csv prints one table: --assets and --portfolio together would make two",
      hint: "keep one of --assets and --portfolio (or run twice)",
    };
  }
  return null;
}

/**
 * A list flag takes every word after it, so in `--user alice portfolio` the subcommand became a
 * user id and the report ran instead: a usage error with the fix, not a "no such user".
 */
function swallowedCommand(command: Command, flags: ReportFlags) {
  const names = new Set(command.commands.map((sub) => sub.name()));
  for (const [flag, ids] of [
    ["--user", flags.user],
    ["--broker", flags.broker],
  ] as const) {
    const name = ids?.find((id) => names.has(id));
    if (name === undefined) continue;
    return {
      error: `${flag} took '${name}' as an id: a list flag takes every word after it`,
      hint: `put '${name}' first (${name} ${flag} ...), or write ${flag}=a,b before it`,
    };
  }
  return null;
}

/** The guide's "Balance shows $0.00" answer, on stderr: which accounts lack keys, and how to look. */
function hintMissingCredentials(io: CliIo, config: LoadedConfig): void {
  const missing = configAccounts(config)
    .filter((account) => account.enabled)
    .flatMap((account) =>
      account.brokers.filter((b) => b.enabled && b.apiKeyFingerprint === null),
    ).length;
  if (missing === 0) return;
  const what = missing === 1 ? "1 broker account has" : `${missing} broker accounts have`;
  warn(io, `${what} no credentials; --explain-credentials shows which variables were looked up.`);
}

/** A history that alerts depend on could not be used: the run fails loudly (exit 2). */
function reportHistoryError(io: CliIo, error: HistoryError): number {
  warn(io, `show-user-balances: alerts are off for this run: ${error.message}`);
  warn(io, `  fix: ${error.hint}`);
  return EXIT.config;
}

export async function reportAction(command: Command, io: CliIo): Promise<number> {
  const given = command.opts<ReportFlags>();
  const usage =
    swallowedCommand(command, given) ?? formatUsageError(given) ?? monitorUsageError(given);
  if (usage) {
    warn(io, `show-user-balances: ${usage.error}`);
    if (usage.hint) warn(io, `  fix: ${usage.hint}`);
    return EXIT.config;
  }
  // --format json is --json from here on: one flag decides the JSON paths.
  const flags: ReportFlags = { ...given, json: outputFormat(given) === "json" };
  // The config's snapshot serves the report, not --explain-credentials; --no-cache keeps none.
  let root = command;
  while (root.parent) root = root.parent;
  const snapshot = flags.cache !== false && !flags.explainCredentials ? root.version() : undefined;
  const loaded = await loadSettledConfig(command, flags, io, flags.history, snapshot);
  if (typeof loaded === "number") return loaded;

  if (flags.explainCredentials) {
    io.stdout.write(flags.json ? explainCredentialsJson(loaded) : explainCredentials(loaded));
    return loaded.problems.length ? EXIT.config : EXIT.ok;
  }
  const prepared = await prepareFetch(command, flags, loaded, io);
  if (typeof prepared === "number") return prepared;
  const { config, emptyCode, options, opened } = prepared;
  const monitor = createMonitor(flags, config, io);
  // A webhook set in the environment for every run is no mistake on a run without thresholds.
  if (flags.notify && !monitor.alerting && command.getOptionValueSource("notify") !== "env") {
    warn(
      io,
      "warning: --notify has no threshold to watch: set --alert-low, --alert-drop or `alerts` in the config",
    );
  }
  const color = useColor(io, flags.color, flags.json || flags.format === "csv");
  // In watch mode a terminal is redrawn in place (openWatchScreen); a pipe gets one report (or
  // JSON line) after another.
  let screen: WatchScreen | null = null;
  const runWith = withStore(options, opened);
  let historyFailed = false;
  // One function for every --watch round: a round that sends nothing leaves it registered once.
  const prepareHistory = () => monitor.prepare();
  const once = async (): Promise<number> => {
    const report = await runReport(config, {
      ...runWith,
      whileWaiting: prepareHistory,
      users: flags.user,
      brokers: flags.broker,
      sort: flags.sort,
    });
    let alerts: Alert[] | null;
    let failure: HistoryError | null = null;
    try {
      alerts = monitor.observe(report);
    } catch (error) {
      if (!(error instanceof HistoryError)) throw error;
      alerts = null;
      failure = error;
    }
    const width = terminalWidth(io.stdout);
    const text = await renderReport(report, alerts, flags, config, color, width);
    if (screen) screen.draw(text);
    else io.stdout.write(text + (flags.watch && !flags.json ? "\n" : ""));
    // CSV has no room for them: alerts go to stderr (and still to --notify and exit code 4).
    if (flags.format === "csv" && !flags.json && alerts?.length)
      io.stderr.write(renderAlerts(alerts));
    await monitor.notify(alerts, report.generatedAt);
    if (failure) {
      historyFailed = true;
      return reportHistoryError(io, failure);
    }
    if (
      config.problems.length > 0 ||
      emptyCode !== null ||
      (flags.storeRequired && opened?.degraded)
    ) {
      return EXIT.config;
    }
    if (report.failedCount > 0) return EXIT.partial;
    return alerts?.length ? EXIT.alert : EXIT.ok;
  };
  try {
    if (flags.watch === undefined) {
      const code = await once();
      hintMissingCredentials(io, config);
      return code;
    }
    // A watch whose alerts cannot work stops at once rather than run on without them.
    let code: number = EXIT.ok;
    if (!flags.json && io.stdout.isTTY) screen = openWatchScreen(io.stdout);
    await watchLoop(
      flags.watch * 1000,
      async () => {
        code = await once();
        return !historyFailed;
      },
      () => screen?.close(),
    );
    return historyFailed ? code : EXIT.ok;
  } finally {
    monitor.close();
    await opened?.close();
  }
}
