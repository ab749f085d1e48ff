/**
 * The zod schemas of brokers' results and options; types.ts derives the types from them. Loaded
 * only where an answer or a config is validated with zod, never on a run the cache serves.
 */
import * as z from "../config/zod.js";
import { BALANCE_STATUSES, ENVIRONMENTS, VALUATIONS } from "./types.js";

export const BalanceStatusSchema = z.enum(BALANCE_STATUSES);

export const ValuationSchema = z.enum(VALUATIONS);

export const EnvironmentSchema = z.enum(ENVIRONMENTS);

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
