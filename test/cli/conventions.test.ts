/**
 * Command-line conventions, on the real process: global flags on either side of a subcommand,
 * "did you mean" for a mistyped subcommand, `help <cmd>` and `version`, list flags, --color and
 * the colour variables, --explain-credentials --json, times with their zone, --retries, and a
 * reader that goes away (`2>&1 | head`). Where a fetch happens it goes to the exchange emulator.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Credentials } from "../../src/brokers/types.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { CLI, ROOT, runCli, scratch, spawnCli, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

interface Setup {
  dir: string;
  config: string;
  cache: string;
  state: string;
  env: Record<string, string>;
  keys: Record<string, Credentials>;
}

/** alice and bob on Kraken (100.00 and 200.00), carol on Coinbase (300.00); keys in the env. */
async function setup(): Promise<Setup> {
  const s = await scratch();
  const users = { alice: "kraken", bob: "kraken", carol: "coinbase" } as const;
  const usd = { alice: "100.00", bob: "200.00", carol: "300.00" } as const;
  const env: Record<string, string> = {
    KRAKEN_API_URL: emulator.urls.kraken,
    COINBASE_API_URL: emulator.urls.coinbase,
    XDG_STATE_HOME: join(s.dir, "state"),
  };
  const keys: Record<string, Credentials> = {};
  for (const [id, broker] of Object.entries(users) as [keyof typeof users, string][]) {
    await writeJson(join(s.config, "users", `${id}.json`), { user_id: id, brokers: [{ broker }] });
    const key = seedAccount(emulator, users[id], { USD: usd[id] });
    keys[id] = key;
    env[`${broker.toUpperCase()}_USER_${id.toUpperCase()}_API_KEY`] = key.apiKey;
    env[`${broker.toUpperCase()}_USER_${id.toUpperCase()}_API_SECRET`] = key.secret;
  }
  return { ...s, state: join(s.dir, "state", "show-user-balances"), env, keys };
}

const run = (s: Setup, args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: s.dir, env: { ...s.env, ...env } });

/** The run flags that keep a test fast and off the developer's cache. */
const fast = (s: Setup) => ["--cache-dir", s.cache, "--kraken-spacing", "0"];

describe("global flags go before or after a subcommand", () => {
  it("`--config-dir X serve --port 0` serves X", async () => {
    const s = await setup();
    // Run from elsewhere: ./config, the default, must not be X by chance.
    const cwd = join(s.dir, "elsewhere");
    await mkdir(cwd);
    const { child, done } = spawnCli(
      ["--config-dir", s.config, "--cache-dir", s.cache, "serve", "--port", "0"],
      { cwd, env: s.env },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk) => {
        out += chunk;
        const match = /Dashboard on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      done.then((r) => reject(new Error(`serve exited ${r.code}: ${r.stderr}`)));
    });
    const doc = (await (await fetch(new URL("api/balances", url))).json()) as {
      balances: { users: Record<string, Record<string, number>> };
    };
    child.kill("SIGTERM");
    const result = await done;
    expect(doc.balances.users).toEqual({
      alice: { kraken: 100 },
      bob: { kraken: 200 },
      carol: { coinbase: 300 },
    });
    expect(result.code, result.stderr).toBe(0);
  });

  it("`--json history` prints JSON, and `--config-dir X --json portfolio` the portfolio of X", async () => {
    const s = await setup();
    const history = await run(s, ["--json", "history"]);
    expect(history.code, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout)).toMatchObject({ series: [] });

    const portfolio = await run(s, ["--config-dir", s.config, "--json", ...fast(s), "portfolio"]);
    expect(portfolio.code, portfolio.stderr).toBe(0);
    expect(JSON.parse(portfolio.stdout)).toMatchObject({ total_usd: 600 });
  });

  it("the subcommand's own value wins over the root's", async () => {
    const s = await setup();
    const result = await run(s, [
      "--config-dir",
      join(s.dir, "nowhere"),
      "portfolio",
      "--config-dir",
      s.config,
      "--json",
      ...fast(s),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ total_usd: 600 });
  });

  it("a root flag the subcommand does not take is an error naming it (exit 2)", async () => {
    const s = await setup();
    for (const [args, flag, command] of [
      [["--status", "serve", "--port", "0"], "--status", "serve"],
      [["--refresh", "serve", "--port", "0"], "--refresh", "serve"],
      [["--no-cache", "history"], "--no-cache", "history"],
      [["--config-dir", s.config, "version"], "--config-dir", "version"],
    ] as const) {
      const result = await run(s, [...args]);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(
        `error: option '${flag}' (given before '${command}') is not an option of '${command}'`,
      );
    }
  });
});

