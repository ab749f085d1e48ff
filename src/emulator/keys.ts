/**
 * Test/demo credentials in the shapes each exchange issues. Every call makes fresh random
 * material; nothing here is a real key and nothing should be committed.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from "node:crypto";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function randomString(length: number, alphabet: string): string {
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** Kraken: a 56-character public key and a base64 private key of 64 random bytes. */
export function newKrakenKey(): { apiKey: string; secret: string } {
  return { apiKey: randomBytes(42).toString("base64"), secret: randomBytes(64).toString("base64") };
}

/**
 * Coinbase CDP key. es256: the key name "organizations/<uuid>/apiKeys/<uuid>" and a SEC1 PEM P-256
 * private key; ed25519: a uuid and base64 of the 32-byte seed followed by the 32-byte public key.
 */
export function newCoinbaseCdpKey(alg: "es256" | "ed25519"): { apiKey: string; secret: string } {
  if (alg === "es256") {
    const { privateKey } = generateKeyPairSync("ec", {
      namedCurve: "prime256v1",
      privateKeyEncoding: { type: "sec1", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    return { apiKey: `organizations/${randomUUID()}/apiKeys/${randomUUID()}`, secret: privateKey };
  }
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const seed = Buffer.from(jwk.d ?? "", "base64url");
  const publicKey = Buffer.from(jwk.x ?? "", "base64url");
  return { apiKey: randomUUID(), secret: Buffer.concat([seed, publicKey]).toString("base64") };
}

/** Coinbase legacy API key: 16-character key, 32-character secret. */
export function newCoinbaseHmacKey(): { apiKey: string; secret: string } {
  return { apiKey: randomString(16, ALPHANUMERIC), secret: randomString(32, ALPHANUMERIC) };
}

/** Alpaca: 20-character key id ("AK" live, "PK" paper, as Alpaca issues them), 40-character secret. */
export function newAlpacaKey(environment: "live" | "paper" = "live"): {
  apiKey: string;
  secret: string;
} {
  return {
    apiKey: `${environment === "paper" ? "PK" : "AK"}${randomString(18, UPPER_ALPHANUMERIC)}`,
    secret: randomString(40, ALPHANUMERIC),
  };
}

/** Binance HMAC key: a 64-character alphanumeric API key and secret. */
export function newBinanceKey(): { apiKey: string; secret: string } {
  return { apiKey: randomString(64, ALPHANUMERIC), secret: randomString(64, ALPHANUMERIC) };
}

/**
 * OKX v5 key: a uuid API key, a 32-character upper-case hex secret, and the passphrase the user
 * picks when creating the key (8 to 32 characters with a letter, a digit and a symbol).
 */
export function newOkxKey(): { apiKey: string; secret: string; passphrase: string } {
  return {
    apiKey: randomUUID(),
    secret: randomBytes(16).toString("hex").toUpperCase(),
    passphrase: `Pp1!${randomString(12, ALPHANUMERIC)}`,
  };
}

export type CoinbaseVerifier =
  | { kind: "es256"; publicKey: KeyObject }
  | { kind: "ed25519"; publicKey: KeyObject }
  | { kind: "hmac"; secret: string };

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): fixed 16-byte prefix, then the 32 bytes.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/**
 * What Coinbase keeps to check a key: for CDP keys the public key, derived here from the private
 * key in the seed; for legacy keys the shared secret. Mirrors how ccxt decides the key kind.
 */
export function coinbaseVerifier(secret: string): CoinbaseVerifier {
  if (secret.startsWith("-----BEGIN")) {
    return { kind: "es256", publicKey: createPublicKey(createPrivateKey(secret)) };
  }
  const raw = Buffer.from(secret, "base64");
  if (secret.length === 88 && raw.length === 64) {
    const privateKey = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, raw.subarray(0, 32)]),
      format: "der",
      type: "pkcs8",
    });
    return { kind: "ed25519", publicKey: createPublicKey(privateKey) };
  }
  return { kind: "hmac", secret };
}
