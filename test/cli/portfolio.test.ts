/**
 * `portfolio` and the report's CSV and --portfolio, through the real process against the
 * emulator: the portfolio's total is the report's to the cent, its shares add up to 100, and right
 * after a report it makes no request at all (same cache).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, newKrakenKey, startEmulator } from "../../src/emulator/index.js";
import { parseDecimal } from "../../src/money.js";
import { type CliResult, ROOT, runCli, scratch, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
let env: Record<string, string>;
let dirs: Awaited<ReturnType<typeof scratch>>;

const HOSTILE_NAME = '=HYPERLINK("http://x.example"),\n"Bob"';

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setPrices("kraken", { ETH: "3200", XRP: "0.5", DOGE: "0.5" });
  emulator.setPrices("coinbase", { BTC: "60000" });
  emulator.setPrices("okx", { ETH: "3200" });
  emulator.setPrices("alpaca", { AAPL: "190.125" });
  dirs = await scratch();
  env = {
    KRAKEN_API_URL: emulator.urls.kraken,
    COINBASE_API_URL: emulator.urls.coinbase,
    OKX_API_URL: emulator.urls.okx,
    ALPACA_API_URL: emulator.urls.alpaca,
  };
  const put = (prefix: string, key: { apiKey: string; secret: string; password?: string }) => {
    env[`${prefix}_API_KEY`] = key.apiKey;
    env[`${prefix}_API_SECRET`] = key.secret;
    if (key.password) env[`${prefix}_PASSPHRASE`] = key.password;
  };
  // Platform: 5,038.90 + 640.00 + 0.5025 + 0.5025 (each asset rounds to 0.50, the sum to 5,679.91)
  put(
    "KRAKEN",
    seedAccount(emulator, "kraken", { USD: "5038.90", ETH: "0.2", XRP: "1.005", DOGE: "1.005" }),
  );
  put("COINBASE", seedAccount(emulator, "coinbase", { USD: "1000", USDC: "84.56", BTC: "0.0025" }));
  put("ALPACA_USER_ALICE", seedAccount(emulator, "alpaca", { USD: "1000", AAPL: "3" }));
  put("OKX_USER_BOB", seedAccount(emulator, "okx", { USDC: "480", ETH: "0.1" }));
  put("KRAKEN_USER_BOB", seedAccount(emulator, "kraken", { USDT: "2500" }));
  await writeJson(join(dirs.config, "platform.json"), {
    name: "Platform",
    brokers: [{ broker: "kraken" }, { broker: "coinbase" }],
  });
  await writeJson(join(dirs.config, "users", "alice.json"), {
    user_id: "alice",
    brokers: [{ broker: "alpaca" }],
  });
  await writeJson(join(dirs.config, "users", "bob.json"), {
    user_id: "bob",
    name: HOSTILE_NAME,
    brokers: [{ broker: "okx" }, { broker: "kraken" }],
  });
});
afterAll(async () => {
  await emulator.close();
});

const run = (args: string[]): Promise<CliResult> =>
  runCli(
    ["--config-dir", dirs.config, "--cache-dir", dirs.cache, "--kraken-spacing", "0", ...args],
    {
      cwd: dirs.dir,
      env,
    },
  );

/** The exact decimal literal of a JSON member, as written (JSON.parse would make it a float). */
function literal(json: string, name: string): bigint {
  const match = new RegExp(`"${name}": (-?[\\d.]+)`).exec(json);
  if (!match?.[1]) throw new Error(`no ${name} in ${json.slice(0, 200)}`);
  return parseDecimal(match[1]);
}

const reportTotal = (json: string) =>
  literal(json, "platform_total") + literal(json, "total_user_capital");

/** Sum of two-decimal percentages, in basis points. */
const basisPoints = (shares: (string | number | null)[]) =>
  shares.reduce<bigint>(
    (sum, s) => sum + (s === null || s === "" ? 0n : BigInt(String(s).replace(".", ""))),
    0n,
  );

