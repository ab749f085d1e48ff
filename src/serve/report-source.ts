import type { LoadedConfig } from "../config/index.js";
import type { Report } from "../report/model.js";
import { type RunOptions, runReport } from "../run.js";

/**
 * The dashboard's one way to a report: every request asks here, and requests that arrive while a
 * run is in flight share it (the promise is cached, not just the value). Each run goes through
 * `runReport` with the CLI's cache directory and policy, so fresh entries are served from disk
 * and the cache's file locks make one fetch per account per TTL across this server, other
 * servers and cron runs of the CLI.
 */
export class ReportSource {
  private inFlight: Promise<Report> | null = null;

  constructor(
    private readonly config: LoadedConfig,
    private readonly options: RunOptions,
    private readonly run: typeof runReport = runReport,
  ) {}

  report(): Promise<Report> {
    if (!this.inFlight) {
      this.inFlight = this.run(this.config, this.options).finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  /** Resolves when the current run, if any, is over (for a graceful shutdown). */
  async settled(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }
}
