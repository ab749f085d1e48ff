/**
 * The portfolio as text: a table for the terminal and CSV, one line per asset. Pure, like the
 * other renderers; cli-table3 is loaded only by whoever imports this module.
 */
import { centsToDecimal, formatUsd } from "../money.js";
import type { Portfolio, PortfolioLine, PortfolioLineKind } from "../report/portfolio.js";
import { toCsv } from "./csv.js";
import { fitGrid } from "./grid.js";
import { formatGenerated } from "./labels.js";
import { safeText } from "./sanitize.js";
import { type Palette, PLAIN } from "./style.js";
import { wrapHanging } from "./width.js";

const usd = (cents: bigint | null) => (cents === null ? "—" : formatUsd(cents));

function holders(line: PortfolioLine): string {
  return line.topHolders
    .map((h) => {
      const value = h.usdCents === null ? "" : ` ${formatUsd(h.usdCents)}`;
      const amount = line.kind === "asset" && h.amount !== null ? ` ${h.amount}` : "";
      return safeText(`${h.label}${amount}${value}`);
    })
    .join("\n");
}

/** Short names in the table for the lines that are not assets; a note under it says what they are. */
const SHORT: Record<Exclude<PortfolioLineKind, "asset">, string> = {
  broker_equity: "other (broker equity)",
  unattributed: "other",
  rounding: "rounding",
};

const MEANING: Record<Exclude<PortfolioLineKind, "asset">, string> = {
  broker_equity:
    "account equity as the broker states it (Alpaca equity, OKX totalEq) beyond its assets' values",
  unattributed: "account figures that their assets' values do not make up",
  rounding: "account figures are rounded to the cent once, each asset's value on its own",
};

function assetCell(line: PortfolioLine): string {
  if (line.kind !== "asset") return SHORT[line.kind];
  const merged = line.members.length > 1 || line.members[0] !== line.asset;
  return safeText(merged ? `${line.asset} (${line.members.join(", ")})` : line.asset);
}

/**
 * One row per asset, largest value first: amount, value, share of the total, how many broker
 * accounts hold it and the largest holders. Assets without a USD value come last, with their
 * amounts and no share; the totals line equals the report's total. To fit `width` the holders
 * wrap, then the accounts column goes, then each asset becomes a record (see fitGrid).
 */
export function renderPortfolio(
  p: Portfolio,
  options: { palette?: Palette; width?: number } = {},
): string {
  const c = options.palette ?? PLAIN;
  const rows: string[][] = [];
  for (const line of p.lines) {
    // An amount with no value of its own: no USD price, not cash in a cash valuation, or inside
    // a broker-stated equity (its own line).
    const why = line.unpriced ? "unpriced" : "not valued";
    const unvalued =
      line.kind === "asset" && line.usdCents !== null && line.unvaluedAmount !== "0"
        ? `\n${c.dim(`${line.unvaluedAmount} ${why}`)}`
        : "";
    rows.push([
      line.kind === "asset" ? assetCell(line) : c.dim(assetCell(line)),
      `${line.amount ?? ""}${unvalued}`,
      line.usdCents === null ? (line.unpriced ? c.yellow("unpriced") : "—") : usd(line.usdCents),
      line.sharePercent === null ? "" : `${line.sharePercent}%`,
      String(line.accounts),
      holders(line),
    ]);
  }
  rows.push([c.bold("TOTAL"), "", c.bold(formatUsd(p.totalCents)), "", "", ""]);
  const head = ["Asset", "Amount", "USD", "Share", "Accounts", "Top holders"];
  const align: Array<"left" | "right"> = ["left", "right", "right", "right", "right", "left"];
  const without = <T>(cells: T[]) => cells.filter((_, i) => i !== 4);
  const table = fitGrid(
    [
      { head, rows, align, wrap: 5, wrapIndent: 2 },
      {
        head: without(head),
        rows: rows.map(without),
        align: without(align),
        wrap: 4,
        wrapIndent: 2,
      },
    ],
    { palette: c, width: options.width, title: [0, 2, 3] },
  );
  const width = options.width ?? Number.POSITIVE_INFINITY;
  const accounts = (n: number) => `${n} broker account${n === 1 ? "" : "s"}`;
  const left: string[] = [];
  if (p.rows.unknown > 0) left.push(`${accounts(p.rows.unknown)} with no figure`);
  if (p.rows.duplicate > 0) left.push(`${accounts(p.rows.duplicate)} sharing another's key`);
  if (p.rows.disabled > 0) left.push(`${accounts(p.rows.disabled)} disabled`);
  const notes = p.lines.flatMap((line) =>
    line.kind === "asset" ? [] : [`${SHORT[line.kind]}: ${MEANING[line.kind]}.`],
  );
  if (left.length) notes.push(`Not included, as in the report's totals: ${left.join(", ")}.`);
  const merged = p.stablecoinsMerged ? "; stablecoins at par on the USD line" : "";
  const title = `PORTFOLIO  ${formatGenerated(p.generatedAt)}  (${accounts(p.rows.counted)}${merged})`;
  return [wrapHanging(title, width, 11), table, ...notes.map((note) => wrapHanging(note, width, 2))]
    .map((part) => `${part}\n`)
    .join("");
}

export const PORTFOLIO_CSV_HEADER = [
  "kind",
  "asset",
  "members",
  "amount",
  "unvalued_amount",
  "usd",
  "share_percent",
  "accounts",
  "top_holder",
] as const;

/**
 * The portfolio as CSV, one line per asset (and per difference line: broker equity not
 * attributed to assets, rounding), in the table's order. `usd` and `share_percent` are empty for
 * an asset without a value; merged stablecoins list their codes in `members`, space-separated.
 */
export function renderPortfolioCsv(p: Portfolio): string {
  return toCsv(
    PORTFOLIO_CSV_HEADER,
    p.lines.map((line) => [
      line.kind,
      line.asset,
      line.members.join(" "),
      line.amount,
      line.unvaluedAmount,
      line.usdCents === null ? null : centsToDecimal(line.usdCents),
      line.sharePercent,
      line.accounts,
      line.topHolders[0]?.label,
    ]),
  );
}
