/**
 * `npm run demo`: the guide's report, for real, with no credentials and no network. It starts the
 * local exchange emulator seeded with the guide's figures, makes fresh throwaway keys, and runs
 * the CLI as a child process against a copy of the shipped config/ through real ccxt (real HTTP,
 * real signatures). Extra arguments go to the CLI: `npm run demo -- --json`, `-- --status`,
 * `-- serve`. Ctrl-C or SIGTERM stops the CLI and then the demo, which removes its temp folder.
 */
import { spawn } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ExchangeId,
  newBinanceKey,
  newCoinbaseCdpKey,
  newKrakenKey,
  newOkxKey,
  startEmulator,
} from "./emulator/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const emulator = await startEmulator({ latencyMs: 40 });
const env: Record<string, string> = {};

const KEYS: Partial<
  Record<ExchangeId, () => { apiKey: string; secret: string; passphrase?: string }>
> = {
  kraken: newKrakenKey,
  coinbase: () => newCoinbaseCdpKey("es256"),
  binance: newBinanceKey,
  okx: newOkxKey,
};

function account(exchange: ExchangeId, envPrefix: string, balances: Record<string, string>) {
  const make = KEYS[exchange] ?? newKrakenKey;
  const key: { apiKey: string; secret: string; passphrase?: string } = make();
  emulator.addAccount({
    exchange,
    ...key,
    balances: Object.fromEntries(Object.entries(balances).map(([code, free]) => [code, { free }])),
  });
  env[`${envPrefix}_API_KEY`] = key.apiKey;
  env[`${envPrefix}_API_SECRET`] = key.secret;
  if (key.passphrase) env[`${envPrefix}_PASSPHRASE`] = key.passphrase;
}

// The guide's figures are what each account is worth (the default valuation): the platform's
// crypto is part of them (0.0025 BTC at 60,000 = 150.00; 0.2 ETH at 3,200 = 640.00), and
// `--valuation cash` shows the cash alone.
account("coinbase", "COINBASE", { USD: "1000.00", USDC: "84.56", BTC: "0.0025" });
account("kraken", "KRAKEN", { USD: "5038.90", ETH: "0.2" });
account("coinbase", "COINBASE_USER_ALICE", { USD: "250.00" });
account("kraken", "KRAKEN_USER_ALICE", { USD: "750.00" });
account("kraken", "KRAKEN_USER_BOB", { USDT: "2500.00" });
// Beyond the guide: the original's other working brokers, one user each.
account("binance", "BINANCE_USER_CAROL", { USDT: "900.00", BTC: "0.005" }); // 900 + 300 = 1,200.00
account("okx", "OKX_USER_DAVE", { USDC: "480.00", ETH: "0.1" }); // 480 + 320 = 800.00 (totalEq)
emulator.setPrices("coinbase", { BTC: "60000.00" });
emulator.setPrices("kraken", { ETH: "3200.00" });
emulator.setPrices("binance", { BTC: "60000.00" });
emulator.setPrices("okx", { ETH: "3200.00" });

const scratch = await mkdtemp(join(tmpdir(), "show-user-balances-demo-"));
// The CLI's default ./config, whatever the arguments (`serve`, `portfolio`, flags in any order),
// and a copy, so nothing the demo runs writes into the checkout.
await cp(join(root, "config"), join(scratch, "config"), { recursive: true });
const child = spawn(process.execPath, [join(root, "dist", "cli.cjs"), ...process.argv.slice(2)], {
  cwd: scratch, // no stray .env from the working directory
  stdio: "inherit",
  // Its own process group: a terminal's Ctrl-C reaches the demo only, which passes exactly one
  // signal on (two would make `--watch` and `serve` skip their clean shutdown).
  detached: true,
  env: {
    // The demo's keys only: credentials from the caller's shell must not leak into it.
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) =>
          !/_(API_KEY|API_SECRET|API_PASSPHRASE|PASSPHRASE|PEM_CONTENT|API_URL|BASE_URL|PAPER|USE_TESTNET|SIMULATED_TRADING)$/.test(
            name,
          ),
      ),
    ),
    ...env,
    COINBASE_API_URL: emulator.urls.coinbase,
    KRAKEN_API_URL: emulator.urls.kraken,
    BINANCE_API_URL: emulator.urls.binance,
    OKX_API_URL: emulator.urls.okx,
    XDG_CACHE_HOME: join(scratch, "cache"),
    XDG_STATE_HOME: join(scratch, "state"),
  },
});
const exited = new Promise<number>((resolve) =>
  child.on("exit", (code, signal) =>
    resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)),
  ),
);
// Stopping the demo stops the CLI first (a `serve` child would otherwise outlive it), then the
// cleanup below runs. npm may pass the terminal's signal on too: one is forwarded, the rest wait.
let forwarded = false;
const stop = (signal: NodeJS.Signals) => {
  if (forwarded) return;
  forwarded = true;
  child.kill(signal);
};
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
for (const signal of SIGNALS) process.on(signal, stop);
const code = await exited;
await emulator.close();
await rm(scratch, { recursive: true, force: true });
for (const signal of SIGNALS) process.off(signal, stop);
process.exitCode = code;
