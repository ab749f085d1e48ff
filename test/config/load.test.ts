// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is the config syntax under test
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoadConfigOptions } from "../../src/config/index.js";
import { ConfigError, ENV_BROKERS, formatProblem, loadConfig } from "../../src/config/index.js";
import { isRoot, writeTree } from "./helpers.js";

type Env = Record<string, string | undefined>;

/** Loads `<root>/config` with `<root>` as cwd and an explicit env (never process.env). */
function load(root: string, env: Env = {}, extra: Partial<LoadConfigOptions> = {}) {
  return loadConfig({ configDir: join(root, "config"), cwd: root, env, ...extra });
}

const userFile = (root: string, name: string) => join(root, "config", "users", name);

/** Kraken secrets are base64; these stand in for real ones. */
const K1 = Buffer.from("kraken secret one").toString("base64");
const K2 = Buffer.from("kraken secret two").toString("base64");

describe("user file forms", () => {
  it("reads the new form: defaults, case-normalised broker ids, options and sources", async () => {
    const root = await writeTree({
      "config/users/alice.json": {
        user_id: "alice",
        name: "Alice",
        brokers: [
          { broker: "Coinbase", options: { timeout: 5000 } },
          { broker: "kraken", apiUrl: "http://127.0.0.1:9000" },
        ],
        some_future_key: true,
      },
    });
    const config = await load(root);
    expect(config.problems).toEqual([]);
    expect(config.users).toHaveLength(1);
    const alice = config.users[0];
    expect(alice).toMatchObject({
      kind: "user",
      id: "alice",
      name: "Alice",
      enabled: true,
      sources: [userFile(root, "alice.json")],
    });
    expect(alice?.brokers.map((b) => [b.broker, b.enabled, b.apiUrl, b.options])).toEqual([
      ["coinbase", true, null, { timeout: 5000 }],
      ["kraken", true, "http://127.0.0.1:9000", {}],
    ]);
    expect(alice?.brokers[0]?.source).toBe(userFile(root, "alice.json"));
    expect(alice?.brokers[0]?.credentials).toBeNull();
  });

  it("reads the original single-user form, taking the id from the file name", async () => {
    const root = await writeTree({
      "config/users/daivon_frazier.json": {
        name: "Daivon Frazier",
        broker: "kraken",
        enabled: true,
        copy_from_master: true,
        risk_multiplier: 1.0,
        disabled_symbols: ["XRP-USD"],
        _note: "kept from the Python system",
      },
      "config/users/other-name.json": { user_id: "tania", broker: "alpaca", enabled: true },
    });
    const config = await load(root, {
      KRAKEN_USER_DAIVON_API_KEY: "k",
      KRAKEN_USER_DAIVON_API_SECRET: K1,
    });
    expect(config.problems).toEqual([]);
    expect(config.users.map((u) => [u.id, u.name, u.brokers.map((b) => b.broker)])).toEqual([
      ["daivon_frazier", "Daivon Frazier", ["kraken"]],
      ["tania", null, ["alpaca"]],
    ]);
    expect(config.users[0]?.brokers[0]?.credentials).toEqual({ apiKey: "k", secret: K1 });
  });

  it("reads the original list form: one user on one broker per element", async () => {
    const root = await writeTree({
      "config/users/retail_kraken.json": [
        {
          user_id: "daivon_frazier",
          name: "Daivon Frazier",
          account_type: "retail",
          broker_type: "kraken",
          enabled: true,
          copy_from_master: true,
          description: "first user",
        },
        { user_id: "tania_gilbert", name: "Tania", broker_type: "KRAKEN", enabled: true },
        { user_id: "off_user", name: "Off", broker_type: "kraken", enabled: false },
      ],
    });
    const config = await load(root);
    expect(config.problems).toEqual([]);
    expect(config.users.map((u) => [u.id, u.brokers.map((b) => b.broker)])).toEqual([
      ["daivon_frazier", ["kraken"]],
      ["tania_gilbert", ["kraken"]],
    ]);
  });

  it("keeps the good elements of a list file when one element is invalid", async () => {
    const root = await writeTree({
      "config/users/retail_kraken.json": [
        { user_id: "good", broker_type: "kraken" },
        { user_id: "bad", name: "No broker" },
      ],
    });
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["good"]);
    expect(config.problems).toEqual([
      expect.objectContaining({
        code: "invalid_field",
        field: "[1].broker_type",
        message: "is required",
      }),
    ]);
  });

  it("sorts users by user_id, not by file name", async () => {
    const root = await writeTree({
      "config/users/a.json": { user_id: "zed", brokers: [{ broker: "kraken" }] },
      "config/users/b.json": { user_id: "Bob", brokers: [{ broker: "kraken" }] },
      "config/users/c.json": { user_id: "amy", brokers: [{ broker: "kraken" }] },
    });
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["Bob", "amy", "zed"]);
  });

  it("warns about files that are not JSON or YAML in users/ and skips them", async () => {
    const root = await writeTree({
      "config/users/alice.json": { user_id: "alice", brokers: [] },
      "config/users/alice.json.bak": "{}",
      "config/users/README.md": "docs",
      "config/users/.gitkeep": "",
      "config/users/user.yaml.example": "broker: KRAKEN\napi_key: YOUR_API_KEY_HERE\n",
    });
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["alice"]);
    expect(config.warnings).toEqual([
      {
        code: "ignored_file",
        file: userFile(root, "alice.json.bak"),
        message: "is not a .json, .yaml or .yml file; ignored",
      },
    ]);
  });
});

