/**
 * History and alerts for report runs: records what a run fetched, evaluates the thresholds on
 * every figure the run shows against the history in the same transaction, and posts fired
 * alerts to the webhook.
 *
 * Recording is the fetcher's job: the process that fetched a figure (a cron run, a watch loop,
 * the dashboard's server) records it, once; a figure served from the cache was recorded when it
 * was fetched. Evaluation is the job of whoever shows it with thresholds set: a cron run whose
 * figures all come from a cache another process keeps fresh still alerts, and the alert state,
 * kept in the same transaction, makes each transition fire once however many processes see it.
 *
 * The database is opened only when a run has something to record (a live or failed fetch) or
 * thresholds to evaluate: a plain run served wholly from the cache neither loads the SQLite driver
 * nor touches the file.
 */
import { join } from "node:path";
import { configAccounts } from "../config/accounts.js";
import type { LoadedConfig } from "../config/index.js";
import { formatUsd } from "../money.js";
import { alertToJson } from "../render/alerts.js";
import { stringifyJson } from "../render/json-text.js";
import type { Report } from "../report/model.js";
import {
  type Alert,
  evaluateAlerts,
  figuresShown,
  hasThresholds,
  type Observation,
  samplesFromReport,
  type ThresholdSources,
  type Thresholds,
  thresholdsFor,
} from "./alerts.js";
import { HISTORY_FILE, HistoryStore, historyError } from "./history.js";
import { postWebhook, redactUrl, type WebhookOptions } from "./notify.js";

export interface MonitorOptions {
  stateDir: string;
  /** false: neither record nor evaluate (--no-history). */
  history: boolean;
  /** Samples older than this are deleted on each recording run. */
  retentionMs: number;
  /** --alert-low / --alert-drop, for every broker figure without its own thresholds. */
  flags: Thresholds;
  /** Measure drops against the highest figure within this window too (--drop-window). */
  dropWindowMs?: number;
  /** Re-notify an alert that still holds after this long; null: never. */
  renotifyMs: number | null;
  notifyUrl?: string;
  webhook?: WebhookOptions;
  /** false: record only, never evaluate (the dashboard, which shows no alert). Default true. */
  evaluate?: boolean;
  /**
   * false when the report is limited to some brokers (--broker): its account totals are not
   * the accounts' totals, so they are neither recorded nor evaluated. Default true.
   */
  totals?: boolean;
  onWarning: (message: string) => void;
}

const historyFile = (dir: string) => join(dir, HISTORY_FILE);

export function thresholdSources(config: LoadedConfig, flags: Thresholds): ThresholdSources {
  const sources: ThresholdSources = { flags, brokers: new Map(), totals: new Map() };
  for (const account of configAccounts(config)) {
    if (account.alerts) sources.totals.set(`${account.kind}:${account.id}`, account.alerts);
    for (const broker of account.brokers) {
      if (broker.alerts) {
        sources.brokers.set(`${account.kind}:${account.id}:${broker.broker}`, broker.alerts);
      }
    }
  }
  return sources;
}

/** The webhook's JSON body. */
export function webhookPayload(alerts: readonly Alert[], at: Date) {
  const lines = alerts.map((a) => {
    const j = alertToJson(a);
    const who = `${j.user ?? "platform"} / ${j.broker ?? "total"}`;
    const current = formatUsd(a.currentCents);
    return a.type === "BALANCE_LOW"
      ? `${a.type} ${who}: ${current} below ${formatUsd(a.threshold)}`
      : `${a.type} ${who}: ${current}, ${j.change_pct}% from ${formatUsd(a.previousCents ?? 0n)}`;
  });
  return {
    source: "show-user-balances",
    timestamp: at.toISOString(),
    /** A one-line summary per alert, so chat webhooks (Slack, Mattermost) show something useful. */
    text: lines.join("\n"),
    alerts: alerts.map(alertToJson),
  };
}

export class Monitor {
  private store: HistoryStore | null = null;
  private readonly sources: ThresholdSources;
  /** Whether any threshold is set (flags or config): the report then carries `alerts`. */
  readonly alerting: boolean;

