import { type Command, InvalidArgumentError, Option } from "commander";
import type { CliIo } from "./context.js";
import { addHistoryStoreFlags } from "./monitor.js";
import { addRunFlags, grouped, numberIn, type RunFlags } from "./options.js";

export const TOKEN_ENV = "SHOW_USER_BALANCES_TOKEN";

export interface ServeFlags extends Omit<RunFlags, "refresh"> {
  host: string;
  port: number;
  refresh: number;
  /** Seconds between background refreshes; undefined: refresh only when asked. */
  poll?: number;
  token?: string;
}

export const SERVE_HELP = `
Every route but /healthz needs the token when one is set: "Authorization: Bearer <token>", or open
/?token=<token> once in the browser (the page moves it into an HttpOnly cookie). Prefer the
environment variable over --token, which other users can read in the process list.

Routes:
  /              the dashboard: a card per account, refreshed every --refresh seconds
  /api/balances  the same JSON document as show-user-balances --json; when a refresh fails
                 internally, the last good document with "refresh_error"
  /api/portfolio the portfolio (asset shares) of the last refresh
  /api/history   ?range=24h|7d|30d: platform total and user capital over time, from the history
  /metrics       Prometheus text format (balance_usd, broker_state, ...): the last refresh, never a
                 new one; use --poll to keep it current with no page open
  /healthz       always 200 while up: {"status": "ok" | "degraded" | "starting", ...}; degraded
                 lists the failing rows (to callers with the token); never needs the token

Examples:
  $ show-user-balances serve                                   # http://127.0.0.1:8787/
  $ ${TOKEN_ENV}=$(openssl rand -hex 32) show-user-balances serve --host 0.0.0.0
  $ curl -H "Authorization: Bearer $${TOKEN_ENV}" http://host:8787/api/balances

Every request goes through the same cache, single flight and Kraken queue as the CLI: open tabs
and cron runs together make one fetch per account per --cache-ttl. SIGTERM or SIGINT stops it
within 6 s (exit 0), hung brokers or not: answers in flight get 5 s, then are cut. Exit 2 for a
usage or configuration error (a config with no account at all included).`;

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new InvalidArgumentError(
      "--port must be a whole number from 0 (any free port) to 65535.",
    );
  }
  return n;
};

/**
 * Adds `serve`. It shares the run flags with the report (except --refresh, which is the page's
 * interval here), so config, cache and Kraken settings mean the same in both.
 */
export function registerServe(program: Command, io: CliIo, setExitCode: (code: number) => void) {
  const serve = program
    .command("serve")
    .description("serve the balances as a web dashboard and a JSON API")
    .addHelpText("after", SERVE_HELP);
  grouped(addRunFlags(serve, { refresh: false }), "Server:", (c) =>
    c
      .option(
        "--host <host>",
        "interface to bind (anything but loopback needs a token)",
        "127.0.0.1",
      )
      .option("--port <port>", "port (0: any free port; the URL is printed)", port, 8787)
      .option(
        "--refresh <seconds>",
        "page refresh interval, 1-86400 s",
        numberIn("--refresh", 1, 86_400, { unit: "seconds" }),
        30,
      )
      .option(
        "--poll <seconds>",
        "also refresh in the background every so often (60-86400 s), so /metrics and the history stay current with no page open; off by default",
        numberIn("--poll", 60, 86_400, { unit: "seconds" }),
      )
      .addOption(
        new Option("--token <token>", "access token for every route but /healthz").env(TOKEN_ENV),
      ),
  );
  addHistoryStoreFlags(serve);
  serve.action(async (_options, command: Command) => {
    const { serveAction } = await import("./serve-action.js");
    setExitCode(await serveAction(command, io));
  });
  return serve;
}
