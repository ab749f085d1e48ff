import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { CLI, runCli, scratch, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

/** alice (kraken $10) and bob (kraken $20), credentials inline. */
async function setup() {
  const s = await scratch();
  for (const [id, usd] of [
    ["alice", "10"],
    ["bob", "20"],
  ] as const) {
    const key = seedAccount(emulator, "kraken", { USD: usd });
    await writeJson(join(s.config, "users", `${id}.json`), {
      user_id: id,
      brokers: [{ broker: "kraken", credentials: key, apiUrl: emulator.urls.kraken }],
    });
  }
  const common = ["--config-dir", s.config, "--cache-dir", s.cache, "--kraken-spacing", "50"];
  const run = (args: string[]) => runCli([...common, ...args], { cwd: s.dir });
  return { ...s, common, run };
}

/** The CLI's stdout and stderr through `cat -v`, which shows an ESC as ^[ and a C1 byte as M-^[. */
function throughCatV(args: string[], cwd: string): Promise<string> {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`);
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", `${quoted.join(" ")} 2>&1 | cat -v`], {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("close", () => resolve(out));
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("control characters from config and exchanges never reach the terminal", () => {
  it("a display name, a file name and a credential source holding escape sequences print without them", async () => {
    const s = await setup();
    const key = seedAccount(emulator, "kraken", { USD: "30" });
    const evilFile = "\u001b[2J\u001b]0;pwned\u0007ev\u202eil.json";
    await writeJson(join(s.config, "users", evilFile), {
      user_id: "eve",
      name: "Eve\u001b[31m RED\u001b[0m\u009b1m\u2066 hidden",
      brokers: [{ broker: "kraken", credentials: key, apiUrl: emulator.urls.kraken }],
    });
    // A broken file with the same kind of name: its error line quotes the file name.
    await writeFile(join(s.config, "users", `\u001b[1mbroken\u001b[0m.json`), "{ nope");
    for (const view of [[], ["--status"], ["--explain-credentials"]]) {
      const result = await s.run(view);
      expect(result.code, view.join(" ")).toBe(2);
      expect(result.stdout + result.stderr).not.toMatch(CONTROLS);
      const shown = await throughCatV([...s.common, ...view], s.dir);
      expect(shown).not.toContain("^[");
      expect(shown).toMatch(/broken\.json/);
    }
    const table = await s.run([]);
    expect(table.stdout).toContain("Eve RED hidden");
    expect(table.stderr).toMatch(/users\/broken\.json: invalid JSON/);
  });
});

describe("webhook URLs", () => {
  it("one with credentials is refused at start-up (exit 2), shown as its origin, with the fix", async () => {
    const s = await setup();
    const url = "https://bob:hunter2@hooks.example.com/services/secret-token";
    const result = await s.run(["--alert-low", "1", "--notify", url]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("https://hooks.example.com");
    expect(result.stderr).toMatch(/fix: .*token in its path/);
    expect(result.stderr).not.toMatch(/hunter2|bob:|secret-token/);
    const notUrl = await s.run(["--alert-low", "1", "--notify", "hunter2"]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).not.toContain("hunter2");
  });
});

describe("bounded flags and settings: exit 2 with the range", () => {
  const cases: [string[], RegExp][] = [
    [["--timeout", "1e308"], /--timeout takes a number from 0\.1 to 600 seconds/],
    [["--timeout", "0.01"], /--timeout takes a number from 0\.1 to 600 seconds/],
    [["--kraken-spacing", "60001"], /--kraken-spacing takes a whole number from 0 to 60000 ms/],
    [["--kraken-spacing", "-1"], /--kraken-spacing takes a whole number from 0 to 60000/],
    [["--concurrency", "0"], /--concurrency takes a whole number from 1 to 1024/],
    [["--concurrency", "1025"], /--concurrency takes a whole number from 1 to 1024/],
    [["--kraken-concurrency", "65"], /--kraken-concurrency takes a whole number from 1 to 64/],
    [["--retries", "10"], /--retries takes a whole number from 0 to 9/],
    [["--cache-ttl", "31d"], /--cache-ttl takes a duration from 0ms to 30d/],
    [["--stale-max-age", "366d"], /--stale-max-age takes a duration from 0ms to 365d/],
    [["--watch", "3000000"], /--watch takes a number from 1 to 86400 seconds/],
    [["--watch", "0.2"], /--watch takes a number from 1 to 86400 seconds/],
    [["--alert-low", "-5"], /--alert-low takes a USD amount/],
    [["--alert-low", "1e999"], /--alert-low takes a USD amount/],
    [["--history-retention", "99999999999d"], /--history-retention takes a duration from 1d/],
    [["--renotify", "400d"], /--renotify takes a duration from 1m to 365d/],
    [["history", "--since", "99999999999d"], /--since takes a duration from 1s to 3650d/],
    [["history", "--since", "NaNd"], /--since takes a duration such as/],
    [["serve", "--refresh", "0"], /--refresh takes a number from 1 to 86400 seconds/],
  ];
  it.each(cases)("%j", async (args, message) => {
    const s = await scratch();
    const result = await runCli(args, { cwd: s.dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
  });

  it("settings.json holds the same ranges: timeoutSeconds 1e308 is an error naming it", async () => {
    const s = await setup();
    await writeJson(join(s.config, "settings.json"), { timeoutSeconds: 1e308, retries: 10 });
    const result = await s.run(["--json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/settings\.json: timeoutSeconds: must be from 0\.1 to 600/);
    expect(result.stderr).toMatch(/settings\.json: retries: must be a whole number from 0 to 9/);
  });

  it("a cache or state directory under /proc, /sys or /dev is refused at once", async () => {
    const s = await setup();
    for (const args of [
      ["--cache-dir", "/proc/self/fd"],
      ["--state-dir", "/sys/kernel"],
      ["--cache-dir", "/dev/tty"],
    ]) {
      const started = Date.now();
      const result = await s.run([...args, "--json"]);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/is under \/(proc|sys|dev), where files cannot be kept/);
      expect(Date.now() - started).toBeLessThan(3000);
    }
    const history = await runCli(["history", "--state-dir", "/proc/1"], { cwd: s.dir });
    expect(history.code).toBe(2);
  });

  it("--help documents the ranges and the `total` default valuation", async () => {
    const s = await scratch();
    const help = (await runCli(["--help"], { cwd: s.dir })).stdout.replace(/\s+/g, " ");
    expect(help).toContain("total (default): what the account is worth, free and held");
    expect(help).toContain("cash: USD and stablecoins at par");
    expect(help).toMatch(/--timeout <seconds> per-request timeout, 0\.1-600 s/);
    expect(help).toMatch(/--watch <seconds> .*1-86400/);
  });
});

describe("--user and --broker that match nothing", () => {
  it("are usage errors (exit 2) listing what exists", async () => {
    const s = await setup();
    const user = await s.run(["--user", "alcie"]);
    expect(user.code).toBe(2);
    expect(user.stdout).toBe("");
    expect(user.stderr).toContain("--user alcie: no such user in the configuration");
    expect(user.stderr).toContain("fix: users: alice, bob");
    const broker = await s.run(["--broker", "krakn"]);
    expect(broker.code).toBe(2);
    expect(broker.stderr).toContain("--broker krakn: no account uses that broker");
    expect(broker.stderr).toContain("brokers in use: kraken");
    expect((await s.run(["--user", "bob", "--json"])).code).toBe(0);
  });
});

describe("always a document", () => {
  it("every user disabled: the report lists them as disabled, totals 0, help on stderr, exit 0", async () => {
    const s = await scratch();
    for (const id of ["ann", "ben"]) {
      await writeJson(join(s.config, "users", `${id}.json`), {
        user_id: id,
        enabled: false,
        brokers: [{ broker: "kraken" }],
      });
    }
    const args = ["--config-dir", s.config, "--cache-dir", s.cache];
    const table = await runCli(args, { cwd: s.dir });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/👤 User: ann ○ disabled/);
    expect(table.stdout).toContain("Total Users:           0");
    expect(table.stderr).toContain("No user brokers configured.");
    const json = await runCli([...args, "--json"], { cwd: s.dir });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(Object.keys(doc.balances.users)).toEqual(["ann", "ben"]);
    expect(doc.status.users.ann.kraken.state).toBe("disabled");
    expect(doc.summary).toMatchObject({ user_count: 0, total_user_capital: 0 });
    expect(json.stderr).toContain("No user brokers configured.");
  });

  it("no account at all: an empty document on stdout, the help on stderr, exit 2", async () => {
    const s = await scratch();
    const json = await runCli(["--config-dir", s.config, "--cache-dir", s.cache, "--json"], {
      cwd: s.dir,
    });
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.stdout);
    expect(doc.balances).toEqual({ platform: {}, users: {} });
    expect(json.stderr).toContain("No accounts configured");
  });
});
