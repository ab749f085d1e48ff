/**
 * `npm run bench`: whole-process benchmarks of the CLI against the local exchange emulator.
 * The emulator runs in this process; every measured run is a fresh `node dist/cli.cjs` child, so
 * start-up, module loading and exit are all inside the numbers. Prints tables and writes
 * bench/results.json. Run it on a quiet machine: the numbers are wall-clock medians.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import * as os from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  type AssetAmount,
  type Emulator,
  type ExchangeId,
  newAlpacaKey,
  newBinanceKey,
  newCoinbaseCdpKey,
  newKrakenKey,
  newOkxKey,
  startEmulator,
} from "show-user-balances/emulator";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(BENCH_DIR, "..");
const CLI = join(ROOT, "dist", "cli.cjs");
const RESULTS = join(BENCH_DIR, "results.json");

const LATENCY_MS = 100;
/**
 * Repetitions: start-up runs are cheap and noisy (one pair of the 1,000-account hit ranges over
 * 1.4-2.8x: 25 pairs keep the median steadier than 15 did), cold runs are slow and steadier.
 */
const REPS_STARTUP = 25;
const REPS_COLD = 5;
const COLD_SIZES = [1, 10, 100, 500];
const KRAKEN_KEYS = [1, 5, 20];
const KRAKEN_CONCURRENCY = [1, 4];
const RSS_SIZES = [1, 100, 1000];
/** The CLI's --concurrency default (read from --help at start), for the floor column. */
let DEFAULT_CONCURRENCY = 16;

const BUDGET = {
  cacheHit10Ratio: 1.5,
  cacheHit1000Ratio: 2,
  cacheHit10000Ms: 2000,
  cold100Ms: 600,
  firstRequestMs: 400,
  cpuPerAccountMs: 0.3,
  cold10000Ms: 10_000,
  krakenSlack: 0.1,
  rssMb: 400,
};
/** Accounts in the scale series (cold at 100 ms latency, then a cache hit). */
const SCALE_ACCOUNTS = 10_000;
/**
 * Per broker: 256 requests in flight in all, the two brokers' 5,000 accounts each in 40 waves. At
 * the default 64 the network floor alone would be 5,000 / 64 x 100 ms = 7.8 s.
 */
const SCALE_CONCURRENCY = 128;
/** Cold 10,000-account runs (the median is judged): one run swings by 10% on this machine. */
const SCALE_COLD_RUNS = 3;
/** Rounds of the CPU-per-account series (the median round is judged). */
const CPU_ROUNDS = 3;

// ---------------------------------------------------------------------------------------------
// Small helpers

interface Account {
  userId: string;
  exchange: ExchangeId;
  apiKey: string;
  secret: string;
  /** OKX's passphrase. */
  password?: string;
}

interface RunResult {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
  maxRssKb: number | null;
  /** CPU time (user + system) of the child, ms; with the RSS hook only. */
  cpuMs?: number;
  /** Epoch ms when the child was spawned (for the first request's delay). */
  spawnedAt: number;
}

interface RunOptions {
  args?: string[];
  /** Preloads (`--require`/`--import` pairs) placed before the script. */
  nodeArgs?: string[];
  env?: Record<string, string>;
  cwd: string;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const round = (n: number, digits = 0) => Number(n.toFixed(digits));
const sumValues = (record: Record<string, number>) =>
  Object.values(record).reduce((a, b) => a + b, 0);
const ms = (n: number) => `${Math.round(n)} ms`;

function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
}

/** Interleaved A/B timings: each ratio is B over the A run just before it, so load drift hits both. */
interface Paired {
  aMedianMs: number;
  bMedianMs: number;
  ratio: { median: number; min: number; max: number };
  aRunsMs: number[];
  bRunsMs: number[];
  /** 1-minute load average before and after the pairs. */
  load: [number, number];
}

async function paired(
  reps: number,
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<Paired> {
  const loadBefore = os.loadavg()[0] ?? 0;
  const aRuns: number[] = [];
  const bRuns: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < reps; i += 1) {
    const ta = await a();
    const tb = await b();
    aRuns.push(ta);
    bRuns.push(tb);
    ratios.push(tb / ta);
  }
  return {
    aMedianMs: round(median(aRuns), 1),
    bMedianMs: round(median(bRuns), 1),
    ratio: {
      median: round(median(ratios), 2),
      min: round(Math.min(...ratios), 2),
      max: round(Math.max(...ratios), 2),
    },
    aRunsMs: aRuns.map((v) => round(v, 1)),
    bRunsMs: bRuns.map((v) => round(v, 1)),
    load: [round(loadBefore, 2), round(os.loadavg()[0] ?? 0, 2)],
  };
}

