/**
 * The portfolio: what the platform and its users hold together, asset by asset, from a report
 * that is already filtered (--user, --broker). Pure: report in, model out, so the CLI, the JSON
 * document and the dashboard show the same figures.
 *
 * It reconciles to the cent with the report: its total is the platform total plus the total user
 * capital. Asset values come from the rows' per-asset figures; where a row's figure is not the sum
 * of its assets (a broker's own equity figure, the cent rounding of each asset), the difference
 * is an explicit line, never spread over the assets.
 */

import { DEFAULT_STABLECOINS } from "../brokers/types.js";
import { baseAsset } from "../brokers/valuation.js";
import { type Cents, fixedToString, parseDecimal } from "../money.js";
import { JsonNumber, usdJson } from "../render/json-text.js";
import type { BrokerRow, Report, ReportAccount } from "./model.js";

const DEFAULT_TOP_HOLDERS = 3;

export interface PortfolioOptions {
  /** Keep USD and each stablecoin on lines of their own (default: one "USD" line). */
  splitStablecoins?: boolean;
  /** What counts as USD at par (default USD, USDC, USDT, DAI, PYUSD). */
  stablecoins?: readonly string[];
  /** Holders listed per asset, largest first (default 3; 0 lists none). */
  topHolders?: number;
}

export interface PortfolioHolder {
  kind: "platform" | "user";
  /** "platform" or the user id. */
  account: string;
  broker: string;
  /** "platform / kraken", "alice / coinbase". */
  label: string;
  /** Exact decimal string; null on lines that are not an asset. */
  amount: string | null;
  /** Null when this holding has no USD value. */
  usdCents: Cents | null;
}

/**
 * `asset`: holdings of one asset (or of USD and the stablecoins merged). `broker_equity`: the part
 * of broker-stated equity (Alpaca equity, OKX totalEq) that its assets' values do not make up.
 * `rounding`: account figures are rounded to the cent once, asset values one by one.
 * `unattributed`: any other difference between a row's figure and its assets' values (a cash row
 * counting a stablecoin this portfolio does not).
 */
export type PortfolioLineKind = "asset" | "broker_equity" | "rounding" | "unattributed";

export interface PortfolioLine {
  kind: PortfolioLineKind;
  /** The asset code ("USD" for the merged stablecoins), or a label for the other kinds. */
  asset: string;
  /** Codes this line adds up (["USD", "USDC", "USDT"] for merged stablecoins). */
  members: string[];
  /** Total amount, exact decimal string; null on lines that are not an asset. */
  amount: string | null;
  /** USD value; null when no holding of it has a value (listed, not in the total). */
  usdCents: Cents | null;
  /** Part of `amount` that has no USD value ("0" when all of it is valued). */
  unvaluedAmount: string | null;
  /**
   * Some of it has no USD price (its rows list it in `unpriced`). Otherwise an unvalued amount is
   * one a cash valuation does not count.
   */
  unpriced: boolean;
  /** Share of the total in percent, two decimals ("12.34"); null when the line has no value. */
  sharePercent: string | null;
  /** Broker accounts holding it (or, on other lines, contributing to it). */
  accounts: number;
  topHolders: PortfolioHolder[];
}

export interface Portfolio {
  generatedAt: Date;
  /** Equals the report's platform total plus its total user capital. */
  totalCents: Cents;
  /** Valued lines by value (largest first), then the difference lines, then unvalued assets. */
  lines: PortfolioLine[];
  stablecoinsMerged: boolean;
  /** Rows counted, and rows left out and why (the report does not sum them either). */
  rows: { counted: number; disabled: number; unknown: number; duplicate: number };
}

export const OTHER_LABELS: Record<Exclude<PortfolioLineKind, "asset">, string> = {
  broker_equity: "other: broker-stated equity not attributed to assets",
  rounding: "rounding: account figures rounded once, assets one by one",
  unattributed: "other: account figures not attributed to assets",
};

interface Holding {
  holder: Omit<PortfolioHolder, "amount" | "usdCents">;
  amount: bigint;
  usdCents: Cents | null;
  unvalued: bigint;
}

interface Acc {
  members: Set<string>;
  unpriced: boolean;
  holdings: Map<string, Holding>;
}

function holderOf(account: ReportAccount, row: BrokerRow): Holding["holder"] {
  const id = account.kind === "platform" ? "platform" : account.id;
  return { kind: account.kind, account: id, broker: row.broker, label: `${id} / ${row.broker}` };
}