  constructor(
    config: LoadedConfig,
    private readonly options: MonitorOptions,
  ) {
    this.sources = thresholdSources(config, options.flags);
    this.alerting =
      options.history &&
      options.evaluate !== false &&
      (hasThresholds(options.flags) ||
        this.sources.brokers.size > 0 ||
        this.sources.totals.size > 0);
  }

  /**
   * Records the run's fetches and returns the alerts that fired on the figures it shows, live or
   * cached: [] when none, null when alerting is off. A history that cannot be used (corrupt file,
   * unwritable directory, no SQLite module) is a warning when only recording is lost; with
   * thresholds set it throws HistoryError, since alerts that silently stop are worse than a run
   * that fails (the caller still prints the report).
   */
  observe(report: Report): Alert[] | null {
    const none = this.alerting ? [] : null;
    if (!this.options.history) return none;
    const scope = { totals: this.options.totals !== false };
    const samples = samplesFromReport(report, scope);
    const shown = this.alerting
      ? figuresShown(report, scope).flatMap((figure) => {
          const thresholds = thresholdsFor(figure.key, this.sources);
          return hasThresholds(thresholds) ? [{ ...figure, thresholds }] : [];
        })
      : [];
    if (samples.length === 0 && shown.length === 0) return none;
    const now = report.generatedAt.getTime();
    try {
      this.store ??= HistoryStore.open(this.options.stateDir) as HistoryStore;
      const store = this.store;
      return store.transaction(() => {
        let alerts: Alert[] = [];
        if (this.alerting) {
          const observations: Observation[] = [];
          for (const figure of shown) {
            // A newer figure is already recorded (another process fetched since this one was
            // cached): this one is out of date and must neither fire nor clear anything.
            if (store.hasFigureAfter(figure.key, figure.at)) continue;
            // The figure itself may be recorded already (by whoever fetched it): compare with
            // what came before it.
            const previousCents = store.lastFigure(figure.key, figure.at);
            const windowHigh =
              this.options.dropWindowMs === undefined
                ? null
                : store.highestSince(figure.key, figure.at - this.options.dropWindowMs, figure.at);
            observations.push({
              key: figure.key,
              currentCents: figure.cents,
              previousCents,
              referenceCents:
                windowHigh === null || (previousCents !== null && previousCents > windowHigh)
                  ? previousCents
                  : windowHigh,
              thresholds: figure.thresholds,
            });
          }
          const evaluation = evaluateAlerts(observations, store.activeAlerts(), {
            now,
            renotifyMs: this.options.renotifyMs,
          });
          store.saveAlerts(evaluation.upsert, evaluation.clear);
          alerts = evaluation.alerts;
        }
        if (samples.length > 0) {
          store.record(samples);
          store.prune(now - this.options.retentionMs);
        }
        return this.alerting ? alerts : null;
      });
    } catch (error) {
      const failure = historyError(error, this.store?.file ?? historyFile(this.options.stateDir));
      if (this.alerting) throw failure;
      this.options.onWarning(`history not recorded: ${failure.message}`);
      return none;
    }
  }

  /**
   * Opens the history store ahead of observe(), while the run waits on the network: loading the
   * SQLite driver and opening the file was ~14 ms of a cold run's tail. A failure is left for
   * observe() to meet and report.
   */
  prepare(): void {
    if (!this.options.history || this.store) return;
    try {
      this.store = HistoryStore.open(this.options.stateDir);
    } catch {
      // observe() opens again and says why it cannot.
    }
  }

  /** Posts fired alerts to --notify; a failure is reported through onWarning, never thrown. */
  async notify(alerts: readonly Alert[] | null, at: Date): Promise<void> {
    const url = this.options.notifyUrl;
    if (!url || !alerts || alerts.length === 0) return;
    const result = await postWebhook(
      url,
      stringifyJson(webhookPayload(alerts, at), 0),
      this.options.webhook,
    );
    if (!result.ok) {
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
      this.options.onWarning(
        `webhook ${redactUrl(url)} failed after ${plural(result.attempts, "attempt")}: ` +
          `${result.error}; ${plural(alerts.length, "alert")} not delivered`,
      );
    }
  }

  close(): void {
    this.store?.close();
    this.store = null;
  }
}