describe("merging a user defined in several files", () => {
  it("merges brokers from a per-user file and a per-broker list", async () => {
    const root = await writeTree({
      "config/users/alice.json": {
        user_id: "alice",
        name: "Alice",
        brokers: [{ broker: "coinbase" }],
      },
      "config/users/retail_kraken.json": [
        { user_id: "alice", name: "Alice", broker_type: "kraken", enabled: true },
        { user_id: "bob", name: "Bob", broker_type: "kraken", enabled: true },
      ],
    });
    const config = await load(root);
    expect(config.problems).toEqual([]);
    expect(config.warnings).toEqual([]);
    const alice = config.users.find((u) => u.id === "alice");
    expect(alice?.brokers.map((b) => [b.broker, b.source])).toEqual([
      ["coinbase", userFile(root, "alice.json")],
      ["kraken", userFile(root, "retail_kraken.json")],
    ]);
    expect(alice?.sources).toEqual([
      userFile(root, "alice.json"),
      userFile(root, "retail_kraken.json"),
    ]);
  });

  it("merges the same broker defined alike, with a warning naming both files", async () => {
    const root = await writeTree({
      "config/users/daivon.json": { user_id: "daivon", broker: "kraken", enabled: true },
      "config/users/retail_kraken.json": [
        { user_id: "daivon", broker_type: "kraken", enabled: true },
      ],
    });
    const config = await load(root);
    expect(config.problems).toEqual([]);
    expect(config.users[0]?.brokers.map((b) => b.broker)).toEqual(["kraken"]);
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]?.code).toBe("duplicate_merged");
    expect(config.warnings[0]?.message).toContain(userFile(root, "daivon.json"));
    expect(config.warnings[0]?.message).toContain(userFile(root, "retail_kraken.json"));
  });

  it("reports the same broker defined differently as a problem naming both files", async () => {
    const root = await writeTree({
      "config/users/alice.json": {
        user_id: "alice",
        brokers: [{ broker: "kraken", apiUrl: "https://one.example" }],
      },
      "config/users/retail_kraken.json": [{ user_id: "alice", broker_type: "kraken" }],
    });
    const config = await load(root);
    expect(config.problems).toHaveLength(1);
    const problem = config.problems[0];
    expect(problem?.code).toBe("duplicate_conflict");
    expect(problem?.file).toBe(userFile(root, "retail_kraken.json"));
    expect(problem?.field).toBe("[0]");
    expect(problem?.message).toContain(userFile(root, "alice.json"));
    expect(problem?.message).toContain(userFile(root, "retail_kraken.json"));
    expect(problem?.message).toContain("apiUrl");
    expect(problem?.hint).not.toBe("");
    // The first definition stays so the account is still reported.
    expect(config.users[0]?.brokers.map((b) => b.apiUrl)).toEqual(["https://one.example"]);
  });

  it("treats a broker listed twice in one file the same way", async () => {
    const root = await writeTree({
      "config/platform.json": {
        brokers: [{ broker: "kraken" }, { broker: "KRAKEN", enabled: false }],
      },
    });
    const config = await load(root);
    expect(config.problems.map((p) => [p.code, p.field])).toEqual([
      ["duplicate_conflict", "brokers[1]"],
    ]);
  });
});

