import { describe, expect, it } from "vitest";
import { parseJson } from "../../src/config/json.js";

function failure(text: string) {
  const result = parseJson(text);
  if (result.ok) throw new Error("expected a parse failure");
  return result;
}

describe("parseJson", () => {
  it("parses valid JSON, with or without a BOM", () => {
    expect(parseJson('\uFEFF{"a": [1, 2.5e3, true, null, "x\\u00e9"]}')).toEqual({
      ok: true,
      value: { a: [1, 2500, true, null, "x\u00e9"] },
    });
  });

  it.each([
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}'"],
    ['{\n  "a": 1,\n}', 3, 1, "trailing comma"],
    ["[1, 2", 1, 6, "unexpected end of file"],
    ['{\n  "a": "unterminated\n}', 2, 21, "line break"],
    ["{\n  'a': 1\n}", 2, 3, "expected a property name"],
    ['{"a": tru}', 1, 7, "unexpected character"],
    ['{"a": 1} x', 1, 10, "after the end"],
    ["", 1, 1, "unexpected end of file"],
  ])("locates the error in %j at %i:%i", (text, line, column, reason) => {
    const result = failure(text);
    expect(result.line).toBe(line);
    expect(result.column).toBe(column);
    expect(result.reason).toContain(reason);
  });

  it("does not quote the source text in its reason", () => {
    const result = failure('{"apiKey": "SECRET-IN-BROKEN-JSON" oops}');
    expect(result.reason).not.toContain("SECRET");
    expect(result.reason).not.toContain("oops");
  });
});
