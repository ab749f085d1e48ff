import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AmountError,
  amountFrom,
  centsToDecimal,
  divideCents,
  dollarsToCents,
  fixedToCents,
  fixedToString,
  formatUsd,
  mulFixed,
  parseDecimal,
  priceOrNull,
} from "../src/money.js";

const cents = (text: string) => fixedToCents(parseDecimal(text));

describe("money", () => {
  it("adds dollar amounts exactly where floats do not", () => {
    expect(1234.56 + 5678.9).not.toBe(6913.46);
    const sum = fixedToCents(parseDecimal("1234.56") + parseDecimal("5678.90"));
    expect(sum).toBe(691346n);
    expect(centsToDecimal(sum)).toBe("6913.46");
    expect(formatUsd(sum)).toBe("$6,913.46");
    expect(fixedToCents(amountFrom(0.1) + amountFrom(0.2))).toBe(30n);
  });

  it("keeps every cent of amounts past 2^53 and past 17 significant digits", () => {
    expect(formatUsd(cents("90071992547409.93"))).toBe("$90,071,992,547,409.93");
    expect(centsToDecimal(cents("12345678901234567.89"))).toBe("12345678901234567.89");
    expect(centsToDecimal(cents("1e30"))).toBe(`1${"0".repeat(30)}.00`);
    expect(fixedToString(parseDecimal("123456789012345678901234.123456789012345678"))).toBe(
      "123456789012345678901234.123456789012345678",
    );
  });

  it("parses the one decimal grammar: sign, digits, fraction, exponent", () => {
    expect(fixedToString(parseDecimal("25435.2100"))).toBe("25435.21");
    expect(fixedToString(parseDecimal("1e-8"))).toBe("0.00000001");
    expect(fixedToString(parseDecimal("1.5E-7"))).toBe("0.00000015");
    expect(fixedToString(parseDecimal("-0.5"))).toBe("-0.5");
    expect(fixedToString(parseDecimal("+12"))).toBe("12");
    expect(fixedToString(parseDecimal(".25"))).toBe("0.25");
    expect(fixedToString(parseDecimal("5."))).toBe("5");
    expect(fixedToString(parseDecimal("0.5e50"))).toBe(`5${"0".repeat(49)}`);
  });

  it.each([
    " 5.00 ",
    "5.00 ",
    "0x10",
    "Infinity",
    "-Infinity",
    "NaN",
    "",
    ".",
    "-",
    "1e",
    "1,000.00",
    "1_000",
    "١٢٣",
    "1e1234567",
  ])("refuses %j", (text) => {
    expect(() => parseDecimal(text)).toThrow(AmountError);
  });

  it.each(["1e309", "1e400", "1e61", "9".repeat(61)])("refuses %s as out of range", (text) => {
    expect(() => parseDecimal(text)).toThrow(/out of range/);
  });

  it.each([null, true, [1], {}, undefined, Number.NaN, Number.POSITIVE_INFINITY])(
    "refuses the JSON value %j as an amount",
    (value) => {
      expect(() => amountFrom(value)).toThrow(AmountError);
    },
  );

  it("takes a JSON number only while it still holds the decimal that was sent", () => {
    expect(fixedToString(amountFrom(25435.21))).toBe("25435.21");
    expect(fixedToString(amountFrom(1.2435))).toBe("1.2435");
    // "90071992547409.93" has 16 significant digits: JSON.parse already made it ...409.94.
    expect(() => amountFrom(JSON.parse("90071992547409.93"))).toThrow(/more digits/);
  });

  it("leaves a bad public price unpriced instead of failing", () => {
    expect(priceOrNull("n/a")).toBeNull();
    expect(priceOrNull("0")).toBeNull();
    expect(priceOrNull("65000.5")).toBe(parseDecimal("65000.5"));
  });

  it("multiplies amount by price and rounds half away from zero once", () => {
    expect(fixedToCents(mulFixed(parseDecimal("0.12345678"), parseDecimal("65000.10")))).toBe(
      802470n,
    );
    expect(cents("0.005")).toBe(1n);
    expect(cents("0.00499")).toBe(0n);
    expect(cents("-0.005")).toBe(-1n);
  });

  it("formats dollars with separators", () => {
    expect(formatUsd(0n)).toBe("$0.00");
    expect(formatUsd(5n)).toBe("$0.05");
    expect(formatUsd(123456789n)).toBe("$1,234,567.89");
    expect(formatUsd(-1200n)).toBe("-$12.00");
    expect(centsToDecimal(-5n)).toBe("-0.05");
    expect(dollarsToCents("100")).toBe(10000n);
  });

  it("averages cents with half-up rounding", () => {
    expect(divideCents(350000n, 2)).toBe(175000n);
    expect(divideCents(100n, 3)).toBe(33n);
    expect(divideCents(200n, 3)).toBe(67n);
    expect(divideCents(-200n, 3)).toBe(-67n);
    expect(divideCents(5n, 0)).toBe(0n);
  });

  it("fuzz: any string either parses to a value that prints back, or is an AmountError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        try {
          parseDecimal(text);
        } catch (error) {
          expect(error).toBeInstanceOf(AmountError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("fuzz: decimals within 18 places round-trip digit for digit", () => {
    const decimal = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^[1-9]\d{0,40}$/),
        fc.stringMatching(/^\d{0,17}[1-9]$/),
      )
      .map(([negative, whole, fraction]) => `${negative ? "-" : ""}${whole}.${fraction}`);
    fc.assert(
      fc.property(decimal, (text) => {
        expect(fixedToString(parseDecimal(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });
});
