import { loadConfig } from "../config/index.js";

/**
 * The user or broker ids a completion offers, disabled ones included (a flag can list them), in
 * config order. Reading the config loads no ccxt and asks no exchange; a config that cannot be
 * read offers nothing, since a completion has nowhere to show an error.
 */
export async function configIds(configDir: string, what: "users" | "brokers"): Promise<string[]> {
  try {
    const config = await loadConfig({ configDir, includeDisabled: true });
    if (what === "users") return config.users.map((user) => user.id);
    const accounts = [...(config.platform ? [config.platform] : []), ...config.users];
    return [...new Set(accounts.flatMap((a) => a.brokers.map((b) => b.broker)))].sort();
  } catch {
    return [];
  }
}
