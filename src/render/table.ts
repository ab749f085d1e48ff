import { type Cents, formatUsd } from "../money.js";
import type { BrokerRow, Report, ReportAccount } from "../report/model.js";
import { formatAge, formatGenerated, rowState, STATUS_LABELS } from "./labels.js";
import { safeText } from "./sanitize.js";
import { type Palette, PLAIN } from "./style.js";
import { displayWidth, wrapWords } from "./width.js";

/** The original report's rules are 80 columns; a narrower terminal shortens them. */
const RULE_WIDTH = 80;
/** A note with less room than this beside its amount goes on the lines below the row. */
const MIN_NOTE_WIDTH = 24;

export interface TableOptions {
  /** Colours (see loadPalette); plain text by default. */
  palette?: Palette;
  /** Title of the platform section, e.g. the platform's name from platform.json. */
  platformName?: string;
  /**
   * Terminal columns to fit: rules shrink to it, long notes and titles wrap under their own
   * column. Unbounded by default (80-column rules, notes on one line).
   */
  width?: number;
}

/** What follows an amount, and its colour: why a row is not a plain live figure. */
export function rowNote(row: BrokerRow): { text: string; paint: keyof Palette | null } {
  const state = rowState(row);
  if (state === "disabled") return { text: "○ disabled", paint: "dim" };
  if (state === "no_credentials") return { text: "○ no credentials", paint: "yellow" };
  const age = row.ageSeconds === null ? "" : ` ${formatAge(row.ageSeconds)} ago`;
  const reason = `${STATUS_LABELS[state]}: ${safeText(row.message ?? "")}`.trimEnd();
  if (row.source === "stale") return { text: `⚠ stale${age}: ${reason}`, paint: "red" };
  if (state !== "ok") return { text: `✗ ${reason}`, paint: "red" };
  const parts: string[] = [];
  if (row.duplicateOf) parts.push(`ⓘ same key as ${safeText(row.duplicateOf)}: counted there`);
  if (row.source === "cached") parts.push(`(cached${age})`);
  if (row.message) parts.push(`ⓘ ${safeText(row.message)}`);
  // One colour per note, so a wrapped note is painted line by line: yellow when it says why.
  const why = Boolean(row.duplicateOf || row.message);
  return { text: parts.join(" "), paint: parts.length ? (why ? "yellow" : "dim") : null };
}

/**
 * The original system's report: title block, PLATFORM ACCOUNT, USER ACCOUNTS, SUMMARY. It is a
 * fixed layout with section rules rather than a grid, so it is padded by hand; amounts are
 * right-aligned in one column through the whole report so the cents line up.
 */
