import { homedir } from "node:os";
import { join } from "node:path";

/** `$XDG_CACHE_HOME/show-user-balances`, else `~/.cache/show-user-balances`. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "show-user-balances");
}
