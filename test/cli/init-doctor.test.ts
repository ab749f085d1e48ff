/**
 * `init` writes a config the real loader and report accept, with private modes, and never
 * overwrites; `doctor` on it, against the emulator with the keys filled in from the written
 * .env.example, passes every check, and names the account and the fix when something is wrong,
 * without ever printing a key or secret.
 */
import { chmod, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judgeClock } from "../../src/commands/doctor-exchange.js";
import { parseDotEnv } from "../../src/config/index.js";
import { type Emulator, newKrakenKey, startEmulator } from "../../src/emulator/index.js";
import { runCli } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});

interface DoctorDocument {
  ok: boolean;
  exit_code: number;
  summary: { ok: number; warn: number; fail: number };
  checks: Array<{ name: string; state: string; detail: string; fix: string | null }>;
}

/** A fresh directory with `init` run in it, the keys seeded and written to .env by their names. */
async function initialised() {
  const dir = await mkdtemp(join(tmpdir(), "sub-init-"));
  const init = await runCli(["init"], { cwd: dir });
  const platformKraken = seedAccount(emulator, "kraken", { USD: "100.00" });
  const platformCoinbase = seedAccount(emulator, "coinbase", { USD: "50.00" });
  const alice = seedAccount(emulator, "kraken", { USD: "25.00" });
  const values: Record<string, string> = {
    KRAKEN_PLATFORM_API_KEY: platformKraken.apiKey,
    KRAKEN_PLATFORM_API_SECRET: platformKraken.secret,
    COINBASE_PLATFORM_API_KEY: platformCoinbase.apiKey,
    COINBASE_PLATFORM_API_SECRET: platformCoinbase.secret,
    KRAKEN_USER_ALICE_API_KEY: alice.apiKey,
    KRAKEN_USER_ALICE_API_SECRET: alice.secret,
  };
  const example = await readFile(join(dir, "config", ".env.example"), "utf8");
  // The names come from the written file: a name the loader does not read would fail below.
  const names = Object.keys(parseDotEnv(example));
  const dotenv = names.map((name) => `${name}=${JSON.stringify(values[name] ?? "")}`).join("\n");
  await writeFile(join(dir, ".env"), `${dotenv}\n`, { mode: 0o600 });
  const secrets = [platformKraken, platformCoinbase, alice].flatMap((k) => [k.apiKey, k.secret]);
  const env = { KRAKEN_API_URL: emulator.urls.kraken, COINBASE_API_URL: emulator.urls.coinbase };
  const flags = ["--cache-dir", join(dir, "cache"), "--state-dir", join(dir, "state")];
  const doctor = (args: string[] = []) => runCli(["doctor", ...flags, ...args], { cwd: dir, env });
  const doctorJson = async () => {
    const run = await doctor(["--json"]);
    return { ...run, doc: JSON.parse(run.stdout) as DoctorDocument };
  };
  return { dir, init, names, alice, secrets, env, flags, doctor, doctorJson };
}

/** Neither stream carries any key or secret, whole or a long piece of a PEM. */
function expectNoSecrets(output: string, secrets: string[]) {
  for (const secret of secrets) {
    expect(output).not.toContain(secret);
    for (const line of secret.split("\n")) {
      if (line.length >= 16 && !line.startsWith("-----")) expect(output).not.toContain(line);
    }
  }
}

