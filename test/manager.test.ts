import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/emulator/index.js";
import { BalanceManager, BrokerType } from "../src/index.js";
import { ROOT, scratch, writeJson } from "./helpers/cli.js";
import { seedAccount } from "./helpers/seed.js";

let emulator: Emulator;
let manager: BalanceManager;

beforeAll(async () => {
  emulator = await startEmulator();
  const s = await scratch();
  const account = (exchange: "kraken" | "coinbase", usd: string) => ({
    broker: exchange,
    credentials: seedAccount(emulator, exchange, { USD: usd }),
    apiUrl: emulator.urls[exchange],
  });
  await writeJson(join(s.config, "platform.json"), { brokers: [account("kraken", "5678.90")] });
  await writeJson(join(s.config, "users", "alice.json"), {
    user_id: "alice",
    brokers: [account("coinbase", "250.00"), account("kraken", "750.00")],
  });
  await writeJson(join(s.config, "users", "bob.json"), {
    user_id: "bob",
    brokers: [account("kraken", "2500.00")],
  });
  manager = new BalanceManager({
    configDir: s.config,
    cwd: s.dir,
    env: {},
    krakenSpacingMs: 20,
    cache: { mode: "off" },
  });
});
afterAll(() => emulator.close());

describe("BalanceManager, the guide's methods", () => {
  it("getAllBalances", async () => {
    expect(await manager.getAllBalances()).toEqual({
      platform: { kraken: "5678.90" },
      users: { alice: { coinbase: "250.00", kraken: "750.00" }, bob: { kraken: "2500.00" } },
    });
  });

  it("getUserBalanceSummary sorts users by total, highest first", async () => {
    expect(await manager.getUserBalanceSummary()).toEqual({
      user_count: 2,
      total_capital: "3500.00",
      average_balance: "1750.00",
      accounts_unknown: 0,
      users: [
        { user_id: "bob", total: "2500.00", brokers: { kraken: "2500.00" } },
        { user_id: "alice", total: "1000.00", brokers: { coinbase: "250.00", kraken: "750.00" } },
      ],
    });
  });

  it("getUserBalance, getStatusReport, logAllBalances, getAllBalancesWithStatus", async () => {
    expect(await manager.getUserBalance("alice", BrokerType.COINBASE)).toBe("250.00");
    expect(await manager.getUserBalance("nobody", BrokerType.KRAKEN)).toBeNull();
    const report = await manager.getStatusReport();
    expect(report).toContain("   TOTAL                $5,678.90");
    const logged: string[] = [];
    await manager.logAllBalances((line) => logged.push(line));
    expect(logged.join("\n")).toContain("Total User Capital:    $3,500.00");
    const status = await manager.getAllBalancesWithStatus();
    expect(status.users.bob?.kraken).toMatchObject({
      balance: "2500.00",
      status: "ok",
      source: "live",
    });
  });
});

describe("the package entry", () => {
  it("imports as `show-user-balances` from the built package", async () => {
    const script =
      'import { BalanceManager, BrokerType, renderTable } from "show-user-balances"; console.log(typeof BalanceManager, BrokerType.KRAKEN, typeof renderTable);';
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "-e", script],
      {
        cwd: ROOT,
      },
    );
    expect(stdout.trim()).toBe("function kraken function");
  });
});
