/**
 * Reads the config dir: platform.json (or platform brokers inferred from env), users/*.json in
 * the new and the original system's forms, merges users defined in several files and resolves
 * every broker account's credentials and API URL. Per-file trouble becomes a ConfigProblem and
 * loading goes on; only an unusable directory throws a ConfigError.
 */
import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { z } from "zod";
import type { Env } from "./env.js";
import {
  applyDotEnv,
  credentialFamilies,
  ENV_BROKERS,
  expandEnvRefs,
  hasPlatformEnvCredentials,
  isOnlyEnvRefs,
  lookupEnvCredentials,
  parseDotEnv,
} from "./env.js";
import type { ConfigProblem, ConfigWarning } from "./errors.js";
import { ConfigError } from "./errors.js";
import { issueMessages, joinField, zodProblems } from "./issues.js";
import { parseJson } from "./json.js";
import type { AlertThresholds, BrokerEntry, Settings } from "./schemas.js";
import {
  isHttpUrl,
  LegacyUserFileSchema,
  LegacyUserListEntrySchema,
  PlatformFileSchema,
  SettingsFileSchema,
  UserFileSchema,
  UserIdSchema,
} from "./schemas.js";
import type {
  AccountConfig,
  BrokerAccountConfig,
  Credentials,
  CredentialsExplain,
} from "./types.js";

export interface LoadConfigOptions {
  configDir: string;
  /** Default process.env. Mutated when .env is loaded. */
  env?: Env;
  /** Where .env is looked for. Default process.cwd(). */
  cwd?: string;
  /** List disabled users and brokers (with enabled: false) instead of leaving them out. */
  includeDisabled?: boolean;
  /** Default true: read <cwd>/.env into env without overriding variables already set. */
  loadDotEnv?: boolean;
}

export interface LoadedConfig {
  configDir: string;
  platform: AccountConfig | null;
  /** Sorted by user_id. */
  users: AccountConfig[];
  problems: ConfigProblem[];
  warnings: ConfigWarning[];
  dotenvPath: string | null;
  /** From settings.json; empty when there is none. */
  settings: Settings;
}

/** One broker entry as written, with where it was written. */
interface EntryRef {
  entry: BrokerEntry;
  file: string;
  /** Path of the entry in its file: `brokers[0]`, `[2]`, or "" for the original single form. */
  field: string;
}

interface UserContribution {
  userId: string;
  name: string | null;
  /** undefined for the original forms, whose `enabled` is per user-and-broker. */
  userEnabled: boolean | undefined;
  file: string;
  entries: EntryRef[];
  /** The user file's alert thresholds (new form only). */
  alerts?: AlertThresholds;
}

class Loader {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: ConfigWarning[] = [];
  dotenvPath: string | null = null;
  private readonly dotenvKeys = new Set<string>();
  private readonly reportedEnvUrls = new Set<string>();

  constructor(
    readonly env: Env,
    readonly includeDisabled: boolean,
  ) {}

  /**
   * A regular file's text and mode, or null after recording why it cannot be used (a missing
   * file is recorded only when `missingIsProblem`).
   */
  private async readRegularFile(
    file: string,
    missingIsProblem: boolean,
  ): Promise<{ text: string; mode: number } | null> {
    try {
      const st = await stat(file);
      if (!st.isFile()) {
        this.unreadable(file, "is not a regular file");
        return null;
      }
      return { text: await readFile(file, "utf8"), mode: st.mode };
    } catch (e) {
      if (missingIsProblem || errno(e) !== "ENOENT") {
        this.unreadable(file, `cannot be read (${errno(e) ?? "error"})`);
      }
      return null;
    }
  }

  async loadDotEnv(cwd: string): Promise<void> {
    const file = join(cwd, ".env");
    const read = await this.readRegularFile(file, false);
    if (!read) return;
    const { text, mode } = read;
    for (const key of applyDotEnv(this.env, parseDotEnv(text))) this.dotenvKeys.add(key);
    this.dotenvPath = file;
    if (readableByOthers(mode)) {
      this.warnings.push({
        code: "insecure_permissions",
        file,
        message: `is readable by others (mode ${octal(mode)}); run chmod 600 ${file}`,
      });
    }
  }

