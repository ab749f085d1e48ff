/**
 * The report's monitoring flags (history, alerts, webhook, watch) and the watch loop. The report
 * command stays in report.ts; this file turns flags into a Monitor and repeats a run on an
 * interval until SIGINT or SIGTERM.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import type { LoadedConfig } from "../config/index.js";
import { usdToCents } from "../monitor/alerts.js";
import { Monitor } from "../monitor/monitor.js";
import { defaultStateDir } from "../monitor/paths.js";
import { type CliIo, warn } from "./context.js";
import { parseDuration, positiveNumber } from "./options.js";

export interface MonitorFlags {
  stateDir?: string;
  history: boolean;
  historyRetention: number;
  alertLow?: number;
  alertDrop?: number;
  dropWindow?: number;
  renotify: number | null;
  notify?: string;
  watch?: number;
}

const usdAmount = (value: string): number => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError("--alert-low takes a USD amount such as 100 or 250.50.");
  }
  return usdToCents(value.trim());
};

const percent = (value: string): number => {
  const n = Number(value.replace(/%$/, ""));
  if (!Number.isFinite(n) || n <= 0 || n > 100) {
    throw new InvalidArgumentError("--alert-drop takes a percentage above 0 and up to 100.");
  }
  return n;
};

/** A duration, or `never`/`0` for no re-notification. */
const renotifyDuration = (value: string): number | null =>
  /^(never|off|0)$/i.test(value.trim()) ? null : parseDuration("--renotify")(value);

const webhookUrl = (value: string): string => {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value;
  } catch {}
  throw new InvalidArgumentError("--notify takes an http(s) URL.");
};

export function addMonitorFlags(command: Command): Command {
  return command
    .option(
      "--state-dir <dir>",
      "history database directory (default $XDG_STATE_HOME/show-user-balances)",
    )
    .option("--no-history", "neither record this run nor evaluate alerts")
    .addOption(
      new Option("--history-retention <duration>", "history older than this is deleted")
        .argParser(parseDuration("--history-retention"))
        .default(90 * 86_400_000, "90d"),
    )
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
        "also measure drops against the highest figure within this window (e.g. 24h)",
      ).argParser(parseDuration("--drop-window")),
    )
    .addOption(
      new Option("--renotify <duration>", "repeat an alert that still holds after this long")
        .argParser(renotifyDuration)
        .default(86_400_000, "24h; never: only when it starts"),
    )
    .addOption(
      new Option("--notify <url>", "POST fired alerts as JSON to this webhook").argParser(
        webhookUrl,
      ),
    )
    .option(
      "--watch <seconds>",
      "refresh every <seconds> until Ctrl-C (with --json: one JSON document per line)",
      positiveNumber("--watch"),
    );
}

/** A usage mistake in the monitoring flags, or null. */
export function monitorUsageError(flags: MonitorFlags): string | null {
  if (!flags.history && (flags.alertLow !== undefined || flags.alertDrop !== undefined)) {
    return "--no-history turns alerts off (they compare against the history); drop one of them";
  }
  if (!flags.history && flags.notify)
    return "--no-history turns alerts off, so --notify would never send";
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
    renotifyMs: flags.renotify,
    ...(flags.notify ? { notifyUrl: flags.notify } : {}),
    onWarning: (message) => warn(io, `warning: ${message}`),
  });
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Runs `iteration` every `intervalMs` (start to start) until SIGINT or SIGTERM. A signal lets the
 * iteration in progress finish its output, so no line is left half-written, then the loop ends;
 * a second signal ends the process at once with the signal's default behaviour.
 */
export async function watchLoop(intervalMs: number, iteration: () => Promise<void>): Promise<void> {
  let stopped = false;
  let wake: (() => void) | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) {
      removeHandlers();
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
      await iteration();
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, started + intervalMs - Date.now()));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    removeHandlers();
  }
}

/** Clear the screen and move home: a watch on a terminal redraws in place. */
export const REDRAW = "\u001b[H\u001b[2J";
