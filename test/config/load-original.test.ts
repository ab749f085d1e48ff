// The original system's environment names and the accounts they reach (bot/broker_manager.py in
// dantelrharrell-debug/Nija: _user_env_prefix, the per-broker connect methods).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { writeTree } from "./helpers.js";

type Env = Record<string, string | undefined>;

const load = (root: string, env: Env, includeDisabled = false) =>
  loadConfig({ configDir: join(root, "config"), cwd: root, env, includeDisabled });
const K1 = Buffer.from("kraken secret one").toString("base64");

describe("platform accounts from the original's variables", () => {
  it("infers OKX and Binance platforms, with OKX's passphrase under either name", async () => {
    const root = await writeTree({ "config/users/a.json": { user_id: "a", brokers: [] } });
    const config = await load(root, {
      OKX_API_KEY: "ok",
      OKX_API_SECRET: "os",
      OKX_PASSPHRASE: "op",
      BINANCE_API_KEY: "bk",
      BINANCE_API_SECRET: "bs",
      BINANCE_USE_TESTNET: "true",
    });
    expect(config.problems).toEqual([]);
    expect(
      config.platform?.brokers.map((b) => [
        b.broker,
        b.credentials,
        b.sandbox,
        b.credentialProblem,
      ]),
    ).toEqual([
      ["okx", { apiKey: "ok", secret: "os", password: "op" }, false, null],
      ["binance", { apiKey: "bk", secret: "bs" }, true, null],
    ]);
    expect(config.platform?.brokers[0]?.credentialsExplain.tried).toEqual([
      "OKX_PLATFORM_API_KEY",
      "OKX_PLATFORM_API_SECRET",
      "OKX_MASTER_API_KEY",
      "OKX_MASTER_API_SECRET",
      "OKX_API_KEY",
      "OKX_API_SECRET",
      "OKX_API_PASSPHRASE",
      "OKX_PASSPHRASE",
    ]);
  });

  it("takes OKX_BASE_URL as the OKX origin, after OKX_API_URL", async () => {
    const root = await writeTree({
      "config/platform.json": { brokers: [{ broker: "okx" }] },
      "config/users/a.json": { user_id: "a", brokers: [{ broker: "okx" }] },
    });
    const base = await load(root, { OKX_BASE_URL: "http://127.0.0.1:7005" });
    expect([base.platform, ...base.users].map((a) => a?.brokers[0]?.apiUrl)).toEqual([
      "http://127.0.0.1:7005",
      "http://127.0.0.1:7005",
    ]);
    const both = await load(root, {
      OKX_API_URL: "http://127.0.0.1:7006",
      OKX_BASE_URL: "http://127.0.0.1:7005",
    });
    expect(both.platform?.brokers[0]?.apiUrl).toBe("http://127.0.0.1:7006");
    const bad = await load(root, { OKX_BASE_URL: "us.okx.com" });
    expect(bad.problems.map((p) => [p.file, p.field])).toEqual([["environment", "OKX_BASE_URL"]]);
  });
});

describe("user accounts from the original's variables", () => {
  it("reads OKX_USER_<FIRST>_PASSPHRASE and Coinbase _PEM_CONTENT by the first segment", async () => {
    const root = await writeTree({
      "config/users/olga_petrova.json": {
        user_id: "olga_petrova",
        brokers: [{ broker: "okx" }, { broker: "alpaca" }],
      },
    });
    const config = await load(root, {
      OKX_USER_OLGA_API_KEY: "k",
      OKX_USER_OLGA_API_SECRET: "s",
      OKX_USER_OLGA_PASSPHRASE: "p",
      ALPACA_USER_OLGA_PETROVA_API_KEY: "AKLIVE",
      ALPACA_USER_OLGA_PETROVA_API_SECRET: "s",
      ALPACA_USER_OLGA_PAPER: "true",
    });
    const [okx, alpaca] = config.users[0]?.brokers ?? [];
    expect(okx?.credentials).toEqual({ apiKey: "k", secret: "s", password: "p" });
    expect(alpaca).toMatchObject({
      credentials: { apiKey: "AKLIVE" },
      sandbox: true,
      sandboxSource: "ALPACA_USER_OLGA_PAPER",
    });
  });
});

