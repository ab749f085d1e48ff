import { describe, expect, it } from "vitest";
import {
  centsToNumber,
  divideCents,
  fixedToCents,
  fixedToString,
  formatUsd,
  mulFixed,
  toFixed,
} from "../src/money.js";

describe("money", () => {
  it("adds dollar amounts exactly where floats do not", () => {
    expect(1234.56 + 5678.9).not.toBe(6913.46);
    const cents = fixedToCents(toFixed("1234.56") + toFixed(5678.9));
    expect(cents).toBe(691346);
    expect(centsToNumber(cents)).toBe(6913.46);
    expect(formatUsd(cents)).toBe("$6,913.46");
    expect(fixedToCents(toFixed(0.1) + toFixed(0.2))).toBe(30);
  });

  it("parses exchange decimals, exponents and signs", () => {
    expect(fixedToString(toFixed("25435.2100"))).toBe("25435.21");
    expect(fixedToString(toFixed("1e-8"))).toBe("0.00000001");
    expect(fixedToString(toFixed(1.5e-7))).toBe("0.00000015");
    expect(fixedToString(toFixed("-0.5"))).toBe("-0.5");
    expect(fixedToString(toFixed("12"))).toBe("12");
    expect(() => toFixed("abc")).toThrow(RangeError);
    expect(() => toFixed(Number.NaN)).toThrow(RangeError);
  });

  it("multiplies amount by price and rounds half away from zero once", () => {
    expect(fixedToCents(mulFixed(toFixed("0.12345678"), toFixed("65000.10")))).toBe(802470);
    expect(fixedToCents(toFixed("0.005"))).toBe(1);
    expect(fixedToCents(toFixed("0.00499"))).toBe(0);
    expect(fixedToCents(toFixed("-0.005"))).toBe(-1);
  });

  it("formats dollars with separators", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(5)).toBe("$0.05");
    expect(formatUsd(123456789)).toBe("$1,234,567.89");
    expect(formatUsd(-1200)).toBe("-$12.00");
  });

  it("averages cents with half-up rounding", () => {
    expect(divideCents(350000, 2)).toBe(175000);
    expect(divideCents(100, 3)).toBe(33);
    expect(divideCents(200, 3)).toBe(67);
    expect(divideCents(5, 0)).toBe(0);
  });
});
