/**
 * Reads the config dir: platform.json (or platform brokers inferred from env), users/*.json and
 * users/*.yaml in the new and the original system's forms, merges users defined in several files
 * and resolves every broker account's credentials, environment (sandbox) and API URL. Per-file
 * trouble becomes a ConfigProblem and loading goes on; only an unusable directory throws a
 * ConfigError.
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { keyFingerprint } from "../secrets.js";
import { isHttpUrl, NOTIFY_URL_ENV, USER_ID_PATTERN } from "./bounds.js";
import { unknownBrokerSuggestions } from "./broker-ids.js";
import {
  type CheckDepth,
  credentialFault,
  FIELD_LABELS,
  needsKeyParse,
  normalizeSecret,
} from "./credential-checks.js";
import type { CredentialNames, Env } from "./env.js";
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
import { fastPlatformFile, fastUserFile } from "./fast-parse.js";
import { type FileRead, MAX_CONFIG_DEPTH, nestedDeeperThan, readConfigText } from "./files.js";
import { issueMessages, joinField, zodProblems } from "./issues.js";
import { parseJson } from "./json.js";
import { resolveSandbox, type SandboxDecision } from "./sandbox.js";
import type {
  AlertThresholds,
  BrokerEntry,
  LegacyUserFile,
  LegacyUserListEntry,
  PlatformFile,
  Settings,
  UserFile,
  YamlUserFile,
} from "./schemas.js";
import { listingOf, newInputs, readSnapshot, writeSnapshot } from "./snapshot.js";
import type {
  AccountConfig,
  BrokerAccountConfig,
  Credentials,
  CredentialsExplain,
} from "./types.js";
import { parseYaml } from "./yaml.js";

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
  /**
   * Keep a snapshot of the loaded config in `dir`, and take the config from it while what it was
   * read from is unchanged (snapshot.ts). Such a config has no credentials: `readSecrets` reads
   * them. `settleMs`: how long an input must have been unchanged for a snapshot to vouch for it
   * (default SETTLE_MS).
   */
  snapshot?: { dir: string; build?: string; settleMs?: number };
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
  /**
   * API keys that reach two or more enabled accounts on one broker (through env fallbacks or
   * config): each account would report the same balance. Accounts are "platform" or user ids.
   */
  sharedCredentials: Array<{ broker: string; accounts: string[] }>;
  /** Set when the config came from the snapshot: its brokers carry no credentials. */
  fromSnapshot?: true;
  /** The same config read from its files, credentials included (memoised). */
  readSecrets?: () => Promise<LoadedConfig>;
}

/** One broker entry as written, with where it was written. */
interface EntryRef {
  entry: BrokerEntry;
  file: string;
  /** Path of the entry in its file: `brokers[0]`, `[2]`, or "" for the original single form. */
  field: string;
  /** The key the broker id is written under, when not `broker` (the list form's `broker_type`). */
  brokerKey?: string;
  /** Where each credential is written, when not `credentials.<name>` (YAML's api_key, ...). */
  credentialKeys?: Partial<Record<keyof Credentials, string>>;
}

const YAML_CREDENTIAL_KEYS = { apiKey: "api_key", secret: "api_secret", password: "passphrase" };

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

/** The file forms `Loader.parse` reads, by name. */
interface FileForms {
  user: UserFile;
  platform: PlatformFile;
  legacyUser: LegacyUserFile;
  legacyListEntry: LegacyUserListEntry;
  yamlUser: YamlUserFile;
}

class Loader {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: ConfigWarning[] = [];
  dotenvPath: string | null = null;
  /** Variables .env set; a re-read (readSecrets) starts from the first read's, see readConfig. */
  readonly dotenvKeys = new Set<string>();
  private readonly reported = new Set<string>();
  /** Where each active broker id is written, to check it against ccxt once loading is done. */
  private readonly brokerUses: Array<{ broker: string; file: string; field: string }> = [];
  /** Files read without zod (fast-parse.ts), by their parsed value. */
  private readonly fastParsed = new WeakMap<object, UserFile | PlatformFile>();
  /** zod and the schemas, loaded for the first file the zod-free reading does not take. */
  private schemas: typeof import("./schemas.js") | undefined;
  /** What this load read: the snapshot's key. */
  readonly inputs = newInputs();
  /**
   * Where problems found after loading go (a key parsed by the fetch that needs it): the config
   * the caller holds, which for a config from the snapshot is not the one read for its secrets.
   */
  lateProblems: ConfigProblem[] = this.problems;
  /** The environment, each variable looked up recorded in `inputs`. */
  readonly env: Env;

