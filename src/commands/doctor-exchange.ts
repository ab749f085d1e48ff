/**
 * doctor's exchange checks: this machine's clock against each exchange's server time, and one
 * authenticated balance request per distinct key, through the same ccxt instances, API origins
 * and balance fetch as the report (so a row's status means what it means there). Never cached.
 */
import { loadExchangeClass } from "../brokers/ccxt-loader.js";
import { classifyError } from "../brokers/errors.js";
import { createExchange } from "../brokers/exchange.js";
import { BalanceFetcher } from "../brokers/fetch-account-balance.js";
import type { BalanceStatus } from "../brokers/types.js";
import { DiskBalanceCache } from "../cache/balance-cache.js";
import { envNamePart, type LoadedConfig, NON_CCXT_BROKERS } from "../config/index.js";
import { KrakenLane } from "../queue/kraken-lane.js";
import { mapBounded } from "../queue/map-bounded.js";
import { accountRequest } from "../report/collect.js";
import { redact } from "../secrets.js";
import { accountLabel, activeBrokers, type Check, type CheckState } from "./doctor-checks.js";

/** Offsets up to this are fine for every exchange we sign for (Binance refuses 1 s ahead). */
export const SKEW_OK_MS = 1000;
/** Past this some exchanges refuse signed requests (OKX at 30 s, Binance's recvWindow 10 s). */
export const SKEW_FAIL_MS = 5000;

export interface ClockReading {
  /** Local time just before the request and just after the answer (ms). */
  sentAt: number;
  receivedAt: number;
  /** The server's time as ccxt read it (ms). */
  serverTime: number;
}

/**
 * The range this machine's clock may be off by (local minus server), from one reading. The server
 * stamped its time somewhere between send and receipt; an answer in whole seconds (Kraken,
 * Coinbase v2) can be up to a second behind the true time, so such a reading widens the range.
 */
export function clockOffset(reading: ClockReading): { low: number; high: number } {
  const resolution = reading.serverTime % 1000 === 0 ? 1000 : 1;
  return {
    low: reading.sentAt - (reading.serverTime + resolution),
    high: reading.receivedAt - reading.serverTime,
  };
}

/** ok, warn or fail by the smallest offset the reading allows; "+1.2 s ahead" style detail. */
export function judgeClock(reading: ClockReading): { state: CheckState; detail: string } {
  const { low, high } = clockOffset(reading);
  const least = low <= 0 && high >= 0 ? 0 : Math.min(Math.abs(low), Math.abs(high));
  const middle = (low + high) / 2;
  const seconds = (ms: number) => `${(Math.abs(ms) / 1000).toFixed(1)} s`;
  const direction = middle >= 0 ? "ahead of" : "behind";
  const detail =
    least === 0
      ? `in step (within ${seconds(Math.max(Math.abs(low), Math.abs(high)))})`
      : `this clock is ${seconds(middle)} ${direction} the server (at least ${seconds(least)})`;
  return {
    state: least > SKEW_FAIL_MS ? "fail" : least > SKEW_OK_MS ? "warn" : "ok",
    detail,
  };
}

const CLOCK_FIX =
  "synchronise this machine's clock (timedatectl set-ntp true, or chronyd/ntpd); signed requests carry the time and exchanges refuse them when it is off";

type Active = ReturnType<typeof activeBrokers>[number];

/** Brokers the checks can ask: ccxt ones with a ccxt class (others are listed, not checked). */
const askable = (entry: Active) => !NON_CCXT_BROKERS.includes(entry.broker.broker);

