/**
 * doctor's local checks: the config files, their permissions, the credentials each account finds
 * (variable names, never values), the cache directory and store, and the history database. Each
 * returns check lines; none throws for a finding. The exchange checks are in doctor-exchange.ts.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { openStore, StoreError } from "../cache/open-store.js";
import { configAccounts } from "../config/accounts.js";
import {
  type AccountConfig,
  type BrokerAccountConfig,
  ConfigError,
  type LoadedConfig,
  loadConfig,
  NON_CCXT_BROKERS,
} from "../config/index.js";
import { HISTORY_FILE, HistoryError, HistoryStore } from "../monitor/history.js";
import { specialDirectory } from "./options.js";

export type CheckState = "ok" | "warn" | "fail";

/**
 * What doctor checks. The first four are the configuration (a failure exits 2), the others the
 * credentials and exchanges (a failure exits 3).
 */
export type CheckName =
  | "config"
  | "permissions"
  | "cache"
  | "history"
  | "credentials"
  | "clock"
  | "auth";

export const CONFIG_CHECKS: readonly CheckName[] = ["config", "permissions", "cache", "history"];

export interface Check {
  name: CheckName;
  state: CheckState;
  /** What was found; names files, fields and variables, never a credential value. */
  detail: string;
  /** What to do about it; null when nothing is to be done. */
  fix: string | null;
}

const ok = (name: CheckName, detail: string): Check => ({ name, state: "ok", detail, fix: null });

/** "platform / kraken", "user alice / kraken": how doctor names a broker account. */
export function accountLabel(account: AccountConfig, broker: BrokerAccountConfig): string {
  return `${account.kind === "platform" ? "platform" : `user ${account.id}`} / ${broker.broker}`;
}

/** Enabled accounts' enabled brokers: what a report would query. */
export function activeBrokers(config: LoadedConfig) {
  const accounts = configAccounts(config);
  return accounts.flatMap((account) =>
    account.enabled
      ? account.brokers.filter((b) => b.enabled).map((broker) => ({ account, broker }))
      : [],
  );
}

/**
 * Loads the config as a report would (.env from the working directory included) and turns its
 * problems and warnings into check lines, with the loader's own messages and fixes. Returns the
 * config too, unless nothing could be loaded.
 */
export async function checkConfig(
  configDir: string,
): Promise<{ checks: Check[]; config: LoadedConfig | null }> {
  let config: LoadedConfig;
  try {
    config = await loadConfig({ configDir });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return {
      checks: [{ name: "config", state: "fail", detail: error.message, fix: error.hint }],
      config: null,
    };
  }
  const checks: Check[] = config.problems.map((p) => ({
    name: "config",
    state: "fail",
    detail: `${p.field ? `${p.file}: ${p.field}` : p.file}: ${p.message}`,
    fix: p.hint,
  }));
  for (const w of config.warnings) {
    if (w.code === "insecure_permissions") continue;
    checks.push({ name: "config", state: "warn", detail: `${w.file}: ${w.message}`, fix: null });
  }
  // init's instructions copy .env.example to .env; a copy left in the config directory is unread.
  const stray = join(configDir, ".env");
  if (resolve(stray) !== resolve(config.dotenvPath ?? "") && existsSync(stray)) {
    checks.push({
      name: "config",
      state: "warn",
      detail: `${stray} is not read: .env is read from the working directory (${process.cwd()})`,
      fix: `move it to the directory you run show-user-balances from: mv ${stray} .env`,
    });
  }
  if (!config.platform && config.users.length === 0) {
    checks.push({
      name: "config",
      state: "fail",
      detail: `no account is configured in ${configDir} (no platform, no enabled user)`,
      fix: `create ${join(configDir, "users", "<user_id>.json")} (show-user-balances init writes a starter), or point --config-dir at your config`,
    });
  }
  if (config.problems.length === 0) {
    const files = new Set([
      ...(config.platform?.sources ?? []),
      ...config.users.flatMap((u) => u.sources),
    ]);
    files.delete("env");
    const users = config.users.length;
    const accounts = `${config.platform ? "the platform and " : ""}${users} user${users === 1 ? "" : "s"}`;
    const dotenv = config.dotenvPath
      ? `; ${config.dotenvPath} loaded`
      : `; no .env in ${process.cwd()}`;
    checks.unshift(
      ok(
        "config",
        `${files.size} file${files.size === 1 ? "" : "s"} read in ${configDir} (${accounts})${dotenv}`,
      ),
    );
  }
  return { checks, config };
}

