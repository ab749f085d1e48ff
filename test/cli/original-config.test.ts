/**
 * An operator moving from the original system: its files (JSON list form, per-user JSON,
 * per-user YAML with embedded keys), its variable names, Binance and OKX users, Alpaca paper
 * keys, and shared keys, all through the real process against the emulator.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { ROOT, runCli, scratch, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setPrices("binance", { BTC: "60000" });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.clearRequests());

function origins(): Record<string, string> {
  return {
    KRAKEN_API_URL: emulator.urls.kraken,
    COINBASE_API_URL: emulator.urls.coinbase,
    ALPACA_API_URL: emulator.urls.alpaca,
    ALPACA_SANDBOX_API_URL: emulator.urls.alpacaPaper,
    BINANCE_API_URL: emulator.urls.binance,
    OKX_BASE_URL: emulator.urls.okx,
  };
}

async function run(config: string, dir: string, env: Record<string, string>, args: string[] = []) {
  return runCli(
    ["--config-dir", config, "--no-cache", "--kraken-spacing", "0", "--json", ...args],
    {
      cwd: dir,
      env: { ...origins(), ...env },
    },
  );
}

describe("the original system's config, end to end", () => {
  it("reports every row of its file forms plus Binance and OKX users with the right figure", async () => {
    const s = await scratch();
    const kraken = seedAccount(emulator, "kraken", { USD: "100.00" });
    const yamlKraken = seedAccount(emulator, "kraken", { USD: "250.50" });
    const binance = seedAccount(emulator, "binance", { USDT: "40.00", BTC: "0.001" });
    const okx = seedAccount(emulator, "okx", { USDT: "75.25" });
    // The list form (retail_kraken.json), one user on one broker per element.
    await writeJson(join(s.config, "users", "retail_kraken.json"), [
      { user_id: "tania_gilbert", name: "Tania", broker_type: "kraken", enabled: true },
    ]);
    // Per-user YAML with embedded keys (user.yaml.example); 0600 as the original advises.
    await writeFile(
      join(s.config, "users", "daivon_frazier.yaml"),
      `broker: KRAKEN\napi_key: ${yamlKraken.apiKey}\napi_secret: ${yamlKraken.secret}\nenabled: true\ncopy_from_master: true\n`,
      { mode: 0o600 },
    );
    await writeJson(join(s.config, "users", "carol.json"), {
      user_id: "carol",
      brokers: [{ broker: "binance" }],
    });
    await writeJson(join(s.config, "users", "dave_smith.json"), {
      user_id: "dave_smith",
      brokers: [{ broker: "okx" }, { broker: "tradier" }],
    });
    const result = await run(s.config, s.dir, {
      KRAKEN_USER_TANIA_API_KEY: kraken.apiKey,
      KRAKEN_USER_TANIA_API_SECRET: kraken.secret,
      BINANCE_USER_CAROL_API_KEY: binance.apiKey,
      BINANCE_USER_CAROL_API_SECRET: binance.secret,
      // The first name's family comes first, as the original looks it up.
      OKX_USER_DAVE_API_KEY: okx.apiKey,
      OKX_USER_DAVE_API_SECRET: okx.secret,
      OKX_USER_DAVE_PASSPHRASE: okx.password ?? "",
    });
    const doc = JSON.parse(result.stdout);
    expect(doc.balances.users).toEqual({
      carol: { binance: 100 }, // 40 + 0.001 x 60000
      daivon_frazier: { kraken: 250.5 },
      dave_smith: { okx: 75.25, tradier: null },
      tania_gilbert: { kraken: 100 },
    });
    expect(doc.status.users.dave_smith.tradier).toMatchObject({
      state: "unsupported_broker",
      message: '"tradier" is not available through ccxt',
    });
    expect(doc.summary.user_count).toBe(4);
    expect(result.code).toBe(3); // tradier's figure is unknown: partial
  });

  it("OKX: the passphrase from OKX_USER_<FIRST>_PASSPHRASE is ok; a wrong one says passphrase", async () => {
    const s = await scratch();
    const okx = seedAccount(emulator, "okx", { USDT: "5" });
    await writeJson(join(s.config, "users", "erin_x.json"), {
      user_id: "erin_x",
      brokers: [{ broker: "okx" }],
    });
    const env = { OKX_USER_ERIN_API_KEY: okx.apiKey, OKX_USER_ERIN_API_SECRET: okx.secret };
    const good = await run(s.config, s.dir, {
      ...env,
      OKX_USER_ERIN_PASSPHRASE: okx.password ?? "",
    });
    expect(JSON.parse(good.stdout).status.users.erin_x.okx.state).toBe("ok");
    const bad = await run(s.config, s.dir, { ...env, OKX_USER_ERIN_PASSPHRASE: "Wrong1!pass" });
    const row = JSON.parse(bad.stdout).status.users.erin_x.okx;
    expect(row.state).toBe("auth_failed");
    expect(row.message).toMatch(/passphrase/);
    expect(bad.code).toBe(3);
  });

  it("Alpaca: a PK key goes to the paper host; ALPACA_USER_<ID>_PAPER=false sends it to live", async () => {
    const s = await scratch();
    const paper = seedAccount(emulator, "alpaca", { USD: "1000.00" }, { sandbox: true });
    expect(paper.apiKey.startsWith("PK")).toBe(true);
    await writeJson(join(s.config, "users", "frank.json"), {
      user_id: "frank",
      brokers: [{ broker: "alpaca" }],
    });
    const env = {
      ALPACA_USER_FRANK_API_KEY: paper.apiKey,
      ALPACA_USER_FRANK_API_SECRET: paper.secret,
    };
    const onPaper = await run(s.config, s.dir, env);
    const row = JSON.parse(onPaper.stdout).status.users.frank.alpaca;
    expect(row).toMatchObject({ state: "ok", environment: "paper" });
    expect(emulator.requests.filter((r) => r.apiKey === paper.apiKey).every((r) => r.sandbox)).toBe(
      true,
    );
    const onLive = await run(s.config, s.dir, { ...env, ALPACA_USER_FRANK_PAPER: "false" });
    const live = JSON.parse(onLive.stdout).status.users.frank.alpaca;
    expect(live).toMatchObject({ state: "auth_failed", environment: "live" });
    expect(live.message).toMatch(/paper key on the live endpoint/);
  });

  it("one key reaching Bob, bob and bob_smith is fetched once and counted once", async () => {
    const s = await scratch();
    const key = seedAccount(emulator, "kraken", { USD: "2500.00" });
    for (const id of ["Bob", "bob", "bob_smith"]) {
      await writeJson(join(s.config, "users", `${id}.json`), {
        user_id: id,
        brokers: [{ broker: "kraken" }],
      });
    }
    const result = await run(s.config, s.dir, {
      KRAKEN_USER_BOB_API_KEY: key.apiKey,
      KRAKEN_USER_BOB_API_SECRET: key.secret,
    });
    const doc = JSON.parse(result.stdout);
    expect(doc.summary.total_user_capital).toBe(2500);
    expect(doc.summary.duplicate_usd).toBe(5000);
    expect(doc.status.users.bob.kraken.duplicate_of).toBe("user Bob");
    expect(emulator.requests.filter((r) => r.apiKey === key.apiKey)).toHaveLength(1);
    expect(result.stderr).toMatch(/Bob.*bob.*bob_smith|counted/);
  });
});

describe("npm run demo", () => {
  it("prints the guide's figures under the default valuation, plus a Binance and an OKX user", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["dist/demo.js", "--json"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "" },
    });
    const doc = JSON.parse(stdout);
    expect(doc.balances).toEqual({
      platform: { coinbase: 1234.56, kraken: 5678.9 },
      users: {
        alice: { coinbase: 250, kraken: 750 },
        bob: { kraken: 2500 },
        carol: { binance: 1200 },
        dave: { okx: 800 },
      },
    });
    expect(stdout).toContain('"platform_total": 6913.46');
    expect(doc.status.platform.kraken.valuation).toBe("total");
  });
});
