/**
 * CSV as RFC 4180 writes it: CRLF line ends, fields quoted when they hold a comma, quote, CR or
 * LF, quotes doubled. Cells that a spreadsheet would run as a formula (starting with `=`, `+`,
 * `-`, `@`, tab or CR; names come from config files) are neutralised with a leading `'`, the
 * OWASP recommendation, unless they are plain numbers (a negative amount stays a number).
 */
export type CsvCell = string | number | bigint | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header row and data rows as one CSV document. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(",")}\r\n`).join("");
}
