import { type Command, InvalidArgumentError, Option } from "commander";
import { hasNoUserBrokers, NO_USER_BROKERS_HELP } from "../run.js";
import { isLoopbackHost } from "../serve/auth.js";
import { ReportSource } from "../serve/report-source.js";
import { accountNames, closeGracefully, createDashboardServer, listen } from "../serve/server.js";
import { type CliIo, EXIT, loadConfigFor, warn } from "./context.js";
import {
  addRunFlags,
  loadOptions,
  openRunStore,
  positiveNumber,
  type RunFlags,
  runOptions,
} from "./options.js";

export const TOKEN_ENV = "SHOW_USER_BALANCES_TOKEN";

interface ServeFlags extends Omit<RunFlags, "refresh"> {
  host: string;
  port: number;
  refresh: number;
  token?: string;
}

export const SERVE_HELP = `
Every route but /healthz needs the token when one is set: "Authorization: Bearer <token>", or open
/?token=<token> once in the browser (the page moves it into an HttpOnly cookie). Prefer the
environment variable over --token, which other users can read in the process list.

Routes:
  /              the dashboard: a card per account, refreshed every --refresh seconds
  /api/balances  the same JSON document as show-user-balances --json
  /healthz       liveness, never needs the token

Examples:
  $ show-user-balances serve                                   # http://127.0.0.1:8787/
  $ ${TOKEN_ENV}=$(openssl rand -hex 32) show-user-balances serve --host 0.0.0.0
  $ curl -H "Authorization: Bearer $${TOKEN_ENV}" http://host:8787/api/balances

Every request goes through the same cache, single flight and Kraken queue as the CLI: open tabs
and cron runs together make one fetch per account per --cache-ttl. SIGTERM or SIGINT stops it
gracefully (exit 0); exit 2 for a usage or configuration error.`;

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new InvalidArgumentError(
      "--port must be a whole number from 0 (any free port) to 65535.",
    );
  }
  return n;
};

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve(signal);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}

async function serveAction(command: Command, io: CliIo): Promise<number> {
  const flags = command.opts<ServeFlags>();
  const token = flags.token ? flags.token : null;
  if (token === null && !isLoopbackHost(flags.host)) {
    warn(
      io,
      `show-user-balances: refusing to serve balances on ${flags.host} without an access token.`,
    );
    warn(io, `  fix: set ${TOKEN_ENV} (e.g. to $(openssl rand -hex 32)), or bind to 127.0.0.1`);
    return EXIT.config;
  }
  // Here --refresh is the page's interval: the runs themselves always use the cache.
  const runFlags: RunFlags = { ...flags, refresh: false };
  const config = await loadConfigFor(io, loadOptions(runFlags));
  if (typeof config === "number") return config;
  if (!config.platform && config.users.length === 0) {
    warn(io, NO_USER_BROKERS_HELP);
    return EXIT.config;
  }
  if (hasNoUserBrokers(config)) warn(io, NO_USER_BROKERS_HELP);

  // One store for the server's lifetime: the Redis store (--store) or the CLI's disk cache.
  const options = runOptions(command, runFlags, config, io);
  const opened = await openRunStore(runFlags, config, options, io);
  if (typeof opened === "number") return opened;
  const source = new ReportSource(config, { ...options, store: opened?.store });
  const server = createDashboardServer({
    source,
    names: accountNames(config),
    token,
    refreshSeconds: flags.refresh,
    onError: (message) => warn(io, `show-user-balances serve: ${message}`),
  });
  const signal = waitForSignal();
  let url: string;
  try {
    url = await listen(server, flags.host, flags.port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    warn(
      io,
      `show-user-balances: cannot listen on ${flags.host}:${flags.port} (${code ?? error}).`,
    );
    warn(io, "  fix: choose another --port (0 picks a free one) or --host");
    await opened?.close();
    return EXIT.config;
  }
  io.stdout.write(`Dashboard on ${url}\n`);
  warn(io, `${await signal}: shutting down`);
  await closeGracefully(server);
  await source.settled();
  await opened?.close();
  return EXIT.ok;
}

/**
 * Adds `serve`. It shares the run flags with the report (except --refresh, which is the page's
 * interval here), so config, cache and Kraken settings mean the same in both.
 */
export function registerServe(program: Command, io: CliIo, setExitCode: (code: number) => void) {
  // Root options would otherwise also be parsed after `serve` and shadow its own copies.
  program.enablePositionalOptions();
  const serve = program
    .command("serve")
    .description("serve the balances as a web dashboard and a JSON API")
    .addHelpText("after", SERVE_HELP);
  addRunFlags(serve, { refresh: false })
    .option("--host <host>", "interface to bind (anything but loopback needs a token)", "127.0.0.1")
    .option("--port <port>", "port (0: any free port; the URL is printed)", port, 8787)
    .option("--refresh <seconds>", "page refresh interval", positiveNumber("--refresh"), 30)
    .addOption(
      new Option("--token <token>", "access token for every route but /healthz").env(TOKEN_ENV),
    )
    .action(async (_options, command: Command) => {
      setExitCode(await serveAction(command, io));
    });
  return serve;
}
