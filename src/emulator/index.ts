/**
 * Local exchange emulator: Kraken, Coinbase and Alpaca on 127.0.0.1, each speaking the wire
 * format the real ccxt classes send and parse, with real signature, nonce and rate-limit checks.
 * It is the network boundary for tests, the demo and benchmarks; never a mock of ccxt.
 *
 *   const emulator = await startEmulator();
 *   const { apiKey, secret } = newKrakenKey();
 *   emulator.addAccount({ exchange: "kraken", apiKey, secret, balances: { USD: { free: "10" } } });
 *   exchange.urls.api = rebaseApiUrls(exchange.urls.api, emulator.urls.kraken);
 */
import { AlpacaAdapter } from "./alpaca.js";
import { CoinbaseAdapter } from "./coinbase.js";
import { KrakenAdapter } from "./kraken.js";
import { type ExchangeAdapter, ExchangeServer } from "./server.js";
import { EmulatorState, toHoldings } from "./state.js";
import type {
  AccountSeed,
  AssetAmount,
  Emulator,
  EmulatorOptions,
  ExchangeId,
  Fault,
  RecordedRequest,
} from "./types.js";

export { newAlpacaKey, newCoinbaseCdpKey, newCoinbaseHmacKey, newKrakenKey } from "./keys.js";
export type {
  AccountSeed,
  AssetAmount,
  Emulator,
  EmulatorOptions,
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
  const adapters: Record<ExchangeId, ExchangeAdapter> = {
    kraken: new KrakenAdapter(state),
    coinbase: new CoinbaseAdapter(state),
    alpaca: new AlpacaAdapter(state),
  };
  const servers = {
    kraken: new ExchangeServer(adapters.kraken, state, requests),
    coinbase: new ExchangeServer(adapters.coinbase, state, requests),
    alpaca: new ExchangeServer(adapters.alpaca, state, requests),
  };
  const [kraken, coinbase, alpaca] = await Promise.all([
    servers.kraken.listen(),
    servers.coinbase.listen(),
    servers.alpaca.listen(),
  ]);
  let closing: Promise<void> | undefined;

  return {
    urls: { kraken, coinbase, alpaca },
    addAccount(seed: AccountSeed): void {
      state.addAccount(seed);
    },
    setBalances(exchange: ExchangeId, apiKey: string, balances: Record<string, AssetAmount>): void {
      state.require(exchange, apiKey).balances = toHoldings(
        balances,
        `${exchange} account ${apiKey}`,
      );
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
      closing ??= Promise.all([
        servers.kraken.close(),
        servers.coinbase.close(),
        servers.alpaca.close(),
      ]).then(() => undefined);
      return closing;
    },
  };
}
