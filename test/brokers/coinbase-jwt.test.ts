import { createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadExchangeClass } from "../../src/brokers/ccxt-loader.js";
import { coinbaseTokenSigner } from "../../src/brokers/coinbase-jwt.js";
import { newCoinbaseCdpKey } from "../../src/emulator/index.js";

const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

describe("coinbaseTokenSigner", () => {
  it.each([
    ["es256", false],
    ["ed25519", true],
  ] as const)(
    "builds ccxt's %s token, claim for claim, with a signature that verifies",
    async (alg, eddsa) => {
      const { apiKey, secret } = newCoinbaseCdpKey(alg);
      const url = "https://api.coinbase.com/api/v3/brokerage/accounts?limit=250";
      const ours = coinbaseTokenSigner(apiKey, secret)(1_800_000_000, "GET", url, eddsa);

      const Coinbase = await loadExchangeClass("coinbase");
      const ccxt = new (Coinbase as NonNullable<typeof Coinbase>)({
        apiKey,
        secret,
      }) as unknown as {
        createAuthToken(s: number, m: string, u: string, e: boolean): string;
      };
      const theirs = ccxt.createAuthToken(1_800_000_000, "GET", url, eddsa);

      const [oh, oc, os] = ours.split(".") as [string, string, string];
      const [th, tc] = theirs.split(".") as [string, string];
      expect(decode(oc)).toEqual(decode(tc));
      expect({ ...decode(oh), nonce: "n" }).toEqual({ ...decode(th), nonce: "n" });
      expect(decode(oh).nonce).toMatch(/^[0-9a-f]{32}$/);
      expect(decode(oc)[eddsa ? "uris" : "uri"]).toEqual(
        eddsa
          ? ["GET api.coinbase.com/api/v3/brokerage/accounts"]
          : "GET api.coinbase.com/api/v3/brokerage/accounts",
      );

      const input = Buffer.from(`${oh}.${oc}`);
      const signature = Buffer.from(os, "base64url");
      if (eddsa) {
        const der = Buffer.concat([
          Buffer.from("302a300506032b6570032100", "hex"),
          Buffer.from(secret, "base64").subarray(32),
        ]);
        const publicKey = createPublicKey({ key: der, format: "der", type: "spki" });
        expect(verify(null, input, publicKey, signature)).toBe(true);
      } else {
        const publicKey = createPublicKey(secret);
        expect(
          verify("sha256", input, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature),
        ).toBe(true);
        expect(
          verify(
            "sha256",
            Buffer.from("tampered"),
            { key: publicKey, dsaEncoding: "ieee-p1363" },
            signature,
          ),
        ).toBe(false);
      }
    },
  );
});
