import { formatUsd } from "../money.js";
import { type BrokerRow, isFailed, type Report, type ReportAccount } from "../report/model.js";
import { fitGrid } from "./grid.js";
import { formatAge, rowState, STATUS_LABELS } from "./labels.js";
import { safeText } from "./sanitize.js";
import { type Palette, PLAIN } from "./style.js";

export interface StatusOptions {
  /** Colours (see loadPalette); plain text by default. */
  palette?: Palette;
  /** Per account and broker: which credential variables were tried and which was used. */
  credentials?: (account: ReportAccount, row: BrokerRow) => string;
  /** Terminal columns to fit (see fitGrid); one unbounded grid when not given. */
  width?: number;
}

/**
 * The detailed connection view (the original's get_all_balances_with_status): one line per
 * account and broker with its state, where the figure came from, when, and why it failed. On a
 * narrower terminal the source, time, credentials and detail share one wrapped column, and below
 * that each broker account is a short record.
 */
export function renderStatus(report: Report, options: StatusOptions = {}): string {
  const c = options.palette ?? PLAIN;
  const head = ["Account", "Broker", "State", "Balance", "Source", "Fetched", "Detail"];
  if (options.credentials) head.push("Credentials");
  const full: string[][] = [];
  const compact: string[][] = [];
  const accounts = [...(report.platform ? [report.platform] : []), ...report.users];
  for (const account of accounts) {
    for (const row of account.rows) {
      const state = rowState(row);
      const paint =
        state === "ok"
          ? c.green
          : state === "no_credentials" || state === "disabled"
            ? c.yellow
            : c.red;
      const age = row.ageSeconds === null ? "" : ` (${formatAge(row.ageSeconds)})`;
      const message = row.message === null ? "" : safeText(row.message);
      // An unknown figure is never shown as $0.00: a dash, and for a failed fetch the detail
      // says the totals leave it out and why (no credentials and disabled say so as their state).
      const detail =
        row.usdCents === null && isFailed(row)
          ? `no figure (not in the totals)${message ? `: ${message}` : ""}`
          : message;
      const source = `${row.source}${age}`;
      const fetched =
        row.fetchedAt === null ? "" : row.fetchedAt.replace("T", " ").replace(/\.\d+Z$/, "Z");
      const credentials = options.credentials ? safeText(options.credentials(account, row)) : null;
      const key = [
        safeText(account.kind === "platform" ? "platform" : account.id),
        // Which environment answered, when it is not the live one (Alpaca paper, testnets).
        safeText(row.environment === "live" ? row.broker : `${row.broker} (${row.environment})`),
        paint(STATUS_LABELS[state]),
        row.usdCents === null ? "—" : formatUsd(row.usdCents),
      ];
      full.push([...key, source, fetched, detail, ...(credentials === null ? [] : [credentials])]);
      const lines = [
        fetched ? `${source}, fetched ${fetched}` : source,
        credentials === null ? "" : `credentials: ${credentials}`,
        detail,
      ];
      compact.push([...key, lines.filter(Boolean).join("\n")]);
    }
  }
  const text = fitGrid(
    [
      { head, rows: full, wrap: 6 },
      { head: [...head.slice(0, 4), "Detail"], rows: compact, wrap: 4, wrapIndent: 2 },
    ],
    { palette: c, width: options.width, title: [0, 1, 2, 3] },
  );
  return `${text}\n`;
}

/**
 * Per-asset breakdown (--assets): one table of every asset held, with its USD value ("—" for an
 * asset a cash valuation does not count). Fits `width` as renderStatus does.
 */
export function renderAssets(
  report: Report,
  options: { palette?: Palette; width?: number } = {},
): string {
  const rows: string[][] = [];
  const accounts = [...(report.platform ? [report.platform] : []), ...report.users];
  for (const account of accounts) {
    for (const row of account.rows) {
      for (const [code, asset] of Object.entries(row.assets)) {
        rows.push([
          safeText(account.kind === "platform" ? "platform" : account.id),
          safeText(row.broker),
          safeText(code),
          asset.free,
          asset.used,
          asset.total,
          // "unpriced" exactly where the JSON lists it; a cash valuation leaves the rest blank.
          asset.usdCents !== null
            ? formatUsd(asset.usdCents)
            : row.unpriced.includes(code)
              ? "unpriced"
              : "—",
        ]);
      }
    }
  }
  const head = ["Account", "Broker", "Asset", "Free", "Used", "Total", "USD"];
  // Narrower: free and used give way to the total (JSON and CSV keep all three).
  const short = [0, 1, 2, 5, 6];
  const pick = (cells: string[]) => short.map((i) => cells[i] ?? "");
  const text = fitGrid(
    [
      { head, rows },
      { head: pick(head), rows: rows.map(pick) },
    ],
    { palette: options.palette, width: options.width, title: [0, 1, 2] },
  );
  return `${text}\n`;
}
