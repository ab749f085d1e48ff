import { randomBytes, sign } from "node:crypto";
import { coinbasePrivateKey } from "./coinbase-key.js";

/**
 * Coinbase CDP request tokens, signed with Node's crypto instead of ccxt's pure-JavaScript
 * curves: the first ES256 signature in a process costs ~60 ms of curve set-up there and every
 * later one ~0.7 ms, against ~0.03 ms here. The token is the one ccxt's `createAuthToken` builds,
 * claim for claim (the emulator verifies it like Coinbase does); only the signing primitive
 * differs.
 */
const base64url = (data: string | Buffer) =>
  Buffer.from(data).toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

/** Returns a `createAuthToken(seconds, method, url, useEddsa)` bound to one key pair. */
export function coinbaseTokenSigner(apiKey: string, secret: string) {
  return (seconds: number, method?: string, url?: string, useEddsa = false): string => {
    const key = coinbasePrivateKey(secret, useEddsa);
    const claims: Record<string, unknown> = {
      aud: [useEddsa ? "cdp_service" : "retail_rest_api_proxy"],
      iss: useEddsa ? "cdp" : "coinbase-cloud",
      nbf: seconds,
      exp: seconds + 120,
      sub: apiKey,
      iat: seconds,
    };
    if (url !== undefined && method !== undefined) {
      const uri = `${method} ${url.replace("https://", "")}`.split("?")[0];
      if (useEddsa) claims.uris = [uri];
      else claims.uri = uri;
    }
    const alg = useEddsa ? "EdDSA" : "ES256";
    const header = { alg, typ: "JWT", kid: apiKey, nonce: randomBytes(16).toString("hex") };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = useEddsa
      ? sign(null, Buffer.from(input), key)
      : sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    return `${input}.${base64url(signature)}`;
  };
}
