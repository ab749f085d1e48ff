/**
 * Environment handling: the .env parser, `${VAR}` references and the credential variable
 * families. Functions here see secret values but only ever return variable names in messages.
 */
import type { Credentials, CredentialsExplain } from "./types.js";

export type Env = Record<string, string | undefined>;

/**
 * Brokers whose platform account is inferred from the environment when platform.json is absent:
 * the original's five (OKX_API_KEY, BINANCE_API_KEY, ... are its platform names).
 */
export const ENV_BROKERS: readonly string[] = ["coinbase", "kraken", "alpaca", "okx", "binance"];

const DOTENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const DOUBLE_QUOTE_ESCAPES: Record<string, string> = {
  n: "\n",
  r: "\r",
  t: "\t",
  '"': '"',
  "\\": "\\",
};

/**
 * KEY=VALUE lines with an optional `export ` prefix, `#` comments and blank lines. Double-quoted
 * values expand \n, \r, \t, \" and \\; single- and back-quoted values are literal; quoted values
 * may span lines. Unquoted values are trimmed and end at ` #`. Malformed lines are skipped and
 * a repeated key keeps its last value, as in the dotenv package.
 */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const src = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  let i = 0;
  while (i < src.length) {
    let end = src.indexOf("\n", i);
    if (end === -1) end = src.length;
    const line = src.slice(i, end);
    const next = end + 1;
    const match = /^\s*(?:export\s+)?([^=\s]+)\s*=\s*/.exec(line);
    if (!match?.[1] || line.trimStart().startsWith("#") || !DOTENV_KEY.test(match[1])) {
      i = next;
      continue;
    }
    const key = match[1];
    const valueStart = i + match[0].length;
    const quote = src[valueStart];
    if (quote === '"' || quote === "'" || quote === "`") {
      const close = findClosingQuote(src, valueStart + 1, quote);
      if (close !== -1) {
        const raw = src.slice(valueStart + 1, close);
        out[key] = quote === '"' ? unescapeDouble(raw) : raw;
        const lineEnd = src.indexOf("\n", close);
        i = lineEnd === -1 ? src.length : lineEnd + 1;
        continue;
      }
      // Unterminated quote: take the rest of the line literally, as dotenv does.
    }
    out[key] = src
      .slice(valueStart, end)
      .replace(/\s+#.*$/, "")
      .trim();
    i = next;
  }
  return out;
}

function findClosingQuote(src: string, from: number, quote: string): number {
  for (let j = from; j < src.length; j++) {
    const c = src[j];
    if (c === "\\" && quote === '"') j++;
    else if (c === quote) return j;
  }
  return -1;
}

function unescapeDouble(raw: string): string {
  return raw.replace(/\\(.)/gs, (all, c: string) => DOUBLE_QUOTE_ESCAPES[c] ?? all);
}

/** Copies `parsed` into `env` without overriding what is already set; returns the keys it set. */
export function applyDotEnv(env: Env, parsed: Record<string, string>): string[] {
  const set: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (env[key] !== undefined) continue;
    env[key] = value;
    set.push(key);
  }
  return set;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function containsEnvRef(value: string): boolean {
  return new RegExp(ENV_REF.source).test(value);
}

/** True when the value is nothing but `${VAR}` references, i.e. holds no literal secret. */
export function isOnlyEnvRefs(value: string): boolean {
  return value.length > 0 && value.replace(ENV_REF, "") === "";
}

export type Expansion = { ok: true; value: string } | { ok: false; missing: string[] };

/** Replaces every `${VAR}`; unset or empty variables are reported by name. */
export function expandEnvRefs(value: string, env: Env): Expansion {
  const missing: string[] = [];
  const expanded = value.replace(ENV_REF, (_all, name: string) => {
    const v = env[name];
    if (v === undefined || v === "") {
      if (!missing.includes(name)) missing.push(name);
      return "";
    }
    return v;
  });
  return missing.length > 0 ? { ok: false, missing } : { ok: true, value: expanded };
}

