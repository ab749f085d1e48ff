import type { LoadedConfig } from "../config/index.js";
import { isFailed, type Report } from "../report/model.js";
import { type RunOptions, runReport } from "../run.js";

/** What the dashboard serves: the latest report it could build, and how the last refresh went. */
export interface Snapshot {
  /** The last report built; null before the first one succeeded. */
  report: Report | null;
  /** When the last refresh ended (ISO), null before the first. */
  refreshedAt: string | null;
  /**
   * Why the last refresh produced no report (an internal error, not a broker failure: those are
   * rows of the report); null when it succeeded. The report is then the last good one.
   */
  error: string | null;
}

/** A failing row, as /healthz lists it. */
export interface FailingRow {
  account: string;
  broker: string;
  state: string;
  message: string | null;
}

export function failingRows(report: Report | null): FailingRow[] {
  if (!report) return [];
  const accounts = [...(report.platform ? [report.platform] : []), ...report.users];
  return accounts.flatMap((account) =>
    account.rows.filter(isFailed).map((row) => ({
      account: account.kind === "platform" ? "platform" : account.id,
      broker: row.broker,
      state: row.status,
      message: row.message,
    })),
  );
}

/**
 * The dashboard's one way to a report: every request asks here, and requests that arrive while a
 * run is in flight share it (the promise is cached, not just the value). Each run goes through
 * `runReport` with the CLI's cache directory and policy, so fresh entries are served from disk
 * and the cache's file locks make one fetch per account per TTL across this server, other
 * servers and cron runs of the CLI. A run that throws never takes the API down: the last good
 * report is served with the error beside it.
 */
export class ReportSource {
  private inFlight: Promise<Snapshot> | null = null;
  private last: Snapshot = { report: null, refreshedAt: null, error: null };
  private readonly listeners: Array<(report: Report) => void> = [];

  constructor(
    private readonly config: LoadedConfig,
    private readonly options: RunOptions,
    private readonly run: typeof runReport = runReport,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  /** A fresh snapshot (sharing a run in flight). Never rejects. */
  snapshot(): Promise<Snapshot> {
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /**
   * Calls `listener` with every report a refresh builds (history recording, metrics). A listener
   * that throws is reported through onError and never fails the refresh.
   */
  subscribe(listener: (report: Report) => void): void {
    this.listeners.push(listener);
  }

  /** The last snapshot, without starting a run (for /healthz). */
  latest(): Snapshot {
    return this.last;
  }

  private async refresh(): Promise<Snapshot> {
    try {
      const report = await this.run(this.config, this.options);
      this.last = { report, refreshedAt: new Date().toISOString(), error: null };
      for (const listener of this.listeners) {
        try {
          listener(report);
        } catch (error) {
          this.onError(`after refresh: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.onError(`refresh failed: ${message}`);
      this.last = {
        report: this.last.report,
        refreshedAt: new Date().toISOString(),
        error: `internal error while refreshing: ${message}`,
      };
    }
    return this.last;
  }

  /** Resolves when the current run, if any, is over, or after `waitMs` (for a bounded shutdown). */
  async settled(waitMs = Number.POSITIVE_INFINITY): Promise<void> {
    if (!this.inFlight) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      if (Number.isFinite(waitMs)) timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([this.inFlight, timeout]);
    clearTimeout(timer);
  }
}