describe("portfolio on the emulator", () => {
  it("equals the report's total to the cent, shares add up to 100, and the second run asks nothing", async () => {
    const report = await run(["--json", "--refresh"]);
    expect(report.code, report.stderr).toBe(0);
    // 5,679.91 + 1,234.56 + (1,000 + 3 x 190.125 = 1,570.375 -> 1,570.38) + 800 + 2,500
    expect(reportTotal(report.stdout)).toBe(parseDecimal("11784.85"));

    emulator.clearRequests();
    const portfolio = await run(["portfolio", "--json"]);
    expect(portfolio.code, portfolio.stderr).toBe(0);
    expect(emulator.requests).toEqual([]);
    expect(literal(portfolio.stdout, "total_usd")).toBe(reportTotal(report.stdout));
    const doc = JSON.parse(portfolio.stdout);
    const shares = doc.assets.map((line: { share_percent: number | null }) =>
      line.share_percent === null ? null : line.share_percent.toFixed(2),
    );
    const sum = basisPoints(shares);
    expect(sum >= 9999n && sum <= 10001n).toBe(true);
    expect(doc.partial).toBe(false);
    expect(doc.assets.map((l: { asset: string; kind: string }) => `${l.kind}:${l.asset}`)).toEqual([
      "asset:USD",
      "asset:ETH",
      "asset:AAPL",
      "asset:BTC",
      "asset:DOGE",
      "asset:XRP",
      "rounding:rounding: account figures rounded once, assets one by one",
    ]);
    expect(doc.assets[0]).toMatchObject({
      members: ["USD", "USDC", "USDT"],
      amount: "10103.46",
      accounts: 5,
    });
  });

  it("prints the same portfolio as CSV and as a table, from the cache", async () => {
    emulator.clearRequests();
    const csv = await run(["portfolio", "--format", "csv"]);
    expect(csv.code, csv.stderr).toBe(0);
    const [header, ...rows] = parse(csv.stdout) as string[][];
    expect(header?.slice(0, 7)).toEqual([
      "kind",
      "asset",
      "members",
      "amount",
      "unvalued_amount",
      "usd",
      "share_percent",
    ]);
    const total = rows.reduce((sum, r) => sum + parseDecimal(r[5] || "0"), 0n);
    expect(total).toBe(parseDecimal("11784.85"));
    expect(basisPoints(rows.map((r) => r[6] ?? null))).toBe(10000n);
    const table = await run(["portfolio", "--split-stablecoins", "--top-holders", "1"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/TOTAL +│ +│ +\$11,784\.85/);
    expect(table.stdout).toMatch(/│ USDT +│ +2500 │ +\$2,500\.00 │/);
    expect(emulator.requests).toEqual([]);
  });

  it("with --valuation cash, reconciles with the cash report too", async () => {
    const report = await run(["--json", "--valuation", "cash"]);
    expect(report.code, report.stderr).toBe(0);
    emulator.clearRequests();
    const portfolio = await run(["portfolio", "--json", "--valuation", "cash"]);
    expect(portfolio.code, portfolio.stderr).toBe(0);
    expect(emulator.requests).toEqual([]);
    // 5,038.90 + 1,084.56 + Alpaca's cash 1,000 + OKX 480 + 2,500
    expect(literal(portfolio.stdout, "total_usd")).toBe(parseDecimal("10103.46"));
    expect(literal(portfolio.stdout, "total_usd")).toBe(reportTotal(report.stdout));
    const doc = JSON.parse(portfolio.stdout);
    const eth = doc.assets.find((l: { asset: string }) => l.asset === "ETH");
    expect(eth).toMatchObject({ amount: "0.3", usd: null, share_percent: null });
  });

  it("filters with --user as the report does, and takes root flags given before it", async () => {
    const result = await runCli(
      [
        "--config-dir",
        dirs.config,
        "--cache-dir",
        dirs.cache,
        "portfolio",
        "--user",
        "alice",
        "--json",
      ],
      { cwd: dirs.dir, env },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(literal(result.stdout, "total_usd")).toBe(parseDecimal("1570.38"));
  });

  it("records what it fetched live in the history, as a report run does", async () => {
    const state = join(dirs.dir, "state");
    const fetched = await run(["portfolio", "--refresh", "--user", "alice", "--state-dir", state]);
    expect(fetched.code, fetched.stderr).toBe(0);
    const history = await runCli(["history", "--state-dir", state, "--json"], { cwd: dirs.dir });
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain('"alpaca"');
    expect(history.stdout).toContain("1570.38");
  });

  it("leaves out a failed account, says why on stderr and exits 3, still equal to the report", async () => {
    const s = await scratch();
    await writeJson(join(s.config, "users", "alice.json"), {
      user_id: "alice",
      brokers: [{ broker: "alpaca" }],
    });
    await writeJson(join(s.config, "users", "eve.json"), {
      user_id: "eve",
      brokers: [{ broker: "kraken", credentials: newKrakenKey() }],
    });
    // No platform: its keys are left out of the environment.
    const only = Object.fromEntries(
      Object.entries(env).filter(([name]) => /_API_URL$|^ALPACA_USER_ALICE_/.test(name)),
    );
    const args = ["--config-dir", s.config, "--cache-dir", s.cache, "--kraken-spacing", "0"];
    const report = await runCli([...args, "--json"], { cwd: s.dir, env: only });
    expect(report.code).toBe(3);
    const result = await runCli(["portfolio", ...args, "--json"], { cwd: s.dir, env: only });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/warning: user eve \/ kraken: auth failed: .*\(left out\)/);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ partial: true, rows: { counted: 1, unknown: 1 } });
    expect(literal(result.stdout, "total_usd")).toBe(reportTotal(report.stdout));
    expect(literal(result.stdout, "total_usd")).toBe(parseDecimal("1570.38"));
  });

  it("refuses --json with another --format, and a user that does not exist (exit 2)", async () => {
    const both = await run(["portfolio", "--json", "--format", "csv"]);
    expect(both.code).toBe(2);
    expect(both.stdout).toBe("");
    expect(both.stderr).toMatch(/--json and --format csv/);
    const typo = await run(["portfolio", "--user", "nobody"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--user nobody: no such user/);
  });
});

