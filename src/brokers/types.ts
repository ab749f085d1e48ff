import { z } from "zod";

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
export const BalanceStatusSchema = z.enum([
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
]);
export type BalanceStatus = z.infer<typeof BalanceStatusSchema>;

/**
 * `total` (the default): what the account is worth, free and held, at the broker's stated equity
 * or public USD prices. `cash`: USD and stablecoins only, at par.
 */
export const ValuationSchema = z.enum(["cash", "total"]);
export type Valuation = z.infer<typeof ValuationSchema>;

export const EnvironmentSchema = z.enum(["live", "paper", "testnet"]);
export type Environment = z.infer<typeof EnvironmentSchema>;

/** Cents as a bigint; stored as a decimal string (JSON has no bigint). */
const CentsSchema = z.union([
  z.bigint(),
  z
    .string()
    .regex(/^-?\d{1,80}$/)
    .transform((value) => BigInt(value)),
]);

/** One asset's amounts as exact decimal strings. */
export const AssetBalanceSchema = z.object({
  free: z.string(),
  used: z.string(),
  total: z.string(),
  /** USD value of `total` in cents; null when the asset has no price (see `unpriced`). */
  usdCents: CentsSchema.nullable(),
});
export type AssetBalance = z.infer<typeof AssetBalanceSchema>;

export const AccountBalanceSchema = z.object({
  broker: z.string(),
  status: BalanceStatusSchema,
  /** Why the status is not ok, or a note on an ok figure (unpriced assets); null otherwise. */
  message: z.string().nullable(),
  /** The account's USD figure in integer cents under `valuation`; null when unknown (failed). */
  usdCents: CentsSchema.nullable(),
  valuation: ValuationSchema,
  /** Which of the broker's environments answered. */
  environment: EnvironmentSchema.default("live"),
  /** `broker`: the answer stated the account's equity; `priced`: summed from holdings and prices. */
  basis: z.enum(["broker", "priced", "cash"]).nullable().default(null),
  assets: z.record(z.string(), AssetBalanceSchema),
  /** Assets held but left out of the USD figure because no USD price is known. */
  unpriced: z.array(z.string()),
  /** ISO time the answer (or the failure) arrived; null when nothing was fetched. */
  fetchedAt: z.string().nullable(),
  /** HTTP requests this fetch made, retries and pages included (shared price look-ups excluded). */
  requests: z.number().int().nonnegative(),
});
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
  apiUrl?: string | null;
  /** Alpaca paper, Binance testnet, OKX demo trading. */
  sandbox?: boolean;
  options?: BrokerOptions;
}

export const BrokerOptionsSchema = z
  .object({
    valuation: ValuationSchema.optional(),
    stablecoins: z.array(z.string()).optional(),
    /** Coinbase only: which account listing to read, Advanced Trade "v3" (default) or App "v2". */
    accountsApi: z.enum(["v3", "v2"]).optional(),
    /**
     * Binance and OKX: which wallets make up the balance. Binance "spot" (default) and "funding";
     * OKX "trading" (default) and "funding". Each extra wallet costs one request.
     */
    wallets: z
      .array(z.enum(["spot", "trading", "funding"]))
      .min(1)
      .optional(),
    /** Coinbase: the most pages of wallets to read before the row is an error (default 40). */
    maxPages: z.number().int().min(1).max(1000).optional(),
    /** Extra ccxt constructor options, e.g. `{ "options": { "fetchBalance": "v2PrivateGetAccounts" } }`. */
    ccxt: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type BrokerOptions = z.infer<typeof BrokerOptionsSchema>;
