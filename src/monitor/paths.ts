import { homedir } from "node:os";
import { join } from "node:path";

/** `$XDG_STATE_HOME/show-user-balances`, else `~/.local/state/show-user-balances`. */
export function defaultStateDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "show-user-balances");
}
