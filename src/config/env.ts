/**
 * Environment handling: the .env parser, `${VAR}` references and the credential variable
 * families. Functions here see secret values but only ever return variable names in messages.
 */
import type { Credentials, CredentialsExplain } from "./types.js";

export type Env = Record<string, string | undefined>;

/** Brokers whose platform account is inferred from the environment when platform.json is absent. */
export const ENV_BROKERS: readonly string[] = ["coinbase", "kraken", "alpaca"];

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
 * Credential variable prefixes for an account, most specific first. Each prefix P is a family:
 * P_API_KEY, P_API_SECRET and P_API_PASSPHRASE, never mixed with another family's.
 */
export function credentialFamilies(
  broker: string,
  kind: "platform" | "user",
  id: string,
): string[] {
  const b = envNamePart(broker);
  if (kind === "platform") return [`${b}_PLATFORM`, `${b}_MASTER`, b];
  const full = `${b}_USER_${envNamePart(id)}`;
  const underscore = id.indexOf("_");
  const first = underscore > 0 ? `${b}_USER_${envNamePart(id.slice(0, underscore))}` : full;
  return first === full ? [full] : [full, first];
}

function envValue(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v;
}

/** Whether any platform credential variable is set for `broker` (to infer platform brokers). */
export function hasPlatformEnvCredentials(env: Env, broker: string): boolean {
  return credentialFamilies(broker, "platform", "platform").some((p) =>
    ["_API_KEY", "_API_SECRET", "_API_PASSPHRASE"].some((s) => envValue(env, p + s) !== undefined),
  );
}

export function lookupEnvCredentials(
  env: Env,
  families: string[],
): { credentials: Credentials | null; explain: CredentialsExplain } {
  const tried: string[] = [];
  for (const prefix of families) {
    const keyName = `${prefix}_API_KEY`;
    const secretName = `${prefix}_API_SECRET`;
    tried.push(keyName, secretName);
    const apiKey = envValue(env, keyName);
    const secret = envValue(env, secretName);
    if (apiKey === undefined || secret === undefined) continue;
    const credentials: Credentials = { apiKey, secret };
    const password = envValue(env, `${prefix}_API_PASSPHRASE`);
    if (password !== undefined) credentials.password = password;
    return { credentials, explain: { source: "env", tried, used: keyName } };
  }
  return { credentials: null, explain: { source: "none", tried, used: null } };
}