/** One clock reading per exchange, origin and environment the config uses. */
export async function checkClocks(config: LoadedConfig, timeoutMs: number): Promise<Check[]> {
  const origins = new Map<string, Active[]>();
  for (const entry of activeBrokers(config).filter(askable)) {
    const { broker } = entry;
    const key = `${broker.broker} ${broker.apiUrl ?? ""} ${broker.sandbox}`;
    origins.set(key, [...(origins.get(key) ?? []), entry]);
  }
  return mapBounded([...origins.values()], 8, async (entries) => {
    const first = entries[0] as Active;
    const { broker } = first.broker;
    const where = `${broker}${first.broker.sandbox ? " (test environment)" : ""}${first.broker.apiUrl ? ` at ${first.broker.apiUrl}` : ""}`;
    const Class = await loadExchangeClass(broker);
    if (!Class) {
      return {
        name: "clock",
        state: "warn",
        detail: `${where}: not a ccxt exchange; not checked`,
        fix: null,
      };
    }
    // Alpaca's clock is a private endpoint: it is read with the first usable key on that origin.
    const keyed = entries.find((e) => e.broker.credentials && !e.broker.credentialProblem);
    const { exchange } = createExchange(Class, {
      credentials: broker === "alpaca" ? (keyed?.broker.credentials ?? null) : null,
      apiUrl: first.broker.apiUrl,
      sandbox: first.broker.sandbox,
      timeoutMs,
    });
    if (!exchange.has.fetchTime || (broker === "alpaca" && !keyed)) {
      return {
        name: "clock",
        state: "warn",
        detail: `${where}: ${exchange.has.fetchTime ? "its server time needs a key, and none is usable" : "ccxt cannot read its server time"}; not checked`,
        fix: null,
      };
    }
    const sentAt = Date.now();
    try {
      const serverTime = await exchange.fetchTime();
      const receivedAt = Date.now();
      if (typeof serverTime !== "number" || !Number.isFinite(serverTime)) {
        throw new Error(`${broker} sent no server time`);
      }
      const judged = judgeClock({ sentAt, receivedAt, serverTime });
      return {
        name: "clock",
        state: judged.state,
        detail: `${where}: ${judged.detail}`,
        fix: judged.state === "ok" ? null : CLOCK_FIX,
      };
    } catch (error) {
      const secrets = Object.values(keyed?.broker.credentials ?? {});
      return {
        name: "clock",
        state: "fail",
        detail: `${where}: server time not read: ${redact(classifyError(error, broker).message, secrets)}`,
        fix: `check the network and the API URL (${first.broker.apiUrl ?? `${envNamePart(broker)}_API_URL unset: the exchange's own`}), then run doctor again`,
      };
    }
  });
}

/** What to do about a failed balance request, by its status. */
function authFix(status: BalanceStatus, broker: string, names: string): string {
  switch (status) {
    case "auth_failed":
      return `the key in ${names} is wrong, revoked or expired (or the clock is off: see the clock check): create a new API key on ${broker} and set it there`;
    case "permission_denied":
      return `give the key in ${names} permission to read balances (query funds) on ${broker}, or create one that has it`;
    case "rate_limited":
      return `${broker} is limiting this key or address: wait a minute and run doctor again; stop other tools sharing the key`;
    case "network_error":
    case "timeout":
      return `check the network and ${envNamePart(broker)}_API_URL, or raise --timeout; then run doctor again`;
    case "config_error":
      return "correct the credential named above (see the config and credentials checks)";
    case "unsupported_broker":
      return `use a ccxt exchange id that can read balances instead of "${broker}"`;
    default:
      return `${broker} answered with an error: run doctor again; if it persists, run the report with --verbose`;
  }
}

/**
 * One balance request per distinct key (accounts sharing a key share it), through the report's
 * fetcher with the cash valuation, which needs no public prices. The row's status says whether
 * the key works: ok, auth_failed, permission_denied, ...
 */
export async function checkAuth(
  config: LoadedConfig,
  options: { timeoutMs: number; cacheDir: string },
): Promise<Check[]> {
  const byKey = new Map<string, Active[]>();
  for (const entry of activeBrokers(config).filter(askable)) {
    const { broker } = entry;
    if (!broker.credentials || broker.credentialProblem) continue;
    const key = [
      broker.broker,
      broker.credentials.apiKey,
      broker.apiUrl ?? "",
      broker.sandbox,
    ].join("\0");
    byKey.set(key, [...(byKey.get(key) ?? []), entry]);
  }
  const fetcher = new BalanceFetcher({
    timeoutMs: options.timeoutMs,
    valuation: "cash",
    // Paced and locked with every other run on the machine, as the report's Kraken requests are:
    // a request on a key another run is using would break its nonces.
    krakenLane: new KrakenLane({ shared: new DiskBalanceCache(options.cacheDir) }),
  });
  return mapBounded([...byKey.values()], 8, async (entries) => {
    const first = entries[0] as Active;
    const { broker } = first;
    const labels = entries.map((e) => accountLabel(e.account, e.broker)).join(", ");
    const result = await fetcher.fetchAccountBalance({
      ...accountRequest(broker),
      options: { ...broker.options, valuation: "cash" },
    });
    if (result.status === "ok") {
      const environment = result.environment === "live" ? "" : ` (${result.environment})`;
      return {
        name: "auth",
        state: "ok",
        detail: `${labels}: the key works${environment}`,
        fix: null,
      };
    }
    const names = broker.credentialsExplain.used?.replace(/^config:/, "") ?? "the config";
    return {
      name: "auth",
      state: "fail",
      detail: `${labels}: ${result.status}: ${result.message ?? "no reason given"}`,
      fix: authFix(result.status, broker.broker, names),
    };
  });
}