function add(acc: Map<string, Acc>, key: string, member: string, holder: Holding["holder"]) {
  let entry = acc.get(key);
  if (!entry) {
    entry = { members: new Set(), unpriced: false, holdings: new Map() };
    acc.set(key, entry);
  }
  entry.members.add(member);
  const id = `${holder.kind}\u0000${holder.account}\u0000${holder.broker}`;
  let holding = entry.holdings.get(id);
  if (!holding) {
    holding = { holder, amount: 0n, usdCents: null, unvalued: 0n };
    entry.holdings.set(id, holding);
  }
  return holding;
}

/**
 * An asset's amount. Rows hold amounts written by fixedToString; one that does not parse (a
 * damaged cache entry) counts as no amount rather than failing the whole portfolio.
 */
function amountOf(text: string): bigint {
  try {
    return parseDecimal(text);
  } catch {
    return 0n;
  }
}

/** Floor division for bigints (toward minus infinity). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/**
 * Shares in basis points that add up to exactly 10,000 (largest remainders), so the printed
 * percentages sum to 100.00.
 */
function shares(values: readonly Cents[], total: Cents): bigint[] {
  if (total === 0n) return values.map(() => 0n);
  const scaled = values.map((v) => v * 10_000n);
  const floors = scaled.map((v) => floorDiv(v, total));
  const remainders = scaled.map((v, i) => v - (floors[i] as bigint) * total);
  let missing = 10_000n - floors.reduce((a, b) => a + b, 0n);
  const order = values
    .map((_, i) => i)
    .sort((a, b) => {
      const ra = (remainders[a] as bigint) * (total < 0n ? -1n : 1n);
      const rb = (remainders[b] as bigint) * (total < 0n ? -1n : 1n);
      return ra === rb ? a - b : ra > rb ? -1 : 1;
    });
  for (const i of order) {
    if (missing <= 0n) break;
    floors[i] = (floors[i] as bigint) + 1n;
    missing -= 1n;
  }
  return floors;
}

/** Basis points as a percentage with two decimals: 1234n -> "12.34", -5n -> "-0.05". */
export function formatShare(basisPoints: bigint): string {
  const negative = basisPoints < 0n;
  const magnitude = negative ? -basisPoints : basisPoints;
  return `${negative ? "-" : ""}${magnitude / 100n}.${(magnitude % 100n).toString().padStart(2, "0")}`;
}

function byValue(a: { usdCents: Cents | null; amount: bigint; label: string }, b: typeof a) {
  if (a.usdCents !== b.usdCents) {
    if (a.usdCents === null) return 1;
    if (b.usdCents === null) return -1;
    return a.usdCents > b.usdCents ? -1 : 1;
  }
  if (a.amount !== b.amount) return a.amount > b.amount ? -1 : 1;
  return a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
}

