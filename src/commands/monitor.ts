/**
 * The report's monitoring flags (history, alerts, webhook, watch) and the watch loop. The report
 * command stays in report.ts; this file turns flags into a Monitor and repeats a run on an
 * interval until SIGINT or SIGTERM.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { NOTIFY_URL_ENV, SETTING_BOUNDS } from "../config/bounds.js";
import type { LoadedConfig } from "../config/index.js";
import { type Cents, dollarsToCents } from "../money.js";
import { Monitor } from "../monitor/monitor.js";
import { checkWebhookUrl, NOTIFY_AUTH_ENV } from "../monitor/notify.js";
import { defaultStateDir } from "../monitor/paths.js";
import { type OutputSize, screenTop, terminalWidth } from "../render/width.js";
import { type CliIo, warn } from "./context.js";
import { formatDuration, grouped, HELP_GROUP, numberIn, parseDuration } from "./options.js";

export interface MonitorFlags {
  stateDir?: string;
  history: boolean;
  historyRetention: number;
  alertLow?: Cents;
  alertDrop?: number;
  dropWindow?: number;
  /** ms; Infinity for never (commander turns a parser's null into ""). */
  renotify: number;
  notify?: string;
  watch?: number;
  /** The report's --broker: a view of some brokers, whose account totals are not whole totals. */
  broker?: string[];
}

/** The history store's own flags, for a command that records without alerting (`serve`). */
export type HistoryStoreFlags = Pick<MonitorFlags, "stateDir" | "history" | "historyRetention">;

const DAY = 86_400_000;
/** --watch: at least a second; at most a day, far below setTimeout's 2^31-1 ms limit. */
export const WATCH_SECONDS = { min: 1, max: 86_400 } as const;
/** The ranges settings.json's fields share (SETTING_BOUNDS, in seconds). */
const secondsToMs = ({ min, max }: { min: number; max: number }) => ({
  minMs: min * 1000,
  maxMs: max * 1000,
});
const RETENTION = secondsToMs(SETTING_BOUNDS.historyRetentionSeconds);
const DEFAULT_RETENTION_MS = 90 * DAY;
const WINDOW = secondsToMs(SETTING_BOUNDS.dropWindowSeconds);

/** Dollars and cents as written ("100", "250.50"), exactly; no sign, no exponent. */
const usdAmount = (value: string): Cents => {
  if (!/^\d{1,15}(\.\d{1,2})?$/.test(value.trim())) {
    throw new InvalidArgumentError(
      "--alert-low takes a USD amount from 0 to 999999999999999.99, such as 100 or 250.50.",
    );
  }
  return dollarsToCents(value.trim());
};

const percent = (value: string): number => {
  const n = Number(value.replace(/%$/, ""));
  if (!Number.isFinite(n) || n <= 0 || n > 100) {
    throw new InvalidArgumentError("--alert-drop takes a percentage above 0 and up to 100.");
  }
  return n;
};

/**
 * A duration, or `never`/`off`/`0` for no re-notification: Infinity, not null, because commander
 * stores a parser's null as "" (which made `never` re-fire on every run).
 */
const renotifyDuration = (value: string): number =>
  /^(never|off|0)$/i.test(value.trim())
    ? Number.POSITIVE_INFINITY
    : parseDuration("--renotify", WINDOW)(value);

const range = (bounds: { minMs: number; maxMs: number }) =>
  `${formatDuration(bounds.minMs)}-${formatDuration(bounds.maxMs)}`;

/** --state-dir: where the history database is, for the commands that record and `history`. */
export function addStateDirFlag(command: Command): Command {
  return grouped(command, HELP_GROUP.monitor, (c) =>
    c.option(
      "--state-dir <dir>",
      "history database directory (default $XDG_STATE_HOME/show-user-balances)",
    ),
  );
}

/** --state-dir, --no-history, --history-retention: where fetched figures are recorded. */
export function addHistoryStoreFlags(command: Command): Command {
  return grouped(addStateDirFlag(command), HELP_GROUP.monitor, (c) =>
    c
      .option("--no-history", "record nothing in the history (and so evaluate no alerts)")
      .addOption(
        new Option(
          "--history-retention <duration>",
          `history older than this is deleted, ${range(RETENTION)}`,
        )
          .argParser(parseDuration("--history-retention", RETENTION))
          .default(DEFAULT_RETENTION_MS, "90d"),
      ),
  );
}

export function addMonitorFlags(command: Command): Command {
  return grouped(addHistoryStoreFlags(command), HELP_GROUP.monitor, (c) =>
    c
      .addOption(
        new Option("--alert-low <usd>", "BALANCE_LOW when a broker figure is below this").argParser(
          usdAmount,
        ),
      )
      .addOption(
        new Option(
          "--alert-drop <pct>",
          "BALANCE_DROP when a broker figure fell by more than this percentage",
        ).argParser(percent),
      )
      .addOption(
        new Option(
          "--drop-window <duration>",
          `also measure drops against the highest figure within this window (e.g. 24h), ${range(WINDOW)}`,
        ).argParser(parseDuration("--drop-window", WINDOW)),
      )
      .addOption(
        new Option(
          "--renotify <duration>",
          `repeat an alert that still holds after this long, ${range(WINDOW)}`,
        )
          .argParser(renotifyDuration)
          .default(86_400_000, "24h; never: only when it starts"),
      )
      // Checked in the action, not by commander, whose message would repeat a secret URL.
      .option(
        "--notify <url>",
        `POST fired alerts as JSON to this webhook (env ${NOTIFY_URL_ENV}, which keeps it out of ps; shown as its origin only; no user:pass@ in it: ${NOTIFY_AUTH_ENV} sets an Authorization header)`,
      )
      .option(
        "--watch <seconds>",
        `refresh every <seconds> until Ctrl-C: on a terminal in place on the alternate screen (restored on exit), else one report per refresh (with --json: one JSON document per line), ${WATCH_SECONDS.min}-${WATCH_SECONDS.max}`,
        numberIn("--watch", WATCH_SECONDS.min, WATCH_SECONDS.max, { unit: "seconds" }),
      ),
  );
}

