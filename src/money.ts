/**
 * Exact money arithmetic. Amounts travel as decimal strings from ccxt, become scaled bigints for
 * arithmetic, and integer cents for every dollar figure the report shows, so that
 * 1234.56 + 5678.90 is 6913.46 and never 6913.460000000001.
 */

/** Fixed-point scale: 18 decimal places covers every asset precision ccxt reports. */
const SCALE = 18;
const ONE = 10n ** BigInt(SCALE);
const CENT = 10n ** BigInt(SCALE - 2);

/** A decimal amount, as a bigint holding the value times 10^18. */
export type Fixed = bigint;

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/** Parses "1234.56", "-0.5", "1e-8" or a finite number into an exact fixed-point value. */
export function toFixed(value: string | number): Fixed {
  const text = typeof value === "number" ? numberToText(value) : value.trim();
  const match = DECIMAL.exec(text);
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) {
    throw new RangeError(`not a decimal amount: ${JSON.stringify(text)}`);
  }
  const [, sign, whole = "", fraction = "", exponent = "0"] = match;
  let digits = `${whole}${fraction}`;
  let shift = SCALE - fraction.length + Number(exponent);
  if (shift < 0) {
    // Beyond 18 decimals: truncate towards zero (far below a cent).
    digits = digits.slice(0, Math.max(0, digits.length + shift)) || "0";
    shift = 0;
  }
  const magnitude = BigInt(digits || "0") * 10n ** BigInt(shift);
  return sign === "-" ? -magnitude : magnitude;
}

function numberToText(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  // Shortest round-trip form: the decimal the exchange sent, not the binary float.
  return String(value);
}

/** Multiplies two fixed-point values (amount x price). */
export function mulFixed(a: Fixed, b: Fixed): Fixed {
  return (a * b) / ONE;
}

/** Rounds a fixed-point dollar value to whole cents, half away from zero. */
export function fixedToCents(value: Fixed): number {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const cents = (magnitude + CENT / 2n) / CENT;
  return Number(negative ? -cents : cents);
}

/** Renders a fixed-point value as a plain decimal string without trailing zeros ("0.5", "12"). */
export function fixedToString(value: Fixed): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const whole = magnitude / ONE;
  const fraction = (magnitude % ONE).toString().padStart(SCALE, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Cents to a JSON number: 691346 -> 6913.46 (the nearest double prints as the exact decimal). */
export function centsToNumber(cents: number): number {
  return cents / 100;
}

/** Cents as "$1,234.56" (or "-$12.00"). */
export function formatUsd(cents: number): string {
  const negative = cents < 0;
  const magnitude = Math.abs(cents);
  const dollars = Math.floor(magnitude / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const rest = (magnitude % 100).toString().padStart(2, "0");
  return `${negative ? "-" : ""}$${dollars}.${rest}`;
}

/** Integer division of cents rounded half away from zero (averages). */
export function divideCents(cents: number, by: number): number {
  if (by === 0) return 0;
  const quotient = Math.trunc(cents / by);
  const remainder = cents - quotient * by;
  const roundUp = Math.abs(remainder) * 2 >= Math.abs(by);
  return roundUp ? quotient + Math.sign(cents) * Math.sign(by) : quotient;
}
