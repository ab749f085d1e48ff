/**
 * Config diagnostics. Problems are per-file and non-fatal (the file is skipped, the CLI exits 2);
 * ConfigError is thrown only when nothing sensible can be loaded. None of them ever carries a
 * credential value: messages name files, fields and variable names only.
 */

export type ConfigProblemCode =
  | "invalid_json"
  | "invalid_yaml"
  | "invalid_field"
  | "duplicate_conflict"
  | "unknown_env_var"
  | "unreadable_file"
  /** Over the size limit, not UTF-8, or nested too deeply: refused before (or instead of) use. */
  | "unsafe_file"
  /** A broker id that is neither a ccxt exchange id nor one of the original's non-ccxt brokers. */
  | "unknown_broker"
  /** A key, secret or passphrase that cannot work, found without asking the broker. */
  | "unusable_credentials";

export interface ConfigProblem {
  code: ConfigProblemCode;
  file: string;
  /** Field path such as `brokers[0].credentials.apiKey`, or null when the whole file is at fault. */
  field: string | null;
  message: string;
  hint: string;
  /** 1-based position, set for invalid_json and invalid_yaml only. */
  line?: number;
  column?: number;
}

export type ConfigWarningCode =
  | "duplicate_merged"
  | "insecure_permissions"
  | "ignored_file"
  /** Two credential variable families for one account are both set and differ. */
  | "shadowed_credentials"
  /** One API key reaches several accounts on a broker: its balance would count twice. */
  | "shared_credentials";

export interface ConfigWarning {
  code: ConfigWarningCode;
  file: string;
  message: string;
}

export type ConfigErrorCode = "config_missing" | "unreadable_dir" | "not_a_directory";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code: ConfigErrorCode;
  readonly file: string | null;
  readonly hint: string;

  constructor(code: ConfigErrorCode, message: string, file: string | null, hint: string) {
    super(message);
    this.code = code;
    this.file = file;
    this.hint = hint;
  }
}

/** `<file>: <field>: <message>` and, on a second line, `  fix: <hint>`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.field ? `${p.file}: ${p.field}` : p.file;
  return `${where}: ${p.message}\n  fix: ${p.hint}`;
}

export function formatWarning(w: ConfigWarning): string {
  return `${w.file}: ${w.message}`;
}
