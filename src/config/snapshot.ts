/**
 * The loaded config, kept between runs. Reading, parsing and resolving 1,000 user files took
 * ~50 ms of every run (issue 14), and a config rarely changes between two runs. The snapshot is
 * the loaded config without a secret (credentials are dropped and their API key's fingerprint
 * kept), with what the load read: each directory's listing, each file's stamp (identity, size,
 * mode, times) and a digest of the environment variables it looked up. A run whose inputs all
 * match takes the config from it; a run that has to fetch an account reads the config again for
 * that account's credentials (`readSecrets`), so a credential only ever comes from its source.
 *
 * Kept in `<cache dir>/config/` (0700 and ours; the file 0600, written whole), one file per config
 * directory, working directory (.env) and listing mode. Not written when an input changed less
 * than SETTLE_MS ago (a second change within the file system's time granularity could go
 * unseen), when a file could not be read, or when the config holds a secret besides credentials
 * (settings.json's webhook URL, an API URL with a user or query, extra ccxt options).
 */
import { hash } from "node:crypto";
import {
  type Dirent,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { isPrivateDirectory } from "../private-dir.js";
import { configAccounts } from "./accounts.js";
import { type FileStamp, sameStamp } from "./files.js";
import type { LoadedConfig } from "./load.js";
import type { AccountConfig, BrokerAccountConfig, CredentialsExplain } from "./types.js";

/** Bumped whenever LoadedConfig or its stored form changes shape. */
const FORMAT = 2;
/** Inputs changed more recently than this when the config was read leave no snapshot. */
export const SETTLE_MS = 2000;
/**
 * A snapshot not rewritten for this long is removed when another is written beside it: an old
 * build's, a config directory's that is gone. One still in use costs one full read to restore.
 */
const UNUSED_MS = 30 * 86_400_000;

/** What one config load read, recorded as it went. */
export interface ConfigInputs {
  /** Directory -> its listing (listingOf), null when it did not exist. */
  dirs: Map<string, string | null>;
  /** File -> fileStamp, null when it did not exist. */
  files: Map<string, FileStamp | null>;
  /** Environment variables looked up (after .env was applied). */
  env: Set<string>;
  /** Set when a file could not be read: its problem is not one a stamp can vouch for. */
  unsettled: boolean;
}

export function newInputs(): ConfigInputs {
  return { dirs: new Map(), files: new Map(), env: new Set(), unsettled: false };
}

interface Snapshot<Config = LoadedConfig> {
  format: number;
  identity: string;
  dirs: Array<[string, string | null]>;
  files: Array<[string, FileStamp | null]>;
  envNames: string[];
  envDigest: string;
  /** As read, once restoreDefaults has put back what withoutSecrets left out. */
  config: Config;
}

/** What a snapshot is for: one config directory read from one working directory, one way. */
export interface SnapshotScope {
  dir: string;
  /** The program's build (version): another build may read the config differently. */
  build?: string;
  settleMs?: number;
  configDir: string;
  cwd: string;
  includeDisabled: boolean;
  loadDotEnv: boolean;
}

/** Names and types in the order read: libuv lists a directory sorted, so no sort here. */
export function listingOf(entries: readonly Dirent[]): string {
  const type = (d: Dirent) =>
    d.isDirectory() ? "d" : d.isFile() ? "f" : d.isSymbolicLink() ? "l" : "o";
  return entries.map((d) => `${d.name}/${type(d)}`).join("\n");
}

function identityOf(scope: SnapshotScope): string {
  return [
    scope.build ?? "",
    resolve(scope.configDir),
    resolve(scope.cwd),
    scope.includeDisabled,
    scope.loadDotEnv,
  ].join("\0");
}

function fileOf(scope: SnapshotScope): string {
  return join(scope.dir, `${hash("sha256", identityOf(scope), "hex").slice(0, 20)}.json`);
}

/** One digest of the values looked up: it says whether any changed, and keeps none. */
function envDigest(env: Record<string, string | undefined>, names: readonly string[]): string {
  const parts = names.map((name) => {
    const value = env[name];
    return value === undefined ? `${name}\0` : `${name}=${value}\0`;
  });
  return hash("sha256", parts.join(""), "hex");
}

/** The config from the snapshot when every input is as it was, else null. */
export function readSnapshot(
  scope: SnapshotScope,
  env: Record<string, string | undefined>,
): LoadedConfig | null {
  if (!isPrivateDirectory(scope.dir, false)) return null;
  let snapshot: Snapshot;
  try {
    snapshot = JSON.parse(readFileSync(fileOf(scope), "utf8")) as Snapshot;
  } catch {
    return null;
  }
  if (snapshot?.format !== FORMAT || snapshot.identity !== identityOf(scope)) {
    return null;
  }
  try {
    for (const [dir, listing] of snapshot.dirs) {
      const now = statSync(dir, { throwIfNoEntry: false })
        ? listingOf(readdirSync(dir, { withFileTypes: true }))
        : null;
      if (now !== listing) return null;
    }
    for (const [file, stamp] of snapshot.files) {
      const stat = statSync(file, { throwIfNoEntry: false });
      if (stat === undefined ? stamp !== null : stamp === null || !sameStamp(stat, stamp)) {
        return null;
      }
    }
  } catch {
    return null;
  }
  if (envDigest(env, snapshot.envNames) !== snapshot.envDigest) return null;
  restoreDefaults(snapshot.config);
  return { ...snapshot.config, fromSnapshot: true };
}

/** Writes the snapshot of a config just read, unless it must not be kept (see the top). */
export function writeSnapshot(
  scope: SnapshotScope,
  config: LoadedConfig,
  inputs: ConfigInputs,
  env: Record<string, string | undefined>,
  readStartedAt: number,
): void {
  if (inputs.unsettled || mustNotKeep(config)) return;
  const settled = readStartedAt - (scope.settleMs ?? SETTLE_MS);
  for (const stamp of inputs.files.values()) {
    if (stamp && (stamp[4] > settled || stamp[5] > settled)) return;
  }
  const dir = scope.dir;
  if (!isPrivateDirectory(dir, true)) return;
  const envNames = [...inputs.env].sort();
  const snapshot: Snapshot<unknown> = {
    format: FORMAT,
    identity: identityOf(scope),
    dirs: [...inputs.dirs],
    files: [...inputs.files],
    envNames,
    envDigest: envDigest(env, envNames),
    config: withoutSecrets(config),
  };
  const file = fileOf(scope);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(snapshot), { mode: 0o600 });
    renameSync(temp, file);
    sweep(dir, readStartedAt);
  } catch {
    // Only a speed-up: the next run reads the config and tries again.
  }
}