/**
 * Files holding credentials must not be readable by group or others: .env always, a config file
 * when it holds literal keys (the loader tells which, as insecure_permissions warnings).
 */
export function checkPermissions(config: LoadedConfig): Check[] {
  const exposed = config.warnings.filter((w) => w.code === "insecure_permissions");
  if (exposed.length === 0) {
    const dotenv = config.dotenvPath ? `${config.dotenvPath} and ` : "";
    return [ok("permissions", `${dotenv}every config file holding keys is private`)];
  }
  return exposed.map((w) => ({
    name: "permissions",
    state: "fail",
    detail: `${w.file}: ${w.message.replace(/; run chmod.*$/, "")}`,
    fix: `chmod 600 ${w.file}`,
  }));
}

/** Every enabled broker account has credentials, and none was found unusable locally. */
export function checkCredentials(config: LoadedConfig): Check[] {
  return activeBrokers(config).map(({ account, broker }): Check => {
    const label = accountLabel(account, broker);
    const explain = broker.credentialsExplain;
    if (NON_CCXT_BROKERS.includes(broker.broker)) {
      return {
        name: "credentials",
        state: "warn",
        detail: `${label}: not available through ccxt; listed as unsupported, not checked`,
        fix: null,
      };
    }
    if (!broker.credentials) {
      const [key, secret] = explain.tried;
      return {
        name: "credentials",
        state: "fail",
        detail: `${label}: no credentials found (looked up ${explain.tried.join(", ")})`,
        fix: `set ${key ?? "the API key"} and ${secret ?? "the secret"} in the environment or .env (see .env.example from show-user-balances init)`,
      };
    }
    const where = explain.used?.replace(/^config:/, "") ?? "config";
    // The full check: doctor parses each key, which a report leaves to the fetch.
    const problem = broker.credentialProblem || broker.keyCheck?.();
    if (problem) {
      return {
        name: "credentials",
        state: "fail",
        detail: `${label}: ${problem}`,
        fix: "correct the value named above (the config error above gives the details)",
      };
    }
    return ok("credentials", `${label}: ${where}`);
  });
}

/**
 * The cache directory can be created and written (what every run needs), and the shared store,
 * when one is configured, answers.
 */
export async function checkCache(cacheDir: string, storeUrl: string | undefined): Promise<Check[]> {
  const checks: Check[] = [];
  const special = specialDirectory(cacheDir);
  if (special !== null) {
    return [
      {
        name: "cache",
        state: "fail",
        detail: `${cacheDir} is under ${special}, where files cannot be kept`,
        fix: "point --cache-dir at an ordinary directory (the default is under $HOME)",
      },
    ];
  }
  const probe = join(cacheDir, `.doctor-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    await writeFile(probe, "", { flag: "wx", mode: 0o600 });
    await unlink(probe);
    checks.push(ok("cache", `${cacheDir} is writable`));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    checks.push({
      name: "cache",
      state: "fail",
      detail: `${cacheDir} cannot be written (${code})`,
      fix: `make it writable by this user (chmod 700 ${cacheDir}), or point --cache-dir elsewhere`,
    });
  }
  if (storeUrl && storeUrl !== "disk") {
    try {
      const opened = await openStore({
        url: storeUrl,
        password: process.env.REDIS_PASSWORD,
        required: true,
        cacheDir,
      });
      await opened.close();
      checks.push(ok("cache", "the shared store (Redis) answers"));
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      checks.push({ name: "cache", state: "fail", detail: error.message, fix: error.hint });
    }
  }
  return checks;
}

/** The history database opens (created if absent, as the next run would) with its schema. */
export function checkHistory(stateDir: string): Check {
  const special = specialDirectory(stateDir);
  if (special !== null) {
    return {
      name: "history",
      state: "fail",
      detail: `${stateDir} is under ${special}, where files cannot be kept`,
      fix: "point --state-dir at an ordinary directory (the default is under $HOME)",
    };
  }
  try {
    HistoryStore.open(stateDir)?.close();
    return ok("history", `${join(stateDir, HISTORY_FILE)} opens`);
  } catch (error) {
    if (!(error instanceof HistoryError)) throw error;
    return { name: "history", state: "fail", detail: error.message, fix: error.hint };
  }
}
