import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  editDistance,
  NON_CCXT_BROKERS,
  nearest,
  unknownBrokerSuggestions,
} from "../../src/config/broker-ids.js";
import { formatProblem, loadConfig } from "../../src/config/index.js";
import { writeTree } from "./helpers.js";

describe("editDistance and nearest", () => {
  it.each([
    ["kraken", "kraken", 0],
    ["krakken", "kraken", 1],
    ["kraken", "krakenfutures", 7],
    ["", "okx", 3],
    ["coinbase", "coinbsae", 2],
  ])("%s -> %s is %i", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it("keeps up to three ids within a third of the length, nearest first", () => {
    expect(nearest("krakken", ["kraken", "krakenfutures", "okx", "bitget"])).toEqual(["kraken"]);
    expect(nearest("okz", ["okx", "okxus", "ok", "zzzzzz"])).toEqual(["ok", "okx"]);
    expect(nearest("bitge", ["bitget", "bitgee", "bitgeq", "bitgez"])).toEqual([
      "bitgee",
      "bitgeq",
      "bitget",
    ]);
    expect(nearest("qqqqqqq", ["kraken"])).toEqual([]);
  });
});

describe("unknownBrokerSuggestions", () => {
  it("accepts ccxt ids and the original's non-ccxt brokers", async () => {
    for (const id of ["kraken", "coinbase", "alpaca", "binance", "okx", ...NON_CCXT_BROKERS]) {
      expect(await unknownBrokerSuggestions(id)).toBeNull();
    }
  });

  it("suggests the nearest ccxt ids for an unknown one", async () => {
    expect(await unknownBrokerSuggestions("krakken")).toContain("kraken");
    expect(await unknownBrokerSuggestions("coin_base")).toContain("coinbase");
    expect(await unknownBrokerSuggestions("base")).not.toBeNull();
  });
});

describe("broker ids in loaded config", () => {
  it("keeps an unknown id's row, with a problem naming file, field and the nearest ids", async () => {
    const root = await writeTree({
      "config/users/alice.json": {
        user_id: "alice",
        brokers: [{ broker: "Krakken" }, { broker: "interactive_brokers" }, { broker: "kraken" }],
      },
      "config/users/retail_td.json": [
        { user_id: "bob", broker_type: "TD_AMERITRADE" },
        { user_id: "cat", broker_type: "tradier" },
        { user_id: "dan", broker_type: "krakken" },
      ],
    });
    const config = await loadConfig({ configDir: join(root, "config"), cwd: root, env: {} });
    expect(config.users.map((u) => [u.id, u.brokers.map((b) => b.broker)])).toEqual([
      ["alice", ["krakken", "interactive_brokers", "kraken"]],
      ["bob", ["td_ameritrade"]],
      ["cat", ["tradier"]],
      ["dan", ["krakken"]],
    ]);
    const alice = join(root, "config", "users", "alice.json");
    expect(
      config.problems.map((p) => [p.code, p.file.slice(p.file.lastIndexOf("/") + 1), p.field]),
    ).toEqual([
      ["unknown_broker", "alice.json", "brokers[0].broker"],
      ["unknown_broker", "retail_td.json", "[2].broker_type"],
    ]);
    expect(formatProblem(config.problems[0] as never)).toBe(
      `${alice}: brokers[0].broker: "krakken" is not a ccxt exchange id; did you mean "kraken"? (the account is listed as unsupported)\n  fix: use a ccxt exchange id such as "kraken" (the list is ccxt.exchanges), or one of the original's interactive_brokers, td_ameritrade, tradier`,
    );
  });

  it("still rejects ids with characters no broker id has", async () => {
    const root = await writeTree({
      "config/users/alice.json": { user_id: "alice", brokers: [{ broker: "kra-ken" }] },
    });
    const config = await loadConfig({ configDir: join(root, "config"), cwd: root, env: {} });
    expect(config.problems.map((p) => [p.code, p.field])).toEqual([
      ["invalid_field", "brokers[0].broker"],
    ]);
  });
});
