/**
 * Kraken spot REST (api.kraken.com/0/...). Every answer is HTTP 200 with {"error":[...],"result":...}
 * except unknown methods and injected HTTP faults. Private calls are checked in Kraken's order:
 * key, API-Sign, nonce, call-rate counter, key permission.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { add, padDecimals } from "./decimal.js";
import {
  type ExchangeAdapter,
  gatewayPage,
  header,
  json,
  type ParsedRequest,
  type Reply,
  text,
} from "./server.js";
import type { Account, EmulatorState } from "./state.js";

/** Unified code -> Kraken asset id, for the assets that carry Kraken's legacy X/Z prefix. */
const ASSET_IDS: Record<string, string> = {
  USD: "ZUSD",
  EUR: "ZEUR",
  GBP: "ZGBP",
  CAD: "ZCAD",
  JPY: "ZJPY",
  AUD: "ZAUD",
  BTC: "XXBT",
  ETH: "XETH",
  LTC: "XLTC",
  XRP: "XXRP",
  XLM: "XXLM",
  DOGE: "XXDG",
  ETC: "XETC",
  ZEC: "XZEC",
  XMR: "XXMR",
  MLN: "XMLN",
  REP: "XREP",
};

/** Kraken's own short names where they differ from the unified code. */
const ALTNAMES: Record<string, string> = { BTC: "XBT", DOGE: "XDG" };

const FIAT = new Set(["USD", "EUR", "GBP", "CAD", "JPY", "AUD", "CHF"]);
const EIGHT_DECIMALS = new Set(["USDC", "USDT", "DAI", "XRP", "XLM", "DOGE", "ADA"]);

export function krakenAssetId(code: string): string {
  return ASSET_IDS[code] ?? code;
}

function altname(code: string): string {
  return ALTNAMES[code] ?? code;
}

/** The `decimals` Kraken's Assets endpoint lists; balances are printed with exactly that many. */
function assetDecimals(code: string): number {
  if (FIAT.has(code)) return 4;
  if (EIGHT_DECIMALS.has(code)) return 8;
  return 10;
}

function pairId(base: string): string {
  const baseId = krakenAssetId(base);
  // Legacy assets pair by id (XXBTZUSD); newer ones by altname (SOLUSD, USDCUSD).
  return baseId !== base ? `${baseId}ZUSD` : `${altname(base)}USD`;
}

function ok(result: unknown): Reply {
  return json(200, { error: [], result }, null);
}

function fail(error: string): Reply {
  return json(200, { error: [error] }, error);
}

function formParams(req: ParsedRequest): Record<string, string> {
  const contentType = header(req, "content-type") ?? "";
  if (contentType.includes("application/json")) {
    try {
      const parsed: unknown = JSON.parse(req.body);
      if (parsed !== null && typeof parsed === "object") {
        return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
      }
    } catch {
      return {};
    }
    return {};
  }
  return Object.fromEntries(new URLSearchParams(req.body));
}

export class KrakenAdapter implements ExchangeAdapter {
  readonly id = "kraken" as const;

  constructor(private readonly state: EmulatorState) {}

  claimedKey(req: ParsedRequest): string | null {
    return req.path.startsWith("/0/private/") ? (header(req, "api-key") ?? "") : null;
  }

  nonceOf(req: ParsedRequest): string | undefined {
    return req.path.startsWith("/0/private/") ? formParams(req).nonce : undefined;
  }

  handle(req: ParsedRequest, revoked: boolean): Reply {
    if (req.path.startsWith("/0/public/")) return this.public(req);
    if (req.path === "/0/private/BalanceEx" || req.path === "/0/private/Balance") {
      if (req.method !== "POST")
        return json(405, { error: ["EGeneral:Invalid arguments"] }, "EGeneral:Invalid arguments");
      return this.private(req, revoked);
    }
    return json(404, { error: ["EGeneral:Unknown method"] }, "EGeneral:Unknown method");
  }

  faultReply(
    kind: "http" | "rate_limit" | "invalid_nonce" | "malformed",
    _req: ParsedRequest,
    status: number,
  ): Reply {
    switch (kind) {
      case "rate_limit":
        return fail("EAPI:Rate limit exceeded");
      case "invalid_nonce":
        return fail("EAPI:Invalid nonce");
      case "malformed":
        return text(
          200,
          '{"error":[],"result":{"ZUSD":{"balance":"12',
          "malformed",
          "application/json",
        );
      case "http":
        if (status === 500)
          return json(500, { error: ["EGeneral:Internal error"] }, `http ${status}`);
        if (status === 503) return json(503, { error: ["EService:Unavailable"] }, `http ${status}`);
        return gatewayPage(status);
    }
  }

  private private(req: ParsedRequest, revoked: boolean): Reply {
    const apiKey = header(req, "api-key");
    const account =
      revoked || apiKey === undefined ? undefined : this.state.account("kraken", apiKey);
    if (account === undefined) return fail("EAPI:Invalid key");
    if (!this.signatureValid(req, account)) return fail("EAPI:Invalid signature");
    const nonceText = formParams(req).nonce ?? "";
    if (!/^\d{1,20}$/.test(nonceText)) return fail("EAPI:Invalid nonce");
    const nonce = BigInt(nonceText);
    if (account.lastNonce !== null && nonce <= account.lastNonce) return fail("EAPI:Invalid nonce");
    account.lastNonce = nonce;
    if (this.overCounter(account, req.now)) return fail("EAPI:Rate limit exceeded");
    if (account.permissions === "no_funds_query") return fail("EGeneral:Permission denied");
    const extended = req.path.endsWith("BalanceEx");
    const result: Record<string, unknown> = {};
    for (const [code, holding] of account.balances) {
      const decimals = assetDecimals(code);
      const balance = padDecimals(add(holding.free, holding.used), decimals);
      result[krakenAssetId(code)] = extended
        ? { balance, hold_trade: padDecimals(holding.used, decimals) }
        : balance;
    }
    return ok(result);
  }