describe("init", () => {
  it("writes the starter files, private, and names exactly the variables the config reads", async () => {
    const { dir, init, names } = await initialised();
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`wrote ${join("config", "platform.json")}`);
    expect(names).toEqual([
      "KRAKEN_PLATFORM_API_KEY",
      "KRAKEN_PLATFORM_API_SECRET",
      "COINBASE_PLATFORM_API_KEY",
      "COINBASE_PLATFORM_API_SECRET",
      "KRAKEN_USER_ALICE_API_KEY",
      "KRAKEN_USER_ALICE_API_SECRET",
    ]);
    const mode = async (path: string) => (await stat(join(dir, path))).mode & 0o777;
    expect(await mode("config")).toBe(0o700);
    expect(await mode("config/users")).toBe(0o700);
    expect(await mode("config/platform.json")).toBe(0o600);
    expect(await mode("config/users/alice.json")).toBe(0o600);
    expect(await mode("config/.env.example")).toBe(0o600);
    expect(await readFile(join(dir, "config", "README.md"), "utf8")).toContain(
      "cp config/.env.example .env",
    );
  });

  it("the written config runs the report as it stands: every account fetched, exit 0", async () => {
    const { dir, env, flags } = await initialised();
    const report = await runCli(["--json", ...flags], { cwd: dir, env });
    expect(report.stderr).toBe("");
    expect(report.code).toBe(0);
    const doc = JSON.parse(report.stdout);
    expect(doc.balances.platform).toEqual({ kraken: 100, coinbase: 50 });
    expect(doc.balances.users).toEqual({ alice: { kraken: 25 } });
  });

  it("refuses to overwrite any file: exit 2 naming it, nothing written", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sub-init-"));
    await runCli(["init", "conf"], { cwd: dir });
    await writeFile(join(dir, "conf", "users", "alice.json"), "mine");
    const again = await runCli(["init", "conf"], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${join("conf", "users", "alice.json")} exists`);
    expect(again.stdout).toBe("");
    expect(await readFile(join(dir, "conf", "users", "alice.json"), "utf8")).toBe("mine");
  });
});

describe("doctor", () => {
  it("passes every check on the initialised config against the emulator; exit 0", async () => {
    const { doctor, doctorJson, secrets } = await initialised();
    const { code, doc, stdout, stderr } = await doctorJson();
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(doc.exit_code).toBe(0);
    expect(doc.checks.filter((c) => c.state !== "ok")).toEqual([]);
    const names = new Set(doc.checks.map((c) => c.name));
    expect([...names].sort()).toEqual(
      ["auth", "cache", "clock", "config", "credentials", "history", "permissions"].sort(),
    );
    // One auth line per key, one clock line per exchange origin.
    expect(doc.checks.filter((c) => c.name === "auth")).toHaveLength(3);
    expect(doc.checks.filter((c) => c.name === "clock").map((c) => c.detail)).toEqual([
      expect.stringMatching(/^kraken at http:\/\/127\.0\.0\.1:\d+: in step/),
      expect.stringMatching(/^coinbase at http:\/\/127\.0\.0\.1:\d+: in step/),
    ]);
    expect(doc.checks).toContainEqual({
      name: "credentials",
      state: "ok",
      detail: "user alice / kraken: KRAKEN_USER_ALICE_API_KEY",
      fix: null,
    });
    const text = await doctor();
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain("✗");
    expect(text.stdout).toMatch(/✓ auth +user alice \/ kraken: the key works/);
    expect(text.stdout).toContain("all checks passed (exit 0)");
    expectNoSecrets(stdout + stderr + text.stdout + text.stderr, secrets);
  });

  it("an Alpaca paper user: its clock read with its key (a private endpoint) on the paper origin", async () => {
    const { dir, env, flags, secrets } = await initialised();
    const bob = seedAccount(emulator, "alpaca", { USD: "10" }, { sandbox: true });
    await writeFile(
      join(dir, "config", "users", "bob.json"),
      JSON.stringify({ user_id: "bob", brokers: [{ broker: "alpaca", paper: true }] }),
      { mode: 0o600 },
    );
    const dotenv = await readFile(join(dir, ".env"), "utf8");
    await writeFile(
      join(dir, ".env"),
      `${dotenv}ALPACA_USER_BOB_API_KEY=${bob.apiKey}\nALPACA_USER_BOB_API_SECRET=${bob.secret}\n`,
    );
    emulator.clearRequests();
    const run = await runCli(["doctor", "--json", ...flags], {
      cwd: dir,
      env: { ...env, ALPACA_SANDBOX_API_URL: emulator.urls.alpacaPaper },
    });
    const doc = JSON.parse(run.stdout) as DoctorDocument;
    expect(run.code).toBe(0);
    expect(doc.checks.filter((c) => c.state !== "ok")).toEqual([]);
    expect(doc.checks).toContainEqual(
      expect.objectContaining({
        name: "clock",
        detail: expect.stringMatching(/^alpaca \(test environment\) at http:.*: in step/),
      }),
    );
    expect(doc.checks).toContainEqual(
      expect.objectContaining({ name: "auth", detail: "user bob / alpaca: the key works (paper)" }),
    );
    const clock = emulator.requests.filter((r) => r.path === "/v2/clock");
    expect(clock).toMatchObject([{ apiKey: bob.apiKey, sandbox: true, status: 200 }]);
    expectNoSecrets(run.stdout + run.stderr, [...secrets, bob.apiKey, bob.secret]);
  });

  it("a revoked key: names the account and the fix, exit 3, and prints no secret", async () => {
    const { alice, doctor, doctorJson, secrets } = await initialised();
    emulator.setFault("kraken", alice.apiKey, { kind: "revoked" });
    try {
      const { code, doc } = await doctorJson();
      expect(code).toBe(3);
      expect(doc.ok).toBe(false);
      const failed = doc.checks.filter((c) => c.state === "fail");
      expect(failed).toEqual([
        {
          name: "auth",
          state: "fail",
          detail: expect.stringMatching(/^user alice \/ kraken: auth_failed: .*Invalid key/),
          fix: expect.stringContaining(
            "the key in KRAKEN_USER_ALICE_API_KEY is wrong, revoked or expired",
          ),
        },
      ]);
      const text = await doctor();
      expect(text.code).toBe(3);
      expect(text.stdout).toMatch(/✗ auth +user alice \/ kraken: auth_failed/);
      expect(text.stdout).toMatch(/fix: the key in KRAKEN_USER_ALICE_API_KEY is wrong/);
      expectNoSecrets(text.stdout + text.stderr + JSON.stringify(doc), secrets);
    } finally {
      emulator.setFault("kraken", alice.apiKey, null);
    }
  });

  it("a wrong secret (a valid key of another account's shape) is auth_failed, exit 3", async () => {
    const { dir, doctorJson, secrets } = await initialised();
    const env = await readFile(join(dir, ".env"), "utf8");
    const wrong = newKrakenKey().secret;
    await writeFile(
      join(dir, ".env"),
      env.replace(/^KRAKEN_USER_ALICE_API_SECRET=.*$/m, `KRAKEN_USER_ALICE_API_SECRET="${wrong}"`),
    );
    const { code, doc, stdout } = await doctorJson();
    expect(code).toBe(3);
    expect(doc.checks.find((c) => c.state === "fail")?.detail).toMatch(
      /^user alice \/ kraken: auth_failed/,
    );
    expectNoSecrets(stdout, [...secrets, wrong]);
  });

  it("keys left in config/.env: not read, said so, and the variable names to set; exit 3", async () => {
    const { dir, doctorJson } = await initialised();
    await writeFile(join(dir, "config", ".env"), await readFile(join(dir, ".env")), {
      mode: 0o600,
    });
    await writeFile(join(dir, ".env"), "", { mode: 0o600 });
    const { code, doc } = await doctorJson();
    expect(code).toBe(3);
    expect(doc.checks).toContainEqual({
      name: "config",
      state: "warn",
      detail: expect.stringMatching(/^config\/\.env is not read: \.env is read from the working/),
      fix: "move it to the directory you run show-user-balances from: mv config/.env .env",
    });
    expect(doc.checks).toContainEqual({
      name: "credentials",
      state: "fail",
      detail:
        "user alice / kraken: no credentials found (looked up KRAKEN_USER_ALICE_API_KEY, KRAKEN_USER_ALICE_API_SECRET)",
      fix: expect.stringMatching(/^set KRAKEN_USER_ALICE_API_KEY and KRAKEN_USER_ALICE_API_SECRET/),
    });
    // Without keys nothing is asked of the exchanges but their clocks.
    expect(doc.checks.filter((c) => c.name === "auth")).toEqual([]);
  });

  it("a readable .env and a broken user file: the loader's file, line and fix; exit 2", async () => {
    const { dir, doctor, doctorJson, secrets } = await initialised();
    await chmod(join(dir, ".env"), 0o644);
    await writeFile(join(dir, "config", "users", "alice.json"), '{ "user_id": "alice",, }');
    const { code, doc } = await doctorJson();
    expect(code).toBe(2);
    expect(doc.checks).toContainEqual({
      name: "permissions",
      state: "fail",
      detail: expect.stringContaining(`${join(dir, ".env")}: is readable by others (mode 644)`),
      fix: `chmod 600 ${join(dir, ".env")}`,
    });
    expect(doc.checks).toContainEqual({
      name: "config",
      state: "fail",
      detail: expect.stringMatching(/^config\/users\/alice\.json: invalid JSON at line 1, column/),
      fix: expect.stringContaining("fix the syntax at line 1"),
    });
    const text = await doctor();
    expect(text.code).toBe(2);
    expect(text.stdout).toContain("the configuration needs fixing (exit 2)");
    expectNoSecrets(text.stdout + text.stderr, secrets);
  });

  it("documents its checks and exit codes in --help", async () => {
    const help = await runCli(["doctor", "--help"], { cwd: tmpdir() });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:\n {2}0 .*\n {2}2 .*\n {2}3 /);
  });
});

describe("doctor's clock judgement", () => {
  const at = 1_800_000_000_000;
  it("a millisecond server within the round trip is in step", () => {
    expect(judgeClock({ sentAt: at, receivedAt: at + 40, serverTime: at + 17 }).state).toBe("ok");
  });
  it("a whole-second server (Kraken, Coinbase v2) may lag up to a second: still in step", () => {
    expect(judgeClock({ sentAt: at + 900, receivedAt: at + 950, serverTime: at }).state).toBe("ok");
  });
  it("3 s ahead warns, 8 s behind fails, and says which way", () => {
    const ahead = judgeClock({ sentAt: at + 3017, receivedAt: at + 3040, serverTime: at + 17 });
    expect(ahead).toEqual({
      state: "warn",
      detail: "this clock is 3.0 s ahead of the server (at least 3.0 s)",
    });
    const behind = judgeClock({ sentAt: at, receivedAt: at + 20, serverTime: at + 8010 });
    expect(behind.state).toBe("fail");
    expect(behind.detail).toMatch(/^this clock is 8\.0 s behind the server/);
  });
});