  constructor(
    readonly target: Env,
    readonly includeDisabled: boolean,
  ) {
    const looked = this.inputs;
    this.env = new Proxy(target, {
      get: (env, name) => {
        if (typeof name === "string") looked.env.add(name);
        return Reflect.get(env, name);
      },
      has: (env, name) => {
        if (typeof name === "string") looked.env.add(name);
        return Reflect.has(env, name);
      },
      // A walk over every variable: any of them could change the result.
      ownKeys: (env) => {
        looked.unsettled = true;
        return Reflect.ownKeys(env);
      },
    });
  }

  /**
   * A config file's text and mode, or null after recording why it cannot be used (a missing file
   * is recorded only when `missingIsProblem`).
   */
  private async readText(
    file: string,
    missingIsProblem: boolean,
    pending?: Promise<FileRead>,
  ): Promise<{ text: string; mode: number } | null> {
    const read = await (pending ?? readConfigText(file));
    if (read.ok) {
      this.inputs.files.set(file, read.stamp);
      return read;
    }
    if (read.missing) this.inputs.files.set(file, null);
    else this.inputs.unsettled = true;
    if (read.missing) {
      if (missingIsProblem) {
        this.problems.push({
          code: "unreadable_file",
          file,
          field: null,
          message: "vanished while the config was loading; it was skipped",
          hint: "run again once whatever is replacing the config files has finished",
        });
      }
      return null;
    }
    this.problems.push({ ...read.fault, file, field: null });
    return null;
  }

