import { join } from "node:path";
import type { Credentials } from "../../src/brokers/types.js";
import type { Emulator } from "../../src/emulator/index.js";
import { type CliResult, runCli, scratch, spawnCli, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

export interface ServeSetup {
  dir: string;
  config: string;
  cache: string;
  /** XDG_STATE_HOME of every process: the monitor's history stays in the scratch directory. */
  state: string;
  keys: Record<string, Credentials>;
  /** Flags every run of this setup shares: config, cache, a short Kraken gap. */
  flags: string[];
}

/**
 * The guide's figures (platform $1,234.56 + $5,678.90; alice $250 + $750; bob $2,500), with
 * credentials inline in 0600 files. `failing` adds a platform Alpaca account whose key was
 * revoked; `users` adds more users with one Kraken account each; `platformName` replaces the
 * platform's name ("Nija System").
 */
export async function guideSetup(
  emulator: Emulator,
  extra: {
    failing?: boolean;
    users?: { id: string; name: string; usd: string }[];
    platformName?: string;
  } = {},
): Promise<ServeSetup> {
  const s = await scratch();
  const platformCoinbase = seedAccount(emulator, "coinbase", { USD: "1000.00", USDC: "234.56" });
  const platformKraken = seedAccount(emulator, "kraken", { USD: "5678.90" });
  const aliceCoinbase = seedAccount(emulator, "coinbase", { USD: "250.00" });
  const aliceKraken = seedAccount(emulator, "kraken", { USD: "750.00" });
  const bobKraken = seedAccount(emulator, "kraken", { USDT: "2500.00" });
  const keys: Record<string, Credentials> = {
    platformCoinbase,
    platformKraken,
    aliceCoinbase,
    aliceKraken,
    bobKraken,
  };
  const on = (broker: "kraken" | "coinbase" | "alpaca", credentials: Credentials) => ({
    broker,
    credentials,
    apiUrl: emulator.urls[broker],
  });
  const platform = [on("coinbase", platformCoinbase), on("kraken", platformKraken)];
  if (extra.failing) {
    const revoked = seedAccount(emulator, "alpaca", { USD: "100.00" });
    emulator.setFault("alpaca", revoked.apiKey, { kind: "revoked" });
    keys.platformAlpaca = revoked;
    platform.push(on("alpaca", revoked));
  }
  await writeJson(join(s.config, "platform.json"), {
    name: extra.platformName ?? "Nija System",
    brokers: platform,
  });
  await writeJson(join(s.config, "users", "alice.json"), {
    user_id: "alice",
    name: "Alice",
    brokers: [on("coinbase", aliceCoinbase), on("kraken", aliceKraken)],
  });
  await writeJson(join(s.config, "users", "bob.json"), {
    user_id: "bob",
    name: "Bob",
    brokers: [on("kraken", bobKraken)],
  });
  for (const user of extra.users ?? []) {
    const key = seedAccount(emulator, "kraken", { USD: user.usd });
    keys[user.id] = key;
    await writeJson(join(s.config, "users", `${user.id}.json`), {
      user_id: user.id,
      name: user.name,
      brokers: [on("kraken", key)],
    });
  }
  const flags = ["--config-dir", s.config, "--cache-dir", s.cache, "--kraken-spacing", "50"];
  return { ...s, state: join(s.dir, "state"), keys, flags };
}

/** The CLI's report, once, with this setup's flags. */
export function report(s: ServeSetup, args: string[] = []): Promise<CliResult> {
  return runCli([...s.flags, ...args], { cwd: s.dir, env: { XDG_STATE_HOME: s.state } });
}

export interface Served {
  url: string;
  /** Sends SIGTERM and resolves with the process's exit. */
  stop(): Promise<CliResult>;
  done: Promise<CliResult>;
  pid: number;
}

const running = new Set<Served>();

/** Starts `serve --port 0` and waits for the URL it prints. */
export async function serve(
  s: ServeSetup,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Served> {
  const { child, done } = spawnCli(["serve", ...s.flags, "--port", "0", ...args], {
    cwd: s.dir,
    env: { XDG_STATE_HOME: s.state, ...env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 10_000);
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      const match = /Dashboard on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    done.then((result) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${result.code}: ${result.stderr}`));
    });
  });
  const served: Served = {
    url,
    done,
    pid: child.pid ?? 0,
    stop: () => {
      running.delete(served);
      child.kill("SIGTERM");
      return done;
    },
  };
  running.add(served);
  return served;
}

/** For afterEach: stops every server a test left running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((served) => served.stop()));
}

/**
 * A JSON document without what differs between two runs over the same cache (times and ages)
 * and without `alerts`, which the CLI's monitor adds from its own history: the dashboard
 * records what it fetches but fires no alert.
 */
export function withoutTimes(doc: unknown): unknown {
  const dropped = new Set(["timestamp", "fetched_at", "age_seconds", "alerts"]);
  return JSON.parse(JSON.stringify(doc, (key, value) => (dropped.has(key) ? undefined : value)));
}
