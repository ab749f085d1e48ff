/**
 * Binance spot REST (api.binance.com; the spot testnet, testnet.binance.vision, is a second
 * server). SIGNED requests carry the key in X-MBX-APIKEY and `timestamp`, `recvWindow` and a hex
 * HMAC-SHA256 `signature` of the query string followed by the body. Errors are
 * {"code":<negative>,"msg":...}: HTTP 401 for the key, 400 for signature, timestamp and parameters.
 * Request weight is counted per IP (here: per server) in fixed one-minute windows; past the limit
 * Binance answers 429 with Retry-After, and bans an IP that keeps going with 418.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { isZero, normalize, padDecimals } from "./decimal.js";
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

const ACCOUNT = "/api/v3/account";
const FUNDING = "/sapi/v1/asset/get-funding-asset";
const TICKER_PRICE = "/api/v3/ticker/price";
const TIME = "/api/v3/time";
const MAX_RECV_WINDOW = 60_000;
const DEFAULT_RECV_WINDOW = 5_000;
const MINUTE = 60_000;

/** Every spot account lists these, held or not (Binance lists every asset it trades). */
const ZERO_ASSETS = ["BTC", "ETH", "BNB", "LTC", "USDT", "USDC"];

/** Quotes the emulator lists each priced asset against, at its USD price. */
const QUOTES = ["USDT", "USDC", "FDUSD"];

type Checked = { ok: true; account: Account } | { ok: false; reply: Reply };

function fail(status: number, code: number, msg: string): Reply {
  return json(status, { code, msg }, String(code));
}

const INVALID_KEY = (): Reply =>
  fail(401, -2015, "Invalid API-key, IP, or permissions for action.");

function mandatory(name: string): Reply {
  return fail(
    400,
    -1102,
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );
}

/** "a=1&signature=ff&b=2" -> "a=1&b=2": the signed payload is everything but the signature. */
function withoutSignature(part: string): string {
  return part
    .split("&")
    .filter((pair) => !pair.startsWith("signature="))
    .join("&");
}