  async loadDotEnv(cwd: string): Promise<void> {
    const file = join(cwd, ".env");
    const read = await this.readText(file, false);
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

  /**
   * Parsed JSON or YAML (by extension), or undefined after recording why not. `pending` is the
   * file's read already under way, so files can be read in parallel yet reported in order.
   */
  async readConfigFile(
    file: string,
    pending?: Promise<FileRead>,
    form?: "user" | "platform",
  ): Promise<unknown> {
    const read = await this.readText(file, true, pending);
    if (!read) return undefined;
    const { text, mode } = read;
    const yaml = isYamlFile(file);
    const parsed = yaml ? await parseYaml(text) : parseJson(text);
    if (!parsed.ok) {
      if ("tooDeep" in parsed && parsed.tooDeep) {
        this.tooDeep(file, ` (at line ${parsed.line}, column ${parsed.column})`);
        return undefined;
      }
      const kind = yaml ? "YAML" : "JSON";
      this.problems.push({
        code: yaml ? "invalid_yaml" : "invalid_json",
        file,
        field: null,
        message: `invalid ${kind} at line ${parsed.line}, column ${parsed.column}: ${parsed.reason}`,
        hint: `fix the syntax at line ${parsed.line}, column ${parsed.column} (${yaml ? "indentation, a missing ':' or an unclosed quote" : "a missing comma, quote or bracket"} is the usual cause); the file was skipped`,
        line: parsed.line,
        column: parsed.column,
      });
      return undefined;
    }
    // Before anything walks the value: every walk below is bounded by this depth.
    if (nestedDeeperThan(parsed.value, MAX_CONFIG_DEPTH)) {
      this.tooDeep(file, "");
      return undefined;
    }
    if (readableByOthers(mode) && holdsLiteralSecret(parsed.value)) {
      this.warnings.push({
        code: "insecure_permissions",
        file,
        message:
          basename(file) === "settings.json"
            ? `holds the webhook URL (a secret) and is readable by others (mode ${octal(mode)}); run chmod 600 ${file}, or set ${NOTIFY_URL_ENV} instead`
            : `holds literal credentials and is readable by others (mode ${octal(mode)}); run chmod 600 ${file}, or use \${VAR} references`,
      });
    }
    const value = parsed.value;
    if (form === undefined) return value;
    const fast =
      yaml || !isObject(value)
        ? undefined
        : form === "platform"
          ? fastPlatformFile(value)
          : "brokers" in value
            ? fastUserFile(value)
            : undefined;
    if (fast && isObject(value)) this.fastParsed.set(value, fast);
    else this.schemas ??= await import("./schemas.js");
    return value;
  }

  private tooDeep(file: string, where: string): void {
    this.problems.push({
      code: "unsafe_file",
      file,
      field: null,
      message: `is nested more than ${MAX_CONFIG_DEPTH} levels deep${where}; it was skipped`,
      hint: "a config file nests a few levels: check that this is the file you meant",
    });
  }

  /**
   * A file's value in one of the forms, or undefined after recording what is wrong with it.
   * What the zod-free reading took (readConfigFile) is served from there; the rest goes to zod.
   */
  parse<K extends keyof FileForms>(
    form: K,
    value: unknown,
    file: string,
    prefix = "",
  ): FileForms[K] | undefined {
    const fast = isObject(value) ? this.fastParsed.get(value) : undefined;
    if (fast && (form === "user" || form === "platform")) return fast as FileForms[K];
    if (!this.schemas) throw new Error(`config schemas not loaded for ${file}`);
    const schema = {
      user: this.schemas.UserFileSchema,
      platform: this.schemas.PlatformFileSchema,
      legacyUser: this.schemas.LegacyUserFileSchema,
      legacyListEntry: this.schemas.LegacyUserListEntrySchema,
      yamlUser: this.schemas.YamlUserFileSchema,
    }[form];
    const result = schema.safeParse(value, { error: issueMessages });
    if (result.success) return result.data as FileForms[K];
    this.problems.push(...zodProblems(result.error, file, prefix));
    return undefined;
  }

  /** A user file in any of its forms: new, the original's single-user, list and YAML forms. */
  userContributions(value: unknown, file: string): UserContribution[] {
    if (isYamlFile(file)) {
      // The original's YAML form (its user_id, if any, ignored as there) unless the file uses the
      // new form's `brokers` or the list form's `broker_type`.
      if (isObject(value) && !("brokers" in value) && !("broker_type" in value)) {
        return this.yamlContribution(value, file);
      }
      if (!isObject(value) && !Array.isArray(value)) {
        this.problems.push({
          code: "invalid_field",
          file,
          field: null,
          message: `is ${value === null ? "empty" : "not a YAML mapping"}`,
          hint: "write the original's form, one key per line: broker: KRAKEN, api_key: ..., api_secret: ..., enabled: true (or leave out api_key and api_secret to use the environment)",
        });
        return [];
      }
    }
    if (Array.isArray(value)) {
      const out: UserContribution[] = [];
      value.forEach((element, i) => {
        const data = this.parse("legacyListEntry", element, file, `[${i}]`);
        if (!data) return;
        out.push({
          userId: data.user_id,
          name: data.name ?? null,
          userEnabled: undefined,
          file,
          entries: [{ entry: legacyEntry(data), file, field: `[${i}]`, brokerKey: "broker_type" }],
        });
      });
      return out;
    }
    if (isObject(value) && !("brokers" in value) && ("broker" in value || "broker_type" in value)) {
      const data = this.parse("legacyUser", value, file);
      if (!data) return [];
      const userId = data.user_id ?? fileStem(file);
      if (data.user_id === undefined && !this.validFileNameId(file, true)) return [];
      return [
        {
          userId,
          name: data.name ?? null,
          userEnabled: undefined,
          file,
          entries: [
            {
              entry: legacyEntry(data),
              file,
              field: "",
              ...(data.broker === undefined ? { brokerKey: "broker_type" } : {}),
            },
          ],
        },
      ];
    }
    const data = this.parse("user", value, file);
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

  /** The original's YAML file: one user (named by the file) on one broker. */
  private yamlContribution(value: Record<string, unknown>, file: string): UserContribution[] {
    if (!this.validFileNameId(file, false)) return [];
    const data = this.parse("yamlUser", value, file);
    if (!data) return [];
    const entry: BrokerEntry = { broker: data.broker, enabled: data.enabled };
    if (data.paper !== undefined) entry.paper = data.paper;
    if (data.testnet !== undefined) entry.testnet = data.testnet;
    if (data.api_key !== undefined && data.api_secret !== undefined) {
      entry.credentials = { apiKey: data.api_key, secret: data.api_secret };
      if (data.passphrase !== undefined) entry.credentials.password = data.passphrase;
    }
    const ref: EntryRef = { entry, file, field: "", credentialKeys: YAML_CREDENTIAL_KEYS };
    return [{ userId: fileStem(file), name: null, userEnabled: undefined, file, entries: [ref] }];
  }

  /** Whether the file name is a usable user id; records a problem when not. */
  private validFileNameId(file: string, userIdField: boolean): boolean {
    const fromName = fileStem(file);
    if (USER_ID_PATTERN.test(fromName)) return true;
    this.problems.push({
      code: "invalid_field",
      file,
      field: userIdField ? "user_id" : null,
      message: userIdField
        ? `is missing, and the file name "${fromName}" is not a valid user id`
        : `the file name "${fromName}" is not a valid user id (a YAML user file is named after its user)`,
      hint: userIdField
        ? "add \"user_id\": \"<id>\" (letters, digits, '_', '-', '.' or '@'), or rename the file"
        : "rename the file to <user_id>.yaml: letters, digits, '_', '-', '.' or '@'",
    });
    return false;
  }

  /** Adds `ref` unless its broker is already there: alike is merged, different is a problem. */
  addEntry(list: EntryRef[], ref: EntryRef, owner: string): void {
    const first = list.find((e) => e.entry.broker === ref.entry.broker);
    if (!first) {
      list.push(ref);
      return;
    }
    const keys = ["enabled", "paper", "testnet", "credentials", "apiUrl", "options"] as const;
    const differing = keys.filter(
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
    let credentials: Credentials | null = null;
    let explain: CredentialsExplain = { source: "none", tried: [], used: null };
    let credentialProblem: string | null = null;
    let keyCheck: (() => string | null) | undefined;
    if (active) {
      this.brokerUses.push({
        broker: entry.broker,
        file,
        field: joinField(ref.field, ref.brokerKey ?? "broker"),
      });
    }
    if (active && entry.credentials) {
      const location = `config:${file}#${ref.credentialKeys ? credentialField(ref, "apiKey") : joinField(ref.field, "credentials")}`;
      credentials = this.expandCredentials(entry.credentials, ref);
      explain = { source: "config", tried: [location], used: credentials ? location : null };
      if (credentials) {
        ({ credentialProblem, keyCheck } = this.checkCredentials(
          entry.broker,
          credentials,
          (key) => {
            const field = credentialField(ref, key);
            return { file, field, where: `${file} (${field})` };
          },
        ));
      }
    } else if (active) {
      const found = lookupEnvCredentials(
        this.env,
        entry.broker,
        credentialFamilies(entry.broker, kind, id),
      );
      credentials = found.credentials;
      if (credentials) credentials.secret = normalizeSecret(entry.broker, credentials.secret);
      explain = found.explain;
      const names = found.names;
      if (credentials && names) {
        if (found.shadowed.length > 0)
          this.warnShadowed(kind, id, entry.broker, names, found.shadowed);
        ({ credentialProblem, keyCheck } = this.checkCredentials(
          entry.broker,
          credentials,
          (key) => {
            const name = names[key] ?? `${names.apiKey.replace(/_API_KEY$/, "")}_PASSPHRASE`;
            return { file: this.envSource(name), field: name, where: name };
          },
        ));
      }
    }
    const sandbox = this.sandbox(ref, kind, id, active ? credentials : null, active);
    const apiUrl = active ? this.resolveApiUrl(ref, sandbox.sandbox) : null;
    return {
      broker: entry.broker,
      enabled: entry.enabled,
      credentials,
      apiKeyFingerprint: credentials ? keyFingerprint(credentials.apiKey) : null,
      credentialsExplain: explain,
      credentialProblem,
      ...(keyCheck ? { keyCheck } : {}),
      sandbox: sandbox.sandbox,
      sandboxSource: sandbox.source,
      apiUrl,
      options: entry.options ?? {},
      source: file,
      ...(entry.alerts ? { alerts: entry.alerts } : {}),
    };
  }

  /**
   * A message for the report row when the credentials cannot work, plus a ConfigProblem. Keys
   * are checked for shape here; parsing one is left to `keyCheck`, run by the fetch that needs it.
   */
  private checkCredentials(
    broker: string,
    credentials: Credentials,
    locate: (key: keyof Credentials) => { file: string; field: string; where: string },
  ): { credentialProblem: string | null; keyCheck?: () => string | null } {
    const problem = (depth: CheckDepth): string | null => {
      const fault = credentialFault(broker, credentials, depth);
      if (!fault) return null;
      const { file, field, where } = locate(fault.field);
      const label = FIELD_LABELS[fault.field];
      this.problemOnce(
        {
          code: "unusable_credentials",
          file,
          field,
          message: `the ${label} ${fault.reason}; the account is shown as a configuration error and ${broker} is not asked`,
          hint: fault.hint,
        },
        depth === "full" ? this.lateProblems : this.problems,
      );
      return `the ${label} in ${where} ${fault.reason}`;
    };
    const credentialProblem = problem("shape");
    if (credentialProblem || !needsKeyParse(broker, credentials)) return { credentialProblem };
    let checked: string | null | undefined;
    return {
      credentialProblem,
      keyCheck: () => {
        checked ??= problem("full");
        return checked;
      },
    };
  }

  private warnShadowed(
    kind: "platform" | "user",
    id: string,
    broker: string,
    names: CredentialNames,
    shadowed: string[],
  ): void {
    const used = names.apiKey.replace(/_API_KEY$/, "");
    const owner = kind === "platform" ? "platform" : `user "${id}"`;
    const others = shadowed.map((p) => `${p}_*`).join(", ");
    this.warnings.push({
      code: "shadowed_credentials",
      file: this.envSource(names.apiKey),
      message: `${owner} on ${broker}: ${used}_* and ${others} are all set, to different keys; using ${used}_* (looked up first, as in the original system); unset the one that is wrong`,
    });
  }

  private sandbox(
    ref: EntryRef,
    kind: "platform" | "user",
    id: string,
    credentials: Credentials | null,
    active: boolean,
  ): SandboxDecision {
    const { entry } = ref;
    const key =
      entry.paper !== undefined ? "paper" : entry.testnet !== undefined ? "testnet" : null;
    if (entry.paper !== undefined && entry.testnet !== undefined && entry.paper !== entry.testnet) {
      this.problems.push({
        code: "invalid_field",
        file: ref.file,
        field: joinField(ref.field, "testnet"),
        message: `contradicts "paper" in the same entry; "paper" is used`,
        hint: 'keep one of "paper" and "testnet" (they mean the same: the broker\'s test environment)',
      });
    }
    const configured =
      key === null
        ? undefined
        : {
            value: entry[key] as boolean,
            location: `config:${ref.file}#${joinField(ref.field, key)}`,
          };
    if (!active) {
      return configured
        ? { sandbox: configured.value, source: configured.location }
        : { sandbox: false, source: "default" };
    }
    return resolveSandbox({
      broker: entry.broker,
      kind,
      id,
      configured,
      credentials,
      env: this.env,
      invalid: (name) =>
        this.problemOnce({
          code: "invalid_field",
          file: this.envSource(name),
          field: name,
          message: "is not a boolean; it is ignored",
          hint: `set ${name} to true or false (1/0 and yes/no work too), or unset it`,
        }),
    });
  }

  private expandCredentials(
    raw: NonNullable<BrokerEntry["credentials"]>,
    ref: EntryRef,
  ): Credentials | null {
    const out: Record<string, string> = {};
    let complete = true;
    for (const [key, value] of Object.entries(raw)) {
      if (value === undefined) continue;
      const expanded = this.expand(value, ref, credentialField(ref, key as keyof Credentials));
      if (expanded === null) complete = false;
      else out[key] = expanded;
    }
    if (!complete) return null;
    const credentials = out as unknown as Credentials;
    credentials.secret = normalizeSecret(ref.entry.broker, credentials.secret);
    return credentials;
  }

  private resolveApiUrl(ref: EntryRef, sandbox: boolean): string | null {
    if (ref.entry.apiUrl !== undefined) {
      const url = this.expand(ref.entry.apiUrl, ref, joinField(ref.field, "apiUrl"));
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
    // <BROKER>_SANDBOX_API_URL points the paper/testnet/demo accounts elsewhere (a second proxy,
    // the emulator's paper server); OKX_BASE_URL is the original's name for the OKX origin.
    const broker = ref.entry.broker.toUpperCase();
    const names = [...(sandbox ? [`${broker}_SANDBOX_API_URL`] : []), `${broker}_API_URL`];
    if (ref.entry.broker === "okx") names.push("OKX_BASE_URL");
    const name = names.find((n) => (this.env[n] ?? "").trim() !== "");
    if (name === undefined) return null;
    const url = this.env[name] as string;
    if (isHttpUrl(url)) return url;
    this.problemOnce({
      code: "invalid_field",
      file: this.envSource(name),
      field: name,
      message: "is not an http(s) URL",
      hint: `set ${name} to an absolute URL such as https://api.${ref.entry.broker}.com, or unset it`,
    });
    return null;
  }

  /** Expands `${VAR}`s; an unset one is a problem naming file, field and variable. */
  private expand(value: string, ref: EntryRef, field: string): string | null {
    const result = expandEnvRefs(value, this.env);
    if (result.ok) return result.value;
    const what = field.endsWith("apiUrl") ? "API URL" : "credentials";
    for (const name of result.missing) {
      this.problems.push({
        code: "unknown_env_var",
        file: ref.file,
        field,
        message: `references \${${name}}, which is not set (or is empty); this broker account has no ${what}`,
        hint: `set ${name} in the environment or in .env, or correct the reference`,
      });
    }
    return null;
  }

  /** The .env file when a variable came from it, else "environment". */
  private envSource(name: string): string {
    return this.dotenvKeys.has(name) && this.dotenvPath ? this.dotenvPath : "environment";
  }

  /** Records a problem once: env-var problems would otherwise repeat for every account. */
  private problemOnce(problem: ConfigProblem, into = this.problems): void {
    const key = `${problem.code}\0${problem.file}\0${problem.field}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    into.push(problem);
  }

  /** Problems for broker ids that ccxt does not know (and that are not the original's). */
  async checkBrokerIds(): Promise<void> {
    const ids = [...new Set(this.brokerUses.map((u) => u.broker))];
    const verdicts = await Promise.all(ids.map((id) => unknownBrokerSuggestions(id)));
    ids.forEach((id, i) => {
      const nearest = verdicts[i];
      if (nearest === null || nearest === undefined) return;
      const suggestion =
        nearest.length > 0
          ? `did you mean ${nearest.map((n) => `"${n}"`).join(" or ")}?`
          : "no ccxt id is close to it";
      for (const use of this.brokerUses.filter((u) => u.broker === id)) {
        this.problemOnce({
          code: "unknown_broker",
          file: use.file,
          field: use.field,
          message: `"${id}" is not a ccxt exchange id; ${suggestion} (the account is listed as unsupported)`,
          hint: `use a ccxt exchange id${nearest.length > 0 ? ` such as "${nearest[0]}"` : ""} (the list is ccxt.exchanges), or one of the original's interactive_brokers, td_ameritrade, tradier`,
        });
      }
    });
  }
}

