import { access } from "node:fs/promises";
import type { Exchange } from "ccxt";

/** A ccxt exchange class: `new ExchangeClass(config)`. */
export type ExchangeClass = new (config?: Record<string, unknown>) => Exchange;

const loaded = new Map<string, Promise<ExchangeClass | null>>();

/**
 * Loads one ccxt exchange class, lazily. The full `ccxt` entry costs ~0.55 s to import because it
 * pulls in every exchange; a single exchange's module costs ~0.1 s, so we import the file of the
 * exchange we need and fall back to the full entry if ccxt's layout ever changes.
 * Resolves to null for an id ccxt does not know.
 */
export function loadExchangeClass(id: string): Promise<ExchangeClass | null> {
  let pending = loaded.get(id);
  if (!pending) {
    pending = importExchangeClass(id);
    loaded.set(id, pending);
  }
  return pending;
}

async function importExchangeClass(id: string): Promise<ExchangeClass | null> {
  if (!/^[a-z][a-z0-9]*$/.test(id)) return null;
  const file = new URL(`./src/${id}.js`, import.meta.resolve("ccxt"));
  if (await exists(file)) {
    const module = (await import(file.href)) as { default?: unknown };
    if (typeof module.default === "function") return module.default as ExchangeClass;
  }
  const ccxt = (await import("ccxt")).default as unknown as Record<string, unknown> & {
    exchanges: string[];
  };
  const candidate = ccxt.exchanges.includes(id) ? ccxt[id] : undefined;
  return typeof candidate === "function" ? (candidate as ExchangeClass) : null;
}

async function exists(file: URL): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