  private signatureValid(req: ParsedRequest, account: Account): boolean {
    const sent = header(req, "api-sign");
    if (sent === undefined) return false;
    const nonce = formParams(req).nonce ?? "";
    const digest = createHash("sha256")
      .update(nonce + req.body)
      .digest();
    const expected = createHmac("sha512", Buffer.from(account.secret, "base64"))
      .update(Buffer.concat([Buffer.from(req.path), digest]))
      .digest();
    const given = Buffer.from(sent, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Kraken's call-rate counter: +1 per balance call, decaying continuously; over max is refused. */
  private overCounter(account: Account, now: number): boolean {
    const { krakenCounterMax, krakenDecayPerSecond } = this.state.limits;
    const decayed = ((now - account.counterAt) / 1000) * krakenDecayPerSecond;
    account.counter = Math.max(0, account.counter - decayed);
    account.counterAt = now;
    if (account.counter + 1 > krakenCounterMax) return true;
    account.counter += 1;
    return false;
  }

  private public(req: ParsedRequest): Reply {
    const params =
      req.method === "POST"
        ? { ...Object.fromEntries(req.query), ...formParams(req) }
        : Object.fromEntries(req.query);
    switch (req.path) {
      case "/0/public/Time": {
        const now = new Date(req.now);
        return ok({
          unixtime: Math.floor(req.now / 1000),
          rfc1123: now.toUTCString().replace("GMT", "+0000"),
        });
      }
      case "/0/public/SystemStatus":
        return ok({
          status: "online",
          timestamp: new Date(req.now).toISOString().replace(/\.\d{3}Z$/, "Z"),
        });
      case "/0/public/Assets":
        return this.assets(params.asset);
      case "/0/public/AssetPairs":
        return this.pairs(params.pair, (base, id) => this.pairInfo(base, id));
      case "/0/public/Ticker":
        return this.pairs(params.pair, (base) => this.ticker(base));
      default:
        return json(404, { error: ["EGeneral:Unknown method"] }, "EGeneral:Unknown method");
    }
  }

  private knownCodes(): string[] {
    const codes = new Set<string>(["USD", "EUR"]);
    for (const code of this.state.pricesOf("kraken").keys()) codes.add(code);
    for (const account of this.state.accountsOf("kraken"))
      for (const code of account.balances.keys()) codes.add(code);
    return [...codes];
  }

  private assets(filter: string | undefined): Reply {
    const codes = this.knownCodes();
    const wanted = filter?.split(",").filter((s) => s !== "");
    const result: Record<string, unknown> = {};
    for (const code of codes) {
      const id = krakenAssetId(code);
      if (wanted !== undefined && !wanted.includes(id) && !wanted.includes(altname(code))) continue;
      const decimals = assetDecimals(code);
      result[id] = {
        aclass: "currency",
        altname: altname(code),
        decimals,
        display_decimals: FIAT.has(code) ? 2 : 5,
        collateral_value: FIAT.has(code) ? 1 : 0.9,
        status: "enabled",
      };
    }
    if (wanted !== undefined && Object.keys(result).length < wanted.length)
      return fail("EQuery:Unknown asset");
    return ok(result);
  }

  private pairs(filter: string | undefined, build: (base: string, id: string) => unknown): Reply {
    const bases = [...this.state.pricesOf("kraken").keys()].filter((code) => code !== "USD");
    const wanted = filter?.split(",").filter((s) => s !== "");
    const result: Record<string, unknown> = {};
    for (const base of bases) {
      const id = pairId(base);
      const alt = `${altname(base)}USD`;
      if (wanted !== undefined && !wanted.includes(id) && !wanted.includes(alt)) continue;
      result[id] = build(base, id);
    }
    if (wanted !== undefined && Object.keys(result).length < wanted.length)
      return fail("EQuery:Unknown asset pair");
    return ok(result);
  }

  private pairInfo(base: string, _id: string): unknown {
    return {
      altname: `${altname(base)}USD`,
      wsname: `${altname(base)}/USD`,
      aclass_base: "currency",
      base: krakenAssetId(base),
      aclass_quote: "currency",
      quote: "ZUSD",
      lot: "unit",
      cost_decimals: 5,
      pair_decimals: 5,
      lot_decimals: 8,
      lot_multiplier: 1,
      leverage_buy: [],
      leverage_sell: [],
      fees: [
        [0, 0.4],
        [10000, 0.35],
      ],
      fees_maker: [
        [0, 0.25],
        [10000, 0.2],
      ],
      fee_volume_currency: "ZUSD",
      margin_call: 80,
      margin_stop: 40,
      ordermin: "0.0001",
      costmin: "0.5",
      tick_size: "0.00001",
      status: "online",
    };
  }

  private ticker(base: string): unknown {
    const price = padDecimals(this.state.pricesOf("kraken").get(base) ?? "0", 5);
    return {
      a: [price, "1", "1.000"],
      b: [price, "1", "1.000"],
      c: [price, "0.00100000"],
      v: ["100.00000000", "250.00000000"],
      p: [price, price],
      t: [1000, 2500],
      l: [price, price],
      h: [price, price],
      o: price,
    };
  }
}