  /** Parsed JSON, or undefined after recording why not. */
  async readJson(file: string): Promise<unknown> {
    const read = await this.readRegularFile(file, true);
    if (!read) return undefined;
    const { text, mode } = read;
    const parsed = parseJson(text);
    if (!parsed.ok) {
      this.problems.push({
        code: "invalid_json",
        file,
        field: null,
        message: `invalid JSON at line ${parsed.line}, column ${parsed.column}: ${parsed.reason}`,
        hint: `fix the syntax at line ${parsed.line}, column ${parsed.column} (a missing comma, quote or bracket is the usual cause); the file was skipped`,
        line: parsed.line,
        column: parsed.column,
      });
      return undefined;
    }
    if (readableByOthers(mode) && holdsLiteralSecret(parsed.value)) {
      this.warnings.push({
        code: "insecure_permissions",
        file,
        message: `holds literal credentials and is readable by others (mode ${octal(mode)}); run chmod 600 ${file}, or use \${VAR} references`,
      });
    }
    return parsed.value;
  }

  parse<T extends z.ZodType>(
    schema: T,
    value: unknown,
    file: string,
    prefix = "",
  ): z.output<T> | undefined {
    const result = schema.safeParse(value, { error: issueMessages });
    if (result.success) return result.data;
    this.problems.push(...zodProblems(result.error, file, prefix));
    return undefined;
  }

  /** A user file in any of its three forms. */
  userContributions(value: unknown, file: string): UserContribution[] {
    if (Array.isArray(value)) {
      const out: UserContribution[] = [];
      value.forEach((element, i) => {
        const data = this.parse(LegacyUserListEntrySchema, element, file, `[${i}]`);
        if (!data) return;
        out.push({
          userId: data.user_id,
          name: data.name ?? null,
          userEnabled: undefined,
          file,
          entries: [{ entry: legacyEntry(data), file, field: `[${i}]` }],
        });
      });
      return out;
    }
    if (isObject(value) && !("brokers" in value) && ("broker" in value || "broker_type" in value)) {
      const data = this.parse(LegacyUserFileSchema, value, file);
      if (!data) return [];
      const fromName = basename(file, ".json");
      const userId = data.user_id ?? fromName;
      if (data.user_id === undefined && !UserIdSchema.safeParse(fromName).success) {
        this.problems.push({
          code: "invalid_field",
          file,
          field: "user_id",
          message: `is missing, and the file name "${fromName}" is not a valid user id`,
          hint: "add \"user_id\": \"<id>\" (letters, digits, '_', '-', '.' or '@'), or rename the file",
        });
        return [];
      }
      return [
        {
          userId,
          name: data.name ?? null,
          userEnabled: undefined,
          file,
          entries: [{ entry: legacyEntry(data), file, field: "" }],
        },
      ];
    }
    const data = this.parse(UserFileSchema, value, file);
    if (!data) return [];
    return [
      {
        userId: data.user_id,
        name: data.name ?? null,
        userEnabled: data.enabled,
        file,
        entries: data.brokers.map((entry, i) => ({ entry, file, field: `brokers[${i}]` })),
        ...(data.alerts ? { alerts: data.alerts } : {}),
      },
    ];
  }

  /** Adds `ref` unless its broker is already there: alike is merged, different is a problem. */
  addEntry(list: EntryRef[], ref: EntryRef, owner: string): void {
    const first = list.find((e) => e.entry.broker === ref.entry.broker);
    if (!first) {
      list.push(ref);
      return;
    }
    const differing = (["enabled", "credentials", "apiUrl", "options"] as const).filter(
      (k) => canonical(first.entry[k] ?? null) !== canonical(ref.entry[k] ?? null),
    );
    const both = `${where(first)} and ${where(ref)}`;
    if (differing.length === 0) {
      this.warnings.push({
        code: "duplicate_merged",
        file: ref.file,
        message: `${owner}: broker "${ref.entry.broker}" is defined alike in ${both}; using it once`,
      });
      return;
    }
    this.problems.push({
      code: "duplicate_conflict",
      file: ref.file,
      field: ref.field === "" ? null : ref.field,
      message: `${owner}: broker "${ref.entry.broker}" is defined differently in ${both} (${differing.join(", ")} differ)`,
      hint: `keep one definition of ${ref.entry.broker} for this account, or make both identical; until then the one in ${first.file} is used`,
    });
  }