export function renderTable(report: Report, options: TableOptions = {}): string {
  const c = options.palette ?? PLAIN;
  const width = options.width ?? Number.POSITIVE_INFINITY;
  const ruleWidth = Math.min(RULE_WIDTH, width);
  const heavy = "=".repeat(ruleWidth);
  const light = "-".repeat(ruleWidth);
  const userLight = `   ${"-".repeat(ruleWidth - 4)}`;
  const accounts = [...(report.platform ? [report.platform] : []), ...report.users];
  const amounts = [
    ...accounts.flatMap((a) => [a.totalCents, ...a.rows.map((r) => r.usdCents)]),
    report.summary.totalUserCapitalCents,
  ].map(amountText);
  const amountWidth = Math.max(...amounts.map((a) => a.length));
  const labels = accounts.flatMap((a) => a.rows.map((r) => r.broker.length));
  const labelWidth = Math.max(17, ...labels.map((n) => n + 2));
  // Where the amounts end: the same column all through, moved left only when the terminal is narrower.
  const amountEnd = Math.min(labelWidth + 7 + amountWidth, width);
  /** Text wrapped to the width, continuation lines indented by `indent`, each line painted. */
  const para = (text: string, indent: number, paint = (line: string) => line) =>
    wrapWords(text, width, width - indent)
      .map((part, i) => (i === 0 ? "" : " ".repeat(indent)) + paint(part))
      .join("\n");
  const line = (
    indent: number,
    label: string,
    cents: Cents | null,
    note: { text: string; paint: keyof Palette | null } = { text: "", paint: null },
    emphasis = false,
  ) => {
    const amount = amountText(cents).padStart(amountWidth);
    const pad = Math.max(label.length + 1, amountEnd - amountWidth - indent);
    const oneLine = `${" ".repeat(indent)}${label.padEnd(pad)}${amount}`;
    // Too narrow for label and amount together: the amount goes below, still in its column.
    const text =
      displayWidth(oneLine) <= width
        ? oneLine
        : `${" ".repeat(indent)}${label}\n${amount.padStart(amountEnd)}`;
    const body = emphasis ? c.bold(text) : text;
    if (!note.text) return body;
    const style = note.paint;
    const paint = (part: string) => (style ? c[style](part) : part);
    // A wrapped note continues under its own first word, past its symbol (✗ ⚠ ○ ⓘ, escaped: the
    // bundle stays ASCII, which cli.ts then reads without decoding UTF-8).
    const hang = /^[\u2717\u26a0\u25cb\u24d8] /.test(note.text) ? 2 : 0;
    const column = displayWidth(text.slice(text.lastIndexOf("\n") + 1)) + 2;
    const beside = width - column >= MIN_NOTE_WIDTH;
    const start = beside ? column : indent + 3;
    const [first = "", ...rest] = wrapWords(note.text, width - start, width - start - hang);
    const more = rest.map((part) => " ".repeat(start + hang) + paint(part));
    const head = beside ? [`${body}  ${paint(first)}`] : [body, " ".repeat(start) + paint(first)];
    return [...head, ...more].join("\n");
  };
  const brokerLines = (account: ReportAccount, indent: number) =>
    account.rows.map((row) => line(indent, row.broker.toUpperCase(), row.usdCents, rowNote(row)));

  const out: string[] = [
    heavy,
    c.bold("USER ACCOUNT BALANCES"),
    heavy,
    para(`Generated: ${formatGenerated(report.generatedAt)}`, 11),
    heavy,
    "",
  ];
  if (report.platform) {
    const name = safeText(report.platform.name ?? options.platformName ?? "Platform");
    out.push(para(`🔷 PLATFORM ACCOUNT (${name})`, 3, c.bold), light);
    out.push(...brokerLines(report.platform, 3));
    if (report.platform.rows.length === 0) out.push(c.dim("   (no brokers configured)"));
    out.push(light, line(3, "TOTAL", report.platform.totalCents, leftOut(report.platform), true));
    out.push("");
  }
  out.push(c.bold("🔷 USER ACCOUNTS"), light);
  for (const user of report.users) {
    const who = safeText(
      user.name && user.name !== user.id ? `${user.id} (${user.name})` : user.id,
    );
    // The name wraps under itself, after "   👤 User: " (12 columns).
    const names = wrapWords(who, width - 12).map((part) => c.bold(part));
    if (!user.enabled) {
      const last = names.length - 1;
      const fits = 12 + displayWidth(names[last] ?? "") + 11 <= width;
      if (fits) names[last] = `${names[last]} ${c.dim("○ disabled")}`;
      else names.push(c.dim("○ disabled"));
    }
    const title = names.map((part, i) => (i === 0 ? "   👤 User: " : " ".repeat(12)) + part);
    out.push("", ...title, userLight);
    out.push(...brokerLines(user, 6));
    if (user.rows.length === 0) out.push(c.dim("      (no brokers configured)"));
    out.push(userLight, line(6, "SUBTOTAL", user.totalCents, leftOut(user), true));
  }
  const s = report.summary;
  out.push(
    "",
    heavy,
    c.bold("SUMMARY"),
    heavy,
    `   Total Users:           ${s.userCount}`,
    para(`   Total User Capital:    ${formatUsd(s.totalUserCapitalCents)}`, 26),
    para(`   Average per User:      ${formatUsd(s.averagePerUserCents)}`, 26),
  );
  if (s.accountsUnknown > 0) {
    const n = s.accountsUnknown;
    const users = s.usersUnknown;
    out.push(
      para(
        `   Not included:          ${n} broker account${n === 1 ? "" : "s"} with no figure` +
          (users > 0 ? ` (the average leaves out ${users} user${users === 1 ? "" : "s"})` : ""),
        26,
        c.red,
      ),
    );
  }
  if (s.duplicateCents > 0n) {
    out.push(
      para(
        `   Counted once:          ${formatUsd(s.duplicateCents)} on keys shared by accounts`,
        26,
      ),
    );
  }
  out.push(heavy);
  if (report.failedCount > 0) {
    const n = report.failedCount;
    out.push(
      para(
        `⚠ ${n} broker account${n === 1 ? "" : "s"} did not answer: the totals are partial.`,
        2,
        c.red,
      ),
    );
  }
  return `${out.join("\n")}\n`;
}

/** An amount, or "—" when the figure is unknown. */
function amountText(cents: Cents | null): string {
  return cents === null ? "—" : formatUsd(cents);
}

/** After a total: how many figures it leaves out. */
function leftOut(account: ReportAccount): { text: string; paint: null } {
  const n = account.unknownCount;
  const text = n > 0 ? `(${n} broker${n === 1 ? "" : "s"} unknown: not included)` : "";
  return { text, paint: null };
}