export function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  return readConfig(options);
}

/**
 * `lateProblems`: where a problem found after loading goes (Loader.lateProblems). `dotenvKeys`:
 * what .env set in an earlier read of the same environment, which now holds them, so that this
 * read still names .env as their source.
 */
async function readConfig(
  options: LoadConfigOptions,
  lateProblems?: ConfigProblem[],
  dotenvKeys?: ReadonlySet<string>,
): Promise<LoadedConfig> {
  // +1: file times have sub-millisecond digits, Date.now() none (`performance` costs a module).
  const startedAt = Date.now() + 1;
  const { configDir } = options;
  const loader = new Loader(options.env ?? process.env, options.includeDisabled ?? false);
  if (lateProblems) loader.lateProblems = lateProblems;
  const cwd = options.cwd ?? process.cwd();
  const dotEnv = options.loadDotEnv ?? true;
  if (dotEnv) {
    for (const key of dotenvKeys ?? []) loader.dotenvKeys.add(key);
    await loader.loadDotEnv(cwd);
  }
  const scope =
    options.snapshot === undefined
      ? null
      : {
          ...options.snapshot,
          configDir,
          cwd,
          includeDisabled: loader.includeDisabled,
          loadDotEnv: dotEnv,
        };
  const kept = scope ? readSnapshot(scope, loader.target) : null;
  if (kept) {
    let secrets: Promise<LoadedConfig> | undefined;
    const readSecrets = () => {
      secrets ??= readConfig({ ...options, snapshot: undefined }, kept.problems, loader.dotenvKeys);
      return secrets;
    };
    return { ...kept, readSecrets };
  }

  const top = await listDir(configDir, "config directory");
  loader.inputs.dirs.set(configDir, top ? listingOf(top) : null);
  const usersDir = join(configDir, "users");
  const hasPlatformFile = top?.some((d) => d.name === "platform.json") ?? false;
  const userFiles = top?.some((d) => d.name === "users")
    ? await listDir(usersDir, "users directory")
    : null;
  if (userFiles) loader.inputs.dirs.set(usersDir, listingOf(userFiles));

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
  await loader.checkBrokerIds();
  const shared = sharedCredentials(platform, users);
  loader.warnings.push(...shared.warnings);
  const settings = top?.some((d) => d.name === "settings.json")
    ? await readSettings(loader, configDir)
    : {};
  const loaded: LoadedConfig = {
    settings,
    configDir,
    platform,
    users,
    problems: loader.problems,
    warnings: loader.warnings,
    dotenvPath: loader.dotenvPath,
    sharedCredentials: shared.groups,
  };
  if (scope) writeSnapshot(scope, loaded, loader.inputs, loader.target, startedAt);
  return loaded;
}