let tmpRoot = "";
let runCounter = 0;
const freshDir = async (name: string) => {
  runCounter += 1;
  const dir = join(tmpRoot, `${name}-${runCounter}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

/** The child's environment: ours minus any broker credentials/URLs that could leak into runs. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(KRAKEN|COINBASE|ALPACA)_/i.test(k)) env[k] = v;
  }
  return {
    ...env,
    NO_COLOR: "1",
    XDG_CACHE_HOME: join(tmpRoot, "xdg"),
    XDG_STATE_HOME: join(tmpRoot, "xdg-state"),
    ...extra,
  };
}

function runNode(script: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const spawnedAt = performance.timeOrigin + started;
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), ...script, ...(options.args ?? [])],
      {
        cwd: options.cwd,
        env: childEnv(options.env),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      resolvePromise({
        ms: performance.now() - started,
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        maxRssKb: null,
        spawnedAt,
      });
    });
  });
}

/**
 * Peak RSS: a `--require` preload writes `process.resourceUsage().maxRSS` (getrusage ru_maxrss,
 * the kernel's high-water mark for the whole process) from the `exit` event. Node built-ins
 * only, same on every Linux/macOS box, and it sees the child's own peak, not the bench's.
 */
const RSS_HOOK = `"use strict";
process.on("exit", () => {
  const u = process.resourceUsage();
  require("node:fs").writeFileSync(process.env.BENCH_RSS_FILE, u.maxRSS + " " + (u.userCPUTime + u.systemCPUTime));
});
`;
/**
 * ccxt's own request path, without the CLI around it: each account's raw private calls (the ones
 * the adapters make: Coinbase's v3 accounts, Alpaca's account and positions) through the exchange
 * classes the CLI loads (dist/ccxt), with its HTTP client and Coinbase signer, one account after
 * another on one instance per exchange. With BENCH_PLAIN: as many plain GETs instead. Prints the
 * CPU (user+sys, ms) of the calls alone.
 */
const CCXT_PATH = `import { readFileSync } from "node:fs";
import * as http from "node:http";
const [file, count] = process.argv.slice(2);
const { root, urls, accounts } = JSON.parse(readFileSync(file, "utf8"));
const dist = (path) => new URL(path, root + "/dist/").href;
const { sendHttpRequest } = await import(dist("brokers/http-client.js"));
const { rebaseApiUrls } = await import(dist("brokers/api-url.js"));
const { coinbaseTokenSigner } = await import(dist("brokers/coinbase-jwt.js"));
const agent = new http.Agent({ keepAlive: true });
const get = () => new Promise((ok, ko) => http.get(urls.alpaca + "/v2/clock", { agent }, (r) => { r.resume(); r.on("end", ok); }).on("error", ko));
const instances = {};
for (const id of ["coinbase", "alpaca"]) {
  const Exchange = (await import(dist("ccxt/" + id + ".js"))).default;
  instances[id] = new Exchange({ fetchImplementation: sendHttpRequest, enableRateLimit: false });
  instances[id].urls.api = rebaseApiUrls(instances[id].urls.api, urls[id]);
}
const call = async ({ exchange, apiKey, secret }) => {
  if (process.env.BENCH_PLAIN) {
    await get();
    if (exchange === "alpaca") await get();
    return;
  }
  const e = instances[exchange];
  e.apiKey = apiKey;
  e.secret = secret;
  if (exchange === "coinbase") {
    e.createAuthToken = coinbaseTokenSigner(apiKey, secret);
    await e.v3PrivateGetBrokerageAccounts({ limit: 250 });
  } else {
    await e.traderPrivateGetV2Account();
    await e.traderPrivateGetV2Positions();
  }
};
// The last two accounts warm each path up (first-use costs are start-up, not per account).
await call(accounts[accounts.length - 1]);
await call(accounts[accounts.length - 2]);
const before = process.cpuUsage();
for (const account of accounts.slice(0, Number(count))) await call(account);
const used = process.cpuUsage(before);
process.stdout.write(String((used.user + used.system) / 1000));
process.exit(0);
`;
/** Records every ccxt module the child resolves (module.register hooks see dynamic imports too). */
const CCXT_HOOKS = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (/\\/node_modules\\/ccxt\\/|\\/dist\\/ccxt\\//.test(result.url)) appendFileSync(process.env.BENCH_CCXT_LOG, result.url + "\\n");
  return result;
}
`;
const CCXT_REGISTER = `import { register } from "node:module";
register(new URL("./ccxt-hooks.mjs", import.meta.url));
`;

/** A throwaway redis-server on a free loopback port, no persistence; null when not installed. */
async function startRedis(): Promise<{ url: string; stop: () => void } | null> {
  const port = await new Promise<number>((resolvePort) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const ready = await new Promise<boolean>((resolveReady) => {
    child.once("error", () => resolveReady(false));
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Ready to accept connections")) resolveReady(true);
    });
  });
  if (!ready) return null;
  return { url: `redis://127.0.0.1:${port}/0`, stop: () => child.kill("SIGTERM") };
}

async function runCli(
  configDir: string,
  args: string[],
  opts: { rss?: boolean; watchCcxt?: boolean } = {},
): Promise<RunResult & { ccxtModules?: number }> {
  const cwd = dirname(configDir);
  const nodeArgs: string[] = [];
  const env: Record<string, string> = {};
  if (opts.rss) {
    nodeArgs.push("--require", join(tmpRoot, "rss-hook.cjs"));
    env.BENCH_RSS_FILE = join(cwd, `rss-${++runCounter}.txt`);
  }
  if (opts.watchCcxt) {
    nodeArgs.push("--import", join(tmpRoot, "ccxt-register.mjs"));
    env.BENCH_CCXT_LOG = join(cwd, `ccxt-${++runCounter}.log`);
    await writeFile(env.BENCH_CCXT_LOG, "");
  }
  const result = await runNode([CLI], {
    cwd,
    nodeArgs,
    env,
    // Timing series measure fetching; the default valuation's public price round (once per
    // exchange per run) is measured on its own in series 4. A later --valuation wins.
    args: ["--config-dir", configDir, "--json", "--valuation", "cash", ...args],
  });
  if (env.BENCH_RSS_FILE) {
    const [rss, cpuUs] = (await readFile(env.BENCH_RSS_FILE, "utf8")).split(" ").map(Number);
    result.maxRssKb = rss ?? null;
    result.cpuMs = (cpuUs ?? 0) / 1000;
  }
  const ccxtModules = env.BENCH_CCXT_LOG
    ? (await readFile(env.BENCH_CCXT_LOG, "utf8")).split("\n").filter(Boolean).length
    : undefined;
  return { ...result, ccxtModules };
}

/** Writes users/<id>.json (chmod 600: they hold literal secrets) under a fresh run directory. */
async function writeConfig(accounts: Account[], apiUrls: Record<ExchangeId, string>) {
  const cwd = await freshDir("run");
  const configDir = join(cwd, "config");
  await mkdir(join(configDir, "users"), { recursive: true });
  await Promise.all(
    accounts.map(async (a) => {
      const file = join(configDir, "users", `${a.userId}.json`);
      const body = {
        user_id: a.userId,
        brokers: [
          {
            broker: a.exchange,
            credentials: {
              apiKey: a.apiKey,
              secret: a.secret,
              ...(a.password ? { password: a.password } : {}),
            },
            apiUrl: apiUrls[a.exchange],
          },
        ],
      };
      await writeFile(file, JSON.stringify(body), { mode: 0o600 });
      await chmod(file, 0o600);
    }),
  );
  return { configDir, cacheDir: join(cwd, "cache") };
}

/** Parses the --json report and counts rows whose state is not ok (should be zero). */
function failedRows(stdout: string): number {
  const doc = JSON.parse(stdout) as {
    status: { users: Record<string, Record<string, { state: string }>> };
  };
  let failed = 0;
  for (const brokers of Object.values(doc.status.users)) {
    for (const row of Object.values(brokers)) if (row.state !== "ok") failed += 1;
  }
  return failed;
}

const EXPECTED_REQUESTS: Record<ExchangeId, number> = {
  kraken: 1,
  coinbase: 1,
  alpaca: 2,
  binance: 1,
  okx: 1,
};

interface RequestCheck {
  /** Signed requests (per-account); public price look-ups are counted in `public`. */
  total: number;
  expected: number;
  /** Public price requests (valuation total, once per exchange per run). */
  public: Record<string, number>;
  /** Accounts whose request count differs from the expectation, by exchange. */
  off: Record<string, number>;
  /** Per exchange: min/max requests seen per account. */
  perAccount: Record<string, { accounts: number; min: number; max: number }>;
}

function checkRequests(emu: Emulator, accounts: Account[]): RequestCheck {
  const byKey = new Map<string, number>();
  for (const r of emu.requests) if (r.apiKey) byKey.set(r.apiKey, (byKey.get(r.apiKey) ?? 0) + 1);
  const off: Record<string, number> = {};
  const perAccount: RequestCheck["perAccount"] = {};
  let expected = 0;
  for (const a of accounts) {
    const seen = byKey.get(a.apiKey) ?? 0;
    expected += EXPECTED_REQUESTS[a.exchange];
    const p = perAccount[a.exchange] ?? { accounts: 0, min: Infinity, max: 0 };
    perAccount[a.exchange] = p;
    p.accounts += 1;
    p.min = Math.min(p.min, seen);
    p.max = Math.max(p.max, seen);
    if (seen !== EXPECTED_REQUESTS[a.exchange]) off[a.exchange] = (off[a.exchange] ?? 0) + 1;
  }
  const publicByExchange: Record<string, number> = {};
  for (const r of emu.requests) {
    if (!r.apiKey) publicByExchange[r.exchange] = (publicByExchange[r.exchange] ?? 0) + 1;
  }
  return {
    total: emu.requests.filter((r) => r.apiKey).length,
    expected,
    public: publicByExchange,
    off,
    perAccount,
  };
}

/** One cold run (fresh cache dir) with request accounting; throws if the report is not all ok. */
/**
 * Rounds of CPU per account, measured and for as many plain requests: the median round (by the
 * difference) and the difference's median and spread.
 */
function overPlain<R extends { measured: number; plain: number }>(rounds: R[]) {
  const over = rounds.map((r) => r.measured - r.plain);
  const mid = rounds[over.indexOf(median(over))] ?? (rounds[0] as R);
  return {
    mid,
    figures: {
      perAccountMs: round(mid.measured, 3),
      plainRequestsPerAccountMs: round(mid.plain, 3),
      overRequestsPerAccountMs: round(median(over), 3),
      overMinMs: round(Math.min(...over), 3),
      overMaxMs: round(Math.max(...over), 3),
    },
  };
}

async function coldRun(
  emu: Emulator,
  accounts: Account[],
  args: string[] = [],
  opts: { rss?: boolean } = {},
) {
  const { configDir, cacheDir } = await writeConfig(accounts, emu.urls);
  emu.clearRequests();
  const result = await runCli(configDir, ["--cache-dir", cacheDir, ...args], opts);
  const requests = checkRequests(emu, accounts);
  const kraken = emu.requests.filter((r) => r.exchange === "kraken").map((r) => r.startedAt);
  const krakenSpanMs = kraken.length > 1 ? Math.max(...kraken) - Math.min(...kraken) : 0;
  if (result.code !== 0) {
    throw new Error(
      `cold run (${accounts.length} accounts, ${args.join(" ")}) exited ${result.code}:\n${result.stderr.slice(0, 2000)}`,
    );
  }
  const failed = failedRows(result.stdout);
  if (failed > 0) throw new Error(`cold run: ${failed} rows not ok`);
  return { ...result, requests, krakenSpanMs, dirs: { configDir, cacheDir } };
}

// ---------------------------------------------------------------------------------------------
// Accounts on the emulator

const KEYS: Record<ExchangeId, () => { apiKey: string; secret: string; passphrase?: string }> = {
  kraken: newKrakenKey,
  coinbase: () => newCoinbaseCdpKey("es256"), // what Coinbase issues today (ES256 JWT per request)
  alpaca: () => newAlpacaKey(),
  binance: newBinanceKey,
  okx: newOkxKey,
};

const BALANCES: Record<ExchangeId, Record<string, AssetAmount>> = {
  kraken: { USD: { free: "1500.25" }, USDC: { free: "20" } },
  coinbase: { USD: { free: "980.10", used: "19.90" }, USDC: { free: "5" } },
  alpaca: { USD: { free: "2500.00" } },
  binance: { USDT: { free: "700.00", used: "1.50" } },
  okx: { USDT: { free: "321.09" } },
};

function seed(emu: Emulator, exchange: ExchangeId, index: number): Account {
  const { passphrase, ...key } = KEYS[exchange]();
  emu.addAccount({ exchange, ...key, passphrase, balances: BALANCES[exchange] });
  return {
    userId: `${exchange.slice(0, 2)}${String(index).padStart(4, "0")}`,
    exchange,
    ...key,
    ...(passphrase ? { password: passphrase } : {}),
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  tmpRoot = await mkdtemp(join(os.tmpdir(), "sub-bench-"));
  await writeFile(join(tmpRoot, "rss-hook.cjs"), RSS_HOOK);
  await writeFile(join(tmpRoot, "ccxt-path.mjs"), CCXT_PATH);
  await writeFile(join(tmpRoot, "ccxt-hooks.mjs"), CCXT_HOOKS);
  await writeFile(join(tmpRoot, "ccxt-register.mjs"), CCXT_REGISTER);
  const help = await runNode([CLI, "--help"], { cwd: tmpRoot });
  const helpDefault = /--concurrency <n>[^(]*\(default: (\d+)\)/.exec(
    help.stdout.replace(/\s+/g, " "),
  );
  if (helpDefault?.[1]) DEFAULT_CONCURRENCY = Number(helpDefault[1]);
  const emu = await startEmulator({
    latencyMs: LATENCY_MS,
    kraken: { counterMax: 1e9, decayPerSecond: 1e9 },
  });
  const benchStarted = performance.now();
  // The machine may be shared: record how busy it was, next to the numbers.
  const loadAtStart = os.loadavg().map((v) => round(v, 2));
  const results: Record<string, unknown> = {};
  const budgets: { name: string; target: string; actual: string; pass: boolean }[] = [];
  const budget = (name: string, target: string, actual: string, pass: boolean) => {
    budgets.push({ name, target, actual, pass });
  };

  try {
    // Non-Kraken accounts alternate coinbase (even) and alpaca (odd); N=1 is one coinbase account.
    const maxOthers = Math.max(...COLD_SIZES, ...RSS_SIZES);
    const others = Array.from({ length: maxOthers }, (_, i) =>
      seed(emu, i % 2 === 0 ? "coinbase" : "alpaca", i),
    );
    const krakens = Array.from({ length: Math.max(...KRAKEN_KEYS) }, (_, i) =>
      seed(emu, "kraken", i),
    );
    const binances = Array.from({ length: 10 }, (_, i) => seed(emu, "binance", i));
    const okxs = Array.from({ length: 10 }, (_, i) => seed(emu, "okx", i));

    // -- 1. Cache hit vs bare node, interleaved pairs ---------------------------------------
    // 10 accounts on all three brokers (4 coinbase, 3 alpaca, 3 kraken), cache warmed once; then
    // 1,000 accounts (coinbase and alpaca). Each CLI run is paired with a bare `node -e 0` run
    // just before it, and the budget is on the median of the pairs' ratios.
    const hitAccounts = [...others.slice(0, 7), ...krakens.slice(0, 3)];
    const hit = await writeConfig(hitAccounts, emu.urls);
    const warm = await runCli(hit.configDir, ["--cache-dir", hit.cacheDir]);
    if (warm.code !== 0) throw new Error(`warm-up run exited ${warm.code}: ${warm.stderr}`);
    const hit1000 = await writeConfig(others.slice(0, 1000), emu.urls);
    const warm1000 = await runCli(hit1000.configDir, ["--cache-dir", hit1000.cacheDir]);
    if (warm1000.code !== 0) throw new Error(`1,000 warm-up exited ${warm1000.code}`);
    emu.clearRequests();
    // The same hits through a Redis store (issue 8), each run with an empty cache directory so
    // the hits can only come from Redis. Skipped when redis-server is not installed.
    const redis = await startRedis();
    const redisArgs = async () => [
      "--cache-dir",
      await freshDir("empty-cache"),
      "--store",
      redis?.url ?? "",
    ];
    if (redis) {
      const warmRedis = await runCli(hit.configDir, await redisArgs());
      if (warmRedis.code !== 0)
        throw new Error(`redis warm-up exited ${warmRedis.code}: ${warmRedis.stderr}`);
    }
    emu.clearRequests();
    const cwd = dirname(hit.configDir);
    const bareNode = async () => (await runNode(["-e", "0"], { cwd })).ms;
    const hitRun = (dirs: { configDir: string; cacheDir: string }) => async () => {
      const r = await runCli(dirs.configDir, ["--cache-dir", dirs.cacheDir]);
      if (r.code !== 0 || failedRows(r.stdout) > 0)
        throw new Error(`cache-hit run failed: ${r.stderr}`);
      return r.ms;
    };
    let hit10: Paired;
    let redisHit: Paired | null = null;
    try {
      hit10 = await paired(REPS_STARTUP, bareNode, hitRun(hit));
      if (redis) {
        redisHit = await paired(REPS_STARTUP, bareNode, async () => {
          const h = await runCli(hit.configDir, await redisArgs());
          if (h.code !== 0 || h.stderr.includes("warning")) {
            throw new Error(`redis cache-hit run failed: ${h.stderr}`);
          }
          return h.ms;
        });
      }
    } finally {
      redis?.stop();
    }
    const hitThousand = await paired(REPS_STARTUP, bareNode, hitRun(hit1000));
    const hitRequests = emu.requests.length;
    const watched = await runCli(hit.configDir, ["--cache-dir", hit.cacheDir], {
      watchCcxt: true,
      rss: true,
    });
    const cacheHit = {
      method:
        "interleaved pairs: bare `node -e 0`, then the CLI; ratio = CLI / the bare run before it",
      accounts10: hit10,
      accounts1000: hitThousand,
      redis10: redisHit,
      emulatorRequestsDuringHits: hitRequests,
      ccxtModulesLoadedOnHit: watched.ccxtModules ?? null,
      cacheHitMaxRssMb: watched.maxRssKb ? round(watched.maxRssKb / 1024, 1) : null,
    };
    results.cacheHit = cacheHit;
    const pairRow = (name: string, p: Paired) => [
      name,
      ms(p.aMedianMs),
      ms(p.bMedianMs),
      `${p.ratio.median}x`,
      `${p.ratio.min}-${p.ratio.max}x`,
      `${p.load[0]}/${p.load[1]}`,
    ];
    printTable(
      `1. Cache hit vs bare \`node -e 0\`, ${REPS_STARTUP} interleaved pairs`,
      ["run", "node", "cli", "ratio", "min-max", "load"],
      [
        pairRow("10 accounts", hit10),
        pairRow("1,000 accounts", hitThousand),
        ...(redisHit ? [pairRow("10 accounts, Redis store", redisHit)] : []),
      ],
    );
    console.log(
      `emulator requests during hits: ${hitRequests}; ccxt modules resolved on a hit: ${cacheHit.ccxtModulesLoadedOnHit}; peak RSS ${cacheHit.cacheHitMaxRssMb} MB`,
    );
    const noFetch = hitRequests === 0 && cacheHit.ccxtModulesLoadedOnHit === 0;
    budget(
      "1a. cache hit, 10 accounts <= 1.5x bare node (0 requests, no ccxt)",
      `<= ${BUDGET.cacheHit10Ratio}x`,
      `${hit10.ratio.median}x, ${hitRequests} req, ${cacheHit.ccxtModulesLoadedOnHit} ccxt modules`,
      hit10.ratio.median <= BUDGET.cacheHit10Ratio && noFetch,
    );
    budget(
      "1b. cache hit, 1,000 accounts <= 2x bare node",
      `<= ${BUDGET.cacheHit1000Ratio}x`,
      `${hitThousand.ratio.median}x`,
      hitThousand.ratio.median <= BUDGET.cacheHit1000Ratio,
    );

    // -- Start-up, for the floors: a one-account cold run with zero emulated latency. Sampled
    // between the measured runs (not in one block) so load from other work on the machine hits
    // floors and measurements alike.
    const startupSamples = { others: [] as number[], kraken: [] as number[] };
    const sampleStartup = async (kind: "others" | "kraken") => {
      emu.setLatency(0);
      try {
        const one = kind === "kraken" ? krakens.slice(0, 1) : others.slice(0, 1);
        startupSamples[kind].push((await coldRun(emu, one)).ms);
      } finally {
        emu.setLatency(LATENCY_MS);
      }
    };

    // -- 2. Cold runs, non-Kraken, vs sequential ----------------------------------------------
    const requestChecks: Record<string, RequestCheck> = {};
    const coldRuns: { n: number; accounts: Account[]; conc: number[]; seqMs: number }[] = [];
    for (const n of COLD_SIZES) {
      const accounts = others.slice(0, n);
      const conc: number[] = [];
      for (let i = 0; i < REPS_COLD; i += 1) {
        await sampleStartup("others");
        const r = await coldRun(emu, accounts);
        conc.push(r.ms);
        requestChecks[`cold N=${n} #${i + 1}`] = r.requests;
      }
      const seq = await coldRun(emu, accounts, ["--concurrency", "1"]);
      requestChecks[`sequential N=${n}`] = seq.requests;
      coldRuns.push({ n, accounts, conc, seqMs: seq.ms });
    }
    const startupOthersMs = median(startupSamples.others);
    const coldRows = coldRuns.map(({ n, accounts, conc, seqMs }) => {
      // Each broker has its own slots: the larger broker's waves bound the run.
      const perBroker = Math.max(
        ...["coinbase", "alpaca"].map((x) => accounts.filter((a) => a.exchange === x).length),
      );
      const floor = startupOthersMs + Math.ceil(perBroker / DEFAULT_CONCURRENCY) * LATENCY_MS;
      return {
        accounts: n,
        coinbase: accounts.filter((a) => a.exchange === "coinbase").length,
        alpaca: accounts.filter((a) => a.exchange === "alpaca").length,
        concurrentMedianMs: round(median(conc), 1),
        concurrentRunsMs: conc.map((v) => round(v, 1)),
        sequentialMs: round(seqMs, 1),
        speedup: round(seqMs / median(conc), 1),
        floorAtDefaultConcurrencyMs: round(floor, 1),
      };
    });
    // For comparison: 100 accounts all on one broker take two waves of the default 64.
    const oneBroker = others.filter((a) => a.exchange === "coinbase").slice(0, 100);
    const wide: number[] = [];
    for (let i = 0; i < REPS_COLD; i += 1) {
      const r = await coldRun(emu, oneBroker, []);
      wide.push(r.ms);
      requestChecks[`cold N=100 coinbase only #${i + 1}`] = r.requests;
    }
    results.cold = {
      latencyMs: LATENCY_MS,
      brokers: "coinbase (CDP ES256 keys) and alpaca alternating; N=1 is coinbase",
      defaultConcurrency: DEFAULT_CONCURRENCY,
      startupMs: round(startupOthersMs, 1),
      startupSamplesMs: startupSamples.others.map((v) => round(v, 1)),
      rows: coldRows,
      n100CoinbaseOnlyMedianMs: round(median(wide), 1),
    };
    printTable(
      `2. Cold runs, coinbase+alpaca alternating, ${LATENCY_MS} ms latency (default --concurrency ${DEFAULT_CONCURRENCY}, median of ${REPS_COLD}) vs --concurrency 1 (1 run)`,
      ["accounts", "concurrent", "sequential", "speedup", "floor*"],
      coldRows.map((r) => [
        String(r.accounts),
        ms(r.concurrentMedianMs as number),
        ms(r.sequentialMs as number),
        `${r.speedup}x`,
        ms(r.floorAtDefaultConcurrencyMs as number),
      ]),
    );
    console.log(
      `* floor = start-up (1 coinbase account, 0 ms latency, median of ${startupSamples.others.length}: ${ms(startupOthersMs)}) + ceil(accounts on the larger broker / ${DEFAULT_CONCURRENCY}) x ${LATENCY_MS} ms (each broker has its own --concurrency slots)`,
    );
    console.log(
      `100 accounts all on Coinbase (two waves of ${DEFAULT_CONCURRENCY}): ${ms(median(wide))} (median of ${REPS_COLD})`,
    );
    const cold100 = coldRows.find((r) => r.accounts === 100)?.concurrentMedianMs as number;
    budget(
      `2. 100 non-Kraken accounts cold @${LATENCY_MS} ms < 0.6 s`,
      `< ${BUDGET.cold100Ms} ms`,
      ms(cold100),
      cold100 < BUDGET.cold100Ms,
    );

    // -- 3. Kraken ------------------------------------------------------------------------------
    const krakenRuns: { k: number; c: number; runs: number[]; spans: number[] }[] = [];
    for (const c of KRAKEN_CONCURRENCY) {
      for (const k of KRAKEN_KEYS) {
        const runs: number[] = [];
        const spans: number[] = [];
        for (let i = 0; i < REPS_COLD; i += 1) {
          await sampleStartup("kraken");
          const r = await coldRun(emu, krakens.slice(0, k), ["--kraken-concurrency", String(c)]);
          runs.push(r.ms);
          spans.push(r.krakenSpanMs);
          requestChecks[`kraken K=${k} c=${c} #${i + 1}`] = r.requests;
        }
        krakenRuns.push({ k, c, runs, spans });
      }
    }
    const startupKrakenMs = median(startupSamples.kraken);
    const krakenRows = krakenRuns.map(({ k, c, runs, spans }) => {
      const slots = Math.ceil(k / c);
      const floor = startupKrakenMs + slots * LATENCY_MS;
      const wall = median(runs);
      return {
        keys: k,
        krakenConcurrency: c,
        medianMs: round(wall, 1),
        runsMs: runs.map((v) => round(v, 1)),
        floorMs: round(floor, 1),
        overFloor: round(wall / floor - 1, 3),
        requestSpanMs: round(median(spans), 1),
        requestSpanFloorMs: (slots - 1) * LATENCY_MS,
      };
    });
    results.kraken = {
      latencyMs: LATENCY_MS,
      spacingMs: 1100,
      startupMs: round(startupKrakenMs, 1),
      startupSamplesMs: startupSamples.kraken.map((v) => round(v, 1)),
      floor:
        "start-up (1 Kraken account, 0 ms latency) + ceil(K / concurrency) x latency; one request per key, so the 1.1 s per-key spacing never binds",
      rows: krakenRows,
    };
    printTable(
      `3. Kraken, K keys (1 request each), ${LATENCY_MS} ms latency, median of ${REPS_COLD}`,
      ["keys", "conc", "wall", "floor*", "over", "req span", "span floor"],
      krakenRows.map((r) => [
        String(r.keys),
        String(r.krakenConcurrency),
        ms(r.medianMs as number),
        ms(r.floorMs as number),
        `${round((r.overFloor as number) * 100, 1)}%`,
        ms(r.requestSpanMs as number),
        ms(r.requestSpanFloorMs as number),
      ]),
    );
    console.log(
      `* floor = start-up (1 Kraken account, 0 ms latency, median of ${startupSamples.kraken.length}: ${ms(startupKrakenMs)}) + ceil(K/conc) x ${LATENCY_MS} ms; req span = first to last request arrival at the emulator`,
    );
    const worstKraken = Math.max(...krakenRows.map((r) => r.overFloor as number));
    budget(
      "3. Kraken within 10% of the floor (every K, both concurrencies)",
      `<= +${BUDGET.krakenSlack * 100}%`,
      `worst +${round(worstKraken * 100, 1)}%`,
      worstKraken <= BUDGET.krakenSlack,
    );

    // -- 4. Requests per account ----------------------------------------------------------------
    const mixed = [...others.slice(0, 20), ...krakens.slice(0, 10), ...binances, ...okxs];
    const mixedRun = await coldRun(emu, mixed);
    requestChecks["mixed 10 x 5 brokers"] = mixedRun.requests;
    // The same accounts valued at market (the default valuation): the public price look-ups
    // are once per exchange per run, whatever the number of accounts.
    const mixedTotal = await coldRun(emu, mixed, ["--valuation", "total"]);
    requestChecks["mixed 10 x 5 brokers, valuation total"] = mixedTotal.requests;
    printTable(
      "4. HTTP requests per account, cold run (10 each of coinbase, alpaca, kraken, binance, okx)",
      ["broker", "accounts", "min", "max", "expected"],
      Object.entries(mixedRun.requests.perAccount).map(([ex, p]) => [
        ex,
        String(p.accounts),
        String(p.min),
        String(p.max),
        String(EXPECTED_REQUESTS[ex as ExchangeId]),
      ]),
    );
    // -- 5. Peak RSS ----------------------------------------------------------------------------
    const rssRows: Record<string, unknown>[] = [];
    for (const n of RSS_SIZES) {
      const r = await coldRun(emu, others.slice(0, n), [], { rss: true });
      requestChecks[`rss N=${n}`] = r.requests;
      rssRows.push({
        accounts: n,
        maxRssMb: round((r.maxRssKb ?? 0) / 1024, 1),
        wallMs: round(r.ms, 1),
      });
    }
    results.rss = {
      method: "process.resourceUsage().maxRSS written by a --require preload on 'exit'",
      brokers: "coinbase and alpaca alternating, cold, default options",
      rows: rssRows,
    };
    printTable(
      "5. Peak RSS of the CLI process, cold run (coinbase+alpaca)",
      ["accounts", "peak RSS", "wall"],
      rssRows.map((r) => [String(r.accounts), `${r.maxRssMb} MB`, ms(r.wallMs as number)]),
    );
    const rss1000 = rssRows.find((r) => r.accounts === 1000)?.maxRssMb as number;
    budget(
      "5. peak RSS < 400 MB at 1,000 accounts",
      `< ${BUDGET.rssMb} MB`,
      `${rss1000} MB`,
      rss1000 < BUDGET.rssMb,
    );

    // -- 6. First request: process start to the first request at the emulator ------------------
    const firstDelays: number[] = [];
    for (let i = 0; i < REPS_COLD; i += 1) {
      const r = await coldRun(emu, others.slice(0, 1));
      requestChecks[`first request #${i + 1}`] = r.requests;
      const first = Math.min(...emu.requests.map((q) => q.startedAt));
      firstDelays.push(first - r.spawnedAt);
    }
    results.firstRequest = {
      method:
        "emulator arrival time of the first request minus the bench's spawn time, 1 coinbase account, cold",
      medianMs: round(median(firstDelays), 1),
      runsMs: firstDelays.map((v) => round(v, 1)),
    };
    console.log(
      `\n6. First request ${ms(median(firstDelays))} after process start (median of ${REPS_COLD}; runs ${firstDelays.map(ms).join(", ")})`,
    );
    budget(
      "6. first request <= 400 ms after process start",
      `<= ${BUDGET.firstRequestMs} ms`,
      ms(median(firstDelays)),
      median(firstDelays) <= BUDGET.firstRequestMs,
    );

    // -- 7. CPU per account, over the requests themselves ------------------------------------
    // 0 ms latency: the CPU of 1,000 accounts minus that of 100, per account, against the same
    // difference for a script that only sends as many plain requests (Node's http) to the
    // emulator: what is left is our cost on top of the request itself.
    emu.setLatency(0);
    let cpu: Record<string, number>;
    try {
      const cpuOf = async (n: number) => {
        const r = await coldRun(emu, others.slice(0, n), [], { rss: true });
        requestChecks[`cpu N=${n}`] = r.requests;
        return { cpuMs: r.cpuMs ?? 0, requests: r.requests.total + sumValues(r.requests.public) };
      };
      const floorOf = async (requests: number) => {
        const url = `${emu.urls.alpaca}/v2/clock`;
        // The CLI's transport (http-client.ts): Node's http with one keep-alive agent.
        const script = `import http from "node:http";const a=new http.Agent({keepAlive:true});const u=${JSON.stringify(url)};let n=${requests};const one=()=>new Promise((ok,ko)=>http.get(u,{agent:a},(r)=>{r.resume();r.on("end",ok)}).on("error",ko));const go=async()=>{while(n-->0)await one()};await Promise.all(Array.from({length:${DEFAULT_CONCURRENCY}},go));`;
        const usage = join(tmpRoot, `floor-${++runCounter}.txt`);
        await runNode(["--input-type=module", "-e", script], {
          cwd: tmpRoot,
          nodeArgs: ["--require", join(tmpRoot, "rss-hook.cjs")],
          env: { BENCH_RSS_FILE: usage },
        });
        const [, cpuUs] = (await readFile(usage, "utf8")).split(" ").map(Number);
        return (cpuUs ?? 0) / 1000;
      };
      // Three rounds, each measuring both sides back to back; the median round's difference.
      const rounds: { measured: number; plain: number; requests: number }[] = [];
      for (let round = 0; round < CPU_ROUNDS; round += 1) {
        const small = await cpuOf(100);
        const large = await cpuOf(1000);
        const floorSmall = await floorOf(small.requests);
        const floorLarge = await floorOf(large.requests);
        rounds.push({
          measured: (large.cpuMs - small.cpuMs) / 900,
          plain: (floorLarge - floorSmall) / 900,
          requests: large.requests,
        });
      }
      const { mid, figures } = overPlain(rounds);
      cpu = { ...figures, requestsPerAccount: round(mid.requests / 1000, 2) };
    } finally {
      emu.setLatency(LATENCY_MS);
    }
    results.cpuPerAccount = {
      method:
        "CPU (user+sys) of the CLI, (N=1,000 minus N=100) / 900, 0 ms latency, coinbase+alpaca; floor: as many plain keep-alive node:http requests; median of 3 rounds",
      ...cpu,
    };
    console.log(
      `7. CPU per account: ${cpu.perAccountMs} ms, of which plain requests ${cpu.plainRequestsPerAccountMs} ms: ${cpu.overRequestsPerAccountMs} ms on top (rounds ${cpu.overMinMs}-${cpu.overMaxMs}; ${cpu.requestsPerAccount} requests per account)`,
    );
    budget(
      "7. CPU per account on top of its requests <= 0.3 ms",
      `<= ${BUDGET.cpuPerAccountMs} ms`,
      `${cpu.overRequestsPerAccountMs} ms`,
      (cpu.overRequestsPerAccountMs ?? Infinity) <= BUDGET.cpuPerAccountMs,
    );

    // -- 7b. ccxt's request path alone (information, not a budget) ---------------------------
    // The same calls through ccxt's classes one account at a time, minus as many plain GETs one
    // at a time: what ccxt adds to each account's requests before the CLI does anything.
    emu.setLatency(0);
    let ccxtPath: Record<string, number>;
    try {
      const pathAccounts = others.slice(0, 1002);
      const input = join(tmpRoot, "ccxt-path.json");
      await writeFile(
        input,
        JSON.stringify({ root: pathToFileURL(ROOT).href, urls: emu.urls, accounts: pathAccounts }),
      );
      const cpuOfPath = async (n: number, plain: boolean) => {
        const r = await runNode([join(tmpRoot, "ccxt-path.mjs"), input, String(n)], {
          cwd: tmpRoot,
          env: plain ? { BENCH_PLAIN: "1" } : {},
        });
        if (r.code !== 0)
          throw new Error(`ccxt path (${n}) exited ${r.code}:\n${r.stderr.slice(-2000)}`);
        return Number(r.stdout);
      };
      const rounds: { measured: number; plain: number }[] = [];
      for (let round = 0; round < CPU_ROUNDS; round += 1) {
        rounds.push({
          measured: ((await cpuOfPath(1000, false)) - (await cpuOfPath(100, false))) / 900,
          plain: ((await cpuOfPath(1000, true)) - (await cpuOfPath(100, true))) / 900,
        });
      }
      ccxtPath = overPlain(rounds).figures;
    } finally {
      emu.setLatency(LATENCY_MS);
    }
    results.ccxtRequestPath = {
      method:
        "CPU (user+sys) of the raw private calls alone through ccxt's classes (dist/ccxt, our HTTP client and Coinbase signer), one account after another, (N=1,000 minus N=100) / 900, 0 ms latency, coinbase+alpaca; minus as many plain GETs one after another; median of 3 rounds; information, not a budget",
      ...ccxtPath,
    };
    console.log(
      `7b. ccxt's request path alone: ${ccxtPath.perAccountMs} ms per account, of which plain requests ${ccxtPath.plainRequestsPerAccountMs} ms: ${ccxtPath.overRequestsPerAccountMs} ms on top (rounds ${ccxtPath.overMinMs}-${ccxtPath.overMaxMs}; one at a time, no config, cache, history or report)`,
    );

    // -- 8. Ten Kraken users on one key: one request ------------------------------------------
    const sharedKey = krakens[0] as Account;
    const sameKey = Array.from({ length: 10 }, (_, i) => ({
      ...sharedKey,
      userId: `shared${i}`,
    }));
    const shared = await writeConfig(sameKey, emu.urls);
    emu.clearRequests();
    const sharedRun = await runCli(shared.configDir, ["--cache-dir", shared.cacheDir]);
    const sharedRequests = emu.requests.filter((r) => r.apiKey === sharedKey.apiKey).length;
    const sharedDoc = JSON.parse(sharedRun.stdout) as { summary: { duplicate_usd: number } };
    results.krakenSharedKey = {
      users: 10,
      requests: sharedRequests,
      wallMs: round(sharedRun.ms, 1),
      duplicateUsd: sharedDoc.summary.duplicate_usd,
    };
    console.log(
      `8. 10 Kraken users on one key: ${sharedRequests} request(s), ${ms(sharedRun.ms)}, duplicate_usd ${sharedDoc.summary.duplicate_usd}`,
    );
    budget(
      "8. 10 Kraken users on one key make 1 request",
      "1 request",
      `${sharedRequests}`,
      sharedRequests === 1 && sharedRun.code === 0,
    );

    // -- 9. Scale: 10,000 accounts cold, then a cache hit --------------------------------------
    const scaleAccounts = [
      ...others,
      ...Array.from({ length: SCALE_ACCOUNTS - others.length }, (_, i) =>
        seed(emu, i % 2 === 0 ? "coinbase" : "alpaca", others.length + i),
      ),
    ];
    const scaleArgs = ["--concurrency", String(SCALE_CONCURRENCY)];
    const scaleColds: Awaited<ReturnType<typeof coldRun>>[] = [];
    for (let i = 0; i < SCALE_COLD_RUNS; i += 1) {
      const run = await coldRun(emu, scaleAccounts, scaleArgs, { rss: true });
      requestChecks[`scale N=${SCALE_ACCOUNTS} cold #${i + 1}`] = run.requests;
      scaleColds.push(run);
    }
    const coldTimes = scaleColds.map((r) => r.ms);
    // The median run, whose cache the hits below read.
    const scaleCold = scaleColds[coldTimes.indexOf(median(coldTimes))] as (typeof scaleColds)[0];
    const scaleHits: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const h = await runCli(scaleCold.dirs.configDir, ["--cache-dir", scaleCold.dirs.cacheDir]);
      if (h.code !== 0) throw new Error(`scale hit exited ${h.code}`);
      scaleHits.push(h.ms);
    }
    const scale = {
      accounts: SCALE_ACCOUNTS,
      latencyMs: LATENCY_MS,
      concurrency: SCALE_CONCURRENCY,
      coldMs: round(scaleCold.ms, 1),
      coldRunsMs: coldTimes.map((v) => round(v, 1)),
      coldMaxRssMb: round((scaleCold.maxRssKb ?? 0) / 1024, 1),
      coldCpuMs: round(scaleCold.cpuMs ?? 0, 1),
      hitMedianMs: round(median(scaleHits), 1),
      hitRunsMs: scaleHits.map((v) => round(v, 1)),
    };
    results.scale = scale;
    console.log(
      `9. ${SCALE_ACCOUNTS} accounts (--concurrency ${SCALE_CONCURRENCY}, ${LATENCY_MS} ms latency): cold ${ms(scaleCold.ms)} (median of ${coldTimes.map(ms).join(", ")}), peak RSS ${scale.coldMaxRssMb} MB, CPU ${ms(scaleCold.cpuMs ?? 0)}; cache hit ${ms(median(scaleHits))}`,
    );
    budget(
      "9a. 10,000 accounts cold < 10 s",
      `< ${BUDGET.cold10000Ms} ms`,
      ms(scaleCold.ms),
      scaleCold.ms < BUDGET.cold10000Ms,
    );
    budget(
      "9b. 10,000 accounts cold, peak RSS < 400 MB",
      `< ${BUDGET.rssMb} MB`,
      `${scale.coldMaxRssMb} MB`,
      (scaleCold.maxRssKb ?? Infinity) / 1024 < BUDGET.rssMb,
    );
    budget(
      "9c. 10,000 accounts cache hit < 2 s",
      `< ${BUDGET.cacheHit10000Ms} ms`,
      ms(median(scaleHits)),
      median(scaleHits) < BUDGET.cacheHit10000Ms,
    );

    // Every cold run above was checked against the per-broker expectation.
    const offRuns = Object.entries(requestChecks).filter(
      ([, c]) => Object.keys(c.off).length > 0 || c.total !== c.expected,
    );
    console.log(
      `public price requests per run, valuation total: ${JSON.stringify(mixedTotal.requests.public)}`,
    );
    results.requests = {
      expectedPerAccount: EXPECTED_REQUESTS,
      mixedRun: mixedRun.requests,
      mixedRunValuationTotal: mixedTotal.requests,
      everyColdRun: requestChecks,
      runsOffExpectation: offRuns.map(([name]) => name),
    };
    console.log(
      `every cold run above checked: ${Object.keys(requestChecks).length} runs, ${offRuns.length} off expectation${offRuns.length ? `: ${offRuns.map(([n]) => n).join(", ")}` : ""}`,
    );
    budget(
      "4. requests per account: 1 (kraken, coinbase, binance, okx), 2 (alpaca)",
      "exact, every run",
      `${offRuns.length} runs off`,
      offRuns.length === 0,
    );
  } finally {
    await emu.close();
    await rm(tmpRoot, { recursive: true, force: true });
  }

  printTable(
    "Budgets",
    ["budget", "target", "actual", "result"],
    [...budgets]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((b) => [b.name, b.target, b.actual, b.pass ? "PASS" : "FAIL"]),
  );
  const cpus = os.cpus();
  const document = {
    date: new Date().toISOString(),
    node: process.version,
    machine: {
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? "unknown",
      totalMemMb: Math.round(os.totalmem() / 2 ** 20),
      loadAvgAtEnd: os.loadavg().map((v) => round(v, 2)),
    },
    loadAvgAtStart: loadAtStart,
    settings: { latencyMs: LATENCY_MS, repsStartup: REPS_STARTUP, repsCold: REPS_COLD },
    durationS: round((performance.now() - benchStarted) / 1000, 1),
    ...results,
    budgets,
  };
  await writeFile(RESULTS, `${JSON.stringify(document, null, 2)}\n`);
  console.log(
    `\nload average at start ${loadAtStart.join(" ")}, at end ${document.machine.loadAvgAtEnd.join(" ")} (${cpus.length} CPUs)`,
  );
  console.log(`\nwrote ${RESULTS} (${document.durationS} s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
