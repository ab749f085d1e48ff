import { hash } from "node:crypto";

/**
 * A stable, non-reversible id for an API key: enough to tell keys apart in cache entries, lanes
 * and logs, useless to anyone who reads it. Secrets are never fingerprinted.
 */
export function keyFingerprint(apiKey: string): string {
  return hash("sha256", `show-user-balances:${apiKey}`, "hex").slice(0, 16);
}

/** Replaces every occurrence of the given secret values (and long fragments of them) with "***". */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    out = out.split(secret).join("***");
    // PEM keys and base64 secrets can surface line by line.
    for (const line of secret.split(/\r?\n/)) {
      if (line.length >= 16 && !line.startsWith("-----")) out = out.split(line).join("***");
    }
  }
  return out;
}