describe("one key, one account", () => {
  it("groups accounts that reach one key, including the Bob/bob/bob_smith case trap", async () => {
    const root = await writeTree({
      "config/platform.json": {
        brokers: [{ broker: "kraken", credentials: { apiKey: "shared-literal", secret: K1 } }],
      },
      "config/users/Bob.json": { user_id: "Bob", brokers: [{ broker: "kraken" }] },
      "config/users/bob.json": { user_id: "bob", brokers: [{ broker: "kraken" }] },
      "config/users/bob_smith.json": { user_id: "bob_smith", brokers: [{ broker: "kraken" }] },
      "config/users/alice.json": {
        user_id: "alice",
        brokers: [
          { broker: "kraken", credentials: { apiKey: "shared-literal", secret: K1 } },
          // Same key string on another broker: another account, not a duplicate.
          { broker: "okx", credentials: { apiKey: "shared-literal", secret: "s", password: "p" } },
        ],
      },
      "config/users/off.json": {
        user_id: "off",
        enabled: false,
        brokers: [{ broker: "kraken", credentials: { apiKey: "shared-literal", secret: K1 } }],
      },
    });
    const config = await load(
      root,
      { KRAKEN_USER_BOB_API_KEY: "bob-key", KRAKEN_USER_BOB_API_SECRET: K1 },
      true,
    );
    expect(config.problems).toEqual([]);
    expect(config.sharedCredentials).toEqual([
      { broker: "kraken", accounts: ["platform", "alice"] },
      { broker: "kraken", accounts: ["Bob", "bob", "bob_smith"] },
    ]);
    const warnings = config.warnings.filter((w) => w.code === "shared_credentials");
    expect(warnings).toHaveLength(2);
    expect(warnings[0]?.file).toBe(join(root, "config", "platform.json"));
    expect(warnings[0]?.message).toContain("platform (config:");
    expect(warnings[0]?.message).toContain("counted twice");
    expect(warnings[1]).toEqual({
      code: "shared_credentials",
      file: "environment",
      message:
        'kraken: user "Bob" (KRAKEN_USER_BOB_API_KEY), user "bob" (KRAKEN_USER_BOB_API_KEY), user "bob_smith" (KRAKEN_USER_BOB_API_KEY) use the same API key, so one exchange account\'s balance would be counted 3 times; give each account its own key, or disable the extra ones',
    });
    expect(JSON.stringify(config.warnings)).not.toContain("bob-key");
  });

  it("tells when bob_smith reads bob's key first, and says nothing for a lone account", async () => {
    const root = await writeTree({
      "config/users/bob.json": { user_id: "bob", brokers: [{ broker: "kraken" }] },
      "config/users/bob_smith.json": { user_id: "bob_smith", brokers: [{ broker: "kraken" }] },
    });
    const config = await load(root, {
      KRAKEN_USER_BOB_API_KEY: "k1",
      KRAKEN_USER_BOB_API_SECRET: K1,
      KRAKEN_USER_BOB_SMITH_API_KEY: "k2",
      KRAKEN_USER_BOB_SMITH_API_SECRET: K1,
    });
    // bob_smith reads KRAKEN_USER_BOB_* first, as the original does: the two share k1 and are
    // told so, and the differing BOB_SMITH family is named too.
    expect(config.sharedCredentials).toEqual([
      { broker: "kraken", accounts: ["bob", "bob_smith"] },
    ]);
    expect(config.warnings.map((w) => w.code).sort()).toEqual([
      "shadowed_credentials",
      "shared_credentials",
    ]);
    const alone = await writeTree({
      "config/users/ann.json": { user_id: "ann", brokers: [{ broker: "kraken" }] },
    });
    const single = await load(alone, {
      KRAKEN_USER_ANN_API_KEY: "k",
      KRAKEN_USER_ANN_API_SECRET: K1,
    });
    expect(single.sharedCredentials).toEqual([]);
    expect(single.warnings).toEqual([]);
  });
});
