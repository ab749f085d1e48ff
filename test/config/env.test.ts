// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is the config syntax under test
import { describe, expect, it } from "vitest";
import {
  applyDotEnv,
  credentialFamilies,
  expandEnvRefs,
  hasPlatformEnvCredentials,
  isOnlyEnvRefs,
  lookupEnvCredentials,
  parseDotEnv,
} from "../../src/config/env.js";

describe("parseDotEnv", () => {
  it("reads KEY=VALUE lines, export prefixes, comments and blank lines", () => {
    const text = [
      "# platform",
      "",
      "KRAKEN_API_KEY=abc",
      "export KRAKEN_API_SECRET=def",
      "  SPACED  =  padded value  ",
      "INLINE=value # a comment",
      "HASH_IN_VALUE=a#b",
      "EMPTY=",
      "not a line",
      "1BAD=x",
    ].join("\n");
    expect(parseDotEnv(text)).toEqual({
      KRAKEN_API_KEY: "abc",
      KRAKEN_API_SECRET: "def",
      SPACED: "padded value",
      INLINE: "value",
      HASH_IN_VALUE: "a#b",
      EMPTY: "",
    });
  });

  it("expands escapes in double quotes only and keeps single quotes literal", () => {
    const text = [
      'DOUBLE="line1\\nline2 \\"q\\" # not a comment"',
      "SINGLE='raw\\n $x # kept'",
      'TRAILING="v" # comment',
      'MULTI="a',
      'b"',
      "CRLF=yes\r",
    ].join("\n");
    expect(parseDotEnv(text)).toEqual({
      DOUBLE: 'line1\nline2 "q" # not a comment',
      SINGLE: "raw\\n $x # kept",
      TRAILING: "v",
      MULTI: "a\nb",
      CRLF: "yes",
    });
  });

  it("keeps the last of a repeated key", () => {
    expect(parseDotEnv("A=1\nA=2\n")).toEqual({ A: "2" });
  });

  it("applies without overriding variables already set", () => {
    const env: Record<string, string | undefined> = { A: "from-env", C: "" };
    const set = applyDotEnv(env, { A: "from-file", B: "b", C: "c" });
    expect(env).toEqual({ A: "from-env", B: "b", C: "" });
    expect(set).toEqual(["B"]);
  });
});

describe("${VAR} references", () => {
  it("expands whole and embedded references", () => {
    const env = { KEY: "k1", HOST: "example.test" };
    expect(expandEnvRefs("${KEY}", env)).toEqual({ ok: true, value: "k1" });
    expect(expandEnvRefs("https://${HOST}:8443/x", env)).toEqual({
      ok: true,
      value: "https://example.test:8443/x",
    });
  });

  it("names every unset or empty variable", () => {
    expect(expandEnvRefs("${A}-${B}-${A}", { B: "" })).toEqual({ ok: false, missing: ["A", "B"] });
  });

  it("tells pure references from literal text", () => {
    expect(isOnlyEnvRefs("${A}")).toBe(true);
    expect(isOnlyEnvRefs("${A}${B}")).toBe(true);
    expect(isOnlyEnvRefs("x${A}")).toBe(false);
    expect(isOnlyEnvRefs("literal")).toBe(false);
  });
});

describe("credential variable families", () => {
  it("tries the full user id, then its first segment", () => {
    expect(credentialFamilies("kraken", "user", "daivon_frazier")).toEqual([
      "KRAKEN_USER_DAIVON_FRAZIER",
      "KRAKEN_USER_DAIVON",
    ]);
    expect(credentialFamilies("kraken", "user", "alice")).toEqual(["KRAKEN_USER_ALICE"]);
    expect(credentialFamilies("coinbase", "user", "john.doe@x")).toEqual([
      "COINBASE_USER_JOHN_DOE_X",
    ]);
  });

  it("tries PLATFORM, MASTER, then the plain name for the platform", () => {
    expect(credentialFamilies("kraken", "platform", "platform")).toEqual([
      "KRAKEN_PLATFORM",
      "KRAKEN_MASTER",
      "KRAKEN",
    ]);
  });

  it("never pairs a key and a secret from different families", () => {
    const env = { KRAKEN_PLATFORM_API_KEY: "pk", KRAKEN_MASTER_API_SECRET: "ms" };
    const found = lookupEnvCredentials(env, credentialFamilies("kraken", "platform", "platform"));
    expect(found.credentials).toBeNull();
    expect(found.explain).toEqual({
      source: "none",
      used: null,
      tried: [
        "KRAKEN_PLATFORM_API_KEY",
        "KRAKEN_PLATFORM_API_SECRET",
        "KRAKEN_MASTER_API_KEY",
        "KRAKEN_MASTER_API_SECRET",
        "KRAKEN_API_KEY",
        "KRAKEN_API_SECRET",
      ],
    });
  });

  it("takes the passphrase from the family that matched and ignores blank values", () => {
    const env = {
      COINBASE_PLATFORM_API_KEY: "  ",
      COINBASE_PLATFORM_API_SECRET: "s0",
      COINBASE_MASTER_API_KEY: "mk",
      COINBASE_MASTER_API_SECRET: "ms",
      COINBASE_MASTER_API_PASSPHRASE: "mp",
      COINBASE_API_PASSPHRASE: "plain",
    };
    const found = lookupEnvCredentials(env, credentialFamilies("coinbase", "platform", "platform"));
    expect(found.credentials).toEqual({ apiKey: "mk", secret: "ms", password: "mp" });
    expect(found.explain.used).toBe("COINBASE_MASTER_API_KEY");
    expect(found.explain.source).toBe("env");
  });

  it("infers a platform broker from any of its credential variables", () => {
    expect(hasPlatformEnvCredentials({ ALPACA_MASTER_API_SECRET: "x" }, "alpaca")).toBe(true);
    expect(hasPlatformEnvCredentials({ ALPACA_USER_BOB_API_KEY: "x" }, "alpaca")).toBe(false);
    expect(hasPlatformEnvCredentials({ ALPACA_API_URL: "http://x" }, "alpaca")).toBe(false);
  });
});
