/** Public types of the exchange emulator (see index.ts for the entry point). */

export type ExchangeId = "kraken" | "coinbase" | "alpaca" | "binance" | "okx";

/** Decimal strings, kept exact end to end. */
export interface AssetAmount {
  free: string;
  used?: string;
}

export interface AccountSeed {
  exchange: ExchangeId;
  apiKey: string;
  /**
   * What the exchange needs to verify: Kraken base64 secret, Coinbase PEM / base64 Ed25519 / HMAC
   * secret, Alpaca secret key, Binance / OKX HMAC secret.
   */
  secret: string;
  /** OKX: the passphrase chosen when the key was made (required there, refused elsewhere). */
  passphrase?: string;
  /**
   * The exchange's test environment: Alpaca paper (`urls.alpacaPaper`), Binance spot testnet
   * (`urls.binanceTestnet`), OKX demo trading (header `x-simulated-trading: 1`). The key exists
   * only there, as on the exchange, where live and test keys are issued separately.
   */
  sandbox?: boolean;
  /** Unified codes: "USD", "USDC", "BTC", "ETH", "AAPL"... (Binance spot, OKX trading account). */
  balances: Record<string, AssetAmount>;
  /** Binance funding wallet / OKX funding account, read by their own endpoints. */
  funding?: Record<string, AssetAmount>;
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
  /** Set when the request went to a test environment (paper, testnet, OKX demo header). */
  sandbox?: true;
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
  /**
   * Per IP (per server: live and testnet count apart), Binance's fixed one-minute windows: default
   * 6000 weight (account 20, funding 1, all prices 4, time 1). Requests refused with 429 past
   * `banAfter` (default 5) in one window ban the IP for `banSeconds` (default 120) with 418.
   */
  binance?: { weightPerMinute?: number; banAfter?: number; banSeconds?: number };
  /** Per key: account/balance 10 per 2 s, asset/balances 6 per s (OKX's documented limits). */
  okx?: { balanceRequestsPer2s?: number; fundingRequestsPerSecond?: number };
}

/** Where each server listens; the test environments have servers of their own. */
export type EmulatorUrls = Record<ExchangeId, string> & {
  /** Alpaca paper trading (paper-api.alpaca.markets). */
  alpacaPaper: string;
  /** Binance spot testnet (testnet.binance.vision). */
  binanceTestnet: string;
};

export interface Emulator {
  urls: EmulatorUrls;
  addAccount(seed: AccountSeed): void;
  /** Replaces an account's balances; `funding`: the Binance funding wallet / OKX funding account. */
  setBalances(
    exchange: ExchangeId,
    apiKey: string,
    balances: Record<string, AssetAmount>,
    wallet?: "main" | "funding",
  ): void;
  setFault(exchange: ExchangeId, apiKey: string, fault: Fault | null): void;
  setPrices(exchange: ExchangeId, usdPrices: Record<string, string>): void;
  setLatency(ms: number): void;
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  /** Also ends hung requests. */
  close(): Promise<void>;
}
