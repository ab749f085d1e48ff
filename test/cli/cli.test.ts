import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Credentials } from "../../src/brokers/types.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { ROOT, runCli, scratch, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());
beforeEach(() => emulator.clearRequests());

/** Balance requests only: the default `total` valuation adds public price look-ups. */
const privateRequests = () => emulator.requests.filter((r) => r.apiKey !== null);

interface Setup {
  dir: string;
  config: string;
  cache: string;
  env: Record<string, string>;
  keys: Record<string, Credentials>;
}

/**
 * The guide's accounts, with amounts whose float sums are not exact: platform coinbase
 * 1000.10 USD + 234.46 USDC, kraken 5678.90; alice coinbase 0.10 + kraken 0.20; bob kraken 2500.
 */
async function guideSetup(): Promise<Setup> {
  const s = await scratch();
  await writeJson(join(s.config, "platform.json"), {
    name: "Nija System",
    brokers: [{ broker: "coinbase" }, { broker: "kraken" }],
  });
  await writeJson(join(s.config, "users", "alice.json"), {
    user_id: "alice",
    brokers: [{ broker: "coinbase" }, { broker: "kraken" }],
  });
  await writeJson(join(s.config, "users", "bob.json"), {
    user_id: "bob",
    brokers: [{ broker: "kraken" }],
  });
  const keys = {
    COINBASE: seedAccount(emulator, "coinbase", { USD: "1000.10", USDC: "234.46" }),
    KRAKEN: seedAccount(emulator, "kraken", { USD: "5678.90" }),
    COINBASE_USER_ALICE: seedAccount(emulator, "coinbase", { USD: "0.10" }, { kind: "ed25519" }),
    KRAKEN_USER_ALICE: seedAccount(emulator, "kraken", { USD: "0.20" }),
    KRAKEN_USER_BOB: seedAccount(emulator, "kraken", { USDT: "2500" }),
  };
  const env: Record<string, string> = {
    COINBASE_API_URL: emulator.urls.coinbase,
    KRAKEN_API_URL: emulator.urls.kraken,
    ALPACA_API_URL: emulator.urls.alpaca,
  };
  for (const [prefix, key] of Object.entries(keys)) {
    env[`${prefix}_API_KEY`] = key.apiKey;
    env[`${prefix}_API_SECRET`] = key.secret;
  }
  return { ...s, env, keys };
}

const cli = (s: Setup, args: string[], env: Record<string, string> = {}) =>
  runCli(["--config-dir", s.config, "--cache-dir", s.cache, "--kraken-spacing", "50", ...args], {
    cwd: s.dir,
    env: { ...s.env, ...env },
  });

function expectNoSecrets(text: string, keys: Record<string, Credentials>) {
  for (const key of Object.values(keys)) {
    expect(text).not.toContain(key.apiKey);
    expect(text).not.toContain(key.secret);
  }
}