describe("credentials from the environment", () => {
  const kraken = (id: string) => ({
    [`config/users/${id}.json`]: { user_id: id, brokers: [{ broker: "kraken" }] },
  });

  it("prefers the first segment of the user id, as the original does, and warns when both differ", async () => {
    const root = await writeTree(kraken("daivon_frazier"));
    const config = await load(root, {
      KRAKEN_USER_DAIVON_FRAZIER_API_KEY: "full-key",
      KRAKEN_USER_DAIVON_FRAZIER_API_SECRET: K2,
      KRAKEN_USER_DAIVON_API_KEY: "first-key",
      KRAKEN_USER_DAIVON_API_SECRET: K1,
    });
    const broker = config.users[0]?.brokers[0];
    expect(broker?.credentials).toEqual({ apiKey: "first-key", secret: K1 });
    expect(broker?.credentialsExplain).toEqual({
      source: "env",
      tried: ["KRAKEN_USER_DAIVON_API_KEY", "KRAKEN_USER_DAIVON_API_SECRET"],
      used: "KRAKEN_USER_DAIVON_API_KEY",
    });
    expect(config.warnings).toEqual([
      {
        code: "shadowed_credentials",
        file: "environment",
        message: expect.stringContaining(
          "KRAKEN_USER_DAIVON_* and KRAKEN_USER_DAIVON_FRAZIER_* are all set, to different keys; using KRAKEN_USER_DAIVON_*",
        ),
      },
    ]);
    expect(config.problems).toEqual([]);
  });

  it("does not warn when both families hold the same key and secret", async () => {
    const root = await writeTree(kraken("daivon_frazier"));
    const config = await load(root, {
      KRAKEN_USER_DAIVON_FRAZIER_API_KEY: "same",
      KRAKEN_USER_DAIVON_FRAZIER_API_SECRET: K1,
      KRAKEN_USER_DAIVON_API_KEY: "same",
      KRAKEN_USER_DAIVON_API_SECRET: K1,
    });
    expect(config.warnings).toEqual([]);
  });

  it("falls back to the full user id, with the passphrase as password", async () => {
    const root = await writeTree(kraken("daivon_frazier"));
    const config = await load(root, {
      KRAKEN_USER_DAIVON_API_KEY: "first-key-without-secret",
      KRAKEN_USER_DAIVON_FRAZIER_API_KEY: "full-key",
      KRAKEN_USER_DAIVON_FRAZIER_API_SECRET: K2,
      KRAKEN_USER_DAIVON_FRAZIER_API_PASSPHRASE: "full-pass",
    });
    const broker = config.users[0]?.brokers[0];
    expect(broker?.credentials).toEqual({ apiKey: "full-key", secret: K2, password: "full-pass" });
    expect(broker?.credentialsExplain).toEqual({
      source: "env",
      tried: [
        "KRAKEN_USER_DAIVON_API_KEY",
        "KRAKEN_USER_DAIVON_API_SECRET",
        "KRAKEN_USER_DAIVON_FRAZIER_API_KEY",
        "KRAKEN_USER_DAIVON_FRAZIER_API_SECRET",
      ],
      used: "KRAKEN_USER_DAIVON_FRAZIER_API_KEY",
    });
  });

  it("reports no credentials with every name tried when nothing is set", async () => {
    const root = await writeTree(kraken("bob"));
    const config = await load(root, { KRAKEN_API_KEY: "platform-only", KRAKEN_API_SECRET: K1 });
    const broker = config.users[0]?.brokers[0];
    expect(broker?.credentials).toBeNull();
    expect(broker?.credentialsExplain).toEqual({
      source: "none",
      tried: ["KRAKEN_USER_BOB_API_KEY", "KRAKEN_USER_BOB_API_SECRET"],
      used: null,
    });
    expect(config.problems).toEqual([]);
  });

  it("tries PLATFORM, then MASTER, then the plain names for the platform", async () => {
    const root = await writeTree({
      "config/platform.json": {
        name: "Nija System",
        brokers: [{ broker: "kraken" }, { broker: "coinbase" }, { broker: "alpaca" }],
      },
    });
    const config = await load(root, {
      KRAKEN_PLATFORM_API_KEY: "kp",
      KRAKEN_PLATFORM_API_SECRET: "kps",
      KRAKEN_MASTER_API_KEY: "km",
      KRAKEN_MASTER_API_SECRET: "kms",
      COINBASE_MASTER_API_KEY: "cm",
      COINBASE_MASTER_API_SECRET: "cms",
      COINBASE_API_KEY: "c",
      COINBASE_API_SECRET: "cs",
      ALPACA_PLATFORM_API_KEY: "half",
      ALPACA_API_KEY: "a",
      ALPACA_API_SECRET: "as",
    });
    const platform = config.platform;
    expect(platform).toMatchObject({
      kind: "platform",
      id: "platform",
      name: "Nija System",
      enabled: true,
    });
    expect(
      platform?.brokers.map((b) => [b.broker, b.credentials?.apiKey, b.credentialsExplain.used]),
    ).toEqual([
      ["kraken", "kp", "KRAKEN_PLATFORM_API_KEY"],
      ["coinbase", "cm", "COINBASE_MASTER_API_KEY"],
      ["alpaca", "a", "ALPACA_API_KEY"],
    ]);
    expect(platform?.brokers[2]?.credentialsExplain.tried).toEqual([
      "ALPACA_PLATFORM_API_KEY",
      "ALPACA_PLATFORM_API_SECRET",
      "ALPACA_MASTER_API_KEY",
      "ALPACA_MASTER_API_SECRET",
      "ALPACA_API_KEY",
      "ALPACA_API_SECRET",
    ]);
  });

  it("infers the platform's brokers from the environment when platform.json is absent", async () => {
    const root = await writeTree({ "config/users/bob.json": { user_id: "bob", brokers: [] } });
    expect(ENV_BROKERS).toEqual(["coinbase", "kraken", "alpaca", "okx", "binance"]);
    const config = await load(root, {
      ALPACA_API_KEY: "a",
      ALPACA_API_SECRET: "as",
      KRAKEN_MASTER_API_KEY: "only-a-key",
      BINANCE_API_KEY: "b",
      BINANCE_API_SECRET: "x",
      OKX_PASSPHRASE: "only-a-passphrase",
      BYBIT_API_KEY: "not-an-env-broker",
      BYBIT_API_SECRET: "x",
    });
    expect(config.platform).toMatchObject({ id: "platform", name: null, sources: ["env"] });
    expect(
      config.platform?.brokers.map((b) => [b.broker, b.source, b.credentials !== null]),
    ).toEqual([
      ["kraken", "env", false],
      ["alpaca", "env", true],
      ["okx", "env", false],
      ["binance", "env", true],
    ]);
  });

  it("has no platform when neither platform.json nor platform variables exist", async () => {
    const root = await writeTree({ "config/users/bob.json": { user_id: "bob", brokers: [] } });
    const config = await load(root, {
      KRAKEN_USER_BOB_API_KEY: "k",
      KRAKEN_USER_BOB_API_SECRET: "s",
    });
    expect(config.platform).toBeNull();
    expect(config.users.map((u) => u.id)).toEqual(["bob"]);
  });
});

