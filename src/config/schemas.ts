/**
 * The shapes of the files under the config dir. New-form files strip unknown keys; the original
 * system's forms (Legacy*) keep theirs, since fields such as copy_from_master are expected there.
 */

import { BrokerOptionsSchema } from "../brokers/schemas.js";
import { BOUNDED_FLAGS, isHttpUrl, SETTING_BOUNDS, USER_ID_PATTERN } from "./bounds.js";
import { containsEnvRef } from "./env.js";

export { isHttpUrl, SETTING_BOUNDS, USER_ID_PATTERN };

import * as z from "./zod.js";

export const UserIdSchema = z
  .string()
  .regex(
    USER_ID_PATTERN,
    "must be 1-128 letters, digits, '_', '-', '.' or '@', starting with a letter or digit",
  );

/**
 * Lower-cased; `_` is allowed for the original's non-ccxt brokers (interactive_brokers, ...).
 * Whether ccxt knows the id is checked after parsing (broker-ids.ts), so a typo keeps its row.
 */
export const BrokerIdSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9_]+$/, "must be a ccxt exchange id (letters and digits only)");

const CredentialValueSchema = z.string().min(1, "must not be empty");

export const CredentialsSchema = z.object({
  apiKey: CredentialValueSchema,
  secret: CredentialValueSchema,
  password: CredentialValueSchema.optional(),
  uid: CredentialValueSchema.optional(),
});

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

/** Alpaca `paper`, Binance/OKX `testnet`: either name sets the broker's sandbox for the entry. */
const sandboxFields = {
  paper: z.boolean().optional(),
  testnet: z.boolean().optional(),
};

export const BrokerEntrySchema = z.object({
  broker: BrokerIdSchema,
  enabled: z.boolean().default(true),
  ...sandboxFields,
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
  ...sandboxFields,
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

/**
 * The original's YAML user file (config/users/<user_id>.yaml, see its user.yaml.example):
 * `broker: KRAKEN`, `api_key`, `api_secret`, optional `passphrase`, `enabled`. The user id is the
 * file name; other keys (copy_from_master, risk_multiplier, ...) are ignored. Without api_key and
 * api_secret the credentials come from the environment, as for the JSON forms.
 */
export const YamlUserFileSchema = z
  .looseObject({
    broker: BrokerIdSchema,
    api_key: CredentialValueSchema.optional(),
    api_secret: CredentialValueSchema.optional(),
    passphrase: CredentialValueSchema.optional(),
    enabled: z.boolean().default(true),
    ...sandboxFields,
  })
  .superRefine((v, ctx) => {
    const given = (["api_key", "api_secret"] as const).filter((k) => v[k] !== undefined);
    if (given.length === 1) {
      const missing = given[0] === "api_key" ? "api_secret" : "api_key";
      ctx.addIssue({ code: "custom", path: [missing], message: `is required with ${given[0]}` });
    } else if (given.length === 0 && v.passphrase !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["passphrase"],
        message: "is given without api_key and api_secret",
      });
    }
  });

export type AlertThresholds = z.infer<typeof AlertThresholdsSchema>;
export type CredentialsEntry = z.infer<typeof CredentialsSchema>;
export type BrokerEntry = z.infer<typeof BrokerEntrySchema>;
export type UserFile = z.infer<typeof UserFileSchema>;
export type PlatformFile = z.infer<typeof PlatformFileSchema>;
export type LegacyUserFile = z.infer<typeof LegacyUserFileSchema>;
export type LegacyUserListEntry = z.infer<typeof LegacyUserListEntrySchema>;
export type YamlUserFile = z.infer<typeof YamlUserFileSchema>;

const boundedNumber = (name: keyof typeof SETTING_BOUNDS, integer = false) => {
  const { min, max } = SETTING_BOUNDS[name];
  const range = `must be ${integer ? "a whole number " : ""}from ${min} to ${max} (the ${BOUNDED_FLAGS[name]} flag's range)`;
  const base = integer ? z.number().int(range) : z.number(range);
  return base.min(min, range).max(max, range);
};
const bounded = (name: keyof typeof SETTING_BOUNDS, integer = false) =>
  boundedNumber(name, integer).optional();

/** Dollars and cents, as --alert-low takes them: 0 to 15 digits, at most 2 decimals. */
const UsdThresholdSchema = z
  .number()
  .refine(
    (n) => /^\d{1,15}(\.\d{1,2})?$/.test(String(n)),
    "must be a USD amount from 0 to 999999999999999.99 with at most 2 decimals (the --alert-low flag's range)",
  );

/**
 * A webhook URL: http(s), with no user:password@ (sent nowhere safe, shown in process lists).
 * Messages never repeat the value: its path usually holds the webhook's secret.
 */
export const WebhookUrlSchema = z.string().refine((v) => {
  if (!isHttpUrl(v)) return false;
  const url = new URL(v);
  return url.username === "" && url.password === "";
}, "must be an http(s) URL without user:password@ in it");

/**
 * `config/settings.json` (optional): defaults for the run, so cron lines stay short. Each field
 * stands in for a flag's default (README "Settings"): a flag given on the command line wins, then
 * its environment variable where it has one, then this file. Strict, so a misspelt setting is
 * reported, not ignored.
 */
export const SettingsFileSchema = z
  .strictObject({
    valuation: z.enum(["cash", "total"]).optional(),
    stablecoins: z.array(z.string().min(1)).optional(),
    timeoutSeconds: bounded("timeoutSeconds"),
    retries: bounded("retries", true),
    concurrency: bounded("concurrency", true),
    krakenSpacingMs: bounded("krakenSpacingMs", true),
    krakenConcurrency: bounded("krakenConcurrency", true),
    cache: z.boolean().optional(),
    cacheDir: z.string().min(1).optional(),
    cacheTtlSeconds: bounded("cacheTtlSeconds"),
    staleMaxAgeSeconds: bounded("staleMaxAgeSeconds"),
    /** Shared store URL (redis:// or rediss://); the --store flag and SHOW_USER_BALANCES_STORE win. */
    store: z.string().optional(),
    stateDir: z.string().min(1).optional(),
    history: z.boolean().optional(),
    historyRetentionSeconds: bounded("historyRetentionSeconds"),
    alertLowUsd: UsdThresholdSchema.optional(),
    alertDropPct: z
      .number()
      .gt(0, "must be above 0 and at most 100")
      .max(100, "must be above 0 and at most 100")
      .optional(),
    dropWindowSeconds: bounded("dropWindowSeconds"),
    /** "never": an alert that still holds is not sent again. */
    renotifySeconds: z
      .union([boundedNumber("renotifySeconds"), z.literal("never")], {
        error: `must be "never" or a number from ${SETTING_BOUNDS.renotifySeconds.min} to ${SETTING_BOUNDS.renotifySeconds.max} (the --renotify flag's range)`,
      })
      .optional(),
    /** The webhook; SHOW_USER_BALANCES_NOTIFY_URL and --notify win. */
    notify: WebhookUrlSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.history !== false) return;
    for (const key of ["alertLowUsd", "alertDropPct", "notify"] as const) {
      if (s[key] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: '"history": false turns alerts off (they compare against the history)',
        });
      }
    }
  });
export type Settings = z.infer<typeof SettingsFileSchema>;
