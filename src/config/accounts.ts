import type { LoadedConfig } from "./load.js";
import type { AccountConfig } from "./types.js";

/** The platform account, when there is one, then the users: every account the config lists. */
export function configAccounts(config: Pick<LoadedConfig, "platform" | "users">): AccountConfig[] {
  return config.platform ? [config.platform, ...config.users] : config.users;
}