describe("unknown subcommands, help and version", () => {
  it.each([
    [["histroy"], "histroy", "history"],
    [["serv"], "serv", "serve"],
    [["serv", "--port", "0"], "serv", "serve"],
    [["--json", "portfolo"], "portfolo", "portfolio"],
  ])("%j: did you mean, exit 2", async (args, typed, meant) => {
    const s = await scratch();
    const result = await runCli(args, { cwd: s.dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      new RegExp(`^error: unknown command '${typed}'\\n\\(Did you mean ${meant}\\?\\)`),
    );
  });

  it("`help serve` is `serve --help`; `help` is `--help`; `version` is `--version`", async () => {
    const s = await scratch();
    const [help, flag, rootHelp, rootFlag, version, versionFlag] = await Promise.all(
      [
        ["help", "serve"],
        ["serve", "--help"],
        ["help"],
        ["--help"],
        ["version"],
        ["--version"],
      ].map((args) => runCli(args, { cwd: s.dir })),
    );
    expect(help?.code).toBe(0);
    expect(help?.stdout).toContain("Usage: show-user-balances serve [options]");
    expect(help?.stdout).toBe(flag?.stdout);
    expect(rootHelp?.stdout).toContain("help [command]");
    expect(rootHelp?.stdout).toBe(rootFlag?.stdout);
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
    expect(versionFlag?.stdout).toBe(version?.stdout);
  });

  it("option help is grouped, each flag listed once", async () => {
    const s = await scratch();
    const { stdout } = await runCli(["--help"], { cwd: s.dir });
    const headings = stdout.split("\n").filter((line) => /^[A-Z][A-Za-z ,]+:$/.test(line));
    expect(headings).toEqual([
      "Options:",
      "Configuration:",
      "Fetching:",
      "Cache and shared store:",
      "Selection:",
      "Output:",
      "History, alerts and watch:",
      "Commands:",
      "Examples:",
      "Environment:",
      "Exit codes:",
    ]);
    const options = stdout.slice(0, stdout.indexOf("\nCommands:"));
    const flags = [...options.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]);
    expect(flags.length).toBeGreaterThan(30);
    expect(new Set(flags).size).toBe(flags.length);
  });
});

