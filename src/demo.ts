/**
 * `npm run demo`: the guide's report, for real, with no credentials and no network. It starts the
 * local exchange emulator seeded with the guide's figures, makes fresh throwaway keys, and runs
 * the CLI as a child process against the shipped config/ through real ccxt (real HTTP, real
 * signatures). Extra arguments go to the CLI: `npm run demo -- --json`, `-- --status`.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ExchangeId,
  newCoinbaseCdpKey,
  newKrakenKey,
  startEmulator,
} from "./emulator/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const emulator = await startEmulator({ latencyMs: 40 });
const env: Record<string, string> = {};

function account(exchange: ExchangeId, envPrefix: string, balances: Record<string, string>) {
  const key = exchange === "kraken" ? newKrakenKey() : newCoinbaseCdpKey("es256");
  emulator.addAccount({
    exchange,
    ...key,
    balances: Object.fromEntries(Object.entries(balances).map(([code, free]) => [code, { free }])),
  });
  env[`${envPrefix}_API_KEY`] = key.apiKey;
  env[`${envPrefix}_API_SECRET`] = key.secret;
}

// The guide's figures in USD and stablecoins; the crypto only counts with --valuation total.
account("coinbase", "COINBASE", { USD: "1000.00", USDC: "234.56", BTC: "0.01" });
account("kraken", "KRAKEN", { USD: "5678.90", ETH: "0.5" });
account("coinbase", "COINBASE_USER_ALICE", { USD: "250.00" });
account("kraken", "KRAKEN_USER_ALICE", { USD: "750.00" });
account("kraken", "KRAKEN_USER_BOB", { USDT: "2500.00" });
emulator.setPrices("coinbase", { BTC: "65000.00" });
emulator.setPrices("kraken", { ETH: "3200.00" });

const scratch = await mkdtemp(join(tmpdir(), "show-user-balances-demo-"));
const child = spawn(
  process.execPath,
  [join(root, "dist", "cli.js"), "--config-dir", join(root, "config"), ...process.argv.slice(2)],
  {
    cwd: scratch, // no stray .env from the working directory
    stdio: "inherit",
    env: {
      // The demo's keys only: credentials from the caller's shell must not leak into it.
      ...Object.fromEntries(
        Object.entries(process.env).filter(
          ([name]) => !/_API_(KEY|SECRET|PASSPHRASE|URL)$/.test(name),
        ),
      ),
      ...env,
      COINBASE_API_URL: emulator.urls.coinbase,
      KRAKEN_API_URL: emulator.urls.kraken,
      XDG_CACHE_HOME: join(scratch, "cache"),
      XDG_STATE_HOME: join(scratch, "state"),
    },
  },
);
const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
await emulator.close();
await rm(scratch, { recursive: true, force: true });
process.exitCode = code;