describe("${VAR} references in config files", () => {
  it("expands whole and embedded references and explains the config source", async () => {
    const root = await writeTree({
      "config/users/alice.json": {
        user_id: "alice",
        brokers: [
          {
            broker: "coinbase",
            credentials: {
              apiKey: "${ALICE_CB_KEY}",
              secret: "${ALICE_CB_SECRET}",
              password: "p-${PASS}",
            },
            apiUrl: "http://${EMU_HOST}/coinbase",
          },
        ],
      },
    });
    const config = await load(root, {
      ALICE_CB_KEY: "ck",
      ALICE_CB_SECRET: "cs",
      PASS: "word",
      EMU_HOST: "127.0.0.1:8080",
    });
    expect(config.problems).toEqual([]);
    const broker = config.users[0]?.brokers[0];
    expect(broker?.credentials).toEqual({ apiKey: "ck", secret: "cs", password: "p-word" });
    expect(broker?.apiUrl).toBe("http://127.0.0.1:8080/coinbase");
    const location = `config:${userFile(root, "alice.json")}#brokers[0].credentials`;
    expect(broker?.credentialsExplain).toEqual({
      source: "config",
      tried: [location],
      used: location,
    });
  });

  it("reports an unknown variable by file, field and name; that broker has no credentials", async () => {
    const root = await writeTree({
      "config/users/alice.json": {
        user_id: "alice",
        brokers: [
          {
            broker: "coinbase",
            credentials: { apiKey: "${ALICE_CB_KEY}", secret: "${MISSING_SECRET}" },
          },
          { broker: "kraken" },
        ],
      },
    });
    const config = await load(root, {
      ALICE_CB_KEY: "ck",
      KRAKEN_USER_ALICE_API_KEY: "kk",
      KRAKEN_USER_ALICE_API_SECRET: K1,
    });
    expect(config.problems).toEqual([
      expect.objectContaining({
        code: "unknown_env_var",
        file: userFile(root, "alice.json"),
        field: "brokers[0].credentials.secret",
      }),
    ]);
    expect(config.problems[0]?.message).toContain("MISSING_SECRET");
    expect(config.problems[0]?.hint).toContain("MISSING_SECRET");
    const [coinbase, kraken] = config.users[0]?.brokers ?? [];
    expect(coinbase?.credentials).toBeNull();
    expect(coinbase?.credentialsExplain.used).toBeNull();
    expect(kraken?.credentials).toEqual({ apiKey: "kk", secret: K1 });
  });
});

describe(".env", () => {
  it("is read from cwd without overriding variables already set, into the given env", async () => {
    const root = await writeTree({
      ".env": [
        "# platform",
        "export KRAKEN_API_KEY=from-dotenv",
        'KRAKEN_API_SECRET="dotenv-secret"',
        "KRAKEN_USER_BOB_API_KEY=bob-key",
        "KRAKEN_USER_BOB_API_SECRET='bob-secret'",
      ].join("\n"),
      "config/users/bob.json": { user_id: "bob", brokers: [{ broker: "kraken" }] },
    });
    const env: Env = { KRAKEN_API_KEY: "from-shell" };
    const config = await load(root, env);
    expect(config.dotenvPath).toBe(join(root, ".env"));
    expect(env.KRAKEN_API_KEY).toBe("from-shell");
    expect(env.KRAKEN_API_SECRET).toBe("dotenv-secret");
    expect(config.platform?.brokers.map((b) => [b.broker, b.credentials])).toEqual([
      ["kraken", { apiKey: "from-shell", secret: "dotenv-secret" }],
    ]);
    expect(config.users[0]?.brokers[0]?.credentials).toEqual({
      apiKey: "bob-key",
      secret: "bob-secret",
    });
    expect(config.warnings).toEqual([]);
  });

  it("is not read when loadDotEnv is false, and is optional", async () => {
    const root = await writeTree({
      ".env": "KRAKEN_API_KEY=k\nKRAKEN_API_SECRET=s\n",
      "config/users/bob.json": { user_id: "bob", brokers: [] },
    });
    const env: Env = {};
    const config = await load(root, env, { loadDotEnv: false });
    expect(config.dotenvPath).toBeNull();
    expect(env).toEqual({});
    expect(config.platform).toBeNull();

    const noDotEnv = await writeTree({ "config/users/bob.json": { user_id: "bob", brokers: [] } });
    expect((await load(noDotEnv)).dotenvPath).toBeNull();
  });
});

