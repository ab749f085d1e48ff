import type { BrokerAdapter } from "./adapter.js";
import { alpacaAdapter } from "./alpaca.js";
import { binanceAdapter } from "./binance.js";
import { coinbaseAdapter } from "./coinbase.js";
import { genericAdapter } from "./generic.js";
import { krakenAdapter } from "./kraken.js";
import { okxAdapter } from "./okx.js";

/** Brokers tested end to end against the emulator; every other ccxt id uses the generic path. */
const adapters: Record<string, BrokerAdapter> = {
  coinbase: coinbaseAdapter,
  kraken: krakenAdapter,
  alpaca: alpacaAdapter,
  binance: binanceAdapter,
  okx: okxAdapter,
};

export function adapterFor(broker: string): BrokerAdapter {
  return adapters[broker] ?? genericAdapter;
}
