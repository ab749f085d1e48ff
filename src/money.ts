/**
 * Exact money arithmetic. Amounts arrive as decimal strings in the exchange's own answer, become
 * scaled bigints for arithmetic, and integer cents (bigint) for every dollar figure the report
 * shows, so 1234.56 + 5678.90 is 6913.46 and 90071992547409.93 stays 90071992547409.93. No amount
 * passes through a JS number between the wire and the output.
 */

/** Fixed-point scale: 18 decimal places covers every asset precision the exchanges report. */
const SCALE = 18;
const ONE = 10n ** BigInt(SCALE);
const CENT = 10n ** BigInt(SCALE - 2);

/** A decimal amount, as a bigint holding the value times 10^18. */
export type Fixed = bigint;

/** Integer cents. */
export type Cents = bigint;

/**
 * The one amount grammar: optional sign, digits with an optional fraction (or a bare fraction),
 * optional exponent. No spaces, hex, `Infinity` or `NaN`.
 */
const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d{1,6}))?$/;

/** Magnitudes past 10^60 are no one's balance; refusing them keeps bigint work bounded. */
const MAX_INTEGER_DIGITS = 60;

export class AmountError extends Error {
  override readonly name = "AmountError";
}

/**
 * Parses a decimal string ("1234.56", "-0.5", "1e-8", "1E+30") into an exact fixed-point value;
 * digits past 18 decimals are truncated (far below a cent). Throws AmountError outside the
 * grammar or past 10^60.
 */
export function parseDecimal(text: string): Fixed {
  const match = DECIMAL.exec(text);
  if (!match) throw new AmountError(`not a number: ${JSON.stringify(text.slice(0, 40))}`);
  const [, sign, whole = "", fractionA, fractionB, exponent = "0"] = match;
  const fraction = fractionA ?? fractionB ?? "";
  const digits = `${whole}${fraction}`;
  const first = digits.search(/[1-9]/);
  if (first >= 0 && whole.length - first + Number(exponent) > MAX_INTEGER_DIGITS) {
    throw new AmountError(`out of range: ${JSON.stringify(text.slice(0, 40))}`);
  }
  const shift = SCALE - fraction.length + Number(exponent);
  let magnitude: bigint;
  if (shift >= 0) {
    magnitude = BigInt(digits || "0") * 10n ** BigInt(shift);
  } else {
    const kept = digits.slice(0, Math.max(0, digits.length + shift));
    magnitude = BigInt(kept || "0");
  }
  return sign === "-" ? -magnitude : magnitude;
}

/**
 * A JSON value that should be an amount: a decimal string, or a JSON number only when its
 * shortest form has at most 15 significant digits (then it is the decimal that was sent; past
 * that, JSON.parse may already have changed it). Anything else throws AmountError.
 */
export function amountFrom(value: unknown): Fixed {
  if (typeof value === "string") return parseDecimal(value);
  if (typeof value === "number" && Number.isFinite(value)) {
    const text = String(value);
    const significant = text.replace(/e.*$/i, "").replace(/[-.]/g, "").replace(/^0+/, "");
    if (significant.length <= 15) return parseDecimal(text);
    throw new AmountError(`a JSON number with more digits than it can keep: ${text}`);
  }
  const shown = value === undefined ? "missing" : JSON.stringify(value);
  throw new AmountError(`not a number: ${(shown ?? String(value)).slice(0, 40)}`);
}

/**
 * A public price, or null when it is not a positive amount: one bad ticker leaves that asset
 * unpriced (listed) instead of failing every account on the exchange.
 */
export function priceOrNull(value: unknown): Fixed | null {
  try {
    const price = amountFrom(value);
    return price > 0n ? price : null;
  } catch {
    return null;
  }
}

/** Multiplies two fixed-point values (amount x price). */
export function mulFixed(a: Fixed, b: Fixed): Fixed {
  return (a * b) / ONE;
}

/** Rounds a fixed-point dollar value to whole cents, half away from zero. */
export function fixedToCents(value: Fixed): Cents {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const cents = (magnitude + CENT / 2n) / CENT;
  return negative ? -cents : cents;
}

/** Renders a fixed-point value as a plain decimal string without trailing zeros ("0.5", "12"). */
export function fixedToString(value: Fixed): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const whole = magnitude / ONE;
  const fraction = (magnitude % ONE).toString().padStart(SCALE, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Cents as a plain decimal with two places: 691346n -> "6913.46", -5n -> "-0.05". */
export function centsToDecimal(cents: Cents): string {
  const negative = cents < 0n;
  // One conversion to digits, then a dot before the last two: no BigInt division.
  const digits = (negative ? -cents : cents).toString().padStart(3, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** Cents as "$1,234.56" (or "-$12.00"). */
export function formatUsd(cents: Cents): string {
  const negative = cents < 0n;
  const magnitude = negative ? -cents : cents;
  const dollars = (magnitude / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const rest = (magnitude % 100n).toString().padStart(2, "0");
  return `${negative ? "-" : ""}$${dollars}.${rest}`;
}

/** Whole dollars as cents, for thresholds given on the command line or in config ("100.5"). */
export function dollarsToCents(text: string): Cents {
  return fixedToCents(parseDecimal(text));
}

/** Integer division of cents rounded half away from zero (averages). */
export function divideCents(cents: Cents, by: number | bigint): Cents {
  const divisor = BigInt(by);
  if (divisor === 0n) return 0n;
  const quotient = cents / divisor;
  const remainder = cents - quotient * divisor;
  const abs = (v: bigint) => (v < 0n ? -v : v);
  if (abs(remainder) * 2n < abs(divisor)) return quotient;
  return quotient + (cents < 0n === divisor < 0n ? 1n : -1n);
}

/** A JSON.stringify replacer writing bigints (cents) as decimal strings, which JSON keeps exactly. */
export const bigintAsString = (_key: string, value: unknown): unknown =>
  typeof value === "bigint" ? value.toString() : value;
