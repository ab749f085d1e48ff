import { type Cents, centsToDecimal } from "../money.js";

/**
 * A JSON number written with exactly these digits. JSON.stringify can only write a JS number, so
 * 90071992547409.93 would come out as 90071992547409.94; this writes the exact decimal as the
 * number literal (valid JSON; jq and big-number parsers keep every digit).
 */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** Cents as an exact JSON number of dollars (`6913.46`), or null when the figure is unknown. */
export function usdJson(cents: Cents | null): JsonNumber | null {
  return cents === null ? null : new JsonNumber(centsToDecimal(cents));
}

/**
 * JSON.stringify with JsonNumber written raw and bigints as numbers; `indent` 0 writes one line.
 * Same layout as JSON.stringify(value, null, indent); undefined members are left out.
 */
export function stringifyJson(value: unknown, indent = 2): string {
  const write = (node: unknown, depth: number): string | undefined => {
    if (node instanceof JsonNumber) return node.text;
    if (typeof node === "bigint") return node.toString();
    if (node === null || typeof node !== "object") return JSON.stringify(node);
    if (typeof (node as { toJSON?: unknown }).toJSON === "function") {
      return write((node as { toJSON(): unknown }).toJSON(), depth);
    }
    const pad = indent > 0 ? `\n${" ".repeat(indent * (depth + 1))}` : "";
    const close = indent > 0 ? `\n${" ".repeat(indent * depth)}` : "";
    const colon = indent > 0 ? ": " : ":";
    if (Array.isArray(node)) {
      if (node.length === 0) return "[]";
      const items = node.map((item) => write(item, depth + 1) ?? "null");
      return `[${pad}${items.join(`,${pad}`)}${close}]`;
    }
    const members: string[] = [];
    for (const [key, member] of Object.entries(node)) {
      const text = write(member, depth + 1);
      if (text !== undefined) members.push(`${JSON.stringify(key)}${colon}${text}`);
    }
    if (members.length === 0) return "{}";
    return `{${pad}${members.join(`,${pad}`)}${close}}`;
  };
  return write(value, 0) ?? "null";
}
