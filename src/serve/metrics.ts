/**
 * `GET /metrics`: the dashboard's figures in the Prometheus text format, through prom-client.
 *
 * A scrape never fetches: it reads the last report a refresh built (handed over by
 * `ReportSource.subscribe`), so Prometheus scraping every 15 s costs no exchange request. The
 * counters advance from those same reports. prom-client is imported on the first scrape only, so
 * neither a report run nor a `serve` that is never scraped loads it.
 *
 * Dollar gauges are float64 in Prometheus whatever the exporter does: figures stay exact cents
 * until the sample is written (`Number(centsToDecimal(cents))`). An unknown figure has no sample
 * at all, never a 0.
 */
import { BalanceStatusSchema } from "../brokers/schemas.js";
import type { BalanceStatus } from "../brokers/types.js";
import { importModule } from "../import-module.js";
import { type Cents, centsToDecimal } from "../money.js";
import { rowState } from "../render/labels.js";
import { safeText } from "../render/sanitize.js";
import { isFailed, type Report, type ReportAccount } from "../report/model.js";

/** Every value `broker_state`'s `state` label takes: a balance status, or `disabled`. */
export const BROKER_STATES: readonly (BalanceStatus | "disabled")[] = [
  ...BalanceStatusSchema.options,
  "disabled",
];
type PromClient = typeof import("prom-client");
let promClient: Promise<PromClient> | undefined;
const loadPromClient = () => {
  promClient ??= importModule<PromClient>("prom-client");
  return promClient;
};

const dollars = (cents: Cents) => Number(centsToDecimal(cents));
const accountLabel = (account: ReportAccount) =>
  safeText(account.kind === "platform" ? "platform" : account.id);

function accountsOf(report: Report): ReportAccount[] {
  return [...(report.platform ? [report.platform] : []), ...report.users];
}

/**
 * What the exporter keeps between scrapes: the last report and the counters. Pure bookkeeping;
 * `render` turns it into the text format.
 */
export class DashboardMetrics {
  private report: Report | null = null;
  private refreshedAtMs: number | null = null;
  private readonly requests = new Map<string, number>();
  private readonly errors = new Map<string, { broker: string; state: string; count: number }>();

  /**
   * Takes a refreshed report: it becomes what the gauges show, and its fetches advance the
   * counters. Requests count only rows fetched by this refresh (live, or stale after a failed
   * fetch); a cached row carries the request count of the run that stored it. A row that shares
   * another account's credential made no fetch of its own.
   */
  observe(report: Report, atMs: number = Date.now()): void {
    this.report = report;
    this.refreshedAtMs = atMs;
    for (const account of accountsOf(report)) {
      for (const row of account.rows) {
        if (!row.enabled || row.duplicateOf !== undefined) continue;
        const broker = safeText(row.broker);
        const fetched = row.source === "live" || row.source === "stale";
        this.requests.set(broker, (this.requests.get(broker) ?? 0) + (fetched ? row.requests : 0));
        if (isFailed(row)) {
          const key = `${broker}\u0000${row.status}`;
          const entry = this.errors.get(key) ?? { broker, state: row.status, count: 0 };
          entry.count += 1;
          this.errors.set(key, entry);
        }
      }
    }
  }

  /** The exposition for a scrape at `nowMs`, with prom-client's content type. */
  async render(nowMs: number = Date.now()): Promise<{ contentType: string; body: string }> {
    const prom = await loadPromClient();
    const registry = new prom.Registry();
    const registers = [registry];
    const report = this.report;

    const balance = new prom.Gauge({
      name: "balance_usd",
      help: "USD value of one broker account at the last refresh (absent when unknown)",
      labelNames: ["account", "kind", "broker"],
      registers,
    });
    const accountTotal = new prom.Gauge({
      name: "account_total_usd",
      help: "USD total of an enabled account, present only when every one of its figures is known",
      labelNames: ["account", "kind"],
      registers,
    });
    const state = new prom.Gauge({
      name: "broker_state",
      help: "1 for the broker account's current state, 0 for every other state",
      labelNames: ["account", "broker", "state"],
      registers,
    });
    const age = new prom.Gauge({
      name: "balance_age_seconds",
      help: "Seconds since the shown figure was fetched from the exchange",
      labelNames: ["account", "broker"],
      registers,
    });
    const requests = new prom.Counter({
      name: "fetch_requests_total",
      help: "HTTP requests to the exchanges made by this server's refreshes",
      labelNames: ["broker"],
      registers,
    });
    const errors = new prom.Counter({
      name: "fetch_errors_total",
      help: "Broker account fetches that failed in this server's refreshes, by resulting state",
      labelNames: ["broker", "state"],
      registers,
    });
    for (const [broker, count] of this.requests) requests.inc({ broker }, count);
    for (const e of this.errors.values()) errors.inc({ broker: e.broker, state: e.state }, e.count);

    // Label-less gauges start at 0 in prom-client, so an unknown one is not created at all.
    const single = (name: string, help: string, value: number) => {
      new prom.Gauge({ name, help, registers }).set(value);
    };

    if (report) {
      for (const account of accountsOf(report)) {
        const who = accountLabel(account);
        for (const row of account.rows) {
          const broker = safeText(row.broker);
          const current = rowState(row);
          for (const s of BROKER_STATES) {
            state.set({ account: who, broker, state: s }, s === current ? 1 : 0);
          }
          if (!row.enabled || row.usdCents === null) continue;
          balance.set({ account: who, kind: account.kind, broker }, dollars(row.usdCents));
          if (row.fetchedAt !== null) {
            const fetched = Date.parse(row.fetchedAt);
            if (Number.isFinite(fetched)) {
              age.set({ account: who, broker }, Math.max(0, Math.round((nowMs - fetched) / 1000)));
            }
          }
        }
        if (account.enabled && account.unknownCount === 0) {
          accountTotal.set({ account: who, kind: account.kind }, dollars(account.totalCents));
        }
      }
      const s = report.summary;
      if (report.platform?.enabled && report.platform.unknownCount === 0) {
        single(
          "platform_total_usd",
          "USD total of the platform account (absent when a figure is unknown)",
          dollars(s.platformTotalCents),
        );
      }
      if (s.usersUnknown === 0) {
        single(
          "user_capital_usd",
          "USD total of every enabled user (absent when a figure is unknown)",
          dollars(s.totalUserCapitalCents),
        );
      }
    }
    if (this.refreshedAtMs !== null) {
      single(
        "last_refresh_timestamp_seconds",
        "Unix time of the refresh the figures come from",
        this.refreshedAtMs / 1000,
      );
    }
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
}
