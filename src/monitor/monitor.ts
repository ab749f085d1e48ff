/**
 * History and alerts for report runs: records what a run fetched, evaluates the thresholds against
 * the history in the same transaction, and posts fired alerts to the webhook.
 *
 * The database is opened only when a run has something to record (a live or failed fetch): a run
 * served wholly from the cache neither loads better-sqlite3 nor touches the file. Its alerts were
 * evaluated by the run that fetched those figures.
 */
import { join } from "node:path";
import type { LoadedConfig } from "../config/index.js";
import { formatUsd } from "../money.js";
import { alertToJson } from "../render/alerts.js";
import { stringifyJson } from "../render/json-text.js";
import type { Report } from "../report/model.js";
import {
  type Alert,
  evaluateAlerts,
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
  onWarning: (message: string) => void;
}

const historyFile = (dir: string) => join(dir, HISTORY_FILE);

export function thresholdSources(config: LoadedConfig, flags: Thresholds): ThresholdSources {
  const sources: ThresholdSources = { flags, brokers: new Map(), totals: new Map() };
  for (const account of [...(config.platform ? [config.platform] : []), ...config.users]) {
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
      (hasThresholds(options.flags) ||
        this.sources.brokers.size > 0 ||
        this.sources.totals.size > 0);
  }

  /**
   * Records the run's fetches and returns the alerts that fired: [] when none, null when alerting
   * is off. A history that cannot be used (corrupt file, unwritable directory, no SQLite module)
   * is a warning when only recording is lost; with thresholds set it throws HistoryError, since
   * alerts that silently stop are worse than a run that fails (the caller still prints the report).
   */
  observe(report: Report): Alert[] | null {
    const none = this.alerting ? [] : null;
    if (!this.options.history) return none;
    const samples = samplesFromReport(report);
    if (samples.length === 0) return none;
    const now = report.generatedAt.getTime();
    try {
      this.store ??= HistoryStore.open(this.options.stateDir) as HistoryStore;
      const store = this.store;
      return store.transaction(() => {
        let alerts: Alert[] = [];
        if (this.alerting) {
          const observations: Observation[] = [];
          for (const sample of samples) {
            const thresholds = thresholdsFor(sample, this.sources);
            if (!hasThresholds(thresholds)) continue;
            const previousCents = store.lastFigure(sample);
            const windowHigh =
              this.options.dropWindowMs === undefined
                ? null
                : store.highestSince(sample, now - this.options.dropWindowMs);
            observations.push({
              key: { kind: sample.kind, account: sample.account, broker: sample.broker },
              currentCents: sample.cents,
              previousCents,
              referenceCents:
                windowHigh === null || (previousCents !== null && previousCents > windowHigh)
                  ? previousCents
                  : windowHigh,
              thresholds,
            });
          }
          const evaluation = evaluateAlerts(observations, store.activeAlerts(), {
            now,
            renotifyMs: this.options.renotifyMs,
          });
          store.saveAlerts(evaluation.upsert, evaluation.clear);
          alerts = evaluation.alerts;
        }
        store.record(samples);
        store.prune(now - this.options.retentionMs);
        return this.alerting ? alerts : null;
      });
    } catch (error) {
      const failure = historyError(error, this.store?.file ?? historyFile(this.options.stateDir));
      if (this.alerting) throw failure;
      this.options.onWarning(`history not recorded: ${failure.message}`);
      return none;
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
