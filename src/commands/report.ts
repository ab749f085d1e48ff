import type { Command } from "commander";
import { Option } from "commander";
import type { LoadedConfig } from "../config/index.js";
import { renderJson } from "../render/json.js";
import { renderAssets, renderStatus } from "../render/status.js";
import { renderTable } from "../render/table.js";
import type { BrokerRow, ReportAccount } from "../report/model.js";
import { hasNoUserBrokers, NO_USER_BROKERS_HELP, runReport } from "../run.js";
import { type CliIo, EXIT, loadConfigFor, useColor, warn } from "./context.js";
import { addRunFlags, loadOptions, type RunFlags, runOptions } from "./options.js";

interface ReportFlags extends RunFlags {
  json?: boolean;
  status?: boolean;
  assets?: boolean;
  user?: string[];
  broker?: string[];
  sort: "name" | "total";
  explainCredentials?: boolean;
  color: boolean;
}

export const REPORT_HELP = `
Examples:
  $ show-user-balances                              # the formatted report
  $ show-user-balances --json | jq '.summary'       # JSON for scripts
  $ show-user-balances --json | jq -r '.status.users | to_entries[] | select(any(.value[]; .state != "ok")) | .key'
  $ show-user-balances --status                     # connection detail per account and broker
  $ show-user-balances --user alice --assets        # one user, asset by asset
  */5 * * * * cd /srv/platform && show-user-balances --json | jq -c . >> balances.ndjson 2>> balances.err

Environment:
  .env in the working directory is loaded first (never overriding set variables).
  <BROKER>_API_URL points a broker at another origin (proxy, emulator). NO_COLOR disables colour.

Exit codes:
  0  every broker with credentials answered
  1  unexpected internal error (set DEBUG=1 for a stack trace)
  2  usage or configuration error (wins over 3)
  3  the report was printed, but at least one broker failed`;

function explainCredentials(config: LoadedConfig): string {
  const accounts = [...(config.platform ? [config.platform] : []), ...config.users];
  const lines: string[] = [];
  for (const account of accounts) {
    for (const broker of account.brokers) {
      const e = broker.credentialsExplain;
      const who = account.kind === "platform" ? "platform" : `user ${account.id}`;
      lines.push(
        `${who} / ${broker.broker}: ${e.used ? `using ${e.used}` : "no credentials found"}`,
      );
      if (e.tried.length) lines.push(`  tried: ${e.tried.join(", ")}`);
    }
  }
  return `${lines.join("\n")}\n`;
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
  return addRunFlags(command)
    .option("--json", "print one JSON document on stdout (diagnostics go to stderr)")
    .option("--status", "show the detailed connection view per account and broker")
    .option("--assets", "add the per-asset breakdown (JSON: the `assets` field)")
    .option("-u, --user <id...>", "only these users")
    .option("-b, --broker <id...>", "only these brokers (ccxt ids)")
    .addOption(
      new Option("--sort <order>", "order of users").choices(["name", "total"]).default("name"),
    )
    .option(
      "--explain-credentials",
      "print which credential variables were tried per account (never values)",
    )
    .option("--no-color", "no colour (also when stdout is not a terminal or NO_COLOR is set)");
}

export async function reportAction(command: Command, io: CliIo): Promise<number> {
  const flags = command.opts<ReportFlags>();
  const config = await loadConfigFor(io, loadOptions(flags));
  if (typeof config === "number") return config;

  if (flags.explainCredentials) {
    io.stdout.write(explainCredentials(config));
    return config.problems.length ? EXIT.config : EXIT.ok;
  }
  if (!config.platform && config.users.length === 0) {
    warn(io, NO_USER_BROKERS_HELP);
    return EXIT.config;
  }
  if (hasNoUserBrokers(config)) warn(io, NO_USER_BROKERS_HELP);

  const report = await runReport(config, {
    ...runOptions(command, flags, config, io),
    users: flags.user,
    brokers: flags.broker,
    sort: flags.sort,
  });
  const color = useColor(io, flags.color, Boolean(flags.json));
  if (flags.json) {
    io.stdout.write(renderJson(report, { assets: flags.assets }));
  } else if (flags.status) {
    io.stdout.write(renderStatus(report, { color, credentials: credentialsColumn(config) }));
  } else {
    io.stdout.write(renderTable(report, { color }));
    if (flags.assets) io.stdout.write(`\n${renderAssets(report, { color })}`);
  }
  if (config.problems.length > 0) return EXIT.config;
  return report.failedCount > 0 ? EXIT.partial : EXIT.ok;
}
