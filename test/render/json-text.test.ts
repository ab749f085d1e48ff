import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonNumber, stringifyJson, usdJson } from "../../src/render/json-text.js";

describe("stringifyJson", () => {
  it("writes what JSON.stringify writes for plain values, at every indent", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2), (value, indent) => {
        expect(stringifyJson(value, indent)).toBe(JSON.stringify(value, null, indent));
      }),
      { numRuns: 500 },
    );
  });

  it("writes exact numbers and bigints raw, and leaves look-alike strings quoted", () => {
    const doc = {
      total: usdJson(9007199254740993n),
      big: 12345678901234567890n,
      none: usdJson(null),
      list: [new JsonNumber("1e30"), undefined, "#json-number-guess:1"],
      name: '"#json-number-x:2"',
      skipped: undefined,
    };
    const text = stringifyJson(doc, 0);
    expect(text).toBe(
      '{"total":90071992547409.93,"big":12345678901234567890,"none":null,"list":[1e30,null,"#json-number-guess:1"],"name":"\\"#json-number-x:2\\""}',
    );
    expect(stringifyJson(undefined)).toBe("null");
  });
});
