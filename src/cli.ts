#!/usr/bin/env node
import { createRequire } from "node:module";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ConfigError, formatProblem, formatWarning, type LoadedConfig } from "./config/index.js";
import { renderJson } from "./render/json.js";
import { renderAssets, renderStatus } from "./render/status.js";
import { renderTable } from "./render/table.js";
import type { BrokerRow, ReportAccount } from "./report/model.js";
import { hasNoUserBrokers, loadRunConfig, NO_USER_BROKERS_HELP, runReport } from "./run.js";

/** Exit codes, documented in --help and the README. */
const EXIT = { ok: 0, internal: 1, config: 2, partial: 3 } as const;

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

const positiveNumber = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`${what} must be a positive number.`);
  return n;
};
const positiveInteger = (what: string) => (value: string) => {
  const n = positiveNumber(what)(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${what} must be a whole number.`);
  return n;
};

/** "90", "90s", "15m", "24h", "7d" to milliseconds. */
export function parseDuration(flag: string) {
  return (value: string): number => {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
    if (!match)
      throw new InvalidArgumentError(`${flag} takes a duration such as 90s, 15m, 24h or 7d.`);
    const unit =
      { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? "s"] ?? 1000;
    return Number(match[1]) * unit;
  };
}

const HELP_AFTER = `
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

interface CliOptions {
  configDir: string;
  json?: boolean;
  status?: boolean;
  assets?: boolean;
  valuation: "cash" | "total";
  user?: string[];
  broker?: string[];
  timeout: number;
  sort: "name" | "total";
  includeDisabled?: boolean;
  explainCredentials?: boolean;
  color: boolean;
  concurrency: number;
  retries: number;
  krakenSpacing: number;
  krakenConcurrency: number;
  verbose?: boolean;
  cache: boolean;
  cacheDir?: string;
  cacheTtl: number;
  refresh?: boolean;
  staleMaxAge: number;
}

function buildProgram(): Command {
  return new Command()
    .name("show-user-balances")
    .description(
      "Show every platform and user broker balance, live through ccxt, as a table or JSON.",
    )
    .version(version)
    .option(
      "-c, --config-dir <dir>",
      "configuration directory (platform.json, users/*.json)",
      "config",
    )
    .option("--json", "print one JSON document on stdout (diagnostics go to stderr)")
    .option("--status", "show the detailed connection view per account and broker")
    .option("--assets", "add the per-asset breakdown (JSON: the `assets` field)")
    .addOption(
      new Option(
        "--valuation <mode>",
        "cash: USD and stablecoins at par; total: every asset at market",
      )
        .choices(["cash", "total"])
        .default("cash"),
    )
    .option("-u, --user <id...>", "only these users")
    .option("-b, --broker <id...>", "only these brokers (ccxt ids)")
    .option("--timeout <seconds>", "per-request timeout", positiveNumber("--timeout"), 10)
    .addOption(
      new Option("--sort <order>", "order of users").choices(["name", "total"]).default("name"),
    )
    .option("--include-disabled", "also list disabled users and brokers, marked disabled")
    .option(
      "--explain-credentials",
      "print which credential variables were tried per account (never values)",
    )
    .option("--no-color", "no colour (also when stdout is not a terminal or NO_COLOR is set)")
    .option(
      "--concurrency <n>",
      "concurrent fetches on non-Kraken brokers",
      positiveInteger("--concurrency"),
      16,
    )
    .option("--retries <n>", "attempts for transient failures", positiveInteger("--retries"), 3)
    .option(
      "--kraken-spacing <ms>",
      "minimum ms between two requests on one Kraken key",
      positiveInteger("--kraken-spacing"),
      1100,
    )
    .option(
      "--kraken-concurrency <n>",
      "Kraken requests at once on different keys (one key is never used twice at once)",
      positiveInteger("--kraken-concurrency"),
      1,
    )
    .option(
      "--cache-dir <dir>",
      "balance cache directory (default $XDG_CACHE_HOME/show-user-balances)",
    )
    .addOption(
      new Option("--cache-ttl <duration>", "how long a cached balance is served")
        .argParser(parseDuration("--cache-ttl"))
        .default(120_000, "120s"),
    )
    .option("--refresh", "fetch everything live now (the fresh result is still cached)")
    .option("--no-cache", "neither read nor write the cache")
    .addOption(
      new Option(
        "--stale-max-age <duration>",
        "oldest cached figure shown, marked stale, when a live fetch fails",
      )
        .argParser(parseDuration("--stale-max-age"))
        .default(86_400_000, "24h"),
    )
    .option("-v, --verbose", "report retries and other diagnostics on stderr")
    .addHelpText("after", HELP_AFTER)
    .showHelpAfterError("(run with --help for usage)");
}

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

function credentialsColumn(config: LoadedConfig) {
  const find = (account: ReportAccount, row: BrokerRow) => {
    const source =
      account.kind === "platform" ? config.platform : config.users.find((u) => u.id === account.id);
    return source?.brokers.find((b) => b.broker === row.broker)?.credentialsExplain.used ?? "none";
  };
  return find;
}

async function main(
  argv: readonly string[],
  io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const program = buildProgram()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  let opts: CliOptions;
  try {
    program.parse(argv as string[], { from: "node" });
    opts = program.opts<CliOptions>();
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.config;
    }
    throw error;
  }
  const color = opts.color && !opts.json && Boolean(io.stdout.isTTY) && !process.env.NO_COLOR;
  const warn = (text: string) => io.stderr.write(`${text}\n`);

  let config: LoadedConfig;
  try {
    config = await loadRunConfig({
      configDir: opts.configDir,
      includeDisabled: opts.includeDisabled,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      warn(`show-user-balances: ${error.message}`);
      if (error.hint) warn(`  fix: ${error.hint}`);
      return EXIT.config;
    }
    throw error;
  }
  for (const warning of config.warnings) warn(`warning: ${formatWarning(warning)}`);
  for (const problem of config.problems) warn(`error: ${formatProblem(problem)}`);

  if (opts.explainCredentials) {
    io.stdout.write(explainCredentials(config));
    return config.problems.length ? EXIT.config : EXIT.ok;
  }
  if (!config.platform && config.users.length === 0) {
    warn(NO_USER_BROKERS_HELP);
    return EXIT.config;
  }
  if (hasNoUserBrokers(config)) warn(NO_USER_BROKERS_HELP);

  // settings.json fills in what the command line left at its default.
  const settings = config.settings;
  const pick = <T>(flag: keyof CliOptions, fromSettings: T | undefined, fromFlag: T): T =>
    program.getOptionValueSource(flag) === "cli" || fromSettings === undefined
      ? fromFlag
      : fromSettings;
  const seconds = (value: number | undefined) => (value === undefined ? undefined : value * 1000);
  const report = await runReport(config, {
    valuation: pick("valuation", settings.valuation, opts.valuation),
    stablecoins: settings.stablecoins,
    timeoutMs: pick("timeout", seconds(settings.timeoutSeconds), opts.timeout * 1000),
    attempts: pick("retries", settings.retries, opts.retries),
    users: opts.user,
    brokers: opts.broker,
    sort: opts.sort,
    concurrency: pick("concurrency", settings.concurrency, opts.concurrency),
    krakenSpacingMs: pick("krakenSpacing", settings.krakenSpacingMs, opts.krakenSpacing),
    krakenConcurrency: pick(
      "krakenConcurrency",
      settings.krakenConcurrency,
      opts.krakenConcurrency,
    ),
    cacheDir: opts.cacheDir,
    cache: {
      mode: !opts.cache ? "off" : opts.refresh ? "refresh" : "use",
      ttlMs: pick("cacheTtl", seconds(settings.cacheTtlSeconds), opts.cacheTtl),
      staleMaxAgeMs: pick("staleMaxAge", seconds(settings.staleMaxAgeSeconds), opts.staleMaxAge),
    },
    onWarning: (message) => warn(`warning: ${message}`),
    onRetry: opts.verbose
      ? (broker, attempt, message) =>
          warn(`retrying ${broker} (attempt ${attempt + 1}): ${message}`)
      : undefined,
  });

  if (opts.json) {
    io.stdout.write(renderJson(report, { assets: opts.assets }));
  } else if (opts.status) {
    io.stdout.write(renderStatus(report, { color, credentials: credentialsColumn(config) }));
  } else {
    io.stdout.write(renderTable(report, { color }));
    if (opts.assets) io.stdout.write(`\n${renderAssets(report, { color })}`);
  }
  if (config.problems.length > 0) return EXIT.config;
  return report.failedCount > 0 ? EXIT.partial : EXIT.ok;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`show-user-balances: internal error: ${message}\n`);
    if (process.env.DEBUG && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    process.exitCode = EXIT.internal;
  },
);
