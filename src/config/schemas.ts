/**
 * The shapes of the files under the config dir. New-form files strip unknown keys; the original
 * system's forms (Legacy*) keep theirs, since fields such as copy_from_master are expected there.
 */
import { z } from "zod";
import { BrokerOptionsSchema } from "../brokers/types.js";
import { containsEnvRef } from "./env.js";

export const USER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;

export const UserIdSchema = z
  .string()
  .regex(
    USER_ID_PATTERN,
    "must be 1-128 letters, digits, '_', '-', '.' or '@', starting with a letter or digit",
  );

export const BrokerIdSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9]+$/, "must be a ccxt exchange id (letters and digits only)");

const CredentialValueSchema = z.string().min(1, "must not be empty");

export const CredentialsSchema = z.object({
  apiKey: CredentialValueSchema,
  secret: CredentialValueSchema,
  password: CredentialValueSchema.optional(),
  uid: CredentialValueSchema.optional(),
});

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/** An http(s) URL, or a value with `${VAR}` references that is checked once expanded. */
export const ApiUrlSchema = z
  .string()
  .refine((v) => containsEnvRef(v) || isHttpUrl(v), "must be an http(s) URL");

/** Per-account broker settings (valuation, stablecoins, extra ccxt options): see brokers/types.ts. */
export { BrokerOptionsSchema };

/**
 * Alert thresholds (see docs/monitoring.md): on a broker entry for that broker's figure, on a user
 * file for the user's total. Strict, so a misspelt threshold is reported rather than ignored.
 */
export const AlertThresholdsSchema = z.strictObject({
  lowUsd: z.number().nonnegative().optional(),
  dropPct: z.number().positive().max(100).optional(),
});

export const BrokerEntrySchema = z.object({
  broker: BrokerIdSchema,
  enabled: z.boolean().default(true),
  credentials: CredentialsSchema.optional(),
  apiUrl: ApiUrlSchema.optional(),
  options: BrokerOptionsSchema.optional(),
  alerts: AlertThresholdsSchema.optional(),
});

export const UserFileSchema = z.object({
  user_id: UserIdSchema,
  name: z.string().nullish(),
  enabled: z.boolean().default(true),
  brokers: z.array(BrokerEntrySchema),
  alerts: AlertThresholdsSchema.optional(),
});

export const PlatformFileSchema = z.object({
  name: z.string().nullish(),
  brokers: z.array(BrokerEntrySchema),
});

const legacyBrokerFields = {
  broker: BrokerIdSchema.optional(),
  broker_type: BrokerIdSchema.optional(),
  enabled: z.boolean().default(true),
  credentials: CredentialsSchema.optional(),
  apiUrl: ApiUrlSchema.optional(),
  options: BrokerOptionsSchema.optional(),
};

const hasBroker = (v: { broker?: string | undefined; broker_type?: string | undefined }) =>
  v.broker !== undefined || v.broker_type !== undefined;

/** The original's one-user file: `{ "name", "broker": "kraken", "enabled", ... }`. */
export const LegacyUserFileSchema = z
  .looseObject({
    user_id: UserIdSchema.optional(),
    name: z.string().nullish(),
    ...legacyBrokerFields,
  })
  .refine(hasBroker, { message: "is required", path: ["broker"] });

/** One element of the original's list file (e.g. retail_kraken.json): one user on one broker. */
export const LegacyUserListEntrySchema = z
  .looseObject({ user_id: UserIdSchema, name: z.string().nullish(), ...legacyBrokerFields })
  .refine(hasBroker, { message: "is required", path: ["broker_type"] });

export type AlertThresholds = z.infer<typeof AlertThresholdsSchema>;
export type CredentialsEntry = z.infer<typeof CredentialsSchema>;
export type BrokerEntry = z.infer<typeof BrokerEntrySchema>;
export type UserFile = z.infer<typeof UserFileSchema>;
export type PlatformFile = z.infer<typeof PlatformFileSchema>;
export type LegacyUserFile = z.infer<typeof LegacyUserFileSchema>;
export type LegacyUserListEntry = z.infer<typeof LegacyUserListEntrySchema>;

/**
 * `config/settings.json` (optional): defaults for the run, so cron lines stay short. A flag given
 * on the command line wins over the file. Strict, so a misspelt setting is reported, not ignored.
 */
export const SettingsFileSchema = z.strictObject({
  valuation: z.enum(["cash", "total"]).optional(),
  stablecoins: z.array(z.string().min(1)).optional(),
  timeoutSeconds: z.number().positive().optional(),
  retries: z.number().int().positive().optional(),
  concurrency: z.number().int().positive().optional(),
  krakenSpacingMs: z.number().int().positive().optional(),
  krakenConcurrency: z.number().int().positive().optional(),
  cacheTtlSeconds: z.number().nonnegative().optional(),
  staleMaxAgeSeconds: z.number().nonnegative().optional(),
  /** Shared store URL (redis:// or rediss://); the --store flag and SHOW_USER_BALANCES_STORE win. */
  store: z.string().optional(),
});
export type Settings = z.infer<typeof SettingsFileSchema>;
