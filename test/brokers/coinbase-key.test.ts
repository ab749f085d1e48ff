import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { coinbasePrivateKey } from "../../src/brokers/coinbase-key.js";

const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END ${label}-----\n`;

/** A fresh P-256 key: as OpenSSL writes SEC1 (with its public point), and its JWK. */
function p256() {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    der: privateKey.export({ format: "der", type: "sec1" }),
    jwk: privateKey.export({ format: "jwk" }),
  };
}

describe("coinbasePrivateKey (ES256)", () => {
  it("reads Coinbase's SEC1 layout as the very key OpenSSL reads, and signs with it", () => {
    const { der, jwk } = p256();
    expect(der.length).toBe(121);
    const key = coinbasePrivateKey(pem("EC PRIVATE KEY", der), false);
    expect(key.export({ format: "jwk" })).toEqual(jwk);
    const message = Buffer.from("GET api.coinbase.com/api/v3/brokerage/accounts");
    const signature = sign("sha256", message, { key, dsaEncoding: "ieee-p1363" });
    const publicKey = createPublicKey(createPrivateKey({ key: der, format: "der", type: "sec1" }));
    expect(
      verify("sha256", message, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature),
    ).toBe(true);
  });

  it("reads other layouts through OpenSSL: no public point, PKCS #8, a point off the curve", () => {
    const { der, jwk } = p256();
    // SEC1 without its [1] public point: version, scalar and curve only.
    const bare = Buffer.concat([Buffer.from([0x30, 0x31]), der.subarray(2, 51)]);
    const noPoint = coinbasePrivateKey(pem("EC PRIVATE KEY", bare), false);
    expect(noPoint.export({ format: "jwk" })).toEqual(jwk);

    const pkcs8 = createPrivateKey({ key: der, format: "der", type: "sec1" }).export({
      format: "der",
      type: "pkcs8",
    });
    expect(coinbasePrivateKey(pem("PRIVATE KEY", pkcs8), false).export({ format: "jwk" })).toEqual(
      jwk,
    );

    // The right layout with a point that is not on the curve: the same outcome as OpenSSL's.
    const offCurve = Buffer.from(der);
    offCurve.fill(0x01, 57, 121);
    const text = pem("EC PRIVATE KEY", offCurve);
    let openssl: unknown;
    try {
      openssl = createPrivateKey({ key: offCurve, format: "der", type: "sec1" }).export({
        format: "jwk",
      }).d;
    } catch {
      openssl = "refused";
    }
    let ours: unknown;
    try {
      ours = coinbasePrivateKey(text, false).export({ format: "jwk" }).d;
    } catch {
      ours = "refused";
    }
    expect(ours).toBe(openssl);
  });
});
