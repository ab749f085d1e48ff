/** Public types of the exchange emulator (see index.ts for the entry point). */

export type ExchangeId = "kraken" | "coinbase" | "alpaca";

/** Decimal strings, kept exact end to end. */
export interface AssetAmount {
  free: string;
  used?: string;
}

export interface AccountSeed {
  exchange: ExchangeId;
  apiKey: string;
  /** What the exchange needs to verify: Kraken base64 secret, Coinbase PEM / base64 Ed25519 / HMAC secret, Alpaca secret key. */
  secret: string;
  /** Unified codes: "USD", "USDC", "BTC", "ETH", "AAPL"... */
  balances: Record<string, AssetAmount>;
  /** Coinbase: pad the account list with zero-balance wallets up to this many, so it spans pages. */
  walletCount?: number;
  /** no_funds_query -> the exchange's permission-denied answer. */
  permissions?: "full" | "no_funds_query";
}

export type Fault =
  | { kind: "latency"; ms: number; times?: number }
  | { kind: "http"; status: number; times?: number }
  | { kind: "rate_limit"; times?: number }
  | { kind: "invalid_nonce"; times?: number }
  | { kind: "hang"; times?: number }
  | { kind: "malformed"; times?: number }
  | { kind: "revoked"; times?: number };

export interface RecordedRequest {
  exchange: ExchangeId;
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** The key the request claims (header, JWT `sub`); null for public requests. */
  apiKey: string | null;
  /** ms epoch with sub-ms precision (performance.timeOrigin + performance.now()). */
  startedAt: number;
  /** 0 while unanswered (and for a hung request). */
  status: number;
  /** e.g. "EAPI:Invalid nonce", "unauthorized", "hang"; null when ok. */
  error: string | null;
  /** Kraken private requests. */
  nonce?: string;
}

export interface EmulatorOptions {
  /** Added to every response, default 0. */
  latencyMs?: number;
  /** Private call counter per key, default max 15 and decay 0.33/s, +1 per BalanceEx. */
  kraken?: { counterMax?: number; decayPerSecond?: number };
  /** Per key, default 30. */
  coinbase?: { requestsPerSecond?: number };
  /** Per key, default 200. */
  alpaca?: { requestsPerMinute?: number };
}

export interface Emulator {
  urls: Record<ExchangeId, string>;
  addAccount(seed: AccountSeed): void;
  setBalances(exchange: ExchangeId, apiKey: string, balances: Record<string, AssetAmount>): void;
  setFault(exchange: ExchangeId, apiKey: string, fault: Fault | null): void;
  setPrices(exchange: ExchangeId, usdPrices: Record<string, string>): void;
  setLatency(ms: number): void;
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  /** Also ends hung requests. */
  close(): Promise<void>;
}