describe("problems", () => {
  it("reports invalid JSON with line and column, and still loads the other files", async () => {
    const root = await writeTree({
      "config/users/alice.json": { user_id: "alice", brokers: [{ broker: "kraken" }] },
      "config/users/broken.json":
        '{\n  "user_id": "carol",\n  "brokers": [\n    { "broker": "kraken" }\n    { "broker": "coinbase" }\n  ]\n}\n',
      "config/users/zoe.json": { user_id: "zoe", brokers: [{ broker: "kraken" }] },
    });
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["alice", "zoe"]);
    expect(config.problems).toHaveLength(1);
    expect(config.problems[0]).toMatchObject({
      code: "invalid_json",
      file: userFile(root, "broken.json"),
      field: null,
      line: 5,
      column: 5,
    });
    expect(config.problems[0]?.message).toContain("line 5, column 5");
  });

  it("reports each invalid field with its path, what is wrong and a fix", async () => {
    const root = await writeTree({
      "config/users/carol.json": {
        user_id: "carol smith",
        enabled: "yes",
        brokers: [
          { broker: "Bad-Id!", apiUrl: "ftp://example.com" },
          { broker: "kraken", credentials: { apiKey: "${K}" }, options: [1, 2] },
        ],
      },
      "config/users/dave.json": { user_id: "dave", brokers: [{ broker: "kraken" }] },
    });
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["dave"]);
    const file = userFile(root, "carol.json");
    const byField = Object.fromEntries(config.problems.map((p) => [p.field, p]));
    expect(Object.keys(byField).sort()).toEqual([
      "brokers[0].apiUrl",
      "brokers[0].broker",
      "brokers[1].credentials.secret",
      "brokers[1].options",
      "enabled",
      "user_id",
    ]);
    for (const p of config.problems) {
      expect(p.code).toBe("invalid_field");
      expect(p.file).toBe(file);
      expect(p.hint.length).toBeGreaterThan(10);
    }
    expect(byField.enabled?.message).toBe("must be true or false, not a string");
    expect(byField["brokers[1].credentials.secret"]?.message).toBe("is required");
    expect(byField["brokers[1].options"]?.message).toBe("must be an object, not a list");
    expect(byField["brokers[0].apiUrl"]?.message).toBe("must be an http(s) URL");
    expect(byField["brokers[0].broker"]?.hint).toContain("ccxt exchange id");
    expect(formatProblem(byField.enabled as never)).toBe(
      `${file}: enabled: must be true or false, not a string\n  fix: use true or false, without quotes`,
    );
  });

  it("explains a file that is neither form", async () => {
    const root = await writeTree({ "config/users/x.json": { name: "X" } });
    const config = await load(root);
    expect(config.problems.map((p) => [p.field, p.message])).toEqual([
      ["user_id", "is required"],
      ["brokers", "is required"],
    ]);
  });

  it("reports a legacy file whose name is not a valid user id", async () => {
    const root = await writeTree({ "config/users/my user.json": { broker: "kraken" } });
    const config = await load(root);
    expect(config.users).toEqual([]);
    expect(config.problems).toEqual([
      expect.objectContaining({
        code: "invalid_field",
        field: "user_id",
        file: userFile(root, "my user.json"),
      }),
    ]);
  });

  it.skipIf(isRoot)("reports an unreadable user file and loads the rest", async () => {
    const root = await writeTree(
      {
        "config/users/a.json": { user_id: "a", brokers: [] },
        "config/users/b.json": { user_id: "b", brokers: [] },
      },
      { "config/users/a.json": 0o000 },
    );
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["b"]);
    expect(config.problems.map((p) => [p.code, p.file])).toEqual([
      ["unreadable_file", userFile(root, "a.json")],
    ]);
  });

  it("reports a directory named like a user file", async () => {
    const root = await writeTree({ "config/users/b.json": { user_id: "b", brokers: [] } });
    await mkdir(userFile(root, "a.json"));
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["b"]);
    expect(config.problems.map((p) => [p.code, p.file])).toEqual([
      ["unreadable_file", userFile(root, "a.json")],
    ]);
  });
});

