/**
 * Coinbase (api.coinbase.com): Advanced Trade v3 under /api/v3/brokerage and the App v2 API
 * under /v2. Auth is a CDP JWT (ES256 or EdDSA) in `Authorization: Bearer`, or a legacy HMAC key
 * in CB-ACCESS-* headers. v3 and v2 fail in their own styles: v3 rejects auth with a bare
 * "Unauthorized" text body and other errors as {"error","error_details","message"}; v2 always
 * answers {"errors":[{"id","message"}]}.
 */
import { createHash, createHmac, timingSafeEqual, verify } from "node:crypto";
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
import type { Account, EmulatorState, Holding } from "./state.js";

const V3 = "/api/v3/brokerage/";
const V3_PUBLIC = "/api/v3/brokerage/market/";
const JWT_MAX_LIFETIME_S = 120;
const HMAC_WINDOW_S = 30;

interface CurrencyInfo {
  name: string;
  exponent: number;
  fiat: boolean;
  color: string;
}

const CURRENCIES: Record<string, CurrencyInfo> = {
  USD: { name: "US Dollar", exponent: 2, fiat: true, color: "#0066cf" },
  EUR: { name: "Euro", exponent: 2, fiat: true, color: "#0066cf" },
  GBP: { name: "British Pound", exponent: 2, fiat: true, color: "#0066cf" },
  BTC: { name: "Bitcoin", exponent: 8, fiat: false, color: "#F7931A" },
  ETH: { name: "Ethereum", exponent: 8, fiat: false, color: "#627EEA" },
  USDC: { name: "USDC", exponent: 6, fiat: false, color: "#2775CA" },
  USDT: { name: "Tether", exponent: 6, fiat: false, color: "#22A079" },
  SOL: { name: "Solana", exponent: 9, fiat: false, color: "#9945FF" },
  DOGE: { name: "Dogecoin", exponent: 8, fiat: false, color: "#BA9F33" },
  LTC: { name: "Litecoin", exponent: 8, fiat: false, color: "#A6A9AA" },
};

// Zero-balance wallets every Coinbase user has for listed assets; synthetic codes past this list.
const FILLER_CODES = [
  "ADA",
  "AVAX",
  "LINK",
  "DOT",
  "MATIC",
  "XLM",
  "ATOM",
  "ALGO",
  "UNI",
  "AAVE",
  "BCH",
  "ETC",
  "FIL",
  "XTZ",
  "EOS",
  "ZEC",
  "DAI",
  "SHIB",
  "APE",
  "NEAR",
  "GRT",
  "MKR",
  "COMP",
  "SNX",
  "CRV",
  "SUSHI",
  "YFI",
  "BAT",
  "ZRX",
  "ENJ",
  "MANA",
  "SAND",
  "AXS",
  "CHZ",
  "LRC",
  "ANKR",
  "STORJ",
  "SKL",
  "OGN",
];

function currencyInfo(code: string): CurrencyInfo {
  return CURRENCIES[code] ?? { name: code, exponent: 8, fiat: false, color: "#000000" };
}