  account(
    kind: "platform" | "user",
    id: string,
    name: string | null,
    enabled: boolean,
    entries: EntryRef[],
    sources: string[],
    alerts?: AlertThresholds,
  ): AccountConfig {
    const brokers = entries
      .filter((ref) => this.includeDisabled || ref.entry.enabled)
      .map((ref) => this.resolveBroker(ref, kind, id, enabled && ref.entry.enabled));
    return { kind, id, name, enabled, brokers, sources, ...(alerts ? { alerts } : {}) };
  }

  /** Inactive (disabled) accounts are listed as written: nothing is looked up or reported. */
  private resolveBroker(
    ref: EntryRef,
    kind: "platform" | "user",
    id: string,
    active: boolean,
  ): BrokerAccountConfig {
    const { entry, file } = ref;
    const apiUrl = active ? this.resolveApiUrl(ref) : null;
    let credentials: Credentials | null = null;
    let explain: CredentialsExplain = { source: "none", tried: [], used: null };
    if (active && entry.credentials) {
      const location = `config:${file}#${joinField(ref.field, "credentials")}`;
      credentials = this.expandCredentials(entry.credentials, ref);
      explain = { source: "config", tried: [location], used: credentials ? location : null };
    } else if (active) {
      const found = lookupEnvCredentials(this.env, credentialFamilies(entry.broker, kind, id));
      credentials = found.credentials;
      explain = found.explain;
    }
    return {
      broker: entry.broker,
      enabled: entry.enabled,
      credentials,
      credentialsExplain: explain,
      apiUrl,
      options: entry.options ?? {},
      source: file,
      ...(entry.alerts ? { alerts: entry.alerts } : {}),
    };
  }

  private expandCredentials(
    raw: NonNullable<BrokerEntry["credentials"]>,
    ref: EntryRef,
  ): Credentials | null {
    const out: Record<string, string> = {};
    let complete = true;
    for (const [key, value] of Object.entries(raw)) {
      if (value === undefined) continue;
      const expanded = this.expand(value, ref, `credentials.${key}`);
      if (expanded === null) complete = false;
      else out[key] = expanded;
    }
    return complete ? (out as unknown as Credentials) : null;
  }

  private resolveApiUrl(ref: EntryRef): string | null {
    if (ref.entry.apiUrl !== undefined) {
      const url = this.expand(ref.entry.apiUrl, ref, "apiUrl");
      if (url === null) return null;
      if (isHttpUrl(url)) return url;
      this.problems.push({
        code: "invalid_field",
        file: ref.file,
        field: joinField(ref.field, "apiUrl"),
        message: `is not an http(s) URL once its \${VAR} references are expanded`,
        hint: "make the referenced variable hold an absolute URL such as https://api.kraken.com",
      });
      return null;
    }
    const name = `${ref.entry.broker.toUpperCase()}_API_URL`;
    const url = this.env[name];
    if (url === undefined || url.trim() === "") return null;
    if (isHttpUrl(url)) return url;
    if (!this.reportedEnvUrls.has(name)) {
      this.reportedEnvUrls.add(name);
      this.problems.push({
        code: "invalid_field",
        file: this.dotenvKeys.has(name) && this.dotenvPath ? this.dotenvPath : "environment",
        field: name,
        message: "is not an http(s) URL",
        hint: `set ${name} to an absolute URL such as https://api.${ref.entry.broker}.com, or unset it`,
      });
    }
    return null;
  }

