/**
 * Local exchange emulator: Kraken, Coinbase, Alpaca (live and paper), Binance (live and spot
 * testnet) and OKX (live and demo trading, by header) on 127.0.0.1, each speaking the wire format
 * the real ccxt classes send and parse, with real signature, nonce/timestamp and rate-limit checks.
 * It is the network boundary for tests, the demo and benchmarks; never a mock of ccxt.
 *
 *   const emulator = await startEmulator();
 *   const { apiKey, secret } = newKrakenKey();
 *   emulator.addAccount({ exchange: "kraken", apiKey, secret, balances: { USD: { free: "10" } } });
 *   exchange.urls.api = rebaseApiUrls(exchange.urls.api, emulator.urls.kraken);
 */
import { AlpacaAdapter } from "./alpaca.js";
import { BinanceAdapter } from "./binance.js";
import { CoinbaseAdapter } from "./coinbase.js";
import { KrakenAdapter } from "./kraken.js";
import { OkxAdapter } from "./okx.js";
import { type ExchangeAdapter, ExchangeServer } from "./server.js";
import { EmulatorState, toHoldings } from "./state.js";
import type {
  AccountSeed,
  AssetAmount,
  Emulator,
  EmulatorOptions,
  EmulatorUrls,
  ExchangeId,
  Fault,
  RecordedRequest,
} from "./types.js";

export {
  newAlpacaKey,
  newBinanceKey,
  newCoinbaseCdpKey,
  newCoinbaseHmacKey,
  newKrakenKey,
  newOkxKey,
} from "./keys.js";
export type {
  AccountSeed,
  AssetAmount,
  Emulator,
  EmulatorOptions,
  EmulatorUrls,
  ExchangeId,
  Fault,
  RecordedRequest,
} from "./types.js";

function checkFault(exchange: ExchangeId, fault: Fault): void {
  if (fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times > 0)) {
    throw new TypeError(`fault.times must be a positive integer, got ${fault.times}`);
  }
  if (fault.kind === "invalid_nonce" && exchange === "alpaca") {
    throw new TypeError(
      "invalid_nonce does not exist on alpaca (no nonce); use it on kraken or coinbase",
    );
  }
  if (
    fault.kind === "http" &&
    !(Number.isInteger(fault.status) && fault.status >= 400 && fault.status <= 599)
  ) {
    throw new TypeError(`fault.status must be an HTTP error status, got ${fault.status}`);
  }
  if (fault.kind === "latency" && !(fault.ms >= 0))
    throw new TypeError(`fault.ms must be >= 0, got ${fault.ms}`);
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const state = new EmulatorState(options);
  const requests: RecordedRequest[] = [];
  // One server per origin; a test environment with a host of its own gets its own server.
  const adapters: Record<keyof EmulatorUrls, ExchangeAdapter> = {
    kraken: new KrakenAdapter(state),
    coinbase: new CoinbaseAdapter(state),
    alpaca: new AlpacaAdapter(state, "live"),
    alpacaPaper: new AlpacaAdapter(state, "sandbox"),
    binance: new BinanceAdapter(state, "live"),
    binanceTestnet: new BinanceAdapter(state, "sandbox"),
    okx: new OkxAdapter(state),
  };
  const names = Object.keys(adapters) as (keyof EmulatorUrls)[];
  const servers = names.map((name) => new ExchangeServer(adapters[name], state, requests));
  const origins = await Promise.all(servers.map((server) => server.listen()));
  const urls = Object.fromEntries(names.map((name, i) => [name, origins[i]])) as EmulatorUrls;
  let closing: Promise<void> | undefined;

  return {
    urls,
    addAccount(seed: AccountSeed): void {
      state.addAccount(seed);
    },
    setBalances(
      exchange: ExchangeId,
      apiKey: string,
      balances: Record<string, AssetAmount>,
      wallet: "main" | "funding" = "main",
    ): void {
      const account = state.require(exchange, apiKey);
      const holdings = toHoldings(balances, `${exchange} account ${apiKey} ${wallet}`);
      if (wallet === "main") account.balances = holdings;
      else if (exchange === "binance" || exchange === "okx") account.funding = holdings;
      else throw new TypeError(`${exchange} has no funding wallet`);
    },
    setFault(exchange: ExchangeId, apiKey: string, fault: Fault | null): void {
      const account = state.require(exchange, apiKey);
      if (fault !== null) checkFault(exchange, fault);
      account.fault = fault;
      account.faultLeft = fault?.times ?? null;
    },
    setPrices(exchange: ExchangeId, usdPrices: Record<string, string>): void {
      state.setPrices(exchange, usdPrices);
    },
    setLatency(ms: number): void {
      if (!(ms >= 0)) throw new TypeError(`latency must be >= 0 ms, got ${ms}`);
      state.latencyMs = ms;
    },
    get requests(): RecordedRequest[] {
      return requests;
    },
    clearRequests(): void {
      requests.length = 0;
    },
    close(): Promise<void> {
      closing ??= Promise.all(servers.map((server) => server.close())).then(() => undefined);
      return closing;
    },
  };
}
