import { describe, expect, it } from "vitest";
import type { BrokerAccountRequest } from "../../src/brokers/types.js";
import type { AccountConfig, LoadedConfig } from "../../src/config/index.js";
import { collectReport } from "../../src/report/collect.js";
import { row } from "./fixtures.js";

function userOn(id: string, broker: string): AccountConfig {
  return {
    kind: "user",
    id,
    name: null,
    enabled: true,
    sources: [],
    brokers: [
      {
        broker,
        enabled: true,
        credentials: { apiKey: `key-${id}`, secret: "s" },
        apiKeyFingerprint: `fp-${id}`,
        credentialsExplain: { source: "config", tried: [], used: null },
        credentialProblem: null,
        sandbox: false,
        sandboxSource: "default",
        apiUrl: null,
        options: {},
        source: "test",
      },
    ],
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

describe("collectReport's fetch pools", () => {
  it("gives each broker its own --concurrency slots: one that hangs holds up no other", async () => {
    // Sorted by id, the hanging OKX accounts come first: in one shared pool of 2 they would
    // take both slots and nothing else would start until they gave up.
    const users = [
      ...[1, 2, 3].map((i) => userOn(`a-okx-${i}`, "okx")),
      ...[1, 2, 3, 4, 5, 6].map((i) => userOn(`b-alpaca-${i}`, "alpaca")),
      ...[1, 2, 3, 4, 5, 6].map((i) => userOn(`c-coinbase-${i}`, "coinbase")),
    ];
    const config: LoadedConfig = {
      configDir: "/nowhere",
      platform: null,
      users,
      problems: [],
      warnings: [],
      dotenvPath: null,
      settings: {},
      sharedCredentials: [],
    };
    const inFlight = new Map<string, number>();
    const most = new Map<string, number>();
    let mostAtOnce = 0;
    let done = 0;
    let releaseOkx = () => {};
    const okxHangs = new Promise<void>((resolve) => {
      releaseOkx = resolve;
    });
    const fetcher = {
      defaultValuation: "total" as const,
      async fetchAccountBalance(request: BrokerAccountRequest) {
        const broker = request.broker;
        inFlight.set(broker, (inFlight.get(broker) ?? 0) + 1);
        most.set(broker, Math.max(most.get(broker) ?? 0, inFlight.get(broker) ?? 0));
        mostAtOnce = Math.max(
          mostAtOnce,
          [...inFlight.values()].reduce((a, b) => a + b, 0),
        );
        await (broker === "okx" ? okxHangs : tick());
        inFlight.set(broker, (inFlight.get(broker) ?? 0) - 1);
        if (broker !== "okx") done += 1;
        const { enabled, source, ageSeconds, ...balance } = row(broker, 100n);
        return balance;
      },
    };
    const report = collectReport(config, { fetcher, concurrency: 2 });
    for (let i = 0; i < 500 && done < 12; i += 1) await tick();
    expect(done).toBe(12);
    expect(inFlight.get("okx")).toBe(2);
    releaseOkx();
    const { users: rows } = await report;
    expect(rows.map((u) => u.rows[0]?.status)).toEqual(Array(15).fill("ok"));
    expect(Object.fromEntries(most)).toEqual({ okx: 2, alpaca: 2, coinbase: 2 });
    expect(mostAtOnce).toBe(6);
  });

  it("asks a config from the snapshot for credentials; says so when they cannot be read", async () => {
    const kept = (id: string) => {
      const user = userOn(id, "alpaca");
      const broker = user.brokers[0];
      if (broker) broker.credentials = null;
      return user;
    };
    const base: LoadedConfig = {
      configDir: "/nowhere",
      platform: null,
      users: [kept("ann"), kept("bob")],
      problems: [],
      warnings: [],
      dotenvPath: null,
      settings: {},
      sharedCredentials: [],
      fromSnapshot: true,
    };
    const asked: BrokerAccountRequest[] = [];
    const fetcher = {
      defaultValuation: "total" as const,
      async fetchAccountBalance(request: BrokerAccountRequest) {
        asked.push(request);
        const { enabled, source, ageSeconds, ...balance } = row(request.broker, 100n);
        return balance;
      },
    };
    // The files now hold ann but not bob.
    const readSecrets = async () => ({
      ...base,
      fromSnapshot: undefined,
      users: [userOn("ann", "alpaca")],
    });
    await collectReport({ ...base, readSecrets }, { fetcher });
    expect(asked.map((r) => [r.credentials?.apiKey ?? null, r.credentialProblem])).toEqual([
      ["key-ann", null],
      [null, expect.stringContaining("no longer lists it")],
    ]);

    asked.length = 0;
    const failing = async (): Promise<LoadedConfig> => {
      throw new Error("config directory /nowhere does not exist");
    };
    await collectReport({ ...base, readSecrets: failing }, { fetcher });
    expect(asked.map((r) => r.credentialProblem)).toEqual([
      expect.stringContaining("could not be read again from the config (config directory"),
      expect.stringContaining("could not be read again"),
    ]);
  });
});
