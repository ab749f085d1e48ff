import type { Credentials } from "../../src/brokers/types.js";
import {
  type AccountSeed,
  type Emulator,
  type ExchangeId,
  newAlpacaKey,
  newCoinbaseCdpKey,
  newCoinbaseHmacKey,
  newKrakenKey,
} from "../../src/emulator/index.js";

export type KeyKind = "kraken" | "es256" | "ed25519" | "hmac" | "alpaca";

const KEY_MAKERS: Record<KeyKind, () => { apiKey: string; secret: string }> = {
  kraken: newKrakenKey,
  es256: () => newCoinbaseCdpKey("es256"),
  ed25519: () => newCoinbaseCdpKey("ed25519"),
  hmac: newCoinbaseHmacKey,
  alpaca: newAlpacaKey,
};

const DEFAULT_KIND: Record<ExchangeId, KeyKind> = {
  kraken: "kraken",
  coinbase: "es256",
  alpaca: "alpaca",
};

/** Opens an account on the emulator with fresh keys; amounts are `free` unless given as objects. */
export function seedAccount(
  emulator: Emulator,
  exchange: ExchangeId,
  balances: Record<string, string | { free: string; used?: string }>,
  extra: Partial<AccountSeed> & { kind?: KeyKind } = {},
): Credentials {
  const { kind, ...seed } = extra;
  const key = KEY_MAKERS[kind ?? DEFAULT_KIND[exchange]]();
  emulator.addAccount({
    exchange,
    ...key,
    balances: Object.fromEntries(
      Object.entries(balances).map(([code, v]) => [code, typeof v === "string" ? { free: v } : v]),
    ),
    ...seed,
  });
  return key;
}