/** `<configDir>/settings.json`, its problems recorded on the loader; zod only when it exists. */
async function readSettings(loader: Loader, configDir: string): Promise<Settings> {
  const file = join(configDir, "settings.json");
  const value = await loader.readConfigFile(file);
  if (value === undefined) return {};
  const parsed = (await import("./settings.js")).parseSettings(value, file);
  loader.problems.push(...parsed.problems);
  return parsed.settings;
}

/**
 * settings.json alone (for a command that reads no account, such as `history`): its settings
 * and problems, as `loadConfig` would give them; none when the file does not exist.
 */
export async function loadSettings(
  configDir: string,
): Promise<{ settings: Settings; problems: ConfigProblem[] }> {
  const loader = new Loader(process.env, false);
  const present = (await listDir(configDir, "config directory"))?.some(
    (d) => d.name === "settings.json",
  );
  const settings = present ? await readSettings(loader, configDir) : {};
  return { settings, problems: loader.problems };
}

async function loadPlatformFile(loader: Loader, file: string): Promise<AccountConfig | null> {
  const value = await loader.readConfigFile(file, undefined, "platform");
  if (value === undefined) return null;
  const data = loader.parse("platform", value, file);
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
    if (/\.(?:json|yaml|yml)$/.test(d.name)) names.push(d.name);
    // The original ships user.yaml.example next to the real files; examples are not config.
    else if (!d.name.startsWith(".") && !/^readme/i.test(d.name) && !d.name.endsWith(".example")) {
      loader.warnings.push({
        code: "ignored_file",
        file: join(usersDir, d.name),
        message: "is not a .json, .yaml or .yml file; ignored",
      });
    }
  }
  // Read in parallel; parse, report and merge in file-name order so nothing depends on timing.
  const files = names.map((n) => join(usersDir, n));
  const reads = files.map((f) => readConfigText(f));
  const values: unknown[] = [];
  for (const [i, file] of files.entries())
    values.push(await loader.readConfigFile(file, reads[i], "user"));

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