/** Stable uuid-shaped id from a seed string, so ids survive across calls and pages. */
function stableUuid(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface Wallet {
  code: string;
  holding: Holding;
  id: string;
}

/**
 * One wallet per seeded currency plus zero wallets up to walletCount. The seeded wallets are
 * spread evenly through the list (not all on page one), so a client that reads only the first
 * page of a long list misses balances, as it would on Coinbase.
 */
function wallets(account: Account): Wallet[] {
  const wallet = (code: string, holding: Holding): Wallet => ({
    code,
    holding,
    id: stableUuid(`${account.apiKey}/${code}`),
  });
  const funded = [...account.balances].map(([code, holding]) => wallet(code, holding));
  const fillers: Wallet[] = [];
  const taken = new Set(account.balances.keys());
  for (let i = 0; funded.length + fillers.length < account.walletCount; i++) {
    const code = FILLER_CODES[i] ?? `TKN${i - FILLER_CODES.length + 1}`;
    if (!taken.has(code)) fillers.push(wallet(code, { free: "0", used: "0" }));
  }
  const total = funded.length + fillers.length;
  const list: Wallet[] = [];
  let next = 0;
  funded.forEach((w, i) => {
    const position = Math.floor(((i + 1) * total) / (funded.length + 1));
    while (list.length < position && next < fillers.length) list.push(fillers[next++] as Wallet);
    list.push(w);
  });
  while (next < fillers.length) list.push(fillers[next++] as Wallet);
  return list;
}

type AuthResult = { ok: true; account: Account } | { ok: false; reason: string };

function decodePart(part: string | undefined): Record<string, unknown> | undefined {
  if (part === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return value !== null && typeof value === "object"
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function bearer(req: ParsedRequest): string | undefined {
  const value = header(req, "authorization");
  return value?.startsWith("Bearer ") ? value.slice("Bearer ".length).trim() : undefined;
}

export class CoinbaseAdapter implements ExchangeAdapter {
  readonly id = "coinbase" as const;

  constructor(private readonly state: EmulatorState) {}

  private isPrivate(req: ParsedRequest): boolean {
    if (req.path.startsWith(V3_PUBLIC) || req.path === `${V3}time`) return false;
    if (req.path.startsWith(V3)) return true;
    return (
      req.path.startsWith("/v2/") &&
      !["/v2/time", "/v2/currencies", "/v2/exchange-rates"].includes(req.path)
    );
  }

  claimedKey(req: ParsedRequest): string | null {
    if (!this.isPrivate(req)) return null;
    const token = bearer(req);
    if (token !== undefined) {
      const claims = decodePart(token.split(".")[1]);
      return typeof claims?.sub === "string" ? claims.sub : "";
    }
    return header(req, "cb-access-key") ?? "";
  }

  handle(req: ParsedRequest, revoked: boolean): Reply {
    const v3 = req.path.startsWith("/api/v3/");
    if (!this.isPrivate(req)) return this.public(req);
    if (!this.knownPrivate(req)) return this.notFound(v3);
    const auth = revoked
      ? { ok: false as const, reason: "unknown api key" }
      : this.authenticate(req);
    if (!auth.ok) {
      return v3
        ? text(401, "Unauthorized\n", "unauthorized")
        : json(
            401,
            { errors: [{ id: "authentication_error", message: auth.reason }] },
            "unauthorized",
          );
    }
    const { account } = auth;
    if (this.state.overWindow(account, req.now, 1000, this.state.limits.coinbasePerSecond)) {
      return this.faultReply("rate_limit", req, 429);
    }
    if (account.permissions === "no_funds_query") {
      return v3
        ? json(
            403,
            {
              error: "PERMISSION_DENIED",
              error_details: "Missing required scopes",
              message: "Missing required scopes",
            },
            "permission_denied",
          )
        : json(
            403,
            { errors: [{ id: "invalid_scope", message: "Invalid scope" }] },
            "permission_denied",
          );
    }
    switch (req.path) {
      case `${V3}accounts`:
        return this.v3Accounts(req, account);
      case "/v2/accounts":
        return this.v2Accounts(req, account);
      case `${V3}products`:
        return this.products(req);
      case `${V3}transaction_summary`:
        return json(
          200,
          {
            total_volume: 0,
            total_fees: 0,
            fee_tier: {
              pricing_tier: "Advanced 1",
              usd_from: "0",
              usd_to: "1000",
              taker_fee_rate: "0.012",
              maker_fee_rate: "0.006",
            },
            margin_rate: null,
            goods_and_services_tax: null,
            advanced_trade_only_volume: 0,
            advanced_trade_only_fees: 0,
            coinbase_pro_volume: 0,
            coinbase_pro_fees: 0,
          },
          null,
        );
      default:
        return this.notFound(v3);
    }
  }

  faultReply(
    kind: "http" | "rate_limit" | "invalid_nonce" | "malformed",
    req: ParsedRequest,
    status: number,
  ): Reply {
    const v3 = !req.path.startsWith("/v2/");
    switch (kind) {
      case "rate_limit":
        return v3
          ? json(
              429,
              {
                error: "rate_limit_exceeded",
                error_details: "Too many requests",
                message: "Too many requests",
              },
              "rate_limit_exceeded",
            )
          : json(
              429,
              { errors: [{ id: "rate_limit_exceeded", message: "Too many requests" }] },
              "rate_limit_exceeded",
            );
      case "malformed":
        return text(200, '{"accounts":[{"uuid":"', "malformed", "application/json");
      case "invalid_nonce":
        // Coinbase has no nonce; the nearest is an expired HMAC timestamp.
        return v3
          ? text(401, "Unauthorized\n", "unauthorized")
          : json(
              401,
              { errors: [{ id: "authentication_error", message: "request timestamp expired" }] },
              "unauthorized",
            );
      case "http":
        if (status !== 500) return gatewayPage(status);
        return v3
          ? json(
              500,
              { error: "INTERNAL", error_details: "Internal error", message: "Internal error" },
              `http ${status}`,
            )
          : json(
              500,
              { errors: [{ id: "internal_server_error", message: "Internal server error" }] },
              `http ${status}`,
            );
    }
  }

  private knownPrivate(req: ParsedRequest): boolean {
    return (
      req.method === "GET" &&
      [`${V3}accounts`, "/v2/accounts", `${V3}products`, `${V3}transaction_summary`].includes(
        req.path,
      )
    );
  }

  private notFound(v3: boolean): Reply {
    return v3
      ? json(
          404,
          { error: "NOT_FOUND", error_details: "Not Found", message: "Not Found" },
          "not_found",
        )
      : json(404, { errors: [{ id: "not_found", message: "Not found" }] }, "not_found");
  }

  private authenticate(req: ParsedRequest): AuthResult {
    const token = bearer(req);
    if (token !== undefined) return this.authenticateJwt(req, token);
    const apiKey = header(req, "cb-access-key");
    const account = apiKey === undefined ? undefined : this.state.account("coinbase", apiKey);
    if (account?.verifier?.kind !== "hmac") return { ok: false, reason: "invalid api key" };
    const timestamp = header(req, "cb-access-timestamp") ?? "";
    if (!/^\d+$/.test(timestamp) || Math.abs(Number(timestamp) - req.now / 1000) > HMAC_WINDOW_S) {
      return { ok: false, reason: "request timestamp expired" };
    }
    // v2 signs the query string of a GET; v3 signs the bare path (the URL already carries it).
    const query =
      req.path.startsWith("/v2/") && req.method === "GET" && req.rawQuery !== ""
        ? `?${req.rawQuery}`
        : "";
    const message = timestamp + req.method + req.path + query + req.body;
    const expected = createHmac("sha256", account.verifier.secret).update(message).digest("hex");
    const sent = header(req, "cb-access-sign") ?? "";
    const same =
      sent.length === expected.length && timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
    return same ? { ok: true, account } : { ok: false, reason: "invalid signature" };
  }

  private authenticateJwt(req: ParsedRequest, token: string): AuthResult {
    const [headPart, claimsPart, signaturePart] = token.split(".");
    const head = decodePart(headPart);
    const claims = decodePart(claimsPart);
    if (head === undefined || claims === undefined || signaturePart === undefined)
      return { ok: false, reason: "malformed token" };
    const account =
      typeof claims.sub === "string" ? this.state.account("coinbase", claims.sub) : undefined;
    const verifier = account?.verifier;
    if (
      account === undefined ||
      verifier === undefined ||
      verifier === null ||
      verifier.kind === "hmac"
    ) {
      return { ok: false, reason: "invalid api key" };
    }
    if (head.kid !== account.apiKey) return { ok: false, reason: "kid does not match sub" };
    const signed = Buffer.from(`${headPart}.${claimsPart}`);
    const signature = Buffer.from(signaturePart, "base64url");
    const es256 = verifier.kind === "es256";
    if (head.alg !== (es256 ? "ES256" : "EdDSA")) return { ok: false, reason: "wrong algorithm" };
    const valid = es256
      ? signature.length === 64 &&
        verify("sha256", signed, { key: verifier.publicKey, dsaEncoding: "ieee-p1363" }, signature)
      : verify(null, signed, verifier.publicKey, signature);
    if (!valid) return { ok: false, reason: "invalid signature" };
    const iss = es256 ? "coinbase-cloud" : "cdp";
    const aud = es256 ? "retail_rest_api_proxy" : "cdp_service";
    if (claims.iss !== iss) return { ok: false, reason: "wrong issuer" };
    if (!(Array.isArray(claims.aud) ? claims.aud.includes(aud) : claims.aud === aud))
      return { ok: false, reason: "wrong audience" };
    const now = req.now / 1000;
    const nbf = typeof claims.nbf === "number" ? claims.nbf : Number.NaN;
    const exp = typeof claims.exp === "number" ? claims.exp : Number.NaN;
    if (!(nbf <= now + 1 && now < exp && exp - nbf <= JWT_MAX_LIFETIME_S))
      return { ok: false, reason: "token expired or not yet valid" };
    const uris: unknown[] = es256 ? [claims.uri] : Array.isArray(claims.uris) ? claims.uris : [];
    const expected = `${req.method} ${req.host}${req.path}`;
    const matches = uris.some(
      (uri) => typeof uri === "string" && uri.replace(/^(\S+) https?:\/\//, "$1 ") === expected,
    );
    return matches
      ? { ok: true, account }
      : { ok: false, reason: "uri claim does not match the request" };
  }

  private v3Accounts(req: ParsedRequest, account: Account): Reply {
    const limitText = req.query.get("limit");
    const limit = limitText === null ? 49 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) {
      return json(
        400,
        { error: "INVALID_ARGUMENT", error_details: "invalid limit", message: "invalid limit" },
        "invalid_argument",
      );
    }
    const list = wallets(account);
    const cursor = req.query.get("cursor");
    let start = 0;
    if (cursor !== null && cursor !== "") {
      const at = list.findIndex((w) => w.id === cursor);
      if (at < 0) {
        return json(
          400,
          { error: "INVALID_ARGUMENT", error_details: "invalid cursor", message: "invalid cursor" },
          "invalid_argument",
        );
      }
      start = at + 1;
    }
    const page = list.slice(start, start + Math.min(limit, 250));
    const hasNext = start + page.length < list.length;
    const portfolio = stableUuid(`${account.apiKey}/portfolio`);
    return json(
      200,
      {
        accounts: page.map((w, i) => {
          const info = currencyInfo(w.code);
          return {
            uuid: w.id,
            name: info.fiat ? `Cash (${w.code})` : `${w.code} Wallet`,
            currency: w.code,
            available_balance: { value: w.holding.free, currency: w.code },
            default: start + i === 0,
            active: true,
            created_at: account.createdAt,
            updated_at: account.createdAt,
            deleted_at: null,
            type: info.fiat ? "ACCOUNT_TYPE_FIAT" : "ACCOUNT_TYPE_CRYPTO",
            ready: true,
            hold: { value: w.holding.used, currency: w.code },
            retail_portfolio_id: portfolio,
            platform: "ACCOUNT_PLATFORM_CONSUMER",
          };
        }),
        has_next: hasNext,
        cursor: hasNext ? (page[page.length - 1]?.id ?? "") : "",
        size: page.length,
      },
      null,
    );
  }

  private v2Accounts(req: ParsedRequest, account: Account): Reply {
    const limitText = req.query.get("limit");
    const requested = limitText === null ? 25 : Number(limitText);
    if (!Number.isInteger(requested) || requested < 1) {
      return json(
        400,
        { errors: [{ id: "invalid_request", message: "limit is invalid" }] },
        "invalid_request",
      );
    }
    const limit = Math.min(requested, 300);
    const list = wallets(account);
    const after = req.query.get("starting_after");
    let start = 0;
    if (after !== null && after !== "") {
      const at = list.findIndex((w) => w.id === after);
      if (at < 0)
        return json(
          400,
          { errors: [{ id: "invalid_request", message: "starting_after is invalid" }] },
          "invalid_request",
        );
      start = at + 1;
    }
    const page = list.slice(start, start + limit);
    const last = page[page.length - 1];
    const next = start + page.length < list.length && last !== undefined ? last.id : null;
    return json(
      200,
      {
        pagination: {
          ending_before: null,
          starting_after: after,
          previous_ending_before: start > 0 ? (page[0]?.id ?? null) : null,
          next_starting_after: next,
          limit,
          order: "desc",
          previous_uri: null,
          next_uri: next === null ? null : `/v2/accounts?limit=${limit}&starting_after=${next}`,
        },
        data: page.map((w, i) => {
          const info = currencyInfo(w.code);
          return {
            id: w.id,
            name: `${w.code} Wallet`,
            primary: start + i === 0,
            type: info.fiat ? "fiat" : "wallet",
            currency: {
              code: w.code,
              name: info.name,
              color: info.color,
              sort_index: 100,
              exponent: info.exponent,
              type: info.fiat ? "fiat" : "crypto",
              asset_id: stableUuid(`asset/${w.code}`),
            },
            balance: {
              amount: padDecimals(add(w.holding.free, w.holding.used), info.exponent),
              currency: w.code,
            },
            created_at: account.createdAt,
            updated_at: account.createdAt,
            resource: "account",
            resource_path: `/v2/accounts/${w.id}`,
            allow_deposits: true,
            allow_withdrawals: true,
          };
        }),
      },
      null,
    );
  }

  private public(req: ParsedRequest): Reply {
    const v3 = req.path.startsWith("/api/v3/");
    if (req.method !== "GET") return this.notFound(v3);
    switch (req.path) {
      case `${V3_PUBLIC}products`:
        return this.products(req);
      case `${V3}time`: {
        const iso = new Date(req.now).toISOString();
        return json(
          200,
          { iso, epochSeconds: String(Math.floor(req.now / 1000)), epochMillis: String(req.now) },
          null,
        );
      }
      case "/v2/time":
        return json(
          200,
          {
            data: {
              iso: new Date(req.now).toISOString().replace(/\.\d{3}Z$/, "Z"),
              epoch: Math.floor(req.now / 1000),
            },
          },
          null,
        );
      default:
        return this.notFound(v3);
    }
  }

  private products(req: ParsedRequest): Reply {
    const type = req.query.get("product_type");
    const ids = req.query.getAll("product_ids");
    const products =
      type !== null && type !== "SPOT"
        ? []
        : [...this.state.pricesOf("coinbase")]
            .filter(([code]) => code !== "USD")
            .map(([code, price]) => ({
              product_id: `${code}-USD`,
              price,
              price_percentage_change_24h: "0",
              volume_24h: "1000",
              volume_percentage_change_24h: "0",
              base_increment: "0.00000001",
              quote_increment: "0.01",
              quote_min_size: "1",
              quote_max_size: "150000000",
              base_min_size: "0.00000001",
              base_max_size: "3400",
              base_name: currencyInfo(code).name,
              quote_name: "US Dollar",
              watched: false,
              is_disabled: false,
              new: false,
              status: "online",
              cancel_only: false,
              limit_only: false,
              post_only: false,
              trading_disabled: false,
              auction_mode: false,
              product_type: "SPOT",
              quote_currency_id: "USD",
              base_currency_id: code,
              fcm_trading_session_details: null,
              mid_market_price: "",
              alias: "",
              alias_to: [],
              base_display_symbol: code,
              quote_display_symbol: "USD",
              view_only: false,
              price_increment: "0.01",
              display_name: `${code}-USD`,
              product_venue: "CBE",
            }))
            .filter((p) => ids.length === 0 || ids.includes(p.product_id));
    return json(200, { products, num_products: products.length }, null);
  }
}
