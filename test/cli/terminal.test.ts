/**
 * The CLI in a real terminal: tmux at 80x24 and 60x24 runs the built CLI against the emulator,
 * and capture-pane shows what an operator would see. Skipped only where tmux is not installed
 * (.ci/run installs it).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { displayWidth } from "../../src/render/width.js";
import { CLI, scratch, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator?.close());

/** A shell word, quoted. */
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The guide's accounts plus a user whose display name and failure reason are longer than a
 * line: bob's key is revoked, so his row says why at length.
 */
async function setup() {
  const s = await scratch();
  await writeJson(join(s.config, "platform.json"), {
    name: "Nija System",
    brokers: [{ broker: "coinbase" }, { broker: "kraken" }],
  });
  await writeJson(join(s.config, "users", "alice.json"), {
    user_id: "alice",
    name: "Alice Wonderland of the Long Display Name Trading Desk, Northern Office",
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
  emulator.setFault("kraken", keys.KRAKEN_USER_BOB.apiKey, { kind: "revoked" });
  const env: Record<string, string> = {
    COINBASE_API_URL: emulator.urls.coinbase,
    KRAKEN_API_URL: emulator.urls.kraken,
    XDG_STATE_HOME: join(s.dir, "state"),
  };
  for (const [prefix, key] of Object.entries(keys)) {
    env[`${prefix}_API_KEY`] = key.apiKey;
    env[`${prefix}_API_SECRET`] = key.secret;
  }
  return { ...s, env };
}

/** One tmux server of its own (its socket in the scratch directory), a pane of a given size. */
class Terminal {
  private readonly socket: string;
  private readonly conf: string;
  private readonly statusFile: string;

  constructor(
    private readonly dir: string,
    readonly width: number,
    readonly height = 24,
  ) {
    this.socket = join(dir, "tmux.sock");
    this.conf = join(dir, "tmux.conf");
    this.statusFile = join(dir, "exit-status");
  }

  tmux(...args: string[]): string {
    return execFileSync("tmux", ["-S", this.socket, "-f", this.conf, ...args], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", TERM: "xterm" },
    });
  }

  /** Runs the CLI in the pane through a script, so no value lands on a tmux command line. */
  async start(env: Record<string, string>, args: string[], before = ""): Promise<void> {
    // The pane stays after the process ends, so its last screen and exit status can be read.
    await writeFile(this.conf, "set -g remain-on-exit on\nset -g history-limit 10000\n");
    const script = join(this.dir, "run.sh");
    const exports = Object.entries({ ...env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" })
      .map(([k, v]) => `export ${k}=${quote(v)}`)
      .join("\n");
    const command = [process.execPath, CLI, ...args].map(quote).join(" ");
    // The shell waits for the CLI and writes its exit status to a file: tmux 3.3 sometimes marks
    // a pane dead without its status when the process exits the moment its output is written.
    // Its INT trap keeps the shell alive through a Ctrl-C meant for the CLI (a trap, unlike an
    // ignored signal, is not passed on to the CLI).
    await writeFile(
      script,
      `cd ${quote(this.dir)}\n${exports}\n${before}\ntrap 'true' INT\n${command}\necho $? > ${quote(this.statusFile)}\n`,
      { mode: 0o700 },
    );
    this.tmux(
      "new-session",
      "-d",
      "-s",
      "cli",
      "-x",
      String(this.width),
      "-y",
      String(this.height),
      `sh ${quote(script)}`,
    );
  }

  show(format: string): string {
    return this.tmux("display-message", "-p", "-t", "cli", format).trim();
  }

  /** The whole pane with its scrollback; `joined` rejoins lines tmux wrapped at the edge. */
  capture(joined = true): string[] {
    const flags = ["-p", "-S", "-", "-E", "-", ...(joined ? ["-J"] : [])];
    const text = this.tmux("capture-pane", ...flags, "-t", "cli");
    return text
      .replace(/\n+$/, "")
      .split("\n")
      .map((line) => line.trimEnd());
  }

  async until(what: string, ready: () => boolean, timeoutMs = 40_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > deadline) {
        throw new Error(`tmux: timed out waiting for ${what}:\n${this.capture().join("\n")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async finished(): Promise<number> {
    const status = () => (existsSync(this.statusFile) ? readFileSync(this.statusFile, "utf8") : "");
    await this.until("the process to end", () => /^\d+\n$/.test(status()));
    return Number(status());
  }

  /** The CLI's process id: the pane runs the shell that waits for it. */
  cliPid(): number {
    const shell = this.show("#{pane_pid}");
    return Number(execFileSync("pgrep", ["-P", shell], { encoding: "utf8" }).trim().split("\n")[0]);
  }

  async close(): Promise<void> {
    spawnSync("tmux", ["-S", this.socket, "kill-server"]);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** No line wider than the terminal, measured, and none that tmux had to wrap at the edge. */
function expectFits(term: Terminal): string[] {
  const lines = term.capture();
  const tooWide = lines.filter((line) => displayWidth(line) > term.width);
  expect(tooWide, `lines wider than ${term.width}`).toEqual([]);
  // -J joins what tmux wrapped; the same count of text lines both ways means nothing wrapped.
  const text = (all: string[]) => all.filter((line) => line !== "");
  expect(text(term.capture(false))).toHaveLength(text(lines).length);
  return lines;
}

const cliArgs = (s: { config: string; cache: string }, args: string[]) => [
  "--config-dir",
  s.config,
  "--cache-dir",
  s.cache,
  "--kraken-spacing",
  "0",
  "--retries",
  "1",
  ...args,
];

// A CLI run is a second or two; a loaded machine (ccxt's import, the emulator) can take far longer.
describe.skipIf(!hasTmux)("in a terminal (tmux)", { timeout: 90_000 }, () => {
  for (const width of [80, 60]) {
    it(`the report fits ${width}x24: rules shrink, the long reason wraps under itself`, async () => {
      const s = await setup();
      const term = new Terminal(s.dir, width);
      try {
        await term.start(s.env, cliArgs(s, ["--no-history"]));
        expect(await term.finished()).toBe(3);
        const lines = expectFits(term);
        expect(lines[0]).toBe("=".repeat(Math.min(80, width)));
        expect(lines).toContain("USER ACCOUNT BALANCES");
        expect(lines).toContain("   TOTAL                $6,913.46");
        expect(lines).toContain("   Total User Capital:    $0.30");
        // bob's reason continues under its first word, never from column 0.
        const row = lines.findIndex((line) => /^ {6}KRAKEN +— {2}✗ auth failed:/.test(line));
        expect(row).toBeGreaterThan(0);
        const next = lines[row + 1] ?? "";
        const column = (lines[row] ?? "").indexOf("✗") + 2;
        expect(next.slice(0, column)).toBe(" ".repeat(column));
        expect(next.slice(column)).toMatch(/^\S/);
        // The display name wraps under itself, after "👤 User: ".
        const name = lines.findIndex((line) => line.startsWith("   👤 User: alice (Alice"));
        expect(lines[name + 1]).toMatch(/^ {12}\S/);
      } finally {
        await term.close();
      }
    });

    it(`--status fits ${width}x24 and still names every account, state and key variable`, async () => {
      const s = await setup();
      const term = new Terminal(s.dir, width);
      try {
        await term.start(s.env, cliArgs(s, ["--status", "--no-history"]));
        expect(await term.finished()).toBe(3);
        const text = expectFits(term).join("\n");
        for (const word of ["platform", "alice", "bob", "auth failed", "$5,678.90"]) {
          expect(text).toContain(word);
        }
        expect(text).toContain("KRAKEN_USER_BOB_API_KEY");
        expect(text).toContain("COINBASE_USER_ALICE_API_KEY");
      } finally {
        await term.close();
      }
    });
  }

  it("--watch at 80x24: the alternate screen, the report's top, restored after SIGTERM", async () => {
    const s = await setup();
    const term = new Terminal(s.dir, 80);
    try {
      await term.start(s.env, cliArgs(s, ["--watch", "60", "--no-history"]), "echo 'shell before'");
      await term.until("the first report", () => term.capture().includes("USER ACCOUNT BALANCES"));
      expect(term.show("#{alternate_on}")).toBe("1");
      const screen = expectFits(term);
      // The top of a report taller than the terminal: its header, then as many rows as fit.
      expect(screen.slice(0, 4)).toEqual([
        "=".repeat(80),
        "USER ACCOUNT BALANCES",
        "=".repeat(80),
        expect.stringMatching(/^Generated: /),
      ]);
      expect(screen.length).toBeLessThanOrEqual(24);
      expect(screen.at(-1)).toMatch(/^… \d+ more lines/);
      process.kill(term.cliPid(), "SIGTERM");
      expect(await term.finished()).toBe(0);
      expect(term.show("#{alternate_on}")).toBe("0");
      // The shell's screen is back as it was: no copy of the report on it or in its scrollback.
      const after = term.capture().join("\n");
      expect(after).toContain("shell before");
      expect(after).not.toContain("USER ACCOUNT BALANCES");
    } finally {
      await term.close();
    }
  });

  it("--watch at 60x24: each refresh redraws from the top; Ctrl-C restores the terminal", async () => {
    const s = await setup();
    const term = new Terminal(s.dir, 60);
    try {
      await term.start(s.env, cliArgs(s, ["--watch", "1", "--no-history"]), "echo 'shell before'");
      const generated = () => term.capture().find((line) => line.startsWith("Generated: "));
      await term.until("the first report", () => generated() !== undefined);
      const first = generated();
      await term.until("a refresh", () => generated() !== undefined && generated() !== first);
      const screen = expectFits(term);
      expect(screen[0]).toBe("=".repeat(60));
      expect(screen[1]).toBe("USER ACCOUNT BALANCES");
      expect(screen.length).toBeLessThanOrEqual(24);
      term.tmux("send-keys", "-t", "cli", "C-c");
      expect(await term.finished()).toBe(0);
      expect(term.show("#{alternate_on}")).toBe("0");
      const after = term.capture().join("\n");
      expect(after).toContain("shell before");
      expect(after).not.toContain("USER ACCOUNT BALANCES");
    } finally {
      await term.close();
    }
  });
});
