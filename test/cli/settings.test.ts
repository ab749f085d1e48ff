import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { HISTORY_FILE } from "../../src/monitor/history.js";
import { runCli, scratch, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";
import { startReceiver } from "../monitor/receiver.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

/** alice with $50 on coinbase: below a $100 threshold, so the first run fires BALANCE_LOW. */
async function setup(settings: (dir: string) => Record<string, unknown>) {
  const s = await scratch();
  const coinbase = seedAccount(emulator, "coinbase", { USDC: "50" });
  await writeJson(join(s.config, "users", "alice.json"), {
    user_id: "alice",
    brokers: [{ broker: "coinbase", credentials: coinbase, apiUrl: emulator.urls.coinbase }],
  });
  await writeJson(join(s.config, "settings.json"), settings(s.dir));
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(["--config-dir", s.config, "--cache-dir", s.cache, "--json", ...args], {
      cwd: s.dir,
      env,
    });
  return { ...s, run };
}

describe("settings.json for the monitoring flags", () => {
  it("sets the threshold, the webhook and the state directory a cron line leaves out", async () => {
    const hook = await startReceiver();
    const s = await setup((dir) => ({
      alertLowUsd: 100,
      notify: hook.url,
      stateDir: join(dir, "state-from-settings"),
      cacheTtlSeconds: 0,
    }));
    const result = await s.run([]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout).alerts).toMatchObject([{ type: "BALANCE_LOW", current: 50 }]);
    expect(hook.received).toHaveLength(1);
    expect(existsSync(join(s.dir, "state-from-settings", HISTORY_FILE))).toBe(true);

    // A flag on the command line wins: $10 is not crossed.
    const flag = await s.run(["--alert-low", "10", "--state-dir", join(s.dir, "other")]);
    expect(flag.code).toBe(0);
    expect(JSON.parse(flag.stdout).alerts).toEqual([]);
    await hook.close();
  });

  it("takes the webhook from SHOW_USER_BALANCES_NOTIFY_URL (also in .env) over settings.json", async () => {
    const fromSettings = await startReceiver();
    const fromEnv = await startReceiver();
    const s = await setup(() => ({ alertLowUsd: 100, notify: fromSettings.url }));
    const env = await s.run(["--state-dir", join(s.dir, "state-1")], {
      SHOW_USER_BALANCES_NOTIFY_URL: fromEnv.url,
    });
    expect(env.code).toBe(4);
    expect(env.stderr).toBe("");
    expect(fromEnv.received).toHaveLength(1);
    expect(fromSettings.received).toHaveLength(0);

    // .env is loaded with the config, before the variable is read.
    await writeFile(join(s.dir, ".env"), `SHOW_USER_BALANCES_NOTIFY_URL=${fromEnv.url}\n`, {
      mode: 0o600,
    });
    const dotenv = await s.run(["--state-dir", join(s.dir, "state-2")]);
    expect(dotenv.code).toBe(4);
    expect(fromEnv.received).toHaveLength(2);
    expect(fromSettings.received).toHaveLength(0);
    await fromSettings.close();
    await fromEnv.close();
  });

  it("a variable's webhook on a run without thresholds is no mistake: nothing said, exit 0", async () => {
    const hook = await startReceiver();
    const s = await setup(() => ({}));
    const result = await s.run(["--state-dir", join(s.dir, "state")], {
      SHOW_USER_BALANCES_NOTIFY_URL: hook.url,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(hook.received).toHaveLength(0);
    await hook.close();
  });

  it("refuses a variable's URL with credentials: exit 2, its secret never printed", async () => {
    const s = await setup(() => ({ alertLowUsd: 100 }));
    const result = await s.run([], {
      SHOW_USER_BALANCES_NOTIFY_URL: "https://bob:hunter2@hooks.example.com/x/s3cr3t",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/SHOW_USER_BALANCES_NOTIFY_URL https:\/\/hooks\.example\.com/);
    expect(result.stdout + result.stderr).not.toMatch(/hunter2|bob:|s3cr3t/);
  });

  it("a value outside the flag's range is exit 2 naming settings.json, the field and the fix", async () => {
    const s = await setup(() => ({ dropWindowSeconds: 5 }));
    const result = await s.run([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /settings\.json: dropWindowSeconds: must be from 60 to 31536000 \(the --drop-window flag's range\)\n {2}fix: correct "dropWindowSeconds" in settings\.json, or remove it/,
    );
  });

  it("a webhook asking to wait past 30 s is given up at once, said on stderr", async () => {
    const hook = await startReceiver([{ status: 429, headers: { "retry-after": "120" } }]);
    const s = await setup(() => ({ alertLowUsd: 100, notify: hook.url }));
    const started = Date.now();
    const result = await s.run(["--state-dir", join(s.dir, "state")]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      `warning: webhook ${new URL(hook.url).origin} failed after 1 attempt: HTTP 429, asked to retry after 120 s (more than the 30 s a run waits); 1 alert not delivered`,
    );
    expect(result.stderr).not.toContain("secret-token");
    await hook.close();
  });
});
