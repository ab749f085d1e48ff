import Table from "cli-table3";
import { formatUsd } from "../money.js";
import { type BrokerRow, isFailed, type Report, type ReportAccount } from "../report/model.js";
import { formatAge, rowState, STATUS_LABELS } from "./labels.js";
import { safeText } from "./sanitize.js";
import { type Palette, PLAIN } from "./style.js";

export interface StatusOptions {
  /** Colours (see loadPalette); plain text by default. */
  palette?: Palette;
  /** Per account and broker: which credential variables were tried and which was used. */
  credentials?: (account: ReportAccount, row: BrokerRow) => string;
}

function grid(head: string[], c: Palette): Table.Table {
  // cli-table3 styles its own head and borders; only when the caller asked for colour.
  const color = c !== PLAIN;
  return new Table({
    head,
    style: { head: color ? ["bold"] : [], border: color ? ["grey"] : [], compact: true },
  });
}

/**
 * The detailed connection view (the original's get_all_balances_with_status): one line per
 * account and broker with its state, where the figure came from, when, and why it failed.
 */
export function renderStatus(report: Report, options: StatusOptions = {}): string {
  const c = options.palette ?? PLAIN;
  const head = ["Account", "Broker", "State", "Balance", "Source", "Fetched", "Detail"];
  if (options.credentials) head.push("Credentials");
  const table = grid(head, c);
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
      const cells = [
        safeText(account.kind === "platform" ? "platform" : account.id),
        // Which environment answered, when it is not the live one (Alpaca paper, testnets).
        safeText(row.environment === "live" ? row.broker : `${row.broker} (${row.environment})`),
        paint(STATUS_LABELS[state]),
        row.usdCents === null ? "—" : formatUsd(row.usdCents),
        `${row.source}${age}`,
        row.fetchedAt === null ? "" : row.fetchedAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
        detail,
      ];
      if (options.credentials) cells.push(safeText(options.credentials(account, row)));
      table.push(cells);
    }
  }
  return `${table.toString()}\n`;
}

/**
 * Per-asset breakdown (--assets): one table of every asset held, with its USD value ("—" for an
 * asset a cash valuation does not count).
 */
export function renderAssets(report: Report, options: { palette?: Palette } = {}): string {
  const table = grid(
    ["Account", "Broker", "Asset", "Free", "Used", "Total", "USD"],
    options.palette ?? PLAIN,
  );
  const accounts = [...(report.platform ? [report.platform] : []), ...report.users];
  for (const account of accounts) {
    for (const row of account.rows) {
      for (const [code, asset] of Object.entries(row.assets)) {
        table.push([
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
  return `${table.toString()}\n`;
}