/** `daivon_frazier` -> `DAIVON_FRAZIER`; anything not a letter or digit becomes `_`. */
export function envNamePart(value: string): string {
  return value.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * The id parts of a user's variable names, in the original's order (its `_user_env_prefix`):
 * the id up to its first `_`, then the whole id, each with `-` read as `_` and a leading `user_`
 * dropped; then the id as written, for ids that begin with `user_`. Upper-cased and deduplicated,
 * so `Bob`, `bob` and `bob_smith` all reach `..._USER_BOB_...`.
 */
export function userEnvIds(id: string): string[] {
  let normalized = id.replace(/-/g, "_");
  if (/^user_./i.test(normalized)) normalized = normalized.slice("user_".length);
  const underscore = normalized.indexOf("_");
  const first = underscore > 0 ? normalized.slice(0, underscore) : normalized;
  return [...new Set([first, normalized, id].map(envNamePart))];
}

/**
 * Credential variable prefixes for an account, in lookup order. Each prefix P is a family:
 * P_API_KEY with P_API_SECRET (Coinbase also P_PEM_CONTENT) and P_API_PASSPHRASE or
 * P_PASSPHRASE, never mixed with another family's.
 */
export function credentialFamilies(
  broker: string,
  kind: "platform" | "user",
  id: string,
): string[] {
  const b = envNamePart(broker);
  if (kind === "platform") return [`${b}_PLATFORM`, `${b}_MASTER`, b];
  return userEnvIds(id).map((part) => `${b}_USER_${part}`);
}

function envValue(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v;
}

const secretSuffixes = (broker: string) =>
  broker === "coinbase" ? ["_API_SECRET", "_PEM_CONTENT"] : ["_API_SECRET"];
const PASSPHRASE_SUFFIXES = ["_API_PASSPHRASE", "_PASSPHRASE"];

/** Whether any platform credential variable is set for `broker` (to infer platform brokers). */
export function hasPlatformEnvCredentials(env: Env, broker: string): boolean {
  const suffixes = ["_API_KEY", ...secretSuffixes(broker), ...PASSPHRASE_SUFFIXES];
  return credentialFamilies(broker, "platform", "platform").some((p) =>
    suffixes.some((s) => envValue(env, p + s) !== undefined),
  );
}

/** Where each credential value came from: variable names. */
export type CredentialNames = { [K in keyof Credentials]: string };

export interface EnvCredentials {
  credentials: Credentials | null;
  explain: CredentialsExplain;
  names: CredentialNames | null;
  /** Later families that are complete too but hold another key or secret (the first one wins). */
  shadowed: string[];
}

/**
 * The first family with both a key and a secret. OKX's passphrase names are listed in `tried`
 * since it needs one; for other brokers a passphrase is optional and only ever read.
 */
export function lookupEnvCredentials(env: Env, broker: string, families: string[]): EnvCredentials {
  const tried: string[] = [];
  const complete = (prefix: string) => {
    const keyName = `${prefix}_API_KEY`;
    const secretName = secretSuffixes(broker)
      .map((s) => prefix + s)
      .find((n) => envValue(env, n) !== undefined);
    const apiKey = envValue(env, keyName);
    const secret = secretName === undefined ? undefined : envValue(env, secretName);
    return apiKey === undefined || secret === undefined || secretName === undefined
      ? null
      : { apiKey, secret, keyName, secretName };
  };
  for (const [i, prefix] of families.entries()) {
    tried.push(`${prefix}_API_KEY`, ...secretSuffixes(broker).map((s) => prefix + s));
    const found = complete(prefix);
    if (!found) continue;
    const credentials: Credentials = { apiKey: found.apiKey, secret: found.secret };
    const names: CredentialNames = { apiKey: found.keyName, secret: found.secretName };
    const passphraseNames = PASSPHRASE_SUFFIXES.map((s) => prefix + s);
    if (broker === "okx") tried.push(...passphraseNames);
    const passphraseName = passphraseNames.find((n) => envValue(env, n) !== undefined);
    if (passphraseName !== undefined) {
      credentials.password = envValue(env, passphraseName) as string;
      names.password = passphraseName;
    }
    const shadowed = families.slice(i + 1).filter((other) => {
      const c = complete(other);
      return c !== null && (c.apiKey !== found.apiKey || c.secret !== found.secret);
    });
    return {
      credentials,
      names,
      shadowed,
      explain: { source: "env", tried, used: found.keyName },
    };
  }
  return {
    credentials: null,
    names: null,
    shadowed: [],
    explain: { source: "none", tried, used: null },
  };
}

/** The original's booleans: true/false, 1/0, yes/no in any case; undefined when unset or blank. */
export function parseEnvBoolean(value: string | undefined): boolean | undefined | "invalid" {
  if (value === undefined || value.trim() === "") return undefined;
  const v = value.trim().toLowerCase();
  if (v === "true" || v === "1" || v === "yes") return true;
  if (v === "false" || v === "0" || v === "no") return false;
  return "invalid";
}