  /** Expands `${VAR}`s; an unset one is a problem naming file, field and variable. */
  private expand(value: string, ref: EntryRef, rest: string): string | null {
    const result = expandEnvRefs(value, this.env);
    if (result.ok) return result.value;
    const field = joinField(ref.field, rest);
    for (const name of result.missing) {
      this.problems.push({
        code: "unknown_env_var",
        file: ref.file,
        field,
        message: `references \${${name}}, which is not set (or is empty); this broker account has no ${rest.startsWith("credentials") ? "credentials" : "API URL"}`,
        hint: `set ${name} in the environment or in .env, or correct the reference`,
      });
    }
    return null;
  }

  private unreadable(file: string, what: string): void {
    this.problems.push({
      code: "unreadable_file",
      file,
      field: null,
      message: `${what}; the file was skipped`,
      hint: `make it a regular file readable by the user running show-user-balances (chmod 600 ${file})`,
    });
  }
}

export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const { configDir } = options;
  const loader = new Loader(options.env ?? process.env, options.includeDisabled ?? false);
  if (options.loadDotEnv ?? true) await loader.loadDotEnv(options.cwd ?? process.cwd());

  const top = await listDir(configDir, "config directory");
  const usersDir = join(configDir, "users");
  const hasPlatformFile = top?.some((d) => d.name === "platform.json") ?? false;
  const userFiles = top?.some((d) => d.name === "users")
    ? await listDir(usersDir, "users directory")
    : null;

  const platform = hasPlatformFile
    ? await loadPlatformFile(loader, join(configDir, "platform.json"))
    : platformFromEnv(loader);

  if (platform === null && !hasPlatformFile && userFiles === null) {
    throw new ConfigError(
      "config_missing",
      top === null
        ? `config directory ${configDir} does not exist and no platform credentials are set in the environment`
        : `${usersDir} does not exist and no platform account is configured`,
      top === null ? configDir : usersDir,
      `create ${join(usersDir, "<user_id>.json")} (see the shipped config/ examples), set platform credentials such as KRAKEN_API_KEY and KRAKEN_API_SECRET, or point --config-dir at your config directory`,
    );
  }

  const users = userFiles ? await loadUsers(loader, usersDir, userFiles) : [];
  const settingsFile = join(configDir, "settings.json");
  const settingsValue = top?.some((d) => d.name === "settings.json")
    ? await loader.readJson(settingsFile)
    : undefined;
  const settings =
    settingsValue === undefined
      ? {}
      : (loader.parse(SettingsFileSchema, settingsValue, settingsFile) ?? {});
  return {
    settings,
    configDir,
    platform,
    users,
    problems: loader.problems,
    warnings: loader.warnings,
    dotenvPath: loader.dotenvPath,
  };
}

async function loadPlatformFile(loader: Loader, file: string): Promise<AccountConfig | null> {
  const value = await loader.readJson(file);
  if (value === undefined) return null;
  const data = loader.parse(PlatformFileSchema, value, file);
  if (!data) return null;
  const entries: EntryRef[] = [];
  data.brokers.forEach((entry, i) => {
    loader.addEntry(entries, { entry, file, field: `brokers[${i}]` }, "platform");
  });
  return loader.account("platform", "platform", data.name ?? null, true, entries, [file]);
}

function platformFromEnv(loader: Loader): AccountConfig | null {
  const entries: EntryRef[] = ENV_BROKERS.filter((b) =>
    hasPlatformEnvCredentials(loader.env, b),
  ).map((broker) => ({ entry: { broker, enabled: true }, file: "env", field: "" }));
  return entries.length > 0
    ? loader.account("platform", "platform", null, true, entries, ["env"])
    : null;
}

