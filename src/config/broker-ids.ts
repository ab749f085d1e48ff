/**
 * Whether a broker id names a ccxt exchange, checked without importing ccxt (which costs half a
 * second): ccxt ships one module per exchange at `js/src/<id>.js`, as brokers/ccxt-loader.ts
 * relies on too. The directory is listed only to suggest ids for one that is unknown.
 */
import { access, readdir } from "node:fs/promises";
import { resolveModule } from "../import-module.js";

/** The original system's brokers that ccxt does not cover; kept as rows the engine marks unsupported. */
export const NON_CCXT_BROKERS: readonly string[] = [
  "interactive_brokers",
  "td_ameritrade",
  "tradier",
];

const TESTED_BROKERS = new Set(["kraken", "coinbase", "alpaca", "binance", "okx"]);

async function ccxtSourceDir(): Promise<URL | null> {
  try {
    return new URL("./src/", await resolveModule("ccxt"));
  } catch {
    return null;
  }
}

let listing: Promise<string[] | null> | undefined;

/** Every ccxt exchange id, or null when ccxt or its layout cannot be found. */
function ccxtIds(): Promise<string[] | null> {
  listing ??= (async () => {
    const dir = await ccxtSourceDir();
    if (!dir) return null;
    try {
      const ids = (await readdir(dir))
        .filter((n) => /^[a-z][a-z0-9]*\.js$/.test(n))
        .map((n) => n.slice(0, -3));
      // A layout change would make every id look unknown: then say nothing rather than wrong.
      return ids.includes("kraken") ? ids : null;
    } catch {
      return null;
    }
  })();
  return listing;
}

/** null: the id is fine; otherwise the nearest ccxt ids (possibly none). */
export async function unknownBrokerSuggestions(id: string): Promise<string[] | null> {
  // The brokers tested end to end need no look-up: a cache-hit run never even resolves ccxt.
  if (TESTED_BROKERS.has(id) || NON_CCXT_BROKERS.includes(id)) return null;
  const dir = await ccxtSourceDir();
  if (!dir) return null;
  if (/^[a-z][a-z0-9]*$/.test(id)) {
    const found = await access(new URL(`./${id}.js`, dir)).then(
      () => true,
      () => false,
    );
    if (found) return null;
  }
  const ids = await ccxtIds();
  if (ids === null) return null;
  return nearest(id, ids);
}

/** Up to three ids within an edit distance of a third of the id's length (at least 2). */
export function nearest(id: string, candidates: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(id.length / 3));
  return candidates
    .map((c) => [c, editDistance(id, c)] as const)
    .filter(([, d]) => d <= limit)
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 3)
    .map(([c]) => c);
}

/** Levenshtein distance, one row at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        substitute,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
