import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  credentialFault,
  isHeaderSafe,
  normalizeSecret,
} from "../../src/config/credential-checks.js";
import { loadConfig } from "../../src/config/index.js";
import {
  newAlpacaKey,
  newBinanceKey,
  newCoinbaseCdpKey,
  newCoinbaseHmacKey,
  newKrakenKey,
  newOkxKey,
} from "../../src/emulator/keys.js";
import { writeTree } from "./helpers.js";

type Env = Record<string, string | undefined>;

const fault = (broker: string, apiKey: string, secret: string, password?: string) =>
  credentialFault(broker, { apiKey, secret, ...(password === undefined ? {} : { password }) });

describe("credentialFault", () => {
  it("passes every kind of key the brokers issue", () => {
    const okx = newOkxKey();
    const cases: Array<[string, { apiKey: string; secret: string; password?: string }]> = [
      ["kraken", newKrakenKey()],
      ["coinbase", newCoinbaseCdpKey("es256")],
      ["coinbase", newCoinbaseCdpKey("ed25519")],
      ["coinbase", newCoinbaseHmacKey()],
      ["alpaca", newAlpacaKey()],
      ["binance", newBinanceKey()],
      ["okx", { apiKey: okx.apiKey, secret: okx.secret, password: okx.passphrase }],
    ];
    for (const [broker, credentials] of cases)
      expect(credentialFault(broker, credentials)).toBeNull();
  });

  it("finds a Kraken secret that is not base64", () => {
    expect(fault("kraken", "k", "not base64!")).toMatchObject({
      field: "secret",
      reason: "is not base64",
    });
    expect(fault("kraken", "k", "abc")).toMatchObject({ reason: "is not base64" });
  });

  it("tells the Coinbase key kinds apart and finds a broken one of each", () => {
    const es256 = newCoinbaseCdpKey("es256");
    const truncated = es256.secret.slice(0, 80);
    expect(fault("coinbase", es256.apiKey, truncated)).toMatchObject({
      reason: "is not a parsable PEM private key",
    });
    const rsa = generateKeyPairSync("rsa", {
      modulusLength: 1024,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    }).privateKey;
    expect(fault("coinbase", es256.apiKey, rsa)?.reason).toContain("PEM rsa key");
    const ed = newCoinbaseCdpKey("ed25519");
    const flipped = `${ed.secret.slice(0, 50)}${ed.secret[50] === "A" ? "B" : "A"}${ed.secret.slice(51)}`;
    expect(fault("coinbase", ed.apiKey, flipped)?.reason).toContain("base64 Ed25519 key");
    expect(fault("coinbase", ed.apiKey, `${ed.secret.slice(0, 40)}=`)?.reason).toContain(
      "base64 Ed25519 key",
    );
    expect(fault("coinbase", es256.apiKey, "plainsecret")?.reason).toContain(
      "CDP key name (organizations/...)",
    );
  });

  it("turns literal \\n in a one-line Coinbase PEM into newlines, and leaves others alone", () => {
    const { secret } = newCoinbaseCdpKey("es256");
    const oneLine = secret.trim().replace(/\n/g, "\\n");
    expect(normalizeSecret("coinbase", oneLine)).toBe(secret.trim());
    expect(normalizeSecret("kraken", oneLine)).toBe(oneLine);
    expect(normalizeSecret("coinbase", "hmac\\nsecret")).toBe("hmac\\nsecret");
  });

  it("finds characters no HTTP header can carry, in any field of any broker", () => {
    expect(isHeaderSafe("ABCdef123+/=-_.~ !")).toBe(true);
    expect(isHeaderSafe("caf\u00e9")).toBe(true);
    for (const bad of ["key\n", " key", "key ", "k\tey", "k\u0000", "\u20ackey", "k\u007f"]) {
      expect(isHeaderSafe(bad)).toBe(false);
    }
    expect(fault("binance", "key\n", "s")).toMatchObject({ field: "apiKey" });
    expect(fault("alpaca", "PK1", "se\u2028cret")).toMatchObject({ field: "secret" });
    expect(fault("okx", "k", "s", "pass\r")).toMatchObject({ field: "password" });
    expect(fault("okx", "k", "s")).toMatchObject({
      field: "password",
      reason: expect.stringContaining("is missing"),
    });
  });

  it("finds the original example file's placeholders", () => {
    expect(fault("kraken", "YOUR_API_KEY_HERE", "abcd")).toMatchObject({
      field: "apiKey",
      reason: "is still the example file's placeholder",
    });
  });
});