describe("enabled and includeDisabled", () => {
  const files = {
    "config/users/on.json": {
      user_id: "on",
      brokers: [
        { broker: "coinbase" },
        {
          broker: "kraken",
          enabled: false,
          credentials: { apiKey: "${NOT_SET}", secret: "${NOT_SET}" },
        },
      ],
    },
    "config/users/off.json": { user_id: "off", enabled: false, brokers: [{ broker: "kraken" }] },
    "config/users/retail_kraken.json": [
      { user_id: "legacy_off", broker_type: "kraken", enabled: false },
    ],
  };

  it("leaves disabled users and brokers out, without looking up their credentials", async () => {
    const config = await load(await writeTree(files));
    expect(config.problems).toEqual([]);
    expect(config.users.map((u) => [u.id, u.brokers.map((b) => b.broker)])).toEqual([
      ["on", ["coinbase"]],
    ]);
  });

  it("lists them with enabled: false under includeDisabled", async () => {
    const config = await load(await writeTree(files), {}, { includeDisabled: true });
    expect(config.problems).toEqual([]);
    expect(
      config.users.map((u) => [u.id, u.enabled, u.brokers.map((b) => [b.broker, b.enabled])]),
    ).toEqual([
      ["legacy_off", false, [["kraken", false]]],
      ["off", false, [["kraken", true]]],
      [
        "on",
        true,
        [
          ["coinbase", true],
          ["kraken", false],
        ],
      ],
    ]);
    const offBroker = config.users.find((u) => u.id === "off")?.brokers[0];
    expect(offBroker?.credentials).toBeNull();
    expect(offBroker?.credentialsExplain).toEqual({ source: "none", tried: [], used: null });
  });

  it("keeps a user disabled in its own file disabled even when a list enables it", async () => {
    const root = await writeTree({
      "config/users/ann.json": { user_id: "ann", enabled: false, brokers: [] },
      "config/users/retail_kraken.json": [{ user_id: "ann", broker_type: "kraken", enabled: true }],
    });
    expect((await load(root)).users).toEqual([]);
  });
});

describe("directories", () => {
  const platformEnv = { KRAKEN_API_KEY: "k", KRAKEN_API_SECRET: K1 };

  it("accepts a missing config dir when the env provides a platform", async () => {
    const root = await writeTree({});
    const config = await load(root, platformEnv);
    expect(config.users).toEqual([]);
    expect(config.platform?.brokers.map((b) => b.broker)).toEqual(["kraken"]);
    expect(config.problems).toEqual([]);
  });

  it("accepts a missing users/ dir next to platform.json", async () => {
    const root = await writeTree({ "config/platform.json": { brokers: [{ broker: "coinbase" }] } });
    const config = await load(root);
    expect(config.users).toEqual([]);
    expect(config.platform?.brokers.map((b) => b.broker)).toEqual(["coinbase"]);
  });

  it("throws config_missing when there is no config dir and no platform in env", async () => {
    const root = await writeTree({});
    const error = await load(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: "config_missing", file: join(root, "config") });
    expect((error as ConfigError).hint).toContain("--config-dir");
  });

  it("throws not_a_directory for a config path that is a file", async () => {
    const root = await writeTree({ config: "not a dir" });
    await expect(load(root, platformEnv)).rejects.toMatchObject({
      name: "ConfigError",
      code: "not_a_directory",
      file: join(root, "config"),
    });
  });

  it("throws not_a_directory for a users path that is a file", async () => {
    const root = await writeTree({ "config/users": "not a dir" });
    await expect(load(root, platformEnv)).rejects.toMatchObject({
      code: "not_a_directory",
      file: join(root, "config", "users"),
    });
  });

  it.skipIf(isRoot)("throws unreadable_dir for a config dir without read permission", async () => {
    const root = await writeTree({ "config/users/a.json": { user_id: "a", brokers: [] } });
    await chmod(join(root, "config"), 0o000);
    try {
      await expect(load(root, platformEnv)).rejects.toMatchObject({
        code: "unreadable_dir",
        file: join(root, "config"),
      });
    } finally {
      await chmod(join(root, "config"), 0o700);
    }
  });

  it.skipIf(isRoot)("throws unreadable_dir for a users dir without read permission", async () => {
    const root = await writeTree({ "config/users/a.json": { user_id: "a", brokers: [] } });
    await chmod(join(root, "config", "users"), 0o000);
    try {
      await expect(load(root, platformEnv)).rejects.toMatchObject({
        code: "unreadable_dir",
        file: join(root, "config", "users"),
      });
    } finally {
      await chmod(join(root, "config", "users"), 0o700);
    }
  });
});