describe("the report's CSV and --portfolio", () => {
  it("writes one CSV line per account and broker; a hostile name parses back, neutralised", async () => {
    const result = await run(["--format", "csv"]);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...rows] = parse(result.stdout) as string[][];
    expect(header).toEqual([
      "user_id",
      "name",
      "broker",
      "usd",
      "state",
      "source",
      "age_seconds",
      "fetched_at",
      "duplicate_of",
    ]);
    expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[5]])).toEqual([
      ["platform", "Platform", "kraken", "5679.91", "ok", "cached"],
      ["platform", "Platform", "coinbase", "1234.56", "ok", "cached"],
      ["alice", "", "alpaca", "1570.38", "ok", "cached"],
      ["bob", `'${HOSTILE_NAME}`, "okx", "800.00", "ok", "cached"],
      ["bob", `'${HOSTILE_NAME}`, "kraken", "2500.00", "ok", "cached"],
    ]);
  });

  it("one CSV line per asset with --assets; --portfolio adds the portfolio to the JSON", async () => {
    const assets = await run(["--format", "csv", "--assets", "--user", "bob"]);
    expect(assets.code, assets.stderr).toBe(0);
    expect(parse(assets.stdout)).toEqual([
      ["account", "broker", "asset", "free", "used", "total", "usd"],
      ["bob", "okx", "USDC", "480", "0", "480", "480.00"],
      ["bob", "okx", "ETH", "0.1", "0", "0.1", "320.00"],
      ["bob", "kraken", "USDT", "2500", "0", "2500", "2500.00"],
    ]);
    const plain = await run(["--json"]);
    const json = await run(["--json", "--portfolio"]);
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(literal(json.stdout, "total_usd")).toBe(reportTotal(json.stdout));
    expect(doc.portfolio.assets[0].asset).toBe("USD");
    // Byte for byte the plain document, the portfolio member added at its end.
    const timeless = (text: string) =>
      text.replace(/"(timestamp|age_seconds)": [^,\n]+/g, '"$1": 0');
    expect(timeless(plain.stdout).endsWith("\n}\n")).toBe(true);
    expect(
      timeless(json.stdout).startsWith(`${timeless(plain.stdout).slice(0, -3)},\n  "portfolio": {`),
    ).toBe(true);
    const clash = await run(["--format", "csv", "--assets", "--portfolio"]);
    expect(clash.code).toBe(2);
    const watch = await run(["--format", "csv", "--watch", "5"]);
    expect(watch.code).toBe(2);
  });
});

describe("the demo", () => {
  it("passes `portfolio --json` through to the CLI", async () => {
    const child = spawn(process.execPath, [join(ROOT, "dist", "demo.js"), "portfolio", "--json"], {
      cwd: dirs.dir,
      env: { PATH: process.env.PATH ?? "", HOME: dirs.dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, stderr).toBe(0);
    // The guide's 6,913.46 + the users' 1,000 + 2,500 + 1,200 + 800
    expect(literal(stdout, "total_usd")).toBe(parseDecimal("12413.46"));
  });
});
