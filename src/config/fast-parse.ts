/**
 * The new-form user and platform files read without zod. zod costs a run ~20 ms to load and
 * build its schemas, a third of what a run the cache serves takes; these checks are exactly
 * schemas.ts's for the forms almost every config uses (test/config/fast-parse.test.ts holds
 * them to the same answers on generated files). A file they refuse goes to zod, which names
 * the field and the fix.
 */
import type { BrokerOptions } from "../brokers/types.js";
import { isHttpUrl, USER_ID_PATTERN } from "./bounds.js";
import { containsEnvRef } from "./env.js";
import type { AlertThresholds, BrokerEntry, PlatformFile, UserFile } from "./schemas.js";

type Fields = Record<string, unknown>;
/** undefined: not this shape (zod decides); otherwise the parsed value. */
type Read<T> = T | undefined;

const isObject = (v: unknown): v is Fields =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isNonEmpty = (v: unknown): v is string => typeof v === "string" && v.length > 0;
/** Optional fields: absent (undefined) passes and stays absent. */
const optional = <T>(v: unknown, check: (v: unknown) => v is T): boolean =>
  v === undefined || check(v);
const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";
const BROKER_ID = /^[a-z0-9_]+$/;

function credentials(v: unknown): Read<BrokerEntry["credentials"]> {
  if (!isObject(v) || !isNonEmpty(v.apiKey) || !isNonEmpty(v.secret)) return undefined;
  if (!optional(v.password, isNonEmpty) || !optional(v.uid, isNonEmpty)) return undefined;
  return {
    apiKey: v.apiKey,
    secret: v.secret,
    ...(v.password === undefined ? {} : { password: v.password as string }),
    ...(v.uid === undefined ? {} : { uid: v.uid as string }),
  };
}

function alerts(v: unknown): Read<AlertThresholds> {
  if (!isObject(v)) return undefined;
  for (const key of Object.keys(v)) if (key !== "lowUsd" && key !== "dropPct") return undefined;
  const { lowUsd, dropPct } = v;
  if (lowUsd !== undefined && !(isNumber(lowUsd) && lowUsd >= 0)) return undefined;
  if (dropPct !== undefined && !(isNumber(dropPct) && dropPct > 0 && dropPct <= 100)) return;
  return {
    ...(lowUsd === undefined ? {} : { lowUsd: lowUsd as number }),
    ...(dropPct === undefined ? {} : { dropPct: dropPct as number }),
  };
}

const WALLETS = new Set(["spot", "trading", "funding"]);

/** Loose, as BrokerOptionsSchema: keys it does not know are kept as written. */
function options(v: unknown): Read<BrokerOptions> {
  if (!isObject(v)) return undefined;
  const { valuation, stablecoins, accountsApi, wallets, maxPages, ccxt } = v;
  if (valuation !== undefined && valuation !== "cash" && valuation !== "total") return undefined;
  if (accountsApi !== undefined && accountsApi !== "v3" && accountsApi !== "v2") return undefined;
  if (stablecoins !== undefined) {
    if (!Array.isArray(stablecoins) || !stablecoins.every((s) => typeof s === "string")) return;
  }
  if (wallets !== undefined) {
    if (!Array.isArray(wallets) || wallets.length === 0) return undefined;
    if (!wallets.every((w) => typeof w === "string" && WALLETS.has(w))) return undefined;
  }
  if (maxPages !== undefined) {
    if (!isNumber(maxPages) || !Number.isInteger(maxPages)) return undefined;
    if (maxPages < 1 || maxPages > 1000) return undefined;
  }
  if (ccxt !== undefined && !isObject(ccxt)) return undefined;
  const out: Fields = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));
  if (Array.isArray(stablecoins)) out.stablecoins = [...stablecoins];
  if (Array.isArray(wallets)) out.wallets = [...wallets];
  if (isObject(ccxt)) out.ccxt = { ...ccxt };
  return out as BrokerOptions;
}

function brokerEntry(v: unknown): Read<BrokerEntry> {
  if (!isObject(v) || typeof v.broker !== "string") return undefined;
  const broker = v.broker.trim().toLowerCase();
  if (!BROKER_ID.test(broker)) return undefined;
  const enabled = v.enabled === undefined ? true : v.enabled;
  if (!isBoolean(enabled) || !optional(v.paper, isBoolean) || !optional(v.testnet, isBoolean)) {
    return undefined;
  }
  const entry: BrokerEntry = { broker, enabled };
  if (v.paper !== undefined) entry.paper = v.paper as boolean;
  if (v.testnet !== undefined) entry.testnet = v.testnet as boolean;
  if (v.credentials !== undefined) {
    const parsed = credentials(v.credentials);
    if (!parsed) return undefined;
    entry.credentials = parsed;
  }
  if (v.apiUrl !== undefined) {
    const url = v.apiUrl;
    if (typeof url !== "string" || !(containsEnvRef(url) || isHttpUrl(url))) return undefined;
    entry.apiUrl = url;
  }
  if (v.options !== undefined) {
    const parsed = options(v.options);
    if (!parsed) return undefined;
    entry.options = parsed;
  }
  if (v.alerts !== undefined) {
    const parsed = alerts(v.alerts);
    if (!parsed) return undefined;
    entry.alerts = parsed;
  }
  return entry;
}

function brokerEntries(v: unknown): Read<BrokerEntry[]> {
  if (!Array.isArray(v)) return undefined;
  const entries: BrokerEntry[] = [];
  for (const item of v) {
    const entry = brokerEntry(item);
    if (!entry) return undefined;
    entries.push(entry);
  }
  return entries;
}

const isName = (v: unknown) => v === undefined || v === null || typeof v === "string";

/** `{ user_id, name?, enabled?, brokers: [...], alerts? }`, as UserFileSchema parses it. */
export function fastUserFile(v: unknown): Read<UserFile> {
  if (!isObject(v) || typeof v.user_id !== "string" || !USER_ID_PATTERN.test(v.user_id)) return;
  const enabled = v.enabled === undefined ? true : v.enabled;
  if (!isName(v.name) || !isBoolean(enabled)) return undefined;
  const brokers = brokerEntries(v.brokers);
  if (!brokers) return undefined;
  const file: UserFile = { user_id: v.user_id, enabled, brokers };
  if (v.name !== undefined) file.name = v.name as string | null;
  if (v.alerts !== undefined) {
    const parsed = alerts(v.alerts);
    if (!parsed) return undefined;
    file.alerts = parsed;
  }
  return file;
}

/** `{ name?, brokers: [...] }`, as PlatformFileSchema parses it. */
export function fastPlatformFile(v: unknown): Read<PlatformFile> {
  if (!isObject(v) || !isName(v.name)) return undefined;
  const brokers = brokerEntries(v.brokers);
  if (!brokers) return undefined;
  return { ...(v.name === undefined ? {} : { name: v.name as string | null }), brokers };
}