/**
 * Groups of enabled accounts on one broker that reach the same API key: one exchange account
 * reported (and totalled) twice. Env fallbacks make it easy: users `Bob`, `bob` and `bob_smith`
 * all read KRAKEN_USER_BOB_*.
 */
function sharedCredentials(
  platform: AccountConfig | null,
  users: AccountConfig[],
): { groups: LoadedConfig["sharedCredentials"]; warnings: ConfigWarning[] } {
  const byKey = new Map<string, Array<{ account: AccountConfig; broker: BrokerAccountConfig }>>();
  for (const account of platform ? [platform, ...users] : users) {
    if (!account.enabled) continue;
    for (const broker of account.brokers) {
      if (!broker.enabled || !broker.credentials) continue;
      const key = `${broker.broker}\0${broker.credentials.apiKey}`;
      const group = byKey.get(key) ?? [];
      group.push({ account, broker });
      byKey.set(key, group);
    }
  }
  const groups: LoadedConfig["sharedCredentials"] = [];
  const warnings: ConfigWarning[] = [];
  for (const members of byKey.values()) {
    const first = members[0];
    if (!first || members.length < 2) continue;
    const broker = first.broker.broker;
    groups.push({ broker, accounts: members.map((m) => m.account.id) });
    const named = members.map(
      (m) =>
        `${m.account.kind === "platform" ? "platform" : `user "${m.account.id}"`} (${m.broker.credentialsExplain.used ?? "?"})`,
    );
    const file = members.find((m) => m.broker.credentialsExplain.source === "config")?.broker;
    warnings.push({
      code: "shared_credentials",
      file: file?.source ?? "environment",
      message: `${broker}: ${named.join(", ")} use the same API key, so one exchange account's balance would be counted ${members.length === 2 ? "twice" : `${members.length} times`}; give each account its own key, or disable the extra ones`,
    });
  }
  return { groups, warnings };
}

