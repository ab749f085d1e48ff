/**
 * The package as an operator installs it: `npm pack`, then `npm install -g` of the tarball into a
 * scratch prefix, then the installed command run with a cron-like PATH. Dependencies come from the
 * local npm cache where it has them (`npm ci` filled it); the registry answers the rest.
 * `npm pack --ignore-scripts` packs the dist/ the suite was built with, rather than rebuilding it
 * under the other tests' feet.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { ROOT, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

const exec = promisify(execFile);
const INSTALL_MS = 180_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a non-zero exit is a result, not a throw. */
async function run(
  file: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(file, args, { ...options, timeout: INSTALL_MS });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw error;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

let work: string;
let tarball: string;
let packed: string[];
const version = (
  JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string }
).version;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sub-install-"));
  const pack = await run(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", work],
    { cwd: ROOT },
  );
  expect(pack.code, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info?.filename as string);
  packed = info?.files.map((f) => f.path) ?? [];
}, INSTALL_MS);

describe("npm pack", () => {
  it("ships the built CLI, the example config and the licence; no sources or tests", () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "LICENSE",
        "dist/cli.cjs",
        "dist/esm-resolve.js",
        "config/platform.json",
        "config/users/alice.json",
      ]),
    );
    expect(packed.filter((p) => /^(src|test|bench|\.ci)\//.test(p))).toEqual([]);
  });
});

describe("npm install -g of the tarball", () => {
  let emulator: Emulator;
  let prefix: string;
  /** cron's PATH, plus the Node.js under test (the installed command starts with `env node`). */
  const cronEnv = () => ({
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: work,
    XDG_CACHE_HOME: join(work, "xdg-cache"),
    XDG_STATE_HOME: join(work, "xdg-state"),
  });
  const installed = (args: string[], cwd = work) =>
    run(join(prefix, "bin", "show-user-balances"), args, { cwd, env: cronEnv() });

  beforeAll(async () => {
    emulator = await startEmulator();
    prefix = join(work, "prefix");
    const quiet = join(work, "prefix-quiet");
    const install = (into: string, extra: string[] = []) =>
      run(
        "npm",
        [
          "install",
          "-g",
          tarball,
          "--prefix",
          into,
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
        ].concat(extra),
        { cwd: work },
      );
    // As the README says: plainly (the package's own `prepare` must not run from a tarball),
    // and with --ignore-scripts (no dependency needs its install script).
    const [plain, ignoring] = await Promise.all([
      install(prefix),
      install(quiet, ["--ignore-scripts"]),
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(ignoring.code, ignoring.stderr).toBe(0);
    expect(ignoring.stderr).not.toContain("install-scripts");
    const quietVersion = await run(join(quiet, "bin", "show-user-balances"), ["--version"], {
      cwd: work,
      env: cronEnv(),
    });
    expect(quietVersion.stdout.trim()).toBe(version);
  }, INSTALL_MS);
  afterAll(() => emulator?.close());

  it("gives a working <prefix>/bin/show-user-balances under cron's PATH", async () => {
    expect(await installed(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("an empty config directory is exit 2 with the empty document (README: exit codes)", async () => {
    const empty = join(work, "empty-config");
    await mkdir(join(empty, "users"), { recursive: true });
    const result = await installed(["--config-dir", empty, "--json"]);
    expect(result.code, result.stderr).toBe(2);
    const doc = JSON.parse(result.stdout) as { summary: { user_count: number } };
    expect(doc.summary.user_count).toBe(0);
  });

  it("the shipped example config with no credentials: every row no_credentials, exit 0", async () => {
    const shipped = join(prefix, "lib", "node_modules", "show-user-balances", "config");
    const result = await installed(["--config-dir", shipped, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      status: { users: Record<string, Record<string, { state: string }>> };
    };
    const states = Object.values(doc.status.users).flatMap((brokers) =>
      Object.values(brokers).map((b) => b.state),
    );
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(["no_credentials"]));
  });

  it("records history with the installed SQLite driver, which `history` reads back", async () => {
    const config = join(work, "live-config");
    await mkdir(join(config, "users"), { recursive: true });
    const kraken = seedAccount(emulator, "kraken", { USD: "1234.56" });
    await writeJson(join(config, "users", "ann.json"), {
      user_id: "ann",
      brokers: [{ broker: "kraken", credentials: kraken, apiUrl: emulator.urls.kraken }],
    });
    const state = join(work, "state");
    const report = await installed(["--config-dir", config, "--state-dir", state, "--json"]);
    expect(report.code, report.stderr).toBe(0);
    const history = await installed(["history", "--state-dir", state, "--json"]);
    expect(history.code, history.stderr).toBe(0);
    const series = (JSON.parse(history.stdout) as { series: { broker: string | null }[] }).series;
    expect(series.map((s) => s.broker)).toContain("kraken");
  });
});
