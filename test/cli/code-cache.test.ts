import { isAscii } from "node:buffer";
import { chmod, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { ROOT, runCli, scratch, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

/** A config with one Coinbase account on the emulator, and a cache home of its own. */
async function setup() {
  const s = await scratch();
  const coinbase = seedAccount(emulator, "coinbase", { USD: "1234.56" });
  await writeJson(join(s.config, "users", "ann.json"), {
    user_id: "ann",
    brokers: [{ broker: "coinbase", credentials: coinbase, apiUrl: emulator.urls.coinbase }],
  });
  const home = join(s.dir, "xdg-cache");
  const codeDir = join(home, "show-user-balances", "code");
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { cwd: s.dir, env: { XDG_CACHE_HOME: home, ...env } });
  const report = (env: Record<string, string> = {}) =>
    run(["--config-dir", s.config, "--no-cache", "--json", "--valuation", "cash"], env);
  /** The one cache file: its first byte (who wrote it) and its inode (a rewrite is a rename). */
  const cacheFile = async () => {
    const names = (await readdir(codeDir)).filter((n) => n.endsWith(".bin"));
    expect(names).toHaveLength(1);
    const file = join(codeDir, names[0] as string);
    const bytes = await readFile(file);
    return { file, by: String.fromCharCode(bytes[0] ?? 0), ino: (await stat(file)).ino };
  };
  return { ...s, codeDir, run, report, cacheFile };
}

const annTotal = (stdout: string) => JSON.parse(stdout).summary.user_totals.ann;

describe("the CLI bundle's V8 code cache (cli.ts)", () => {
  it("is written by the first run, again by the first report, then used as it is", async () => {
    const s = await setup();
    const version = await s.run(["version"]);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const first = await s.cacheFile();
    expect(first.by).toBe("O");
    expect(first.file).toContain(`-${process.version}-${process.arch}.bin`);
    expect((await stat(s.codeDir)).mode & 0o777).toBe(0o700);

    // A report compiles more than `version` did: its run writes the cache once more.
    const fetched = await s.report();
    expect(fetched.code).toBe(0);
    expect(annTotal(fetched.stdout)).toBe(1234.56);
    const second = await s.cacheFile();
    expect(second.by).toBe("R");
    expect(second.ino).not.toBe(first.ino);

    // From now on V8 takes the cache (a refused one would be written again). Its code still
    // loads ccxt on demand: on Node 20 an import() in cached code needs the entry's import.
    for (let i = 0; i < 2; i += 1) {
      const again = await s.report();
      expect(again.code).toBe(0);
      expect(again.stderr).toBe("");
      expect(annTotal(again.stdout)).toBe(1234.56);
      expect((await s.cacheFile()).ino).toBe(second.ino);
    }
  });

  it("replaces a cache V8 refuses, and stays out of a directory others can write", async () => {
    const s = await setup();
    await s.report();
    const { file } = await s.cacheFile();
    await writeFile(file, Buffer.concat([Buffer.from("R"), Buffer.alloc(4096, 7)]));
    const garbage = (await s.cacheFile()).ino;
    const after = await s.report();
    expect(after.code).toBe(0);
    expect(annTotal(after.stdout)).toBe(1234.56);
    const rewritten = await s.cacheFile();
    expect(rewritten.ino).not.toBe(garbage);
    expect((await stat(rewritten.file)).size).toBeGreaterThan(100_000);

    await rm(file);
    await chmod(s.codeDir, 0o777);
    const shared = await s.report();
    expect(annTotal(shared.stdout)).toBe(1234.56);
    expect(await readdir(s.codeDir)).toEqual([]);

    await chmod(s.codeDir, 0o700);
    const off = await s.report({ NODE_DISABLE_COMPILE_CACHE: "1" });
    expect(annTotal(off.stdout)).toBe(1234.56);
    expect(await readdir(s.codeDir)).toEqual([]);
  });

  it("is a CommonJS entry that resolves ccxt as an ES module does, from cached code too", async () => {
    const s = await setup();
    // Neither id is pre-bundled: the misspelt one is looked up in ccxt's js/src, the other
    // loaded from it; both need the ES-module resolution the entry lends (esm-resolve.ts).
    await writeJson(join(s.config, "users", "bea.json"), {
      user_id: "bea",
      brokers: [
        { broker: "bitstampp" },
        {
          broker: "bitstamp",
          credentials: { apiKey: "k-0123456789", secret: "s-0123456789" },
          apiUrl: emulator.urls.alpaca,
        },
      ],
    });
    expect((await readFile(join(ROOT, "dist", "cli.cjs"), "utf8")).split("\n")[0]).toBe(
      "#!/usr/bin/env node",
    );
    emulator.clearRequests();
    for (let i = 0; i < 2; i += 1) {
      const args = ["--config-dir", s.config, "--no-cache", "--json", "--user", "bea"];
      const result = await s.run([...args, "--retries", "0"]);
      expect(result.stderr).toContain(
        '"bitstampp" is not a ccxt exchange id; did you mean "bitstamp"?',
      );
      const rows = JSON.parse(result.stdout).status.users.bea;
      expect(rows.bitstampp.state).toBe("no_credentials");
      // Loaded and sent: the emulator (the alpaca origin) knows no Bitstamp path.
      expect(rows.bitstamp.state).toBe("exchange_error");
      expect(rows.bitstamp.message).toBe("bitstamp refused the request (HTTP 404)");
    }
    // ccxt's Bitstamp asks for its markets first.
    expect(emulator.requests.map((r) => r.path)).toEqual(["/api/v2/markets/", "/api/v2/markets/"]);
  });

  it("runs a bundle with no import() of its own: only import-module.ts's fallback", async () => {
    const bytes = await readFile(join(ROOT, "dist", "cli-main.cjs"));
    // ASCII, so that cli.ts reads it as latin1 (a non-ASCII bundle would still run, decoded).
    expect(isAscii(bytes)).toBe(true);
    const bundle = bytes.toString("utf8");
    const calls = bundle.match(/\bimport\(/g) ?? [];
    expect(calls).toHaveLength(1);
    expect(bundle).toContain("__bundleImport");
  });
});
