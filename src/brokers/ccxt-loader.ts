import { access } from "node:fs/promises";
import type { Exchange } from "ccxt";
import { importModule, resolveModule } from "../import-module.js";

/** A ccxt exchange class: `new ExchangeClass(config)`. */
export type ExchangeClass = new (config?: Record<string, unknown>) => Exchange;

const loaded = new Map<string, Promise<ExchangeClass | null>>();

/**
 * Loads one ccxt exchange class, lazily. The full `ccxt` entry costs ~0.55 s to import because it
 * pulls in every exchange; a single exchange's module costs ~0.1 s, so we import the file of the
 * exchange we need (pre-bundled where the build made one) and fall back to the full entry if
 * ccxt's layout ever changes.
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

/**
 * `npm run build` pre-bundles the tested brokers' modules into dist/ccxt/<id>.js (one file each
 * plus shared chunks instead of ~66 files to resolve): the first request goes out sooner. This
 * code runs from dist/cli-main.cjs or, in the library, dist/brokers/, so the bundle is found from
 * the `/dist/` in its own URL; from src/ (tests) there is none.
 */
function bundledModule(id: string): URL | null {
  const at = import.meta.url.lastIndexOf("/dist/");
  return at < 0 ? null : new URL(`ccxt/${id}.js`, import.meta.url.slice(0, at + 6));
}

async function importExchangeClass(id: string): Promise<ExchangeClass | null> {
  if (!/^[a-z][a-z0-9]*$/.test(id)) return null;
  const bundled = bundledModule(id);
  const fromBundle = bundled && (await exists(bundled)) ? await classIn(bundled) : null;
  if (fromBundle) return fromBundle;
  const source = new URL(`./src/${id}.js`, await resolveModule("ccxt"));
  const fromSource = (await exists(source)) ? await classIn(source) : null;
  if (fromSource) return fromSource;
  type Ccxt = Record<string, unknown> & { exchanges: string[] };
  const { default: ccxt } = await importModule<{ default: Ccxt }>("ccxt");
  const candidate = ccxt.exchanges.includes(id) ? ccxt[id] : undefined;
  return typeof candidate === "function" ? (candidate as ExchangeClass) : null;
}

async function classIn(file: URL): Promise<ExchangeClass | null> {
  const module = await importModule<{ default?: unknown }>(file.href);
  return typeof module.default === "function" ? (module.default as ExchangeClass) : null;
}

async function exists(file: URL): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
