/**
 * `completion <shell>`: the bash script, loaded in a real bash with COMP_WORDS and COMP_CWORD set
 * as bash sets them, completes subcommands, flags (every flag each command's --help lists),
 * choices, and user and broker ids read back from the CLI, which never fetches for them. The zsh
 * and fish scripts are syntax-checked by their shells where installed, and fish's completions
 * asked of fish itself.
 */
import { spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { CLI, ROOT, runCli, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

let dir: string;
/** A PATH entry holding a `show-user-balances` that runs the built CLI, as an install would. */
let bin: string;

async function writeConfig(config: string, users: Record<string, string[]>) {
  await mkdir(join(config, "users"), { recursive: true });
  await writeJson(join(config, "platform.json"), { brokers: [{ broker: "coinbase" }] });
  for (const [id, brokers] of Object.entries(users)) {
    await writeJson(join(config, "users", `${id}.json`), {
      user_id: id,
      brokers: brokers.map((broker) => ({ broker })),
    });
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sub-completion-"));
  await writeConfig(join(dir, "config"), { alice: ["kraken"], bob: ["binance"], albert: ["okx"] });
  await writeConfig(join(dir, "other"), { zoe: ["alpaca"] });
  bin = join(dir, "bin");
  await mkdir(bin);
  const shim = join(bin, "show-user-balances");
  await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  await chmod(shim, 0o755);
});

const env = () => ({ PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: dir });

function hasShell(shell: string): boolean {
  return spawnSync(shell, ["-c", "exit 0"]).status === 0;
}

async function script(shell: "bash" | "zsh" | "fish"): Promise<string> {
  const printed = await runCli(["completion", shell], { cwd: dir });
  expect(printed.code).toBe(0);
  expect(printed.stderr).toBe("");
  const file = join(dir, `completion.${shell}`);
  await writeFile(file, printed.stdout);
  return file;
}

let bashScript: string;

/** COMPREPLY for a command line whose last word is the one being completed (bash's split). */
function complete(...words: string[]): string[] {
  const run = spawnSync(
    "bash",
    [
      "-c",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${...}, not a template
      'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _show_user_balances; printf "%s\\n" "${COMPREPLY[@]}"',
      bashScript,
      "show-user-balances",
      ...words,
    ],
    { cwd: dir, env: env(), encoding: "utf8" },
  );
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return run.stdout.split("\n").filter((line) => line !== "");
}

describe("bash", () => {
  beforeAll(async () => {
    bashScript = await script("bash");
  });

  it("is valid bash", () => {
    expect(spawnSync("bash", ["-n", bashScript]).status).toBe(0);
  });

  it("completes a subcommand prefix", () => {
    expect(complete("do")).toEqual(["doctor"]);
    expect(complete("h")).toEqual(["history", "help"]);
    expect(complete("help", "po")).toEqual(["portfolio"]);
  });

  it("completes a flag prefix, the root's and a subcommand's own", () => {
    expect(complete("--val")).toEqual(["--valuation"]);
    expect(complete("serve", "--po")).toEqual(["--port", "--poll"]);
    expect(complete("doctor", "--js")).toEqual(["--json"]);
  });

  it("completes a flag's choices, spaced or after '=' (which bash splits off)", () => {
    expect(complete("--valuation", "")).toEqual(["total", "cash"]);
    expect(complete("--valuation", "c")).toEqual(["cash"]);
    expect(complete("--valuation", "=", "")).toEqual(["total", "cash"]);
    expect(complete("portfolio", "--format", "j")).toEqual(["json"]);
    expect(complete("history", "--interval", "")).toEqual(["1h", "1d", "1w"]);
    expect(complete("completion", "")).toEqual(["bash", "zsh", "fish"]);
  });

  it("completes user and broker ids from the config, --config-dir included", () => {
    expect(complete("--user", "")).toEqual(["albert", "alice", "bob"]);
    expect(complete("--user", "al")).toEqual(["albert", "alice"]);
    // -u takes several ids: the next word is still an id, not a subcommand.
    expect(complete("-u", "alice", "b")).toEqual(["bob"]);
    expect(complete("history", "--broker", "")).toEqual(["binance", "coinbase", "kraken", "okx"]);
    expect(complete("--config-dir", "other", "--user", "")).toEqual(["zoe"]);
    expect(complete("-c", "=", "other", "portfolio", "-b", "")).toEqual(["alpaca", "coinbase"]);
  });

  it("lists every flag each command's --help shows (read from the command tree, never drifts)", async () => {
    const commands = ["", ...complete("")].filter((c) => c !== "help");
    for (const command of commands) {
      const help = await runCli([...(command ? [command] : []), "--help"], { cwd: dir });
      const flags = new Set(help.stdout.match(/(?<=^ {2}(?:-\w, )?)--[a-z][a-z-]*/gm));
      expect(flags.size, `flags in ${command || "the root"}'s --help`).toBeGreaterThan(0);
      const completed = complete(...(command ? [command] : []), "--");
      for (const flag of flags) expect(completed, `${command} ${flag}`).toContain(flag);
    }
  });
});

describe("completion --list", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("reads ids from the config and loads no ccxt, asks no exchange, even with keys set", async () => {
    const kraken = seedAccount(emulator, "kraken", { USD: "1" });
    emulator.clearRequests();
    const trace = ["--import", join(ROOT, "test", "helpers", "trace-heavy-modules.mjs")];
    const run = await runCli(["completion", "--list", "users"], {
      cwd: dir,
      nodeArgs: trace,
      env: {
        KRAKEN_API_URL: emulator.urls.kraken,
        KRAKEN_USER_ALICE_API_KEY: kraken.apiKey,
        KRAKEN_USER_ALICE_API_SECRET: kraken.secret,
      },
    });
    expect(run).toEqual({ code: 0, stdout: "albert\nalice\nbob\n", stderr: "" });
    expect(emulator.requests).toEqual([]);
  });

  it("prints nothing, exit 0, for a config that cannot be read", async () => {
    const run = await runCli(["completion", "--list", "brokers", "--config-dir", "missing"], {
      cwd: dir,
    });
    expect(run).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("without a shell: exit 2 with the fix", async () => {
    const run = await runCli(["completion"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("completion needs a shell: bash, zsh or fish");
  });
});

describe.skipIf(!hasShell("zsh"))("zsh", () => {
  it("is valid zsh and registers itself when sourced after compinit", async () => {
    const file = await script("zsh");
    expect(spawnSync("zsh", ["-n", file]).status).toBe(0);
    const loaded = spawnSync(
      "zsh",
      [
        "-f",
        "-c",
        'autoload -U compinit; compinit -u -D; source "$0"; print -r -- $_comps[show-user-balances]',
        file,
      ],
      { encoding: "utf8", env: env() },
    );
    expect(loaded.stderr).toBe("");
    expect(loaded.stdout.trim()).toBe("_show_user_balances");
  });
});

describe.skipIf(!hasShell("fish"))("fish", () => {
  let file: string;
  /** What fish completes for a command line (the last word being completed). */
  const fishComplete = (line: string) => {
    const run = spawnSync(
      "fish",
      ["--no-config", "-c", `source $argv[1]; complete -C ${JSON.stringify(line)}`, file],
      {
        cwd: dir,
        encoding: "utf8",
        env: env(),
      },
    );
    expect(run.stderr).toBe("");
    return run.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("\t")[0]);
  };
  beforeAll(async () => {
    file = await script("fish");
  });

  it("is valid fish", () => {
    expect(spawnSync("fish", ["--no-execute", file]).status).toBe(0);
  });

  it("completes subcommands, flags, choices and user ids", () => {
    expect(fishComplete("show-user-balances do")).toEqual(["doctor"]);
    expect(fishComplete("show-user-balances --val")).toEqual(["--valuation"]);
    expect(fishComplete("show-user-balances --valuation ")).toEqual(["cash", "total"]);
    expect(fishComplete("show-user-balances history --user al")).toEqual(["albert", "alice"]);
    expect(fishComplete("show-user-balances --config-dir other -u ")).toEqual(["zoe"]);
  });
});