function legacyEntry(data: {
  broker?: string | undefined;
  broker_type?: string | undefined;
  enabled: boolean;
  paper?: boolean | undefined;
  testnet?: boolean | undefined;
  credentials?: BrokerEntry["credentials"];
  apiUrl?: string | undefined;
  options?: Record<string, unknown> | undefined;
}): BrokerEntry {
  const entry: BrokerEntry = {
    broker: (data.broker ?? data.broker_type) as string,
    enabled: data.enabled,
  };
  if (data.paper !== undefined) entry.paper = data.paper;
  if (data.testnet !== undefined) entry.testnet = data.testnet;
  if (data.credentials) entry.credentials = data.credentials;
  if (data.apiUrl !== undefined) entry.apiUrl = data.apiUrl;
  if (data.options) entry.options = data.options;
  return entry;
}

/** Keys whose literal values are secrets (settings.json's webhook URL holds its token). */
const SECRET_KEYS = new Set(["credentials", "api_key", "api_secret", "passphrase", "notify"]);

/**
 * Whether any `credentials` object (or YAML api_key, api_secret, passphrase) in the file has a
 * value that is not purely `${VAR}`s. Recursive: only called once the depth is known bounded.
 */
function holdsLiteralSecret(value: unknown, inCredentials = false): boolean {
  if (typeof value === "string") return inCredentials && !isOnlyEnvRefs(value);
  if (Array.isArray(value)) return value.some((v) => holdsLiteralSecret(v, inCredentials));
  if (isObject(value)) {
    return Object.entries(value).some(([k, v]) =>
      holdsLiteralSecret(v, inCredentials || SECRET_KEYS.has(k)),
    );
  }
  return false;
}

function isYamlFile(file: string): boolean {
  return /\.ya?ml$/.test(file);
}

/** `users/daivon_frazier.yaml` -> `daivon_frazier`. */
function fileStem(file: string): string {
  return basename(file).replace(/\.(?:json|yaml|yml)$/, "");
}

function credentialField(ref: EntryRef, key: keyof Credentials): string {
  return joinField(ref.field, ref.credentialKeys?.[key] ?? `credentials.${key}`);
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

/** Key-order-independent JSON, to compare two definitions (depth bounded at read time). */
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