describe("the report, as a real process against the emulator", () => {
  it("prints the guide's table with cent-exact totals and exits 0", async () => {
    const s = await guideSetup();
    const { code, stdout, stderr } = await cli(s, []);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\n").map((l) => l.trimEnd());
    expect(lines).toContain("🔷 PLATFORM ACCOUNT (Nija System)");
    expect(lines).toContain("   COINBASE             $1,234.56");
    expect(lines).toContain("   KRAKEN               $5,678.90");
    expect(lines).toContain("   TOTAL                $6,913.46");
    expect(lines).toContain("   👤 User: alice");
    expect(lines).toContain("      SUBTOTAL              $0.30");
    expect(lines).toContain("   Total Users:           2");
    expect(lines).toContain("   Total User Capital:    $2,500.30");
    expect(lines).toContain("   Average per User:      $1,250.15");
    expect(stdout).toMatch(/^Generated: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/m);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no colour when stdout is a pipe
    expect(stdout).not.toMatch(/\u001b\[/);
    // One request per Kraken/Coinbase account.
    expect(privateRequests()).toHaveLength(5);
  });

  it("--json is one document on stdout, field by field, amounts exact to the cent", async () => {
    const s = await guideSetup();
    const { code, stdout, stderr } = await cli(s, ["--json"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc)).toEqual(["timestamp", "balances", "summary", "status", "partial"]);
    expect(Number.isNaN(Date.parse(doc.timestamp))).toBe(false);
    expect(doc.balances).toEqual({
      platform: { coinbase: 1234.56, kraken: 5678.9 },
      users: { alice: { coinbase: 0.1, kraken: 0.2 }, bob: { kraken: 2500 } },
    });
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(doc.summary).toMatchObject({
      platform_total: 6913.46,
      user_totals: { alice: 0.3, bob: 2500 },
      total_user_capital: 2500.3,
      user_count: 2,
      average_per_user: 1250.15,
    });
    expect(stdout).toContain('"platform_total": 6913.46,');
    expect(doc.status.users.bob.kraken).toMatchObject({
      state: "ok",
      source: "live",
      message: null,
    });
    expect(doc.partial).toBe(false);
  });

  it("--assets adds the per-asset breakdown to JSON; filters narrow the report", async () => {
    const s = await guideSetup();
    const { stdout } = await cli(s, [
      "--json",
      "--assets",
      "--user",
      "alice",
      "--broker",
      "kraken",
    ]);
    const doc = JSON.parse(stdout);
    expect(doc.balances).toEqual({ platform: {}, users: { alice: { kraken: 0.2 } } });
    expect(doc.assets.users.alice.kraken.USD).toMatchObject({ total: "0.2", usd: 0.2 });
  });

  it("a failing broker shows why in its row; the rest stands; exit 3", async () => {
    const s = await guideSetup();
    emulator.setFault("kraken", s.keys.KRAKEN_USER_BOB?.apiKey as string, { kind: "revoked" });
    const table = await cli(s, ["--no-cache"]);
    expect(table.code).toBe(3);
    expect(table.stdout).toMatch(/KRAKEN +— {2}✗ auth failed: kraken rejected the API key/);
    expect(table.stdout).toContain("   TOTAL                $6,913.46");
    expect(table.stdout).toContain("did not answer: the totals are partial");
    const json = await cli(s, ["--json", "--no-cache"]);
    expect(json.code).toBe(3);
    const doc = JSON.parse(json.stdout);
    expect(doc.partial).toBe(true);
    expect(doc.status.users.bob.kraken.state).toBe("auth_failed");
    expect(doc.balances.platform).toEqual({ coinbase: 1234.56, kraken: 5678.9 });
    expectNoSecrets(table.stdout + table.stderr + json.stdout + json.stderr, s.keys);
  });

  it("users without credentials are still listed, with their status; exit stays 0", async () => {
    const s = await guideSetup();
    await writeJson(join(s.config, "users", "carol.json"), {
      user_id: "carol",
      brokers: [{ broker: "alpaca" }],
    });
    const { code, stdout, stderr } = await cli(s, ["--json"]);
    expect(code).toBe(0);
    expect(stderr).toBe(
      "1 broker account has no credentials; --explain-credentials shows which variables were looked up.\n",
    );
    const doc = JSON.parse(stdout);
    expect(doc.balances.users.carol).toEqual({ alpaca: 0 });
    expect(doc.status.users.carol.alpaca.state).toBe("no_credentials");
    expect(doc.summary.user_count).toBe(3);
  });

  it("--include-disabled lists disabled users and brokers, marked, fetched never, counted never", async () => {
    const s = await guideSetup();
    await writeJson(join(s.config, "users", "zed.json"), {
      user_id: "zed",
      enabled: false,
      brokers: [{ broker: "kraken" }],
    });
    await writeJson(join(s.config, "users", "bob.json"), {
      user_id: "bob",
      brokers: [{ broker: "kraken" }, { broker: "coinbase", enabled: false }],
    });
    const hidden = JSON.parse((await cli(s, ["--json", "--no-cache"])).stdout);
    expect(Object.keys(hidden.balances.users)).toEqual(["alice", "bob"]);
    expect(hidden.balances.users.bob).toEqual({ kraken: 2500 });
    emulator.clearRequests();
    const shown = await cli(s, ["--include-disabled", "--no-cache"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/👤 User: zed ○ disabled/);
    expect(shown.stdout).toMatch(/COINBASE +\S+ {2}○ disabled/);
    expect(shown.stdout).toContain("   Total Users:           2");
    expect(privateRequests()).toHaveLength(5);
  });

  it("--status shows each account's connection and which variable supplied the key", async () => {
    const s = await guideSetup();
    const { code, stdout } = await cli(s, ["--status"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/alice\s*│\s*kraken\s*│\s*ok\s*│\s*\$0\.20/);
    expect(stdout).toContain("KRAKEN_USER_ALICE_API_KEY");
    expectNoSecrets(stdout, s.keys);
  });

  it("--explain-credentials names variables, never values", async () => {
    const s = await guideSetup();
    const { code, stdout } = await cli(s, ["--explain-credentials"]);
    expect(code).toBe(0);
    expect(stdout).toContain("user bob / kraken: using KRAKEN_USER_BOB_API_KEY");
    expect(stdout).toMatch(
      /platform \/ kraken: using KRAKEN_API_KEY\n {2}tried: .*KRAKEN_PLATFORM_API_KEY/,
    );
    expectNoSecrets(stdout, s.keys);
    expect(emulator.requests).toHaveLength(0);
  });
});

describe("configuration errors: named file, field and fix; exit 2", () => {
  it("a broken user file is named with line and column; the others are still reported", async () => {
    const s = await guideSetup();
    await writeFile(
      join(s.config, "users", "dave.json"),
      '{\n  "user_id": "dave",\n  "brokers": [\n}\n',
    );
    const { code, stdout, stderr } = await cli(s, ["--json"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/dave\.json: invalid JSON at line 4, column 1/);
    expect(stderr).toContain("fix:");
    expect(JSON.parse(stdout).summary.user_count).toBe(2);
  });

  it("a wrong field type names the field path and the fix", async () => {
    const s = await guideSetup();
    await writeJson(join(s.config, "users", "erin.json"), {
      user_id: "erin",
      brokers: [{ broker: "kraken", enabled: "yes" }],
    });
    const { code, stderr } = await cli(s, []);
    expect(code).toBe(2);
    expect(stderr).toMatch(/erin\.json: brokers\[0\]\.enabled: .*\n {2}fix: /);
  });

  it("an unknown env reference is named; that broker shows no credentials", async () => {
    const s = await guideSetup();
    await writeJson(join(s.config, "users", "fay.json"), {
      user_id: "fay",
      brokers: [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR} reference is the point
        { broker: "kraken", credentials: { apiKey: "${FAY_KEY}", secret: "${FAY_SECRET}" } },
      ],
    });
    const { code, stdout, stderr } = await cli(s, ["--json"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /fay\.json: brokers\[0\]\.credentials\.apiKey: references \$\{FAY_KEY\}/,
    );
    expect(JSON.parse(stdout).status.users.fay.kraken.state).toBe("no_credentials");
  });

  it("the same user and broker defined differently in two files is an error naming both", async () => {
    const s = await guideSetup();
    await writeJson(join(s.config, "users", "retail_kraken.json"), [
      { user_id: "bob", broker_type: "kraken", enabled: true, apiUrl: "http://127.0.0.1:1" },
    ]);
    const { code, stderr } = await cli(s, []);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /defined differently in .*bob\.json.*retail_kraken\.json|retail_kraken\.json.*bob\.json/,
    );
  });

  it("a missing config directory, an unknown flag and a bad flag value exit 2", async () => {
    const s = await scratch();
    const missing = await runCli(["--config-dir", join(s.dir, "nope")], { cwd: s.dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope/);
    const flag = await runCli(["--frobnicate"], { cwd: s.dir });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--frobnicate'/);
    const value = await runCli(["--timeout", "soon"], { cwd: s.dir });
    expect(value.code).toBe(2);
    expect(value.stderr).toMatch(/--timeout takes a number from 0\.1 to 600 seconds/);
  });

  it("with users but no user brokers, says so with the fixes", async () => {
    const s = await guideSetup();
    await writeJson(join(s.config, "users", "alice.json"), {
      user_id: "alice",
      enabled: false,
      brokers: [],
    });
    await writeJson(join(s.config, "users", "bob.json"), { user_id: "bob", brokers: [] });
    const { code, stderr, stdout } = await cli(s, []);
    expect(code).toBe(0);
    expect(stderr).toContain("No user brokers configured.");
    expect(stderr).toContain('Ensure users have "enabled": true');
    expect(stdout).toContain("Total Users:           1");
  });

  it("--help documents exit codes and examples; --version prints the version", async () => {
    const s = await scratch();
    const help = await runCli(["--help"], { cwd: s.dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes:");
    expect(help.stdout).toContain("jq");
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
    const version = await runCli(["--version"], { cwd: s.dir });
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});

describe("settings and the cache directory", () => {
  it("settings.json sets defaults, a flag on the command line wins, a misspelt key is an error", async () => {
    const s = await guideSetup();
    await writeJson(join(s.config, "settings.json"), { valuation: "total", krakenSpacingMs: 20 });
    const fromFile = JSON.parse((await cli(s, ["--json", "--no-cache"])).stdout);
    expect(fromFile.status.platform.kraken.valuation).toBe("total");
    const fromFlag = JSON.parse(
      (await cli(s, ["--json", "--no-cache", "--valuation", "cash"])).stdout,
    );
    expect(fromFlag.status.platform.kraken.valuation).toBe("cash");
    await writeJson(join(s.config, "settings.json"), { krakenConcurency: 4 });
    const typo = await cli(s, ["--json", "--no-cache"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/settings\.json: .*krakenConcurency/);
  });

  it("a cache directory that cannot be created costs a warning, not the report", async () => {
    const s = await guideSetup();
    await writeFile(join(s.dir, "a-file"), "");
    const result = await runCli(
      ["--config-dir", s.config, "--cache-dir", join(s.dir, "a-file", "cache"), "--json"],
      { cwd: s.dir, env: s.env },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: .*a-file\/cache/);
    expect(JSON.parse(result.stdout).summary.platform_total).toBe(6913.46);
  });
});
describe("secrets", () => {
  it("appear in no output, diagnostic or cache file, whatever happens", async () => {
    const s = await guideSetup();
    emulator.setFault("coinbase", s.keys.COINBASE_USER_ALICE?.apiKey as string, {
      kind: "rate_limit",
    });
    emulator.setFault("kraken", s.keys.KRAKEN?.apiKey as string, { kind: "revoked" });
    const outputs = [
      await cli(s, ["--retries", "1", "--verbose"]),
      await cli(s, ["--json", "--assets", "--retries", "1"]),
      await cli(s, ["--status", "--retries", "1"]),
      await cli(s, ["--explain-credentials"]),
    ];
    expect(outputs.map((o) => o.code)).toEqual([3, 3, 3, 0]);
    let text = outputs.map((o) => o.stdout + o.stderr).join("\n");
    for (const file of await readdir(s.cache, { recursive: true })) {
      text += await readFile(join(s.cache, file), "utf8").catch(() => "");
    }
    expect(text).toContain("auth failed");
    expectNoSecrets(text, s.keys);
  });
});