describe("list flags", () => {
  it("take a,b, a b, a repeated flag, and all of them mixed", async () => {
    const s = await setup();
    const users = async (args: string[]) => {
      const result = await run(s, ["--config-dir", s.config, ...fast(s), "--json", ...args]);
      expect(result.code, result.stderr).toBe(0);
      return Object.keys(JSON.parse(result.stdout).balances.users);
    };
    expect(await users(["-u", "alice,bob"])).toEqual(["alice", "bob"]);
    expect(await users(["--user", "alice", "bob"])).toEqual(["alice", "bob"]);
    expect(await users(["-u", "alice", "-u", "carol"])).toEqual(["alice", "carol"]);
    expect(await users(["-u", "alice,bob", "carol", "-b", "kraken,coinbase"])).toEqual([
      "alice",
      "bob",
      "carol",
    ]);
    expect(await users(["--user=bob,carol", "--broker", "coinbase"])).toEqual(["bob", "carol"]);
  });

  it("an empty id is a usage error; a subcommand swallowed by a list is named with the fix", async () => {
    const s = await setup();
    const empty = await run(s, ["--config-dir", s.config, "-u", "alice,,bob"]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("--user takes ids: alice,bob or alice bob");
    const swallowed = await run(s, ["--config-dir", s.config, "-u", "alice", "portfolio"]);
    expect(swallowed.code).toBe(2);
    expect(swallowed.stdout).toBe("");
    expect(swallowed.stderr).toContain("--user took 'portfolio' as an id");
    expect(swallowed.stderr).toContain("or write --user=a,b before it");
    const before = await run(s, [
      "--config-dir",
      s.config,
      ...fast(s),
      "--user=alice",
      "portfolio",
      "--json",
    ]);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ total_usd: 100 });
  });
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for colour escapes
const COLOUR = /\u001b\[/;

describe("--color and the colour variables", () => {
  /** A config with no credentials: the report prints without any request. */
  const plain = async () => {
    const s = await scratch();
    await writeJson(join(s.config, "users", "alice.json"), {
      user_id: "alice",
      brokers: [{ broker: "kraken" }],
    });
    return (args: string[], env: Record<string, string> = {}) =>
      runCli(["--config-dir", s.config, "--no-history", ...args], { cwd: s.dir, env });
  };

  it.each([
    [[], {}, false],
    [[], { FORCE_COLOR: "1" }, true],
    [[], { FORCE_COLOR: "0" }, false],
    [[], { NO_COLOR: "1", FORCE_COLOR: "1" }, false],
    [["--color", "always"], { NO_COLOR: "1" }, true],
    [["--color=always"], { TERM: "dumb" }, true],
    [["--color=never"], { FORCE_COLOR: "1" }, false],
    [["--no-color"], { FORCE_COLOR: "3" }, false],
    [["--json", "--color=always"], {}, false],
  ] as [string[], Record<string, string>, boolean][])(
    "off a terminal: %j with %j -> colour %s",
    async (args, env, colour) => {
      const result = await (await plain())(args, env);
      expect(result.code, result.stderr).toBe(0);
      expect(COLOUR.test(result.stdout)).toBe(colour);
    },
  );

  it("portfolio and history take --color too, before or after their name", async () => {
    const cli = await plain();
    // The first line holds the time.
    const body = (text: string) => text.slice(text.indexOf("\n"));
    const before = await cli(["--color=always", "portfolio"]);
    const after = await cli(["portfolio", "--color", "always"]);
    expect(COLOUR.test(before.stdout)).toBe(true);
    expect(body(after.stdout)).toBe(body(before.stdout));
    const s = await scratch();
    const history = (args: string[]) =>
      runCli(args, { cwd: s.dir, env: { FORCE_COLOR: "1", XDG_STATE_HOME: s.dir } });
    const [coloured, never] = await Promise.all([
      history(["history"]),
      history(["--color=never", "history"]),
    ]);
    expect(COLOUR.test(coloured.stdout)).toBe(true);
    expect(never.code, never.stderr).toBe(0);
    expect(COLOUR.test(never.stdout)).toBe(false);
  });

  /** The CLI on a pseudo-terminal (util-linux `script`), where auto means colour. */
  const hasScript = spawnSync("script", ["--version"]).status === 0;
  it.skipIf(!hasScript)("on a terminal: colour, but not with TERM=dumb or NO_COLOR", async () => {
    const s = await scratch();
    await writeJson(join(s.config, "users", "alice.json"), {
      user_id: "alice",
      brokers: [{ broker: "kraken" }],
    });
    const onTty = (env: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const command = `'${process.execPath}' '${CLI}' --config-dir '${s.config}' --no-history`;
        const child = spawn("script", ["-qec", command, "/dev/null"], {
          cwd: s.dir,
          env: { PATH: process.env.PATH ?? "", HOME: s.dir, ...env },
          stdio: ["ignore", "pipe", "ignore"],
        });
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.on("close", () => resolve(out));
      });
    const [xterm, dumb, noColor] = await Promise.all([
      onTty({ TERM: "xterm" }),
      onTty({ TERM: "dumb" }),
      onTty({ TERM: "xterm", NO_COLOR: "1" }),
    ]);
    expect(xterm).toContain("USER ACCOUNT BALANCES");
    expect(COLOUR.test(xterm)).toBe(true);
    expect(dumb).toContain("USER ACCOUNT BALANCES");
    expect(COLOUR.test(dumb)).toBe(false);
    expect(COLOUR.test(noColor)).toBe(false);
  });
});

describe("--explain-credentials --json", () => {
  it("is one JSON document of the names looked up, found or not, and never a value", async () => {
    const s = await setup();
    const { KRAKEN_USER_BOB_API_KEY: _, ...env } = s.env;
    const result = await runCli(["--config-dir", s.config, "--explain-credentials", "--json"], {
      cwd: s.dir,
      env,
    });
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      credentials: { user: string; found: boolean; used: string | null; tried: string[] }[];
    };
    expect(doc.credentials.map((c) => [c.user, c.found, c.used])).toEqual([
      ["alice", true, "KRAKEN_USER_ALICE_API_KEY"],
      ["bob", false, null],
      ["carol", true, "COINBASE_USER_CAROL_API_KEY"],
    ]);
    expect(doc.credentials[1]?.tried).toContain("KRAKEN_USER_BOB_API_KEY");
    for (const key of Object.values(s.keys)) {
      expect(result.stdout).not.toContain(key.apiKey);
      expect(result.stdout).not.toContain(key.secret);
    }
  });
});

