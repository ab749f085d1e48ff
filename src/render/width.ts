/**
 * Terminal columns: how wide text is on screen, how to wrap it to a width, and how wide the
 * terminal is. No dependency: string-width would do the measuring, but the renderers only need
 * the characters they print (ASCII, box drawing, a few symbols, emoji) and CJK names to be right.
 */

/** Off a terminal without a usable COLUMNS, the width the original report was laid out for. */
export const DEFAULT_WIDTH = 80;
/** Narrower than this nothing meaningful fits: layouts are drawn at this width instead. */
export const MIN_WIDTH = 40;

// biome-ignore lint/suspicious/noControlCharactersInRegex: SGR and other CSI escapes take no column
const CSI = /\u001b\[[0-?]*[ -/]*[@-~]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls take no column either
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u0000-\u001f\u007f-\u009f]$/u;
const EMOJI = /^\p{Emoji_Presentation}$/u;
/** East Asian Wide and Fullwidth blocks (Hangul, CJK, kana, fullwidth forms), as wcwidth counts them. */
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

/** Columns one code point takes: 0 for marks and controls, 2 for wide and emoji, else 1. */
function codePointWidth(char: string): number {
  if (ZERO_WIDTH.test(char)) return 0;
  const cp = char.codePointAt(0) ?? 0;
  if (EMOJI.test(char)) return 2;
  return WIDE_RANGES.some(([from, to]) => cp >= from && cp <= to) ? 2 : 1;
}

/** Columns `text` takes on a terminal (colour escapes take none): 🔷 and 👤 are 2, ✗ ○ ⓘ ⚠ — are 1. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text.replace(CSI, "")) width += codePointWidth(char);
  return width;
}

/** Splits text into indivisible pieces: code points, with escapes kept whole (zero columns). */
function pieces(text: string): string[] {
  const out: string[] = [];
  let last = 0;
  for (const match of text.matchAll(CSI)) {
    out.push(...text.slice(last, match.index));
    out.push(match[0]);
    last = match.index + match[0].length;
  }
  out.push(...text.slice(last));
  return out;
}

/** The longest start of `word` that fits `room` columns (at least one piece), and the rest. */
function cut(word: string, room: number): [string, string] {
  const parts = pieces(word);
  let used = 0;
  let taken = 0;
  let index = 0;
  for (const piece of parts) {
    const w = displayWidth(piece);
    if (used + w > room && used > 0) break;
    used += w;
    taken += piece.length;
    index++;
  }
  // Marks and escapes after the cut stay with the letter they follow.
  while (index < parts.length && displayWidth(parts[index] ?? "") === 0) {
    taken += (parts[index] ?? "").length;
    index++;
  }
  return [word.slice(0, taken), word.slice(taken)];
}

/**
 * Breaks text into lines at spaces: the first at most `first` columns wide, the others at most
 * `rest`. Runs of spaces inside a line are kept (aligned labels stay aligned) and so is the first
 * line's indentation; the spaces a line breaks at are dropped. Only a word longer than a whole
 * line is cut, between code points. Line breaks in the text are kept.
 */
export function wrapWords(text: string, first: number, rest = first): string[] {
  const lines: string[] = [];
  const limit = () => Math.max(1, lines.length === 0 ? first : rest);
  for (const paragraph of text.split("\n")) {
    let line = "";
    let used = 0;
    let gap = "";
    const flush = () => {
      lines.push(line);
      line = "";
      used = 0;
      gap = "";
    };
    for (const token of paragraph.split(/( +)/)) {
      if (token === "") continue;
      if (token.startsWith(" ")) {
        if (line === "") {
          line = token;
          used = token.length;
        } else gap = token;
        continue;
      }
      let word = token;
      if (used + gap.length + displayWidth(word) > limit() && line.trim() !== "") flush();
      while (used + gap.length + displayWidth(word) > limit()) {
        const [head, tail] = cut(word, limit() - used - gap.length);
        line += gap + head;
        flush();
        word = tail;
      }
      line += gap + word;
      used += gap.length + displayWidth(word);
      gap = "";
    }
    lines.push(line);
  }
  return lines;
}

/**
 * A line wrapped to `width` columns, its continuation lines indented by `indent` spaces: text
 * never restarts at column 0 when the first line began further in.
 */
export function wrapHanging(text: string, width: number, indent: number): string {
  const room = Math.max(1, width - indent);
  const [head = "", ...tail] = wrapWords(text, width, room);
  return [head, ...tail.map((line) => " ".repeat(indent) + line)].join("\n");
}

/** Where the CLI writes: a terminal reports its own width. */
export interface OutputSize {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/**
 * The width to lay out for: the terminal's on a TTY; off one, COLUMNS when it is a plain
 * integer (1-9999), else 80. Narrower than MIN_WIDTH is drawn at MIN_WIDTH.
 */
export function terminalWidth(
  out: OutputSize,
  env: Record<string, string | undefined> = process.env,
): number {
  const fromEnv = /^\s*[1-9]\d{0,3}\s*$/.test(env.COLUMNS ?? "") ? Number(env.COLUMNS) : null;
  const fromTty = out.isTTY && out.columns && out.columns > 0 ? out.columns : null;
  return Math.max(MIN_WIDTH, fromTty ?? fromEnv ?? DEFAULT_WIDTH);
}

/**
 * The top of `text` that fits a screen of `rows` x `columns` (a line wider than the screen
 * takes several rows): a report taller than the terminal shows its header and first rows,
 * and its last row says how much is cut. No trailing line break, so the screen never scrolls.
 */
export function screenTop(text: string, rows: number, columns: number): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const height = (line: string) => Math.max(1, Math.ceil(displayWidth(line) / columns));
  const total = lines.reduce((sum, line) => sum + height(line), 0);
  if (total <= rows) return lines.join("\n");
  const shown: string[] = [];
  let used = 0;
  for (const line of lines) {
    if (used + height(line) > rows - 1) break;
    shown.push(line);
    used += height(line);
  }
  const more = `… ${lines.length - shown.length} more lines: a taller terminal shows them`;
  return [...shown, more.slice(0, columns)].join("\n");
}
