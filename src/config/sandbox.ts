/**
 * Which of a broker's environments an account uses: Alpaca paper, Binance testnet, OKX demo
 * trading. The entry's `paper`/`testnet` wins; then the original system's variables; for Alpaca
 * last the key itself (paper key ids start with PK, live ones with AK).
 */
import { type Env, parseEnvBoolean, userEnvIds } from "./env.js";
import type { Credentials } from "./types.js";

export interface SandboxDecision {
  sandbox: boolean;
  /** `config:<file>#<field>`, a variable name, `key prefix` or `default`. */
  source: string;
}

export interface SandboxInput {
  broker: string;
  kind: "platform" | "user";
  id: string;
  /** The entry's own setting and where it is written. */
  configured: { value: boolean; location: string } | undefined;
  credentials: Credentials | null;
  env: Env;
  /** Called for a variable that is set but not a boolean; it is then passed over. */
  invalid: (name: string) => void;
}

/** Variables that decide, in order; the first set to a boolean wins. */
export function sandboxVariables(broker: string, kind: "platform" | "user", id: string): string[] {
  switch (broker) {
    case "alpaca":
      return kind === "user"
        ? [...userEnvIds(id).map((p) => `ALPACA_USER_${p}_PAPER`), "ALPACA_PAPER"]
        : ["ALPACA_PAPER"];
    case "binance":
      return ["BINANCE_USE_TESTNET"];
    case "okx":
      return ["OKX_USE_TESTNET", "OKX_SIMULATED_TRADING"];
    default:
      return [];
  }
}

export function resolveSandbox(input: SandboxInput): SandboxDecision {
  const { broker, configured, credentials, env } = input;
  if (configured) return { sandbox: configured.value, source: configured.location };
  const decided: SandboxDecision[] = [];
  for (const name of sandboxVariables(broker, input.kind, input.id)) {
    const value = parseEnvBoolean(env[name]);
    if (value === "invalid") input.invalid(name);
    else if (value !== undefined) decided.push({ sandbox: value, source: name });
  }
  // OKX sends its demo-trading header when either variable says so (as the original does).
  const chosen = broker === "okx" ? (decided.find((d) => d.sandbox) ?? decided[0]) : decided[0];
  if (chosen) return chosen;
  if (broker === "alpaca" && credentials?.apiKey.startsWith("PK")) {
    return { sandbox: true, source: "key prefix" };
  }
  if (broker === "alpaca" && credentials?.apiKey.startsWith("AK")) {
    return { sandbox: false, source: "key prefix" };
  }
  return { sandbox: false, source: "default" };
}