describe("unusable credentials in loaded config", () => {
  const load = (root: string, env: Env) =>
    loadConfig({ configDir: join(root, "config"), cwd: root, env });

  it("records the problem on the account, naming the variable, once per variable", async () => {
    const root = await writeTree({
      "config/users/bob.json": { user_id: "bob", brokers: [{ broker: "kraken" }] },
      "config/users/bob_smith.json": { user_id: "bob_smith", brokers: [{ broker: "kraken" }] },
      "config/users/olga.json": { user_id: "olga", brokers: [{ broker: "okx" }] },
    });
    const secretValue = "NOT-BASE64-SECRET-VALUE-91f2";
    const config = await load(root, {
      KRAKEN_USER_BOB_API_KEY: "bob-key",
      KRAKEN_USER_BOB_API_SECRET: secretValue,
      OKX_USER_OLGA_API_KEY: "k",
      OKX_USER_OLGA_API_SECRET: "s",
    });
    expect(config.users.map((u) => [u.id, u.brokers[0]?.credentialProblem])).toEqual([
      ["bob", "the secret in KRAKEN_USER_BOB_API_SECRET is not base64"],
      ["bob_smith", "the secret in KRAKEN_USER_BOB_API_SECRET is not base64"],
      [
        "olga",
        "the passphrase in OKX_USER_OLGA_PASSPHRASE is missing; OKX keys need the passphrase chosen when the key was created",
      ],
    ]);
    expect(config.problems.map((p) => [p.code, p.file, p.field])).toEqual([
      ["unusable_credentials", "environment", "KRAKEN_USER_BOB_API_SECRET"],
      ["unusable_credentials", "environment", "OKX_USER_OLGA_PASSPHRASE"],
    ]);
    expect(JSON.stringify(config.problems)).not.toContain(secretValue);
    // The credentials stay, so --explain-credentials still shows where they came from.
    expect(config.users[0]?.brokers[0]?.credentials?.secret).toBe(secretValue);
  });

  it("leaves parsing a key to the fetch: shape faults at load, a key that only a parse rejects in keyCheck", async () => {
    const ed = newCoinbaseCdpKey("ed25519");
    // Right length and base64, but the public half no longer matches the seed.
    const flipped = `${ed.secret.slice(0, 50)}${ed.secret[50] === "A" ? "B" : "A"}${ed.secret.slice(51)}`;
    const es256 = newCoinbaseCdpKey("es256");
    const user = (id: string, broker: string, credentials: object) => ({
      [`config/users/${id}.json`]: { user_id: id, brokers: [{ broker, credentials }] },
    });
    const root = await writeTree({
      ...user("a", "coinbase", { apiKey: ed.apiKey, secret: flipped }),
      ...user("b", "coinbase", { apiKey: es256.apiKey, secret: es256.secret.slice(0, 80) }),
      ...user("c", "coinbase", es256),
      ...user("d", "kraken", newKrakenKey()),
    });
    const config = await load(root, {});
    const [edBroker, truncated, good, kraken] = config.users.map((u) => u.brokers[0]);
    expect(edBroker?.credentialProblem).toBeNull();
    expect(config.problems).toHaveLength(1); // the truncated PEM, found by shape
    expect(edBroker?.keyCheck?.()).toContain("is not a base64 Ed25519 key");
    expect(config.problems).toHaveLength(2); // the parse's finding is a config problem too
    expect(truncated?.credentialProblem).toContain("is not a parsable PEM private key");
    expect(truncated?.keyCheck).toBeUndefined();
    expect(good?.credentialProblem).toBeNull();
    expect(good?.keyCheck?.()).toBeNull();
    expect(kraken?.keyCheck).toBeUndefined();
  });

  it("names the config field for credentials written in a file", async () => {
    const root = await writeTree({
      "config/users/ann.json": {
        user_id: "ann",
        brokers: [
          { broker: "coinbase", credentials: { apiKey: "organizations/x", secret: "nope" } },
        ],
      },
    });
    const config = await load(root, {});
    const file = join(root, "config", "users", "ann.json");
    expect(config.users[0]?.brokers[0]?.credentialProblem).toBe(
      `the secret in ${file} (brokers[0].credentials.secret) is not a PEM private key, which a CDP key name (organizations/...) needs`,
    );
    expect(config.problems.map((p) => [p.file, p.field])).toEqual([
      [file, "brokers[0].credentials.secret"],
    ]);
  });

  it("reads a one-line PEM from COINBASE_PEM_CONTENT and .env, with the .env file named on trouble", async () => {
    const { apiKey, secret } = newCoinbaseCdpKey("es256");
    const oneLine = secret.trim().replace(/\n/g, "\\n");
    const root = await writeTree({
      ".env": `COINBASE_USER_ANN_PEM_CONTENT='${oneLine}'\nKRAKEN_USER_ANN_API_SECRET=bad!\n`,
      "config/users/ann.json": {
        user_id: "ann",
        brokers: [{ broker: "coinbase" }, { broker: "kraken" }],
      },
    });
    const config = await load(root, {
      COINBASE_PEM_CONTENT: "platform",
      COINBASE_USER_ANN_API_KEY: apiKey,
      KRAKEN_USER_ANN_API_KEY: "k",
    });
    const [coinbase, kraken] = config.users[0]?.brokers ?? [];
    expect(coinbase?.credentials?.secret).toBe(secret.trim());
    expect(coinbase?.credentialProblem).toBeNull();
    expect(coinbase?.credentialsExplain.used).toBe("COINBASE_USER_ANN_API_KEY");
    expect(kraken?.credentialProblem).toBe(
      "the secret in KRAKEN_USER_ANN_API_SECRET is not base64",
    );
    expect(config.problems.map((p) => [p.file, p.field])).toEqual([
      [join(root, ".env"), "KRAKEN_USER_ANN_API_SECRET"],
    ]);
  });
});