describe("times carry their zone", () => {
  it("the report, --status and history print UTC with a Z, whatever the local zone", async () => {
    const s = await setup();
    const tz = { TZ: "Asia/Kolkata" }; // +05:30: local time would differ from UTC by hours
    const started = Date.now();
    const report = await run(s, ["--config-dir", s.config, ...fast(s), "-u", "alice"], tz);
    expect(report.code, report.stderr).toBe(0);
    const generated = /^Generated: (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)Z$/m.exec(report.stdout);
    expect(generated).not.toBeNull();
    const at = Date.parse(`${generated?.[1]}T${generated?.[2]}Z`);
    expect(Math.abs(at - started)).toBeLessThan(60_000);

    const wide = { ...tz, COLUMNS: "200" };
    const status = await run(s, ["--config-dir", s.config, ...fast(s), "--status"], wide);
    expect(status.stdout).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);

    const history = await run(s, ["history", "--state-dir", s.state], tz);
    expect(history.code, history.stderr).toBe(0);
    const times = history.stdout.match(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S*/g) ?? [];
    expect(times.length).toBeGreaterThan(1); // Since: and alice's sample
    for (const time of times) expect(time).toMatch(/Z$/);
  });
});

describe("--retries counts retries after the first attempt", () => {
  it("0 is one attempt; the default, 2, is three", async () => {
    const s = await setup();
    const carol = s.keys.carol?.apiKey as string;
    const attempts = async (args: string[]) => {
      emulator.setFault("coinbase", carol, { kind: "http", status: 503 });
      emulator.clearRequests();
      const result = await run(s, [
        "--config-dir",
        s.config,
        "--no-cache",
        "-u",
        "carol",
        "--json",
        ...args,
      ]);
      emulator.setFault("coinbase", carol, null);
      expect(result.code, result.stderr).toBe(3);
      return emulator.requests.filter((r) => r.apiKey === carol).length;
    };
    expect(await attempts(["--retries", "0"])).toBe(1);
    expect(await attempts([])).toBe(3);
  });

  it("is bounded 0-9 on the command line and in settings.json", async () => {
    const s = await setup();
    const flag = await run(s, ["--config-dir", s.config, "--retries", "10"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--retries takes a whole number from 0 to 9");
    await writeJson(join(s.config, "settings.json"), { retries: 10 });
    const settings = await run(s, ["--config-dir", s.config, "--json"]);
    expect(settings.code).toBe(2);
    expect(settings.stderr).toMatch(/settings\.json: retries: must be a whole number from 0 to 9/);
  });
});

describe("pipes", () => {
  /** `sh -c` with pipefail (bash), so the CLI's own exit status is the pipeline's. */
  const pipeline = (script: string, cwd: string) =>
    spawnSync("bash", ["-c", `set -o pipefail; ${script}`], {
      cwd,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: cwd },
    });

  it("`2>&1 | head -1` exits 0, even when the reader is gone before a diagnostic", async () => {
    const s = await scratch();
    await writeJson(join(s.config, "users", "alice.json"), {
      user_id: "alice",
      brokers: [{ broker: "kraken" }],
    });
    const cli = `'${process.execPath}' '${CLI}' --config-dir '${s.config}'`;
    const head = pipeline(`${cli} --no-history 2>&1 | head -1`, s.dir);
    expect(head.stdout).toBe(`${"=".repeat(80)}\n`);
    expect(head.status, head.stderr).toBe(0);
    // The reader ends before the CLI writes anything, and the first write is a warning on
    // stderr (--notify with no threshold): that EPIPE used to end the process with exit 1.
    const gone = pipeline(`${cli} --notify https://hooks.example.com/x 2>&1 | true`, s.dir);
    expect(gone.status, gone.stderr).toBe(0);
  });

  it("the --help cron example redirects the CLI's stderr, not jq's", async () => {
    const s = await scratch();
    const { stdout } = await runCli(["--help"], { cwd: s.dir });
    const cron = stdout.split("\n").filter((line) => line.includes("| jq -c"));
    expect(cron).toEqual([
      "  */5 * * * * cd /srv/platform && /usr/local/bin/show-user-balances --json 2>> balances.err | jq -c . >> balances.ndjson",
    ]);
  });
});
