import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { resolveSandbox, type SandboxInput, sandboxVariables } from "../../src/config/sandbox.js";
import { writeTree } from "./helpers.js";

type Env = Record<string, string | undefined>;

function decide(broker: string, env: Env, extra: Partial<SandboxInput> = {}) {
  const invalid: string[] = [];
  const decision = resolveSandbox({
    broker,
    kind: "user",
    id: "tania_gilbert",
    configured: undefined,
    credentials: null,
    env,
    invalid: (name) => invalid.push(name),
    ...extra,
  });
  return { ...decision, invalid };
}

const key = (apiKey: string) => ({ apiKey, secret: "s" });

describe("resolveSandbox", () => {
  it("takes the entry's setting first", () => {
    expect(
      decide(
        "alpaca",
        { ALPACA_PAPER: "true" },
        {
          configured: { value: false, location: "config:u.json#brokers[0].paper" },
          credentials: key("PKX"),
        },
      ),
    ).toEqual({ sandbox: false, source: "config:u.json#brokers[0].paper", invalid: [] });
  });

  it("Alpaca: the user's variables (first segment, full id), ALPACA_PAPER, then the key", () => {
    expect(sandboxVariables("alpaca", "user", "tania_gilbert")).toEqual([
      "ALPACA_USER_TANIA_PAPER",
      "ALPACA_USER_TANIA_GILBERT_PAPER",
      "ALPACA_PAPER",
    ]);
    expect(sandboxVariables("alpaca", "platform", "platform")).toEqual(["ALPACA_PAPER"]);
    const env = { ALPACA_USER_TANIA_GILBERT_PAPER: "no", ALPACA_PAPER: "yes" };
    expect(decide("alpaca", env)).toMatchObject({
      sandbox: false,
      source: "ALPACA_USER_TANIA_GILBERT_PAPER",
    });
    expect(decide("alpaca", { ALPACA_PAPER: "TRUE" })).toMatchObject({
      sandbox: true,
      source: "ALPACA_PAPER",
    });
    expect(decide("alpaca", {}, { credentials: key("PKABC") })).toMatchObject({
      sandbox: true,
      source: "key prefix",
    });
    expect(decide("alpaca", {}, { credentials: key("AKABC") })).toMatchObject({
      sandbox: false,
      source: "key prefix",
    });
    expect(decide("alpaca", {}, { credentials: key("XYZ") })).toMatchObject({
      sandbox: false,
      source: "default",
    });
  });

  it("names a variable that is not a boolean and passes over it", () => {
    expect(
      decide(
        "alpaca",
        { ALPACA_USER_TANIA_PAPER: "paper", ALPACA_PAPER: "0" },
        {
          credentials: key("PK1"),
        },
      ),
    ).toEqual({ sandbox: false, source: "ALPACA_PAPER", invalid: ["ALPACA_USER_TANIA_PAPER"] });
  });

  it("Binance: BINANCE_USE_TESTNET; OKX: either OKX_USE_TESTNET or OKX_SIMULATED_TRADING", () => {
    expect(decide("binance", { BINANCE_USE_TESTNET: "1" })).toMatchObject({
      sandbox: true,
      source: "BINANCE_USE_TESTNET",
    });
    expect(decide("binance", {})).toMatchObject({ sandbox: false, source: "default" });
    expect(
      decide("okx", { OKX_USE_TESTNET: "false", OKX_SIMULATED_TRADING: "true" }),
    ).toMatchObject({
      sandbox: true,
      source: "OKX_SIMULATED_TRADING",
    });
    expect(decide("okx", { OKX_USE_TESTNET: "false" })).toMatchObject({
      sandbox: false,
      source: "OKX_USE_TESTNET",
    });
    expect(decide("kraken", { ALPACA_PAPER: "true", BINANCE_USE_TESTNET: "true" })).toMatchObject({
      sandbox: false,
      source: "default",
    });
  });
});

describe("sandbox in loaded config", () => {
  it("resolves every form's paper/testnet, the variables and the key, reporting bad booleans once", async () => {
    const root = await writeTree({
      "config/platform.json": {
        brokers: [{ broker: "alpaca" }, { broker: "binance", testnet: true }, { broker: "okx" }],
      },
      "config/users/ann.json": { user_id: "ann", brokers: [{ broker: "alpaca", paper: false }] },
      "config/users/bob.json": { user_id: "bob", broker: "alpaca" },
      "config/users/retail_alpaca.json": [{ user_id: "cat", broker_type: "alpaca", paper: true }],
      "config/users/dan.json": { user_id: "dan", brokers: [{ broker: "alpaca" }] },
    });
    const env: Env = {
      ALPACA_API_KEY: "PKPLATFORM",
      ALPACA_API_SECRET: "s",
      ALPACA_USER_DAN_API_KEY: "AKDAN",
      ALPACA_USER_DAN_API_SECRET: "s",
      ALPACA_USER_BOB_PAPER: "maybe",
      ALPACA_USER_BOB_API_KEY: "PKBOB",
      ALPACA_USER_BOB_API_SECRET: "s",
      OKX_SIMULATED_TRADING: "yes",
    };
    const config = await loadConfig({ configDir: join(root, "config"), cwd: root, env });
    const rows = [config.platform, ...config.users].flatMap((a) =>
      (a?.brokers ?? []).map((b) => [
        a?.id,
        b.broker,
        b.sandbox,
        b.sandboxSource.split("#")[1] ?? b.sandboxSource,
      ]),
    );
    expect(rows).toEqual([
      ["platform", "alpaca", true, "key prefix"],
      ["platform", "binance", true, "brokers[1].testnet"],
      ["platform", "okx", true, "OKX_SIMULATED_TRADING"],
      ["ann", "alpaca", false, "brokers[0].paper"],
      ["bob", "alpaca", true, "key prefix"],
      ["cat", "alpaca", true, "[0].paper"],
      ["dan", "alpaca", false, "key prefix"],
    ]);
    expect(config.problems).toEqual([
      {
        code: "invalid_field",
        file: "environment",
        field: "ALPACA_USER_BOB_PAPER",
        message: "is not a boolean; it is ignored",
        hint: "set ALPACA_USER_BOB_PAPER to true or false (1/0 and yes/no work too), or unset it",
      },
    ]);
  });

  it("reports paper and testnet that contradict each other in one entry", async () => {
    const root = await writeTree({
      "config/users/ann.json": {
        user_id: "ann",
        brokers: [{ broker: "alpaca", paper: true, testnet: false }],
      },
    });
    const config = await loadConfig({ configDir: join(root, "config"), cwd: root, env: {} });
    expect(config.problems.map((p) => [p.code, p.field])).toEqual([
      ["invalid_field", "brokers[0].testnet"],
    ]);
    expect(config.users[0]?.brokers[0]?.sandbox).toBe(true);
  });
});