/** Snapshots past UNUSED_MS and temp files a crashed writer left. */
function sweep(dir: string, now: number): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const age = now - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? now);
    if (age > (name.endsWith(".tmp") ? 3_600_000 : UNUSED_MS)) rmSync(path, { force: true });
  }
}

/** A secret besides credentials, or settings.json turning caching off (this is a cache too). */
function mustNotKeep(config: LoadedConfig): boolean {
  if (config.settings.notify !== undefined || config.settings.cache === false) return true;
  return configAccounts(config).some((account) =>
    account.brokers.some((broker) => {
      if (broker.options.ccxt !== undefined) return true;
      if (broker.apiUrl === null) return false;
      try {
        const url = new URL(broker.apiUrl);
        return url.username !== "" || url.password !== "" || url.search !== "";
      } catch {
        return true;
      }
    }),
  );
}

/**
 * Values most accounts and brokers have, left out of the file and put back when it is read: for
 * 1,000 users the file went from 633 to 440 KB and its JSON.parse from 4.1 to 2.5 ms. A broker's
 * `credentials` is always left out (null when read); its `options` when empty, and its
 * credentials' `tried` when that is only the one `used`.
 */
const ACCOUNT_DEFAULTS: Partial<AccountConfig> = { name: null, enabled: true };
const BROKER_DEFAULTS: Partial<BrokerAccountConfig> = {
  enabled: true,
  credentialProblem: null,
  sandbox: false,
  sandboxSource: "default",
};

function withDefaultsLeftOut<T extends object>(value: T, defaults: Partial<T>): Partial<T> {
  const out: Partial<T> = { ...value };
  for (const key of Object.keys(defaults) as (keyof T)[]) {
    if (out[key] === defaults[key]) delete out[key];
  }
  return out;
}

function withoutSecrets(config: LoadedConfig): unknown {
  const storedBroker = ({
    keyCheck: _check,
    credentials: _secret,
    ...broker
  }: BrokerAccountConfig) => {
    const out = withDefaultsLeftOut(broker, BROKER_DEFAULTS);
    if (Object.keys(broker.options).length === 0) delete out.options;
    const { source, tried, used } = broker.credentialsExplain;
    if (tried.length === 1 && tried[0] === used) out.credentialsExplain = { source, used } as never;
    return out;
  };
  const stored = (account: AccountConfig) => ({
    ...withDefaultsLeftOut(account, ACCOUNT_DEFAULTS),
    brokers: account.brokers.map(storedBroker),
  });
  const { readSecrets: _read, fromSnapshot: _from, ...rest } = config;
  return {
    ...rest,
    platform: config.platform && stored(config.platform),
    users: config.users.map(stored),
  };
}

/** Puts back what withoutSecrets left out, in place (a loop: this is on every cache hit). */
function restoreDefaults(config: LoadedConfig): void {
  for (const account of configAccounts(config)) {
    const stored = account as Partial<AccountConfig>;
    if (stored.name === undefined) account.name = null;
    if (stored.enabled === undefined) account.enabled = true;
    for (const broker of account.brokers) {
      const partial = broker as Partial<BrokerAccountConfig>;
      broker.credentials = null;
      if (partial.enabled === undefined) broker.enabled = true;
      if (partial.credentialProblem === undefined) broker.credentialProblem = null;
      if (partial.sandbox === undefined) broker.sandbox = false;
      if (partial.sandboxSource === undefined) broker.sandboxSource = "default";
      if (partial.options === undefined) broker.options = {};
      const explain = broker.credentialsExplain as Partial<CredentialsExplain>;
      if (explain.tried === undefined) explain.tried = [explain.used as string];
    }
  }
}
