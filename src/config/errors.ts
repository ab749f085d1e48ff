/**
 * Config diagnostics. Problems are per-file and non-fatal (the file is skipped, the CLI exits 2);
 * ConfigError is thrown only when nothing sensible can be loaded. None of them ever carries a
 * credential value: messages name files, fields and variable names only.
 */

export type ConfigProblemCode =
  | "invalid_json"
  | "invalid_field"
  | "duplicate_conflict"
  | "unknown_env_var"
  | "unreadable_file";

export interface ConfigProblem {
  code: ConfigProblemCode;
  file: string;
  /** Field path such as `brokers[0].credentials.apiKey`, or null when the whole file is at fault. */
  field: string | null;
  message: string;
  hint: string;
  /** 1-based position, set for invalid_json only. */
  line?: number;
  column?: number;
}

export type ConfigWarningCode = "duplicate_merged" | "insecure_permissions" | "ignored_file";

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
