/**
 * Credentials that cannot work, found without a request: a character no HTTP header can carry,
 * a Kraken secret that is not base64, a Coinbase secret that is no key Coinbase issues, the
 * example file's placeholder, an OKX key without its passphrase. A fault names the field and why,
 * never the value.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import type { Credentials } from "./types.js";

export interface CredentialFault {
  field: keyof Credentials;
  /** Completes "the <field label> in <where> ...", e.g. "is not base64". */
  reason: string;
  hint: string;
}

export const FIELD_LABELS: Record<keyof Credentials, string> = {
  apiKey: "API key",
  secret: "secret",
  password: "passphrase",
  uid: "uid",
};

/**
 * Coinbase PEM secrets kept on one line (as .env files and container settings often do) have
 * literal `\n` sequences: they become newlines, as in the original system.
 */
export function normalizeSecret(broker: string, secret: string): string {
  if (broker !== "coinbase" || !secret.includes("-----BEGIN")) return secret;
  return secret.replace(/\\n/g, "\n").trim();
}

/** The original's user.yaml.example and its loader's placeholder list. */
const PLACEHOLDERS = new Set([
  "YOUR_API_KEY_HERE",
  "YOUR_API_SECRET_HERE",
  "YOUR_KEY",
  "YOUR_SECRET",
  "your_api_key",
  "your_api_secret",
]);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Latin-1 without controls: what an HTTP header value can carry byte for byte.
const HEADER_SAFE = /^[\x20-\x7e\xa0-\xff]*$/;

export function isHeaderSafe(value: string): boolean {
  return HEADER_SAFE.test(value) && value.trim() === value;
}

const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function isPem(secret: string): boolean {
  return secret.startsWith("-----BEGIN");
}

export function credentialFault(broker: string, credentials: Credentials): CredentialFault | null {
  for (const field of ["apiKey", "secret", "password", "uid"] as const) {
    const value = credentials[field];
    if (value === undefined) continue;
    if (PLACEHOLDERS.has(value.trim())) {
      return {
        field,
        reason: "is still the example file's placeholder",
        hint: "replace the placeholder with the real value from the broker",
      };
    }
    // A Coinbase PEM key spans lines by design; it is never sent, only used to sign.
    if (field === "secret" && broker === "coinbase" && isPem(value)) continue;
    if (!isHeaderSafe(value)) {
      return {
        field,
        reason:
          "has a character that cannot go in an HTTP header (a line break or other control character, a leading or trailing space, or a non-Latin-1 character)",
        hint: "remove the stray character: a trailing newline or space from copying is the usual cause",
      };
    }
  }
  if (broker === "kraken" && !BASE64.test(credentials.secret)) {
    return {
      field: "secret",
      reason: "is not base64",
      hint: "copy the Private Key exactly as Kraken showed it when the key was created (base64, usually 88 characters ending in '=')",
    };
  }
  if (broker === "coinbase") return coinbaseFault(credentials);
  if (broker === "okx" && credentials.password === undefined) {
    return {
      field: "password",
      reason: "is missing; OKX keys need the passphrase chosen when the key was created",
      hint: "set the passphrase next to the key",
    };
  }
  return null;
}

/**
 * The three kinds of Coinbase key, told apart as ccxt does: a PEM secret (or an
 * `organizations/...` key name) is a CDP ES256 key, an 88-character or `=`-ended secret is a
 * base64 Ed25519 key, anything else a legacy HMAC secret.
 */
function coinbaseFault({ apiKey, secret }: Credentials): CredentialFault | null {
  const pemHint =
    "paste the whole privateKey from the CDP key file, BEGIN and END lines included (in .env on one line, with \\n for each line break)";
  if (isPem(secret)) {
    let type: string | undefined;
    try {
      type = createPrivateKey(secret).asymmetricKeyType;
    } catch {
      return { field: "secret", reason: "is not a parsable PEM private key", hint: pemHint };
    }
    if (type === "ec" || type === "ed25519") return null;
    return {
      field: "secret",
      reason: `is a PEM ${type ?? "unknown"} key, not the EC or Ed25519 key Coinbase issues`,
      hint: pemHint,
    };
  }
  if (apiKey.includes("organizations/")) {
    return {
      field: "secret",
      reason: "is not a PEM private key, which a CDP key name (organizations/...) needs",
      hint: pemHint,
    };
  }
  if (secret.length === 88 || secret.endsWith("=")) {
    const raw = Buffer.from(secret, "base64");
    if (!BASE64.test(secret) || raw.length !== 64 || !ed25519PairMatches(raw)) {
      return {
        field: "secret",
        reason:
          "is not a base64 Ed25519 key (88 characters: the 32-byte private seed and its public key)",
        hint: "copy the privateKey from the CDP key file exactly, without line breaks",
      };
    }
  }
  return null;
}

/** The second half of a CDP Ed25519 secret is the public key of the first: a typo breaks it. */
function ed25519PairMatches(raw: Buffer): boolean {
  try {
    const key = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, raw.subarray(0, 32)]),
      format: "der",
      type: "pkcs8",
    });
    const x = createPublicKey(key).export({ format: "jwk" }).x;
    return x !== undefined && Buffer.from(x, "base64url").equals(raw.subarray(32));
  } catch {
    return false;
  }
}
