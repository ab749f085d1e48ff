import { type Cents, formatUsd } from "../money.js";
import type { BrokerRow, Report, ReportAccount } from "../report/model.js";
import { formatAge, formatGenerated, rowState, STATUS_LABELS } from "./labels.js";
import { safeText } from "./sanitize.js";
import { type Palette, PLAIN } from "./style.js";

const WIDTH = 80;
const HEAVY = "=".repeat(WIDTH);
const LIGHT = "-".repeat(WIDTH);
const USER_LIGHT = `   ${"-".repeat(WIDTH - 4)}`;

export interface TableOptions {
  /** Colours (see loadPalette); plain text by default. */
  palette?: Palette;
  /** Title of the platform section, e.g. the platform's name from platform.json. */
  platformName?: string;
}

/** What follows an amount: why a row is not a plain live figure. Empty for a fresh ok row. */
export function rowNote(row: BrokerRow, c: Palette): string {
  const state = rowState(row);
  if (state === "disabled") return c.dim("○ disabled");
  if (state === "no_credentials") return c.yellow("○ no credentials");
  const age = row.ageSeconds === null ? "" : ` ${formatAge(row.ageSeconds)} ago`;
  if (row.source === "stale") {
    return c.red(
      `⚠ stale${age}: ${STATUS_LABELS[state]}: ${safeText(row.message ?? "")}`.trimEnd(),
    );
  }
  if (state !== "ok") {
    return c.red(`✗ ${STATUS_LABELS[state]}: ${safeText(row.message ?? "")}`.trimEnd());
  }
  const parts: string[] = [];
  if (row.duplicateOf) {
    parts.push(c.yellow(`ⓘ same key as ${safeText(row.duplicateOf)}: counted there`));
  }
  if (row.source === "cached") parts.push(c.dim(`(cached${age})`));
  if (row.message) parts.push(c.yellow(`ⓘ ${safeText(row.message)}`));
  return parts.join(" ");
}

/**
 * The original system's report: title block, PLATFORM ACCOUNT, USER ACCOUNTS, SUMMARY. It is a
 * fixed layout with section rules rather than a grid, so it is padded by hand; amounts are
 * right-aligned in one column through the whole report so the cents line up.
 */
export function renderTable(report: Report, options: TableOptions = {}): string {
  const c = options.palette ?? PLAIN;
  const accounts = [...(report.platform ? [report.platform] : []), ...report.users];
  const amounts = [
    ...accounts.flatMap((a) => [a.totalCents, ...a.rows.map((r) => r.usdCents)]),
    report.summary.totalUserCapitalCents,
  ].map(amountText);
  const amountWidth = Math.max(...amounts.map((a) => a.length));
  const labels = accounts.flatMap((a) => a.rows.map((r) => r.broker.length));
  const labelWidth = Math.max(17, ...labels.map((n) => n + 2));
  const line = (
    indent: number,
    label: string,
    cents: Cents | null,
    note = "",
    emphasis = false,
  ) => {
    const amount = amountText(cents).padStart(amountWidth);
    const text = `${" ".repeat(indent)}${label.padEnd(labelWidth + 7 - indent)}${amount}`;
    const body = emphasis ? c.bold(text) : text;
    return note ? `${body}  ${note}` : body;
  };
  const brokerLines = (account: ReportAccount, indent: number) =>
    account.rows.map((row) =>
      line(indent, row.broker.toUpperCase(), row.usdCents, rowNote(row, c)),
    );

  const out: string[] = [
    HEAVY,
    c.bold("USER ACCOUNT BALANCES"),
    HEAVY,
    `Generated: ${formatGenerated(report.generatedAt)}`,
    HEAVY,
    "",
  ];
  if (report.platform) {
    const name = safeText(report.platform.name ?? options.platformName ?? "Platform");
    out.push(c.bold(`🔷 PLATFORM ACCOUNT (${name})`), LIGHT);
    out.push(...brokerLines(report.platform, 3));
    if (report.platform.rows.length === 0) out.push(c.dim("   (no brokers configured)"));
    out.push(LIGHT, line(3, "TOTAL", report.platform.totalCents, leftOut(report.platform), true));
    out.push("");
  }
  out.push(c.bold("🔷 USER ACCOUNTS"), LIGHT);
  for (const user of report.users) {
    const who = safeText(
      user.name && user.name !== user.id ? `${user.id} (${user.name})` : user.id,
    );
    const disabled = user.enabled ? "" : ` ${c.dim("○ disabled")}`;
    out.push("", `   👤 User: ${c.bold(who)}${disabled}`, USER_LIGHT);
    out.push(...brokerLines(user, 6));
    if (user.rows.length === 0) out.push(c.dim("      (no brokers configured)"));
    out.push(USER_LIGHT, line(6, "SUBTOTAL", user.totalCents, leftOut(user), true));
  }
  const s = report.summary;
  out.push(
    "",
    HEAVY,
    c.bold("SUMMARY"),
    HEAVY,
    `   Total Users:           ${s.userCount}`,
    `   Total User Capital:    ${formatUsd(s.totalUserCapitalCents)}`,
    `   Average per User:      ${formatUsd(s.averagePerUserCents)}`,
  );
  if (s.accountsUnknown > 0) {
    const n = s.accountsUnknown;
    const users = s.usersUnknown;
    out.push(
      c.red(
        `   Not included:          ${n} broker account${n === 1 ? "" : "s"} with no figure` +
          (users > 0 ? ` (the average leaves out ${users} user${users === 1 ? "" : "s"})` : ""),
      ),
    );
  }
  if (s.duplicateCents > 0n) {
    out.push(`   Counted once:          ${formatUsd(s.duplicateCents)} on keys shared by accounts`);
  }
  out.push(HEAVY);
  if (report.failedCount > 0) {
    const n = report.failedCount;
    out.push(
      c.red(`⚠ ${n} broker account${n === 1 ? "" : "s"} did not answer: the totals are partial.`),
    );
  }
  return `${out.join("\n")}\n`;
}

/** An amount, or "—" when the figure is unknown. */
function amountText(cents: Cents | null): string {
  return cents === null ? "—" : formatUsd(cents);
}

/** After a total: how many figures it leaves out. */
function leftOut(account: ReportAccount): string {
  const n = account.unknownCount;
  return n > 0 ? `(${n} broker${n === 1 ? "" : "s"} unknown: not included)` : "";
}