function sameHex(a: string, b: string): boolean {
  // Binance documents HMAC signatures as case-insensitive.
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A stable numeric uid per key, as Binance returns one per account. */
function uidOf(apiKey: string): number {
  return createHash("sha256").update(apiKey).digest().readUInt32BE(0) + 100_000_000;
}

export class BinanceAdapter implements ExchangeAdapter {
  readonly id = "binance" as const;
  private windowStart = 0;
  private used = 0;
  private refused = 0;
  private bannedUntil = 0;

  constructor(
    private readonly state: EmulatorState,
    readonly environment: "live" | "sandbox" = "live",
  ) {}

  claimedKey(req: ParsedRequest): string | null {
    return this.signedRoute(req.path) ? (header(req, "x-mbx-apikey") ?? "") : null;
  }

  handle(req: ParsedRequest, revoked: boolean): Reply {
    const weight = this.weightOf(req);
    if (weight === null) return text(404, "", "not_found", "text/html");
    const limited = this.admit(req.now, weight);
    const reply = limited ?? this.route(req, revoked);
    return { ...reply, headers: { ...reply.headers, "x-mbx-used-weight-1m": String(this.used) } };
  }

  faultReply(
    kind: "http" | "rate_limit" | "invalid_nonce" | "malformed",
    req: ParsedRequest,
    status: number,
  ): Reply {
    switch (kind) {
      case "rate_limit":
        return this.tooMuchWeight(req.now);
      case "invalid_nonce":
        return fail(400, -1021, "Timestamp for this request is outside of the recvWindow.");
      case "malformed":
        return text(
          200,
          '{"makerCommission":10,"takerCommission":10,"balances":[{"asset":"BTC","free":"0.1',
          "malformed",
          "application/json",
        );
      case "http":
        if (status === 500)
          return fail(
            500,
            -1001,
            "Internal error; unable to process your request. Please try again.",
          );
        if (status === 503)
          return fail(
            503,
            -1008,
            "Server is currently overloaded with other requests. Please try again in a few minutes.",
          );
        return gatewayPage(status);
    }
  }

  private signedRoute(path: string): boolean {
    return path === ACCOUNT || path.startsWith("/sapi/");
  }

  /** The documented request weight; null for a route this server does not have. */
  private weightOf(req: ParsedRequest): number | null {
    switch (req.path) {
      case TIME:
        return 1;
      case TICKER_PRICE:
        return req.query.has("symbol") ? 2 : 4;
      case ACCOUNT:
        return 20;
      case FUNDING:
        // The testnet has no wallet (sapi) endpoints at all.
        return this.environment === "sandbox" ? null : 1;
      default:
        return null;
    }
  }

  /** Per-IP weight in fixed minute windows; refusals past `banAfter` in one window ban the IP. */
  private admit(now: number, weight: number): Reply | null {
    const { binanceWeightPerMinute, binanceBanAfter, binanceBanSeconds } = this.state.limits;
    if (now < this.bannedUntil) return this.banned(now);
    const windowStart = now - (now % MINUTE);
    if (windowStart !== this.windowStart) {
      this.windowStart = windowStart;
      this.used = 0;
      this.refused = 0;
    }
    if (this.used + weight <= binanceWeightPerMinute) {
      this.used += weight;
      return null;
    }
    this.refused += 1;
    if (this.refused > binanceBanAfter) {
      this.bannedUntil = now + binanceBanSeconds * 1000;
      return this.banned(now);
    }
    return this.tooMuchWeight(now);
  }

  private tooMuchWeight(now: number): Reply {
    const limit = this.state.limits.binanceWeightPerMinute;
    const reply = fail(
      429,
      -1003,
      `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
    );
    const windowEnd = now - (now % MINUTE) + MINUTE;
    return { ...reply, headers: { "retry-after": String(Math.ceil((windowEnd - now) / 1000)) } };
  }

  private banned(now: number): Reply {
    const reply = fail(
      418,
      -1003,
      `Way too much request weight used; IP banned until ${this.bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`,
    );
    return {
      ...reply,
      error: "-1003 (IP banned)",
      headers: { "retry-after": String(Math.ceil((this.bannedUntil - now) / 1000)) },
    };
  }

  private route(req: ParsedRequest, revoked: boolean): Reply {
    const method = req.path === FUNDING ? "POST" : "GET";
    if (req.method !== method) return text(404, "", "not_found", "text/html");
    if (req.path === TIME) return json(200, { serverTime: req.now }, null);
    if (req.path === TICKER_PRICE) return this.tickerPrice(req);
    const checked = this.authenticate(req, revoked);
    if (!checked.ok) return checked.reply;
    return req.path === ACCOUNT
      ? this.account(req, checked.account)
      : this.funding(req, checked.account);
  }

  /** Parameters from the query string and a form body; the query string wins, as documented. */
  private params(req: ParsedRequest): URLSearchParams {
    const params = new URLSearchParams(req.body);
    for (const [key, value] of req.query) params.set(key, value);
    return params;
  }

  private authenticate(req: ParsedRequest, revoked: boolean): Checked {
    const apiKey = header(req, "x-mbx-apikey");
    if (apiKey === undefined || apiKey === "")
      return { ok: false, reply: fail(401, -2014, "API-key format invalid.") };
    const account = revoked
      ? undefined
      : this.state.accountIn("binance", apiKey, this.environment === "sandbox");
    if (account === undefined) return { ok: false, reply: INVALID_KEY() };
    const params = this.params(req);
    const signature = params.get("signature");
    if (!signature) return { ok: false, reply: mandatory("signature") };
    const timestampText = params.get("timestamp") ?? "";
    if (!/^(\d{13}|\d{16})$/.test(timestampText))
      return { ok: false, reply: mandatory("timestamp") };
    const payload = withoutSignature(req.rawQuery) + withoutSignature(req.body);
    const expected = createHmac("sha256", account.secret).update(payload).digest("hex");
    if (!sameHex(signature, expected))
      return {
        ok: false,
        reply: fail(400, -1022, "Signature for this request is not valid."),
      };
    const recvWindowText = params.get("recvWindow");
    if (recvWindowText !== null && !/^\d+(\.\d{1,3})?$/.test(recvWindowText))
      return { ok: false, reply: mandatory("recvWindow") };
    const recvWindow = recvWindowText === null ? DEFAULT_RECV_WINDOW : Number(recvWindowText);
    if (recvWindow > MAX_RECV_WINDOW)
      return {
        ok: false,
        reply: fail(
          400,
          -1102,
          `'recvWindow' contains unexpected value. Cannot be greater than ${MAX_RECV_WINDOW}.`,
        ),
      };
    // Microsecond timestamps are allowed; compare in milliseconds.
    const timestamp =
      timestampText.length === 16 ? Number(timestampText) / 1000 : Number(timestampText);
    if (!(timestamp < req.now + 1000))
      return {
        ok: false,
        reply: fail(
          400,
          -1021,
          "Timestamp for this request was 1000ms ahead of the server's time.",
        ),
      };
    if (req.now - timestamp > recvWindow)
      return {
        ok: false,
        reply: fail(400, -1021, "Timestamp for this request is outside of the recvWindow."),
      };
    // Binance has no separate permission error: a key without "Enable Reading" gets -2015 too.
    if (account.permissions === "no_funds_query") return { ok: false, reply: INVALID_KEY() };
    return { ok: true, account };
  }

  private account(req: ParsedRequest, account: Account): Reply {
    const omitZero = this.params(req).get("omitZeroBalances") === "true";
    const rows: { asset: string; free: string; locked: string }[] = [];
    const row = (asset: string, holding: Holding) =>
      rows.push({
        asset,
        free: padDecimals(holding.free, 8),
        locked: padDecimals(holding.used, 8),
      });
    for (const [code, holding] of account.balances) row(code, holding);
    for (const code of ZERO_ASSETS)
      if (!account.balances.has(code)) row(code, { free: "0", used: "0" });
    const balances = omitZero ? rows.filter((r) => !(isZero(r.free) && isZero(r.locked))) : rows;
    return json(
      200,
      {
        makerCommission: 10,
        takerCommission: 10,
        buyerCommission: 0,
        sellerCommission: 0,
        commissionRates: {
          maker: "0.00100000",
          taker: "0.00100000",
          buyer: "0.00000000",
          seller: "0.00000000",
        },
        canTrade: true,
        canWithdraw: true,
        canDeposit: true,
        brokered: false,
        requireSelfTradePrevention: false,
        preventSor: false,
        updateTime: Date.parse(account.createdAt),
        accountType: "SPOT",
        balances,
        permissions: ["SPOT"],
        uid: uidOf(account.apiKey),
      },
      null,
    );
  }

  /** Funding wallet: only assets held there, amounts as plain decimals (no padding). */
  private funding(req: ParsedRequest, account: Account): Reply {
    const only = this.params(req).get("asset");
    const list = [...account.funding]
      .filter(
        ([code, h]) => (only === null || only === code) && !(isZero(h.free) && isZero(h.used)),
      )
      .map(([asset, h]) => ({
        asset,
        free: normalize(h.free),
        locked: normalize(h.used),
        freeze: "0",
        withdrawing: "0",
        btcValuation: "0",
      }));
    return json(200, list, null);
  }

  private tickers(): { symbol: string; price: string }[] {
    const out: { symbol: string; price: string }[] = [];
    for (const [code, price] of this.state.pricesOf("binance")) {
      const shown = padDecimals(price, 8);
      if (code === "USDC") out.push({ symbol: "USDCUSDT", price: shown });
      if (code === "USD" || QUOTES.includes(code)) continue;
      for (const quote of QUOTES) out.push({ symbol: `${code}${quote}`, price: shown });
    }
    return out;
  }

  private tickerPrice(req: ParsedRequest): Reply {
    const all = this.tickers();
    const symbol = req.query.get("symbol");
    if (symbol !== null) {
      const one = all.find((t) => t.symbol === symbol);
      return one ? json(200, one, null) : fail(400, -1121, "Invalid symbol.");
    }
    const symbols = req.query.get("symbols");
    if (symbols !== null) {
      let wanted: unknown;
      try {
        wanted = JSON.parse(symbols);
      } catch {
        wanted = null;
      }
      if (!Array.isArray(wanted)) return mandatory("symbols");
      const list = all.filter((t) => wanted.includes(t.symbol));
      return list.length === wanted.length
        ? json(200, list, null)
        : fail(400, -1121, "Invalid symbol.");
    }
    return json(200, all, null);
  }
}
