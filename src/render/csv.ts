// biome-ignore-all lint/suspicious/noControlCharactersInRegex: dropping control characters is part of this module's job
/**
 * CSV as RFC 4180 writes it: CRLF line ends, fields quoted when they hold a comma, quote, CR or
 * LF, quotes doubled. Cells that a spreadsheet would run as a formula (starting with `=`, `+`,
 * `-`, `@`, tab or CR; names come from config files) are neutralised with a leading `'`, the
 * OWASP recommendation, unless they are plain numbers (a negative amount stays a number).
 * Control characters other than tab, CR and LF (escape sequences, a terminal's `cat file.csv`)
 * and the BiDi overrides are dropped; line breaks inside a field are kept, quoted.
 */
import { centsToDecimal } from "../money.js";
import type { BrokerRow, Report, ReportAccount } from "../report/model.js";
import { rowState } from "./labels.js";

export type CsvCell = string | number | bigint | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  let text = String(value).replace(CONTROLS, "");
  if (FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header row and data rows as one CSV document. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(",")}\r\n`).join("");
}

function accountsOf(report: Report): ReportAccount[] {
  return [...(report.platform ? [report.platform] : []), ...report.users];
}

const accountId = (account: ReportAccount) =>
  account.kind === "platform" ? "platform" : account.id;

/** Cents as a plain decimal ("6913.46"); empty when the figure is unknown. */
const usdCell = (cents: bigint | null) => (cents === null ? null : centsToDecimal(cents));

export const REPORT_CSV_HEADER = [
  "user_id",
  "name",
  "broker",
  "usd",
  "state",
  "source",
  "age_seconds",
  "fetched_at",
  "duplicate_of",
] as const;

/**
 * The report as CSV, one line per account and broker (`--format csv`): the platform's rows with
 * user_id `platform`, `usd` empty when unknown. `duplicate_of` names the account a row's key is
 * counted under: summing `usd` over the rows where it is empty gives the report's total.
 */
export function renderReportCsv(report: Report): string {
  const rows = accountsOf(report).flatMap((account) =>
    account.rows.map((row: BrokerRow) => [
      accountId(account),
      account.name,
      row.broker,
      usdCell(row.usdCents),
      rowState(row),
      row.source,
      row.ageSeconds === null ? null : Math.round(row.ageSeconds),
      row.fetchedAt,
      row.duplicateOf,
    ]),
  );
  return toCsv(REPORT_CSV_HEADER, rows);
}

export const ASSETS_CSV_HEADER = [
  "account",
  "broker",
  "asset",
  "free",
  "used",
  "total",
  "usd",
] as const;

/** Every asset held, one line per account, broker and asset (`--format csv --assets`). */
export function renderAssetsCsv(report: Report): string {
  const rows = accountsOf(report).flatMap((account) =>
    account.rows.flatMap((row) =>
      Object.entries(row.assets).map(([code, asset]) => [
        accountId(account),
        row.broker,
        code,
        asset.free,
        asset.used,
        asset.total,
        usdCell(asset.usdCents),
      ]),
    ),
  );
  return toCsv(ASSETS_CSV_HEADER, rows);
}