export function buildPortfolio(report: Report, options: PortfolioOptions = {}): Portfolio {
  const stablecoins = new Set(
    (options.stablecoins ?? DEFAULT_STABLECOINS).map((c) => c.toUpperCase()),
  );
  const merge = !options.splitStablecoins;
  const top = Math.max(0, Math.floor(options.topHolders ?? DEFAULT_TOP_HOLDERS));
  const assets = new Map<string, Acc>();
  const others = new Map<Exclude<PortfolioLineKind, "asset">, Acc>();
  const rows = { counted: 0, disabled: 0, unknown: 0, duplicate: 0 };
  let totalCents = 0n;

  const accounts = [...(report.platform ? [report.platform] : []), ...report.users];
  for (const account of accounts) {
    for (const row of account.rows) {
      if (!account.enabled || !row.enabled) {
        rows.disabled += 1;
        continue;
      }
      if (row.usdCents === null) {
        rows.unknown += 1;
        continue;
      }
      if (row.duplicateOf !== undefined) {
        rows.duplicate += 1;
        continue;
      }
      rows.counted += 1;
      totalCents += row.usdCents;
      const holder = holderOf(account, row);
      let attributed = 0n;
      let valuedAssets = 0n;
      for (const [code, asset] of Object.entries(row.assets)) {
        const amount = amountOf(asset.total);
        const stable = stablecoins.has(baseAsset(code).toUpperCase());
        // In a cash valuation only cash counts: another asset's price is shown, not summed.
        const value = row.basis === "cash" && !stable ? null : asset.usdCents;
        if (amount === 0n && (value === null || value === 0n)) continue;
        const key = merge && stable ? "USD" : code;
        const holding = add(assets, key, code, holder);
        holding.amount += amount;
        if (value === null) {
          holding.unvalued += amount;
          if (row.unpriced.includes(code)) (assets.get(key) as Acc).unpriced = true;
        } else {
          holding.usdCents = (holding.usdCents ?? 0n) + value;
          attributed += value;
          valuedAssets += 1n;
        }
      }
      const rest = row.usdCents - attributed;
      if (rest !== 0n) {
        // Broker equity holds what its assets' prices do not. Elsewhere each asset's value was
        // rounded to the cent on its own (at most half a cent each) and the row's sum once.
        const kind =
          row.basis === "broker"
            ? "broker_equity"
            : 2n * (rest < 0n ? -rest : rest) <= valuedAssets
              ? "rounding"
              : "unattributed";
        const holding = add(others, kind, kind, holder);
        holding.usdCents = (holding.usdCents ?? 0n) + rest;
      }
    }
  }

  const toLine = (
    kind: PortfolioLineKind,
    name: string,
    acc: Acc,
  ): PortfolioLine & { sort: bigint } => {
    const holdings = [...acc.holdings.values()];
    let amount = 0n;
    let unvalued = 0n;
    let usdCents: Cents | null = null;
    for (const h of holdings) {
      amount += h.amount;
      unvalued += h.unvalued;
      if (h.usdCents !== null) usdCents = (usdCents ?? 0n) + h.usdCents;
    }
    const isAsset = kind === "asset";
    const ranked = holdings
      .map((h) => ({ ...h, label: h.holder.label }))
      .sort(byValue)
      .slice(0, top)
      .map(
        (h): PortfolioHolder => ({
          ...h.holder,
          amount: isAsset ? fixedToString(h.amount) : null,
          usdCents: h.usdCents,
        }),
      );
    return {
      kind,
      asset: name,
      members: [...acc.members].sort(),
      amount: isAsset ? fixedToString(amount) : null,
      usdCents,
      unvaluedAmount: isAsset ? fixedToString(unvalued) : null,
      unpriced: acc.unpriced,
      sharePercent: null,
      accounts: holdings.length,
      topHolders: ranked,
      sort: amount,
    };
  };

  const assetLines = [...assets.entries()].map(([code, acc]) => toLine("asset", code, acc));
  const valued = assetLines
    .filter((l) => l.usdCents !== null)
    .sort((a, b) =>
      byValue({ ...a, amount: a.sort, label: a.asset }, { ...b, amount: b.sort, label: b.asset }),
    );
  const unvalued = assetLines
    .filter((l) => l.usdCents === null)
    .sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
  const otherLines = (["broker_equity", "unattributed", "rounding"] as const).flatMap((kind) => {
    const acc = others.get(kind);
    if (!acc) return [];
    const line = toLine(kind, OTHER_LABELS[kind], acc);
    return line.usdCents === 0n ? [] : [line];
  });
  const withValue = [...valued, ...otherLines];
  const bps = shares(
    withValue.map((l) => l.usdCents ?? 0n),
    totalCents,
  );
  withValue.forEach((line, i) => {
    line.sharePercent = totalCents === 0n ? null : formatShare(bps[i] as bigint);
  });
  const lines = [...withValue, ...unvalued].map(({ sort: _sort, ...line }) => line);
  return { generatedAt: report.generatedAt, totalCents, lines, stablecoinsMerged: merge, rows };
}

/** The portfolio as a JSON value for stringifyJson: money and shares as exact number literals. */
export function portfolioJson(p: Portfolio) {
  return {
    timestamp: p.generatedAt.toISOString(),
    total_usd: usdJson(p.totalCents),
    stablecoins_merged: p.stablecoinsMerged,
    rows: p.rows,
    assets: p.lines.map((line) => ({
      kind: line.kind,
      asset: line.asset,
      members: line.members,
      amount: line.amount,
      usd: usdJson(line.usdCents),
      share_percent: line.sharePercent === null ? null : new JsonNumber(line.sharePercent),
      unvalued_amount: line.unvaluedAmount,
      unpriced: line.unpriced,
      accounts: line.accounts,
      top_holders: line.topHolders.map((h) => ({
        account: h.account,
        kind: h.kind,
        broker: h.broker,
        label: h.label,
        amount: h.amount,
        usd: usdJson(h.usdCents),
      })),
    })),
  };
}