describe.skipIf(process.platform === "win32")("file permissions", () => {
  const literal = {
    user_id: "alice",
    brokers: [{ broker: "kraken", credentials: { apiKey: "literal-key", secret: "${SECRET}" } }],
  };
  const refsOnly = {
    user_id: "bob",
    brokers: [{ broker: "kraken", credentials: { apiKey: "${KEY}", secret: "${SECRET}" } }],
  };

  it("warns about a group/other-readable file holding literal credentials", async () => {
    const root = await writeTree(
      {
        "config/users/alice.json": literal,
        "config/users/bob.json": refsOnly,
        "config/users/carol.json": {
          user_id: "carol",
          brokers: [
            { broker: "kraken", credentials: { apiKey: "other-key", secret: "${SECRET}" } },
          ],
        },
      },
      {
        "config/users/alice.json": 0o644,
        "config/users/bob.json": 0o644,
        "config/users/carol.json": 0o600,
      },
    );
    const config = await load(root, { KEY: "k", SECRET: K1 });
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toMatchObject({
      code: "insecure_permissions",
      file: userFile(root, "alice.json"),
    });
    expect(config.warnings[0]?.message).toContain(`chmod 600 ${userFile(root, "alice.json")}`);
    expect(config.warnings[0]?.message).toContain("readable by others");
  });

  it("warns about a loaded .env readable by others", async () => {
    const root = await writeTree(
      {
        ".env": "KRAKEN_API_KEY=k\nKRAKEN_API_SECRET=s\n",
        "config/users/a.json": { user_id: "a", brokers: [] },
      },
      { ".env": 0o640 },
    );
    const config = await load(root);
    expect(config.warnings.map((w) => [w.code, w.file])).toEqual([
      ["insecure_permissions", join(root, ".env")],
    ]);
    expect(config.warnings[0]?.message).toContain(`chmod 600 ${join(root, ".env")}`);
  });
});

describe("API URLs", () => {
  it("takes apiUrl from the entry, else <BROKER>_API_URL for every account on that broker", async () => {
    const root = await writeTree({
      "config/platform.json": { brokers: [{ broker: "kraken" }, { broker: "coinbase" }] },
      "config/users/alice.json": {
        user_id: "alice",
        brokers: [
          { broker: "kraken", apiUrl: "https://alice-proxy.example/kraken" },
          { broker: "coinbase" },
        ],
      },
      "config/users/bob.json": { user_id: "bob", brokers: [{ broker: "kraken" }] },
    });
    const config = await load(root, { KRAKEN_API_URL: "http://127.0.0.1:7001" });
    expect(config.problems).toEqual([]);
    const urls = [config.platform, ...config.users].map((a) =>
      a?.brokers.map((b) => [b.broker, b.apiUrl]),
    );
    expect(urls).toEqual([
      [
        ["kraken", "http://127.0.0.1:7001"],
        ["coinbase", null],
      ],
      [
        ["kraken", "https://alice-proxy.example/kraken"],
        ["coinbase", null],
      ],
      [["kraken", "http://127.0.0.1:7001"]],
    ]);
  });

  it("reports an invalid <BROKER>_API_URL once, naming the variable", async () => {
    const root = await writeTree({
      "config/users/a.json": { user_id: "a", brokers: [{ broker: "kraken" }] },
      "config/users/b.json": { user_id: "b", brokers: [{ broker: "kraken" }] },
    });
    const config = await load(root, { KRAKEN_API_URL: "localhost:7001" });
    expect(config.problems).toEqual([
      expect.objectContaining({
        code: "invalid_field",
        file: "environment",
        field: "KRAKEN_API_URL",
      }),
    ]);
    expect(config.users.map((u) => u.brokers[0]?.apiUrl)).toEqual([null, null]);
  });

  it("reports an apiUrl that is not http(s) once its reference is expanded", async () => {
    const root = await writeTree({
      "config/users/a.json": { user_id: "a", brokers: [{ broker: "kraken", apiUrl: "${URL}" }] },
    });
    const config = await load(root, { URL: "file:///etc/passwd" });
    expect(config.problems.map((p) => [p.code, p.field])).toEqual([
      ["invalid_field", "brokers[0].apiUrl"],
    ]);
  });
});

