import type { Credentials } from "../../src/brokers/types.js";
import {
  type AccountSeed,
  type Emulator,
  type ExchangeId,
  newAlpacaKey,
  newBinanceKey,
  newCoinbaseCdpKey,
  newCoinbaseHmacKey,
  newKrakenKey,
  newOkxKey,
} from "../../src/emulator/index.js";

export type KeyKind = "kraken" | "es256" | "ed25519" | "hmac" | "alpaca" | "binance" | "okx";

const KEY_MAKERS: Record<KeyKind, () => { apiKey: string; secret: string; passphrase?: string }> = {
  kraken: newKrakenKey,
  es256: () => newCoinbaseCdpKey("es256"),
  ed25519: () => newCoinbaseCdpKey("ed25519"),
  hmac: newCoinbaseHmacKey,
  alpaca: () => newAlpacaKey(),
  binance: newBinanceKey,
  okx: newOkxKey,
};

const DEFAULT_KIND: Record<ExchangeId, KeyKind> = {
  kraken: "kraken",
  coinbase: "es256",
  alpaca: "alpaca",
  binance: "binance",
  okx: "okx",
};

/** Opens an account on the emulator with fresh keys; amounts are `free` unless given as objects. */
export function seedAccount(
  emulator: Emulator,
  exchange: ExchangeId,
  balances: Record<string, string | { free: string; used?: string }>,
  extra: Partial<AccountSeed> & { kind?: KeyKind } = {},
): Credentials {
  const { kind, ...seed } = extra;
  // OKX's passphrase is the seed's `passphrase` and ccxt's `password`.
  const which = kind ?? DEFAULT_KIND[exchange];
  // Alpaca key ids say their environment: AK live, PK paper.
  const make: () => { apiKey: string; secret: string; passphrase?: string } =
    which === "alpaca" && seed.sandbox ? () => newAlpacaKey("paper") : KEY_MAKERS[which];
  const { passphrase, ...key } = make();
  emulator.addAccount({
    exchange,
    ...key,
    ...(passphrase === undefined ? {} : { passphrase }),
    balances: Object.fromEntries(
      Object.entries(balances).map(([code, v]) => [code, typeof v === "string" ? { free: v } : v]),
    ),
    ...seed,
  });
  return passphrase === undefined ? key : { ...key, password: passphrase };
}
