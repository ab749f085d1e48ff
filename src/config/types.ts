import type { BrokerOptions, Credentials } from "../brokers/types.js";
import type { AlertThresholds } from "./schemas.js";

export type { Credentials };

/** What `--explain-credentials` shows: variable names or config locations, never values. */
export interface CredentialsExplain {
  source: "config" | "env" | "none";
  /** Env var names in the order they were looked up, or `config:<file>#<field>`. */
  tried: string[];
  used: string | null;
}

export interface BrokerAccountConfig {
  /** ccxt exchange id, lower-case. */
  broker: string;
  enabled: boolean;
  /** null: the report shows no_credentials, unless `apiKeyFingerprint` says they were left out. */
  credentials: Credentials | null;
  /**
   * The API key's fingerprint (keyFingerprint), null without credentials. A config from the
   * snapshot (snapshot.ts) has it without the credentials: the fetch that needs them reads the
   * config again (LoadedConfig.readSecrets).
   */
  apiKeyFingerprint: string | null;
  credentialsExplain: CredentialsExplain;
  /**
   * Why the credentials cannot work, found locally (bad base64 or PEM, a character no HTTP header
   * can carry, a missing OKX passphrase); it names the variable or field, never the value. The
   * engine reports such a row as config_error without a request. null when nothing is known wrong.
   */
  credentialProblem: string | null;
  /**
   * The part of the credential check that parses a key (Coinbase), left for the fetch to run
   * before its first request: a run the cache serves never pays for it. Returns what
   * `credentialProblem` would have said, or null.
   */
  keyCheck?: () => string | null;
  /** Alpaca paper, Binance testnet, OKX demo trading; false for live (and brokers without one). */
  sandbox: boolean;
  /**
   * What decided `sandbox`: `config:<file>#<field>`, the variable name (`ALPACA_PAPER`,
   * `ALPACA_USER_BOB_PAPER`, `BINANCE_USE_TESTNET`, ...), `key prefix` (Alpaca PK/AK) or `default`.
   */
  sandboxSource: string;
  apiUrl: string | null;
  options: BrokerOptions;
  /** File the entry came from, or "env" when inferred from the environment. */
  source: string;
  /** Alert thresholds for this broker's figure; they override --alert-low/--alert-drop. */
  alerts?: AlertThresholds;
}

export interface AccountConfig {
  kind: "platform" | "user";
  /** user_id, or "platform". */
  id: string;
  name: string | null;
  enabled: boolean;
  /** In file order (files read in name order), merged across files. */
  brokers: BrokerAccountConfig[];
  sources: string[];
  /** Alert thresholds for the account's total (a user file's `alerts`). */
  alerts?: AlertThresholds;
}
