/**
 * JSON.parse with a position for every syntax error. V8's own messages differ between Node
 * versions, sometimes lack a position and quote the source text (which may hold a secret), so on
 * failure a small scanner re-reads the text to find where and why, without quoting it.
 */

export type JsonParse =
  | { ok: true; value: unknown }
  | { ok: false; reason: string; line: number; column: number };

export function parseJson(text: string): JsonParse {
  const src = text.replace(/^\uFEFF/, "");
  try {
    return { ok: true, value: JSON.parse(src) };
  } catch {
    const { offset, reason } = locateJsonError(src);
    return { ok: false, reason, ...lineColumn(src, offset) };
  }
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

class JsonSyntax {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function locateJsonError(src: string): { offset: number; reason: string } {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new JsonSyntax(
      i >= src.length && at >= src.length ? "unexpected end of file" : reason,
      at,
    );
  };
  const ws = () => {
    while (i < src.length && " \t\n\r".includes(src[i] as string)) i++;
  };
  const string = () => {
    const start = i++;
    while (i < src.length) {
      const c = src.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        const e = src[i + 1];
        if (e === "u" && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) i += 6;
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail("invalid escape sequence in string");
      } else if (c < 0x20) {
        fail("line break or control character inside a string (missing closing quote?)");
      } else i++;
    }
    fail("unterminated string", start);
  };
  const value = (): void => {
    ws();
    const c = src[i];
    if (c === "{") {
      i++;
      ws();
      if (src[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (src[i] === "}") fail("trailing comma before '}'");
        if (src[i] !== '"') fail("expected a property name in double quotes");
        string();
        ws();
        if (src[i] !== ":") fail("expected ':' after the property name");
        i++;
        value();
        ws();
        if (src[i] === ",") {
          i++;
          continue;
        }
        if (src[i] === "}") {
          i++;
          return;
        }
        fail("expected ',' or '}' after a property value");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (src[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (src[i] === "]") fail("trailing comma before ']'");
        value();
        ws();
        if (src[i] === ",") {
          i++;
          continue;
        }
        if (src[i] === "]") {
          i++;
          return;
        }
        fail("expected ',' or ']' after a list element");
      }
    }
    if (c === '"') {
      string();
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (src.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(src);
    if (m) {
      i += m[0].length;
      return;
    }
    fail(c === "'" ? "strings need double quotes" : "unexpected character, expected a value");
  };
  try {
    value();
    ws();
    if (i < src.length) fail("unexpected content after the end of the document");
    return { offset: 0, reason: "invalid JSON" };
  } catch (e) {
    if (e instanceof JsonSyntax) return { offset: e.offset, reason: e.reason };
    return { offset: 0, reason: "invalid JSON (nested too deeply)" };
  }
}
