/**
 * Boxed grids (cli-table3) that fit a terminal width. A view offers layouts from the widest to
 * the narrowest; the first that fits is drawn, with its one wrapping column (a detail, a list of
 * holders) reflowed to the room left. When none fits, each row becomes a record: a title line,
 * then one indented line per field, every line wrapped under its own start.
 */
import Table from "cli-table3";
import { type Palette, PLAIN } from "./style.js";
import { displayWidth, wrapHanging, wrapWords } from "./width.js";

export interface GridLayout {
  head: string[];
  rows: string[][];
  /** The column whose text reflows to fit; the others keep their natural width. */
  wrap?: number;
  /** Indent of a wrapped line's continuation inside its cell: 2 where a cell lists items. */
  wrapIndent?: number;
  align?: Array<"left" | "right">;
}

export interface FitOptions {
  palette?: Palette;
  /** Columns to fit; unbounded (the first layout, unwrapped) when not given. */
  width?: number;
  /** Columns of the last layout that make a record's title line; the others become its fields. */
  title: number[];
}

/** A wrapping column narrower than this reads as a word per line: the next layout is better. */
const MIN_WRAP_WIDTH = 16;

const cellWidth = (cell: string) => Math.max(0, ...cell.split("\n").map(displayWidth));

function draw(layout: GridLayout, c: Palette, rows = layout.rows): string {
  // cli-table3 styles its own head and borders; only when the caller asked for colour.
  const color = c !== PLAIN;
  const table = new Table({
    head: layout.head,
    ...(layout.align ? { colAligns: layout.align } : {}),
    style: { head: color ? ["bold"] : [], border: color ? ["grey"] : [], compact: true },
  });
  for (const row of rows) table.push(row);
  return table.toString();
}

/** Every line of a cell wrapped to `width`, continuations indented by `indent`. */
function reflow(cell: string, width: number, indent: number): string {
  return cell
    .split("\n")
    .flatMap((line) =>
      wrapWords(line, width, width - indent).map((part, i) => (i ? " ".repeat(indent) : "") + part),
    )
    .join("\n");
}

/** The layout drawn within `width`, or null when it cannot fit. */
function drawWithin(layout: GridLayout, c: Palette, width: number): string | null {
  const widths = layout.head.map((head, i) =>
    Math.max(cellWidth(head), ...layout.rows.map((row) => cellWidth(row[i] ?? ""))),
  );
  // Each column adds a border and a space either side; one more border closes the row.
  const total = widths.reduce((sum, w) => sum + w + 3, 1);
  let rows = layout.rows;
  if (total > width) {
    if (layout.wrap === undefined) return null;
    const wrap = layout.wrap;
    const room = width - (total - (widths[wrap] ?? 0));
    // A grid cell never cuts a word (a credential name, a date): records can, if they must.
    const longestWord = Math.max(
      ...layout.rows.flatMap((row) => (row[wrap] ?? "").split(/\s+/).map(displayWidth)),
    );
    const needed = Math.max(MIN_WRAP_WIDTH, cellWidth(layout.head[wrap] ?? ""));
    if (room < Math.max(needed, longestWord + (layout.wrapIndent ?? 0))) return null;
    rows = rows.map((row) =>
      row.map((cell, i) => (i === wrap ? reflow(cell, room, layout.wrapIndent ?? 0) : cell)),
    );
  }
  const text = draw(layout, c, rows);
  // cli-table3 measures with its own width table; a line it drew wider is a layout that failed.
  return text.split("\n").every((line) => displayWidth(line) <= width) ? text : null;
}

/** Each row as a title line and one line per non-empty field, all wrapped to `width`. */
function records(layout: GridLayout, title: number[], width: number): string {
  const out: string[] = [];
  for (const row of layout.rows) {
    const heading = title
      .map((i) => (row[i] ?? "").replace(/\n/g, " "))
      .filter((cell) => cell.trim() !== "")
      .join("  ");
    out.push(wrapHanging(heading, width, 3));
    row.forEach((cell, i) => {
      if (title.includes(i) || cell.trim() === "") return;
      const label = `   ${layout.head[i] ?? ""}: `;
      const column = displayWidth(label);
      const lines = reflow(cell, Math.max(1, width - column), 0).split("\n");
      out.push(lines.map((line, n) => (n ? " ".repeat(column) : label) + line).join("\n"));
    });
  }
  return out.join("\n");
}

/** The first of `layouts` that fits the width, or the last one as records. */
export function fitGrid(layouts: GridLayout[], options: FitOptions): string {
  const c = options.palette ?? PLAIN;
  const [first] = layouts;
  const last = layouts[layouts.length - 1];
  if (!first || !last) return "";
  if (options.width === undefined) return draw(first, c);
  for (const layout of layouts) {
    const text = drawWithin(layout, c, options.width);
    if (text !== null) return text;
  }
  return records(last, options.title, options.width);
}