describe("secrets", () => {
  it("never appear in any problem, warning or error", async () => {
    const secrets = [
      "S3CRET-LITERAL-KEY-7f1a",
      "S3CRET-LITERAL-SECRET-9c2e",
      "S3CRET-ENV-KEY-41d0",
      "S3CRET-ENV-SECRET-5b77",
      "S3CRET-DOTENV-8e3f",
      "S3CRET-IN-BROKEN-JSON-2d4c",
      "S3CRET-URL-PASS-6a6a",
    ];
    const root = await writeTree(
      {
        ".env": `KRAKEN_USER_ALICE_API_SECRET=${secrets[4]}\nKRAKEN_API_URL=not-a-url-${secrets[4]}\n`,
        "config/platform.json": {
          brokers: [
            { broker: "kraken", credentials: { apiKey: secrets[0], secret: secrets[1] } },
            { broker: "kraken", credentials: { apiKey: secrets[0], secret: `${secrets[1]}x` } },
            { broker: "coinbase", credentials: { apiKey: "${S}", secret: "${MISSING}" } },
          ],
        },
        "config/users/alice.json": {
          user_id: "alice",
          brokers: [{ broker: "kraken" }],
        },
        "config/users/dave.json": {
          user_id: "dave",
          brokers: [{ broker: "coinbase", credentials: { apiKey: secrets[0], secret: 42 } }],
        },
        "config/users/alice2.json": {
          user_id: "alice",
          brokers: [{ broker: "binance", apiUrl: `https://u:${secrets[6]}@x` }],
        },
        "config/users/alice3.json": {
          user_id: "alice",
          brokers: [{ broker: "binance", apiUrl: `https://u:${secrets[6]}@x` }],
        },
        "config/users/bob.json": `{"user_id": "bob", "brokers": [{"broker": "kraken", "credentials": {"apiKey": "${secrets[5]}" "secret": "x"}}]}`,
        "config/users/carol.json": {
          user_id: "carol",
          brokers: [
            { broker: "kraken", credentials: { apiKey: secrets[2], secret: "${CAROL_SECRET}" } },
          ],
        },
      },
      { ".env": 0o644, "config/platform.json": 0o644, "config/users/carol.json": 0o604 },
    );
    const env: Env = {
      S: secrets[2],
      CAROL_SECRET: secrets[3],
      KRAKEN_USER_ALICE_API_KEY: secrets[2],
    };
    const config = await load(root, env);

    // The scenario really produced diagnostics of every kind, and the secrets were loaded.
    const codes = new Set([...config.problems, ...config.warnings].map((d) => d.code));
    for (const code of [
      "invalid_json",
      "invalid_field",
      "duplicate_conflict",
      "unknown_env_var",
      "duplicate_merged",
      "insecure_permissions",
    ]) {
      expect(codes).toContain(code);
    }
    expect(config.users.find((u) => u.id === "carol")?.brokers[0]?.credentials?.secret).toBe(
      secrets[3],
    );
    expect(config.users.find((u) => u.id === "alice")?.brokers[0]?.credentials?.secret).toBe(
      secrets[4],
    );

    const texts = [
      ...config.problems.map(formatProblem),
      ...config.problems.map((p) => JSON.stringify(p)),
      ...config.warnings.map((w) => JSON.stringify(w)),
      ...[config.platform, ...config.users].map((a) =>
        JSON.stringify(a?.brokers.map((b) => b.credentialsExplain)),
      ),
    ];
    const errorRoot = await writeTree({ config: `${secrets[0]}` });
    const error: unknown = await load(errorRoot, { KRAKEN_API_KEY: secrets[2] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    texts.push(String(error), (error as ConfigError).hint);
    for (const text of texts) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});

describe("the shipped example config", () => {
  it("has a platform on coinbase and kraken, alice on both and bob on kraken, all from env", async () => {
    const configDir = join(import.meta.dirname, "..", "..", "config");
    const env: Env = {
      COINBASE_API_KEY: "ck",
      COINBASE_API_SECRET: "cs",
      KRAKEN_USER_ALICE_API_KEY: "ak",
      KRAKEN_USER_ALICE_API_SECRET: K1,
    };
    const config = await loadConfig({ configDir, env, loadDotEnv: false });
    expect(config.problems).toEqual([]);
    expect(config.warnings).toEqual([]);
    // Other example users may be added beside these (carol on binance, ...).
    const known = config.users.filter((u) => ["alice", "bob"].includes(u.id));
    const shape = [config.platform, ...known].map((a) => [
      a?.id,
      a?.brokers.map((b) => [b.broker, b.credentials?.apiKey ?? null]),
    ]);
    expect(shape).toEqual([
      [
        "platform",
        [
          ["coinbase", "ck"],
          ["kraken", null],
        ],
      ],
      [
        "alice",
        [
          ["coinbase", null],
          ["kraken", "ak"],
        ],
      ],
      ["bob", [["kraken", null]]],
    ]);
  });
});

describe("module boundaries", () => {
  // A cached run must not pay for ccxt, nor for zod: config may share the broker schemas and
  // types and the on-demand import, nothing else of the project, and loads zod's schemas only
  // on demand (load.ts).
  it("config loading imports neither ccxt nor other project modules, and zod only on demand", async () => {
    const { readdir, readFile } = await import("node:fs/promises");
    const dir = join(import.meta.dirname, "..", "..", "src", "config");
    for (const name of await readdir(dir)) {
      const text = await readFile(join(dir, name), "utf8");
      const imports = [...text.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
      for (const spec of imports)
        expect(spec).toMatch(
          /^(zod|node:.*|\.\/[a-z-]+\.js|\.\.\/brokers\/(types|schemas|coinbase-key)\.js|\.\.\/(import-module|secrets|private-dir)\.js)$/,
        );
      // The YAML parser only on demand, and only from yaml.ts; the schemas and settings (zod)
      // only from load.ts; ccxt never (broker-ids.ts only resolves its path).
      const dynamic = [...text.matchAll(/import\("([^"]+)"\)/g)].map((m) => m[1]);
      const expected: Record<string, string[]> = {
        "yaml.ts": ["yaml"],
        // the first is the type of the schemas module
        "load.ts": ["./schemas.js", "./schemas.js", "./settings.js"],
      };
      expect(dynamic).toEqual(expected[name] ?? []);
    }
  });
});
