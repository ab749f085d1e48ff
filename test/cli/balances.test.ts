/**
 * What a balance is, end to end through the real process: hostile amounts stay in their row,
 * unknown figures are null (never 0), large amounts keep every digit, and one key is one account.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, newKrakenKey, startEmulator } from "../../src/emulator/index.js";
import { runCli, scratch, writeJson } from "../helpers/cli.js";
import { type RecordedServer, startRecordedServer } from "../helpers/recorded-server.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
let kraken: RecordedServer;
/** What the recorded Kraken server answers, by the key that asks. */
const krakenBodies = new Map<string, string>();

beforeAll(async () => {
  emulator = await startEmulator();
  kraken = await startRecordedServer({
    "POST /0/private/BalanceEx": (request) => ({
      body:
        krakenBodies.get(String(request.headers["api-key"])) ?? '{"error":["EAPI:Invalid key"]}',
    }),
    "GET /0/public/AssetPairs": { body: '{"error":[],"result":{}}' },
    "GET /0/public/Ticker": { body: '{"error":[],"result":{}}' },
  });
});
afterAll(async () => {
  await emulator.close();
  await kraken.close();
});

const balanceEx = (usd: string) =>
  JSON.stringify({ error: [], result: { ZUSD: { balance: usd, hold_trade: "0" } } });

async function setup(users: Record<string, string>) {
  const s = await scratch();
  const env: Record<string, string> = {
    KRAKEN_API_URL: kraken.url,
    COINBASE_API_URL: emulator.urls.coinbase,
  };
  const coinbase = seedAccount(emulator, "coinbase", { USD: "10.00" });
  env.COINBASE_API_KEY = coinbase.apiKey;
  env.COINBASE_API_SECRET = coinbase.secret;
  await writeJson(join(s.config, "platform.json"), { brokers: [{ broker: "coinbase" }] });
  for (const [id, usd] of Object.entries(users)) {
    const key = newKrakenKey();
    krakenBodies.set(key.apiKey, balanceEx(usd));
    await writeJson(join(s.config, "users", `${id}.json`), {
      user_id: id,
      brokers: [{ broker: "kraken", credentials: key }],
    });
  }
  const run = (args: string[]) =>
    runCli(["--config-dir", s.config, "--cache-dir", s.cache, "--kraken-spacing", "0", ...args], {
      cwd: s.dir,
      env,
    });
  return { run };
}

describe("amounts, end to end", () => {
  it("an amount of 1e309 is that row's error; the rest of the report stands; exit 3", async () => {
    const { run } = await setup({ alice: "1e309", bob: "2500.00" });
    const table = await run([]);
    expect(table.code).toBe(3);
    // Off a terminal the table is 80 columns wide: the reason wraps, indented under itself.
    expect(table.stdout.replace(/\n {37}/g, " ")).toMatch(
      /KRAKEN +— {2}✗ exchange error: kraken sent an amount that is out of range: ZUSD\.balance="1e309"/,
    );
    expect(table.stdout).toMatch(/COINBASE +\$10\.00/);
    expect(table.stdout).toMatch(/Total User Capital: +\$2,500\.00/);
    const json = await run(["--json", "--no-cache"]);
    expect(json.code).toBe(3);
    const doc = JSON.parse(json.stdout);
    expect(doc.balances.users.alice.kraken).toBeNull();
    expect(doc.balances.users.bob.kraken).toBe(2500);
    expect(doc.summary).toMatchObject({
      accounts_unknown: 1,
      users_unknown: 1,
      total_user_capital: 2500,
    });
    expect(doc.partial).toBe(true);
  });

  it("prints 90071992547409.93 and 12345678901234567.89 digit for digit, in the table and JSON", async () => {
    const { run } = await setup({ alice: "90071992547409.93", bob: "12345678901234567.89" });
    const table = await run([]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain("$90,071,992,547,409.93");
    expect(table.stdout).toContain("$12,345,678,901,234,567.89");
    const json = await run(["--json"]);
    expect(json.stdout).toContain('"alice": 90071992547409.93');
    expect(json.stdout).toContain('"bob": 12345678901234567.89');
    expect(json.stdout).toContain('"total_user_capital": 12435750893781977.82');
    expect(() => JSON.parse(json.stdout)).not.toThrow();
  });

  it("1e30 prints exactly", async () => {
    const { run } = await setup({ alice: "1e30" });

    const json = await run(["--json"]);
    expect(json.stdout).toContain(`"alice": 1${"0".repeat(30)}.00`);
    const table = await run([]);
    expect(table.stdout).toContain("$1,000,000,000,000,000,000,000,000,000,000.00");
  });
});
