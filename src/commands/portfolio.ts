/**
 * `show-user-balances portfolio`: every asset the platform and its users hold, across brokers,
 * with its amount, USD value, share of the total and largest holders. It runs the report (same
 * config, cache, single flight and Kraken queue: right after a report it makes no request) and
 * reshapes it; its total is the report's total to the cent.
 */
import { type Command, Option } from "commander";
import { Monitor } from "../monitor/monitor.js";
import { defaultStateDir } from "../monitor/paths.js";
import { stringifyJson } from "../render/json-text.js";
import { STATUS_LABELS } from "../render/labels.js";
import { loadPalette } from "../render/style.js";
import { terminalWidth } from "../render/width.js";
import { isFailed, type Report } from "../report/model.js";
import { runReport } from "../run.js";
import { type CliIo, type ColorWhen, EXIT, useColor, warn } from "./context.js";
import { addHistoryStoreFlags, type HistoryStoreFlags } from "./monitor.js";
import {
  addColorFlags,
  addFormatFlags,
  addRunFlags,
  addSelectionFlags,
  addSplitStablecoinsFlag,
  grouped,
  HELP_GROUP,
  numberIn,
  type OutputFormat,
  outputFormat,
  prepareFetch,
  type RunFlags,
  withStore,
} from "./options.js";
import { loadSettledConfig } from "./settings-defaults.js";

export interface PortfolioFlags extends RunFlags, HistoryStoreFlags {
  json?: boolean;
  format?: OutputFormat;
  user?: string[];
  broker?: string[];
  splitStablecoins?: boolean;
  topHolders: number;
  color: ColorWhen | false;
}

export const PORTFOLIO_HELP = `
One line per asset across the platform and every user shown (--user and --broker filter as in
the report): the total amount, its USD value, its share of the total, how many broker accounts
hold it and the largest holders. USD and the stablecoins are one "USD" line unless
--split-stablecoins. Where a broker states the account's equity itself (Alpaca equity, OKX
totalEq), the part its assets' prices do not make up is a line of its own, so the total is always
the report's total (platform total + total user capital) to the cent. Accounts with no figure,
disabled accounts and accounts sharing another's key are left out, as in the report's totals.

Examples:
  $ show-user-balances portfolio
  $ show-user-balances portfolio --json | jq -r '.assets[] | "\\(.asset) \\(.share_percent)%"'
  $ show-user-balances portfolio --format csv > portfolio.csv
  $ show-user-balances portfolio --user alice bob --split-stablecoins

Exit codes as the report's: 0, 3 when a broker failed (the portfolio leaves it out), 2 for a
usage or configuration error.`;

/**
 * The portfolio has no row per broker account to say why one is missing: each failed fetch is
 * one line on stderr, as its row would say in the report.
 */
function sayFailures(io: CliIo, report: Report): void {
  const accounts = [...(report.platform ? [report.platform] : []), ...report.users];
  for (const account of accounts) {
    for (const row of account.rows) {
      if (!isFailed(row)) continue;
      const who = account.kind === "platform" ? "platform" : `user ${account.id}`;
      const why = `${STATUS_LABELS[row.status]}${row.message ? `: ${row.message}` : ""}`;
      const what = row.usdCents === null ? "left out" : "its stale figure counted";
      warn(io, `warning: ${who} / ${row.broker}: ${why} (${what})`);
    }
  }
}

export function registerPortfolio(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
): Command {
  const portfolio = program
    .command("portfolio")
    .description("every asset across all accounts: amount, USD value, share, top holders")
    .addHelpText("after", PORTFOLIO_HELP);
  addSplitStablecoinsFlag(addFormatFlags(addSelectionFlags(addRunFlags(portfolio))));
  grouped(portfolio, HELP_GROUP.output, (c) =>
    c.addOption(
      new Option("--top-holders <n>", "largest holders listed per asset, 0-100")
        .argParser(numberIn("--top-holders", 0, 100, { integer: true }))
        .default(3),
    ),
  );
  addHistoryStoreFlags(addColorFlags(portfolio)).action(async (_options, command: Command) => {
    setExitCode(await portfolioAction(command, io));
  });
  return portfolio;
}

export async function portfolioAction(command: Command, io: CliIo): Promise<number> {
  const flags = command.opts<PortfolioFlags>();
  const format = outputFormat(flags);
  if (typeof format !== "string") {
    warn(io, `show-user-balances: ${format.error}`);
    warn(io, `  fix: ${format.hint}`);
    return EXIT.config;
  }
  const loaded = await loadSettledConfig(command, flags, io, flags.history);
  if (typeof loaded === "number") return loaded;
  const prepared = await prepareFetch(command, flags, loaded, io);
  if (typeof prepared === "number") return prepared;
  const { config, emptyCode, options, opened } = prepared;
  // What this run fetches live is recorded, as a report run's would be (figures served from the
  // cache were recorded by whoever fetched them); no alert is evaluated here.
  const recorder = new Monitor(config, {
    stateDir: flags.stateDir ?? defaultStateDir(),
    history: flags.history,
    retentionMs: flags.historyRetention,
    flags: {},
    renotifyMs: null,
    evaluate: false,
    totals: !flags.broker?.length,
    onWarning: (message) => warn(io, `warning: ${message}`),
  });
  try {
    const { buildPortfolio, portfolioJson } = await import("../report/portfolio.js");
    const report = await runReport(config, {
      ...withStore(options, opened),
      users: flags.user,
      brokers: flags.broker,
    });
    recorder.observe(report);
    sayFailures(io, report);
    const portfolio = buildPortfolio(report, {
      splitStablecoins: flags.splitStablecoins,
      stablecoins: config.settings.stablecoins,
      topHolders: flags.topHolders,
    });
    if (format === "json") {
      const partial = report.failedCount > 0 || report.summary.accountsUnknown > 0;
      io.stdout.write(`${stringifyJson({ ...portfolioJson(portfolio), partial }, 2)}\n`);
    } else {
      const render = await import("../render/portfolio.js");
      if (format === "csv") {
        io.stdout.write(render.renderPortfolioCsv(portfolio));
      } else {
        const palette = await loadPalette(useColor(io, flags.color, false));
        io.stdout.write(
          render.renderPortfolio(portfolio, { palette, width: terminalWidth(io.stdout) }),
        );
      }
    }
    if (
      config.problems.length > 0 ||
      emptyCode !== null ||
      (flags.storeRequired && opened?.degraded)
    ) {
      return EXIT.config;
    }
    return report.failedCount > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    recorder.close();
    await opened?.close();
  }
}
