/**
 * The `serve` command's work, loaded only when the command runs (the server, the page and its
 * assets are not needed by a report run).
 */
import type { Command } from "commander";
import { defaultStateDir } from "../monitor/paths.js";
import { isLoopbackHost } from "../serve/auth.js";
import { ReportSource } from "../serve/report-source.js";
import {
  accountNames,
  closeGracefully,
  createDashboardServer,
  listen,
  SHUTDOWN_GRACE_MS,
} from "../serve/server.js";
import { type CliIo, configToShow, EXIT, warn } from "./context.js";
import { createRecorder, type HistoryStoreFlags } from "./monitor.js";
import { loadOptions, openRunStore, type RunFlags, runOptions, withStore } from "./options.js";
import { type ServeFlags, TOKEN_ENV } from "./serve.js";
import { loadSettledConfig } from "./settings-defaults.js";

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

export async function serveAction(command: Command, io: CliIo): Promise<number> {
  // The history flags are optional here: without them the recording goes to the default state
  // directory, as a report run's does.
  const flags = command.opts<ServeFlags & Partial<HistoryStoreFlags>>();
  const token = flags.token ? flags.token : null;
  if (token === null && !isLoopbackHost(flags.host)) {
    warn(
      io,
      `show-user-balances: refusing to serve balances on ${flags.host} without an access token.`,
    );
    warn(io, `  fix: set ${TOKEN_ENV} (e.g. to $(openssl rand -hex 32)), or bind to 127.0.0.1`);
    return EXIT.config;
  }
  const loaded = await loadSettledConfig(command, flags, io, flags.history !== false);
  if (typeof loaded === "number") return loaded;
  // Here --refresh is the page's interval: the runs themselves always use the cache.
  const runFlags: RunFlags = { ...flags, refresh: false };
  // A server with no account at all would show an empty page forever: refuse to start (exit 2).
  const { config, code } = await configToShow(io, loaded, loadOptions(runFlags));
  if (code !== null) return code;

  // One store for the server's lifetime: the Redis store (--store) or the CLI's disk cache.
  const options = runOptions(command, runFlags, config, io);
  const opened = await openRunStore(runFlags, config, options, io);
  if (typeof opened === "number") return opened;
  const onError = (message: string) => warn(io, `show-user-balances serve: ${message}`);
  const source = new ReportSource(config, withStore(options, opened), undefined, onError);
  // Every figure the server fetches is recorded, as a cron run's would be; figures it serves
  // from the cache were recorded by whoever fetched them. Alerts stay with the runs that show
  // them (cron, --watch), evaluated there on cached figures too.
  const stateDir = flags.stateDir ?? defaultStateDir();
  const recorder = createRecorder({ ...flags, stateDir }, config, (message) =>
    onError(`warning: ${message}`),
  );
  let stopping = false;
  source.subscribe((report) => {
    // A refresh abandoned at shutdown that ends later must not reopen the closed store.
    if (!stopping) recorder.observe(report);
  });
  const server = createDashboardServer({
    source,
    names: accountNames(config),
    token,
    refreshSeconds: flags.refresh,
    // The charts read the history this server (and every cron run) records.
    historyDir: flags.history === false ? null : stateDir,
    onError,
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
    recorder.close();
    await opened?.close();
    return EXIT.config;
  }
  io.stdout.write(`Dashboard on ${url}\n`);
  // --poll: refresh on the server's own schedule, so /metrics and the history stay current with
  // no page open (through the cache, so never more often than --cache-ttl per account).
  const poll = flags.poll
    ? setInterval(() => void source.snapshot(), flags.poll * 1000)
    : undefined;
  if (flags.poll) void source.snapshot();
  warn(io, `${await signal}: shutting down`);
  clearInterval(poll);
  // Bounded whatever the brokers do: answers get the grace period, then are cut; a refresh still
  // waiting on a hung broker is abandoned (the CLI ends the process once the command returns).
  const deadline = Date.now() + SHUTDOWN_GRACE_MS;
  await closeGracefully(server, SHUTDOWN_GRACE_MS);
  await source.settled(Math.max(0, deadline - Date.now()));
  stopping = true;
  recorder.close();
  await Promise.race([
    opened?.close(),
    new Promise((resolve) => setTimeout(resolve, Math.max(100, deadline - Date.now())).unref()),
  ]);
  return EXIT.ok;
}