async function loadUsers(
  loader: Loader,
  usersDir: string,
  dirents: Dirent[],
): Promise<AccountConfig[]> {
  const names: string[] = [];
  for (const d of [...dirents].sort((a, b) => compare(a.name, b.name))) {
    if (d.name.endsWith(".json")) names.push(d.name);
    else if (!d.name.startsWith(".") && !/^readme/i.test(d.name)) {
      loader.warnings.push({
        code: "ignored_file",
        file: join(usersDir, d.name),
        message: "is not a .json file; ignored",
      });
    }
  }
  // Read in parallel, merge in file-name order so the result does not depend on timing.
  const files = names.map((n) => join(usersDir, n));
  const values = await Promise.all(files.map((f) => loader.readJson(f)));

  interface Merged {
    id: string;
    name: string | null;
    disabled: boolean;
    hasUserLevelEnabled: boolean;
    entries: EntryRef[];
    sources: string[];
    alerts?: AlertThresholds;
  }
  const merged = new Map<string, Merged>();
  files.forEach((file, i) => {
    const value = values[i];
    if (value === undefined) return;
    for (const c of loader.userContributions(value, file)) {
      let m = merged.get(c.userId);
      if (!m) {
        m = {
          id: c.userId,
          name: null,
          disabled: false,
          hasUserLevelEnabled: false,
          entries: [],
          sources: [],
        };
        merged.set(c.userId, m);
      }
      if (!m.sources.includes(file)) m.sources.push(file);
      if (m.name === null) m.name = c.name;
      else if (c.name !== null && c.name !== m.name) {
        loader.warnings.push({
          code: "duplicate_merged",
          file,
          message: `user "${c.userId}" is named "${c.name}" here but "${m.name}" in ${m.sources[0]}; using "${m.name}"`,
        });
      }
      if (c.alerts && !m.alerts) m.alerts = c.alerts;
      if (c.userEnabled !== undefined) m.hasUserLevelEnabled = true;
      if (c.userEnabled === false) m.disabled = true;
      for (const ref of c.entries) loader.addEntry(m.entries, ref, `user "${c.userId}"`);
    }
  });

  const users: AccountConfig[] = [];
  for (const m of [...merged.values()].sort((a, b) => compare(a.id, b.id))) {
    // The original forms enable a user per broker: such a user is on if any of its brokers is.
    const enabled =
      !m.disabled && (m.hasUserLevelEnabled || m.entries.some((r) => r.entry.enabled));
    if (!enabled && !loader.includeDisabled) continue;
    users.push(loader.account("user", m.id, m.name, enabled, m.entries, m.sources, m.alerts));
  }
  return users;
}

async function listDir(dir: string, what: string): Promise<Dirent[] | null> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = errno(e);
    if (code === "ENOENT") return null;
    if (code === "ENOTDIR") {
      throw new ConfigError(
        "not_a_directory",
        `${what} ${dir} is not a directory`,
        dir,
        "point --config-dir at the directory that holds platform.json and users/",
      );
    }
    throw new ConfigError(
      "unreadable_dir",
      `${what} ${dir} cannot be read (${code ?? "error"})`,
      dir,
      `give the user running show-user-balances read and execute permission (chmod 700 ${dir})`,
    );
  }
}

function legacyEntry(data: {
  broker?: string | undefined;
  broker_type?: string | undefined;
  enabled: boolean;
  credentials?: BrokerEntry["credentials"];
  apiUrl?: string | undefined;
  options?: Record<string, unknown> | undefined;
}): BrokerEntry {
  const entry: BrokerEntry = {
    broker: (data.broker ?? data.broker_type) as string,
    enabled: data.enabled,
  };
  if (data.credentials) entry.credentials = data.credentials;
  if (data.apiUrl !== undefined) entry.apiUrl = data.apiUrl;
  if (data.options) entry.options = data.options;
  return entry;
}

/** Whether any `credentials` object in the file has a value that is not purely `${VAR}`s. */
function holdsLiteralSecret(value: unknown, inCredentials = false): boolean {
  if (typeof value === "string") return inCredentials && !isOnlyEnvRefs(value);
  if (Array.isArray(value)) return value.some((v) => holdsLiteralSecret(v, inCredentials));
  if (isObject(value)) {
    return Object.entries(value).some(([k, v]) =>
      holdsLiteralSecret(v, inCredentials || k === "credentials"),
    );
  }
  return false;
}

function readableByOthers(mode: number): boolean {
  return process.platform !== "win32" && (mode & 0o077) !== 0;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, "0");
}

function where(ref: EntryRef): string {
  return ref.field === "" ? ref.file : `${ref.file} (${ref.field})`;
}

/** Key-order-independent JSON, to compare two definitions. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort(compare);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errno(e: unknown): string | undefined {
  return isObject(e) && typeof e.code === "string" ? e.code : undefined;
}
