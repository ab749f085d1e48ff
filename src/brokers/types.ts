import { z } from "zod";

/**
 * The broker adapter contract. Every adapter (kraken.ts, coinbase.ts, alpaca.ts, generic.ts) turns
 * one broker account into a ccxt balance structure using the real ccxt exchange class, and every
 * failure becomes a status, never an exception that could stop the report:
 *
 *   no credentials configured                   -> no_credentials  (no request is made)
 *   unknown ccxt id / no fetchBalance           -> unsupported_broker
 *   RequestTimeout                              -> timeout (not retried: a hung API rarely recovers in a second)
 *   answer of the wrong shape, not JSON         -> exchange_error (MalformedResponseError, BadResponse)
 *   HTTP 401, AuthenticationError, Kraken EAPI:Invalid signature -> auth_failed (never retried)
 *   HTTP 403, PermissionDenied                  -> permission_denied (never retried)
 *   HTTP 429, DDoSProtection, RateLimitExceeded -> rate_limited (retried with backoff)
 *   HTTP 5xx, NetworkError, ExchangeNotAvailable, InvalidNonce -> network_error (retried)
 *   anything else                               -> exchange_error
 *
 * The HTTP status wins over ccxt's class where both exist: ccxt turns Alpaca's 401 into
 * PermissionDenied and Coinbase's 500 into a plain ExchangeError.
 *
 * Messages are short, name what happened, and never contain a credential.
 */
export const BalanceStatusSchema = z.enum([
  "ok",
  "no_credentials",
  "auth_failed",
  "permission_denied",
  "rate_limited",
  "network_error",
  "timeout",
  "exchange_error",
  "unsupported_broker",
]);
export type BalanceStatus = z.infer<typeof BalanceStatusSchema>;

export const ValuationSchema = z.enum(["cash", "total"]);
export type Valuation = z.infer<typeof ValuationSchema>;

/** One asset's amounts as exact decimal strings. */
export const AssetBalanceSchema = z.object({
  free: z.string(),
  used: z.string(),
  total: z.string(),
  /** USD value of `total` in cents; null when the asset has no price (see `unpriced`). */
  usdCents: z.number().int().nullable(),
});
export type AssetBalance = z.infer<typeof AssetBalanceSchema>;

export const AccountBalanceSchema = z.object({
  broker: z.string(),
  status: BalanceStatusSchema,
  /** Why the status is not ok; null when ok. */
  message: z.string().nullable(),
  /** The account's USD figure in integer cents under `valuation`; 0 when not ok. */
  usdCents: z.number().int(),
  valuation: ValuationSchema,
  assets: z.record(z.string(), AssetBalanceSchema),
  /** Assets held but left out of the USD figure because the exchange quotes no USD price. */
  unpriced: z.array(z.string()),
  /** ISO time the answer (or the failure) arrived. */
  fetchedAt: z.string(),
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
  apiUrl?: string | null;
  options?: BrokerOptions;
}

export const BrokerOptionsSchema = z
  .object({
    valuation: ValuationSchema.optional(),
    stablecoins: z.array(z.string()).optional(),
    /** Coinbase only: which account listing to read, Advanced Trade "v3" (default) or App "v2". */
    accountsApi: z.enum(["v3", "v2"]).optional(),
    /** Extra ccxt constructor options, e.g. `{ "options": { "fetchBalance": "v2PrivateGetAccounts" } }`. */
    ccxt: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type BrokerOptions = z.infer<typeof BrokerOptionsSchema>;
