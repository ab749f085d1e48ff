import type * as z from "../config/zod.js";
import type {
  AccountBalanceSchema,
  AssetBalanceSchema,
  BalanceStatusSchema,
  BrokerOptionsSchema,
  EnvironmentSchema,
  ValuationSchema,
} from "./schemas.js";

/**
 * The broker adapter contract. Every adapter (kraken.ts, coinbase.ts, alpaca.ts, generic.ts) turns
 * one broker account into a ccxt balance structure using the real ccxt exchange class, and every
 * failure becomes a status, never an exception that could stop the report:
 *
 *   no credentials configured                   -> no_credentials  (no request is made)
 *   credentials that cannot be used (bad base64, bad PEM, non-header characters), an account
 *   option the broker lacks (BrokerOptionError)  -> config_error (found locally; no request, no retry)
 *   any other error of ours (not ccxt's)        -> exchange_error "internal error while reading ..."
 *   unknown ccxt id / no fetchBalance           -> unsupported_broker
 *   RequestTimeout                              -> timeout (not retried: a hung API rarely recovers in a second)
 *   answer of the wrong shape, not JSON, an amount outside the decimal grammar
 *                                               -> exchange_error (MalformedResponseError, BadResponse)
 *   clock skew (timestamp/recvWindow expired)   -> auth_failed, saying so; retried once
 *   HTTP 401, AuthenticationError, Kraken EAPI:Invalid signature -> auth_failed (never retried)
 *   HTTP 403, PermissionDenied                  -> permission_denied (never retried)
 *   HTTP 429/418, DDoSProtection, RateLimitExceeded -> rate_limited (retried with backoff)
 *   HTTP 5xx, NetworkError, ExchangeNotAvailable, InvalidNonce -> network_error (retried)
 *   other HTTP 4xx, anything else               -> exchange_error (not retried)
 *
 * The HTTP status wins over ccxt's class where both exist: ccxt turns Alpaca's 401 into
 * PermissionDenied and Coinbase's 500 into a plain ExchangeError.
 *
 * Messages are short, name what happened, and never contain a credential.
 */
/** Every state a fetched row can be in (the adapter contract above); schemas.ts's enum. */
export const BALANCE_STATUSES = [
  "ok",
  "no_credentials",
  "config_error",
  "auth_failed",
  "permission_denied",
  "rate_limited",
  "network_error",
  "timeout",
  "exchange_error",
  "unsupported_broker",
] as const;
export const VALUATIONS = ["cash", "total"] as const;
export const ENVIRONMENTS = ["live", "paper", "testnet"] as const;

export type BalanceStatus = z.infer<typeof BalanceStatusSchema>;

/**
 * `total` (the default): what the account is worth, free and held, at the broker's stated equity
 * or public USD prices. `cash`: USD and stablecoins only, at par.
 */
export type Valuation = z.infer<typeof ValuationSchema>;

export type Environment = z.infer<typeof EnvironmentSchema>;

export type AssetBalance = z.infer<typeof AssetBalanceSchema>;

export type AccountBalance = z.infer<typeof AccountBalanceSchema>;

export const DEFAULT_STABLECOINS = ["USD", "USDC", "USDT", "DAI", "PYUSD"] as const;

export interface Credentials {
  apiKey: string;
  secret: string;
  password?: string;
  uid?: string;
}

/** What one broker account fetch needs. `options` are per-account settings from the config. */
export interface BrokerAccountRequest {
  broker: string;
  credentials: Credentials | null;
  /** Set when the credentials were found unusable locally (config says why, naming no value). */
  credentialProblem?: string | null;
  /** The rest of the credential check, parsing the key: run before the first request. */
  keyCheck?: () => string | null;
  apiUrl?: string | null;
  /** Alpaca paper, Binance testnet, OKX demo trading. */
  sandbox?: boolean;
  options?: BrokerOptions;
}

export type BrokerOptions = z.infer<typeof BrokerOptionsSchema>;