/** A usage mistake in the monitoring flags (and its fix), or null. */
export function monitorUsageError(flags: MonitorFlags): { error: string; hint?: string } | null {
  if (flags.notify !== undefined) {
    const bad = checkWebhookUrl(flags.notify);
    if (bad) return bad;
  }
  if (!flags.history && (flags.alertLow !== undefined || flags.alertDrop !== undefined)) {
    return {
      error: "--no-history turns alerts off (they compare against the history); drop one of them",
    };
  }
  if (!flags.history && flags.notify)
    return { error: "--no-history turns alerts off, so --notify would never send" };
  return null;
}

export function createMonitor(
  flags: MonitorFlags,
  config: LoadedConfig,
  io: CliIo,
  env: Record<string, string | undefined> = process.env,
): Monitor {
  return new Monitor(config, {
    stateDir: flags.stateDir ?? defaultStateDir(env),
    history: flags.history,
    retentionMs: flags.historyRetention,
    flags: {
      ...(flags.alertLow !== undefined ? { lowCents: flags.alertLow } : {}),
      ...(flags.alertDrop !== undefined ? { dropPct: flags.alertDrop } : {}),
    },
    ...(flags.dropWindow !== undefined ? { dropWindowMs: flags.dropWindow } : {}),
    renotifyMs: Number.isFinite(flags.renotify) ? flags.renotify : null,
    ...(flags.notify ? { notifyUrl: flags.notify } : {}),
    ...(env[NOTIFY_AUTH_ENV]
      ? { webhook: { headers: { authorization: env[NOTIFY_AUTH_ENV] } } }
      : {}),
    totals: !flags.broker?.length,
    onWarning: (message) => warn(io, `warning: ${message}`),
  });
}

/**
 * A record-only monitor for a long-running process (`serve`): it records every figure the
 * process fetched and evaluates nothing (nobody would see an alert there, and firing one would
 * use up the transition a cron run should report). The store opens on the first fetch; a store
 * that cannot be used is a warning, said once per distinct reason rather than on every refresh.
 */
export function createRecorder(
  flags: Partial<HistoryStoreFlags>,
  config: LoadedConfig,
  onWarning: (message: string) => void,
  env: Record<string, string | undefined> = process.env,
): Monitor {
  let last: string | null = null;
  return new Monitor(config, {
    stateDir: flags.stateDir ?? defaultStateDir(env),
    history: flags.history !== false,
    retentionMs: flags.historyRetention ?? DEFAULT_RETENTION_MS,
    flags: {},
    renotifyMs: null,
    evaluate: false,
    onWarning: (message) => {
      if (message === last) return;
      last = message;
      onWarning(message);
    },
  });
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Runs `iteration` every `intervalMs` (start to start) until SIGINT or SIGTERM, or until an
 * iteration returns false. A signal lets the iteration in progress finish its output, so no line
 * is left half-written, then the loop ends; a second signal ends the process at once with the
 * signal's default behaviour. `restore` puts the terminal back (see openWatchScreen): when the
 * loop ends, however it ends, and before a second signal ends the process.
 */
export async function watchLoop(
  intervalMs: number,
  iteration: () => Promise<boolean | undefined>,
  restore: () => void = () => {},
): Promise<void> {
  let stopped = false;
  let wake: (() => void) | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) {
      removeHandlers();
      restore();
      process.kill(process.pid, signal);
      return;
    }
    stopped = true;
    wake?.();
  };
  const removeHandlers = () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    while (!stopped) {
      const started = Date.now();
      if ((await iteration()) === false) break;
      if (stopped) break;
      await new Promise<void>((resolve) => {
        // setTimeout fires at once past 2^31-1 ms; --watch is bounded far below, this is a guard.
        const delay = Math.min(2_147_483_647, Math.max(0, started + intervalMs - Date.now()));
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    removeHandlers();
    restore();
  }
}

/** xterm's alternate screen (what full-screen programs use), and home + clear for each redraw. */
const ALT_SCREEN_ON = "\u001b[?1049h";
const ALT_SCREEN_OFF = "\u001b[?1049l";
const HOME_AND_CLEAR = "\u001b[H\u001b[2J";

export interface WatchScreen {
  /** Shows `text` from the top: as much as the terminal holds, never scrolled to its end. */
  draw(text: string): void;
  /** Back to the normal screen, as it was before the watch; safe to call more than once. */
  close(): void;
}

/**
 * --watch on a terminal: the report is drawn on the alternate screen, so refreshes leave no copy
 * in the scrollback and the shell's screen comes back when the watch ends. Nothing else about the
 * terminal changes (the cursor stays visible). Closed by the watch loop on its end and on signals;
 * the exit hook covers an error that ends the process on the way.
 */
export function openWatchScreen(out: CliIo["stdout"] & OutputSize): WatchScreen {
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    process.off("exit", close);
    out.write(ALT_SCREEN_OFF);
  };
  process.on("exit", close);
  out.write(ALT_SCREEN_ON);
  return {
    draw(text) {
      if (!open) return;
      const rows = out.rows && out.rows > 0 ? out.rows : 24;
      const columns = out.columns && out.columns > 0 ? out.columns : terminalWidth(out);
      out.write(HOME_AND_CLEAR + screenTop(text, rows, columns));
    },
    close,
  };
}
