/**
 * Exact decimal-string arithmetic for the emulator's wire values. Balances are seeded as strings
 * and must come back digit for digit, so no value ever passes through a float.
 */

interface Scaled {
  units: bigint;
  scale: number;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

export function isDecimal(value: string): boolean {
  return DECIMAL.test(value);
}

function parse(value: string): Scaled {
  if (!DECIMAL.test(value)) throw new TypeError(`not a decimal string: ${JSON.stringify(value)}`);
  const negative = value.startsWith("-");
  const [whole = "0", fraction = ""] = (negative ? value.slice(1) : value).split(".");
  const units = BigInt(whole + fraction) * (negative ? -1n : 1n);
  return { units, scale: fraction.length };
}

function rescale(value: Scaled, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

function render(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  const text = scale > 0 ? `${whole}.${fraction}` : whole;
  return negative ? `-${text}` : text;
}

/** Drops trailing fractional zeros: "1.2300" -> "1.23", "5.000" -> "5". */
export function normalize(value: string): string {
  const { units, scale } = parse(value);
  let u = units;
  let s = scale;
  while (s > 0 && u % 10n === 0n) {
    u /= 10n;
    s -= 1;
  }
  return render(u, s);
}

export function add(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  return normalize(render(rescale(x, scale) + rescale(y, scale), scale));
}

export function sub(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  return normalize(render(rescale(x, scale) - rescale(y, scale), scale));
}

export function mul(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  return normalize(render(x.units * y.units, x.scale + y.scale));
}

/** Pads the fraction to at least `decimals` digits; never drops a significant digit. */
export function padDecimals(value: string, decimals: number): string {
  const x = parse(normalize(value));
  return render(rescale(x, Math.max(x.scale, decimals)), Math.max(x.scale, decimals));
}

export function isZero(value: string): boolean {
  return parse(value).units === 0n;
}
