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
  parseEnvBoolean,
  userEnvIds,
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
  it("tries the user id up to its first '_', then the full id, as the original does", () => {
    expect(credentialFamilies("kraken", "user", "daivon_frazier")).toEqual([
      "KRAKEN_USER_DAIVON",
      "KRAKEN_USER_DAIVON_FRAZIER",
    ]);
    expect(credentialFamilies("kraken", "user", "alice")).toEqual(["KRAKEN_USER_ALICE"]);
    expect(credentialFamilies("coinbase", "user", "john.doe@x")).toEqual([
      "COINBASE_USER_JOHN_DOE_X",
    ]);
  });

  it("reads '-' as '_' and drops a leading user_, then tries the id as written", () => {
    expect(userEnvIds("tania-gilbert")).toEqual(["TANIA", "TANIA_GILBERT"]);
    expect(userEnvIds("user_daivon_frazier")).toEqual([
      "DAIVON",
      "DAIVON_FRAZIER",
      "USER_DAIVON_FRAZIER",
    ]);
    expect(userEnvIds("user_")).toEqual(["USER", "USER_"]);
    // The case trap: these three users all reach KRAKEN_USER_BOB_*.
    expect(["Bob", "bob", "bob_smith"].map((id) => userEnvIds(id)[0])).toEqual([
      "BOB",
      "BOB",
      "BOB",
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
    const found = lookupEnvCredentials(
      env,
      "kraken",
      credentialFamilies("kraken", "platform", "platform"),
    );
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
    const found = lookupEnvCredentials(
      env,
      "coinbase",
      credentialFamilies("coinbase", "platform", "platform"),
    );
    expect(found.credentials).toEqual({ apiKey: "mk", secret: "ms", password: "mp" });
    expect(found.explain.used).toBe("COINBASE_MASTER_API_KEY");
    expect(found.explain.source).toBe("env");
    expect(found.names).toEqual({
      apiKey: "COINBASE_MASTER_API_KEY",
      secret: "COINBASE_MASTER_API_SECRET",
      password: "COINBASE_MASTER_API_PASSPHRASE",
    });
  });

  it("takes a Coinbase secret from _API_SECRET or else _PEM_CONTENT, and lists both as tried", () => {
    const families = credentialFamilies("coinbase", "user", "tania_gilbert");
    const found = lookupEnvCredentials(
      { COINBASE_USER_TANIA_API_KEY: "k", COINBASE_USER_TANIA_PEM_CONTENT: "pem" },
      "coinbase",
      families,
    );
    expect(found.credentials).toEqual({ apiKey: "k", secret: "pem" });
    expect(found.names?.secret).toBe("COINBASE_USER_TANIA_PEM_CONTENT");
    expect(found.explain.tried).toEqual([
      "COINBASE_USER_TANIA_API_KEY",
      "COINBASE_USER_TANIA_API_SECRET",
      "COINBASE_USER_TANIA_PEM_CONTENT",
    ]);
    const both = lookupEnvCredentials(
      { COINBASE_API_KEY: "k", COINBASE_API_SECRET: "s", COINBASE_PEM_CONTENT: "pem" },
      "coinbase",
      credentialFamilies("coinbase", "platform", "platform"),
    );
    expect(both.credentials?.secret).toBe("s");
  });

  it("reads OKX passphrases under _API_PASSPHRASE or _PASSPHRASE and lists them as tried", () => {
    const user = lookupEnvCredentials(
      { OKX_USER_BOB_API_KEY: "k", OKX_USER_BOB_API_SECRET: "s", OKX_USER_BOB_PASSPHRASE: "p" },
      "okx",
      credentialFamilies("okx", "user", "bob_smith"),
    );
    expect(user.credentials).toEqual({ apiKey: "k", secret: "s", password: "p" });
    expect(user.explain.tried).toEqual([
      "OKX_USER_BOB_API_KEY",
      "OKX_USER_BOB_API_SECRET",
      "OKX_USER_BOB_API_PASSPHRASE",
      "OKX_USER_BOB_PASSPHRASE",
    ]);
    const platform = lookupEnvCredentials(
      { OKX_API_KEY: "k", OKX_API_SECRET: "s", OKX_API_PASSPHRASE: "p1", OKX_PASSPHRASE: "p2" },
      "okx",
      credentialFamilies("okx", "platform", "platform"),
    );
    expect(platform.credentials?.password).toBe("p1");
    expect(platform.names?.password).toBe("OKX_API_PASSPHRASE");
  });

  it("names later families that are set to other values", () => {
    const env = {
      KRAKEN_PLATFORM_API_KEY: "a",
      KRAKEN_PLATFORM_API_SECRET: "s",
      KRAKEN_MASTER_API_KEY: "a",
      KRAKEN_MASTER_API_SECRET: "s",
      KRAKEN_API_KEY: "b",
      KRAKEN_API_SECRET: "s",
    };
    const found = lookupEnvCredentials(
      env,
      "kraken",
      credentialFamilies("kraken", "platform", "platform"),
    );
    expect(found.shadowed).toEqual(["KRAKEN"]);
  });

  it("infers a platform broker from any of its credential variables", () => {
    expect(hasPlatformEnvCredentials({ ALPACA_MASTER_API_SECRET: "x" }, "alpaca")).toBe(true);
    expect(hasPlatformEnvCredentials({ ALPACA_USER_BOB_API_KEY: "x" }, "alpaca")).toBe(false);
    expect(hasPlatformEnvCredentials({ ALPACA_API_URL: "http://x" }, "alpaca")).toBe(false);
    expect(hasPlatformEnvCredentials({ COINBASE_PEM_CONTENT: "x" }, "coinbase")).toBe(true);
    expect(hasPlatformEnvCredentials({ OKX_PASSPHRASE: "x" }, "okx")).toBe(true);
  });
});

describe("parseEnvBoolean", () => {
  it.each([
    ["true", true],
    ["TRUE", true],
    ["1", true],
    ["Yes", true],
    [" false ", false],
    ["0", false],
    ["NO", false],
    [undefined, undefined],
    ["  ", undefined],
    ["on", "invalid"],
    ["y", "invalid"],
    ["2", "invalid"],
  ])("reads %j as %j", (value, expected) => {
    expect(parseEnvBoolean(value)).toBe(expected);
  });
});
