/** zod issues as ConfigProblems: one per issue, with its field path and a fix. */

import type { ConfigProblem } from "./errors.js";
import type * as z from "./zod.js";

/** `brokers`, `[0]`, `credentials` -> `brokers[0].credentials`; an empty prefix is the file root. */
export function joinField(prefix: string, rest: string | readonly PropertyKey[]): string {
  const parts = typeof rest === "string" ? [rest] : rest;
  let out = prefix;
  for (const part of parts) {
    if (typeof part === "number") out += `[${part}]`;
    else if (part !== "") out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  boolean: "true or false",
  array: "a list (JSON array)",
  object: "an object",
  record: "an object",
  number: "a number",
};

function describeInput(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "an object";
  return `a ${typeof input}`;
}

/** Per-parse messages: say what is wrong by type only, never echoing the value. */
export const issueMessages: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === "invalid_type") {
    if (iss.input === undefined) return "is required";
    return `must be ${EXPECTED[iss.expected] ?? iss.expected}, not ${describeInput(iss.input)}`;
  }
  if (iss.code === "too_small" && iss.origin === "string") return "must not be empty";
  return undefined;
};

const BROKER_HINT =
  'use a ccxt exchange id in lower case, such as "kraken", "coinbase" or "alpaca"';

function hintFor(path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  const inCredentials = path.includes("credentials");
  if (inCredentials && last !== "credentials") {
    return `give "apiKey" and "secret" (ccxt names; "password" and "uid" optional) as strings, preferably "\${VAR}" references, or remove "credentials" to read them from the environment`;
  }
  switch (last) {
    case "user_id":
      return "use a user id such as \"alice\": letters, digits, '_', '-', '.' or '@'";
    case "broker":
    case "broker_type":
      return BROKER_HINT;
    case "credentials":
      return `use an object such as { "apiKey": "\${KRAKEN_KEY}", "secret": "\${KRAKEN_SECRET}" }, or remove "credentials" to read them from the environment`;
    case "apiUrl":
      return 'use an absolute http(s) URL such as "https://api.kraken.com", or remove "apiUrl"';
    case "options":
      return 'use a JSON object of ccxt exchange options, such as { "timeout": 10000 }';
    case "enabled":
    case "paper":
    case "testnet":
      return "use true or false, without quotes";
    case "api_key":
    case "api_secret":
    case "passphrase":
      return `give both api_key and api_secret as strings (quote a value that looks like a number), preferably "\${VAR}" references, or neither to read them from the environment`;
    case "name":
      return 'use a string, such as "Alice"';
    case "brokers":
      return 'list the broker accounts, such as "brokers": [{ "broker": "kraken" }]';
    default:
      if (typeof last === "number")
        return 'each broker entry is an object such as { "broker": "kraken" }';
      return "compare with the example files in the config/ directory shipped with show-user-balances";
  }
}

export function zodProblems(error: z.ZodError, file: string, prefix: string): ConfigProblem[] {
  return error.issues.map((issue) => {
    const field = joinField(prefix, issue.path);
    return {
      code: "invalid_field",
      file,
      field: field === "" ? null : field,
      message: issue.message,
      hint: hintFor(issue.path),
    };
  });
}
