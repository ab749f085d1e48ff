/**
 * Alpaca Trading API (api.alpaca.markets/v2). The key pair travels in APCA-API-KEY-ID and
 * APCA-API-SECRET-KEY on every request; errors are {"code":<8 digits>,"message":...} except the
 * gateway's bare {"message":"forbidden."}. Paper trading (paper-api.alpaca.markets) is a second
 * server with keys of its own: a key of the other environment gets the unknown-key answer, 401
 * 40110000, as Alpaca's own guide and alpaca-py#519 show for a live key sent to paper.
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import { add, isZero, mul } from "./decimal.js";
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

const CRYPTO = new Set([
  "BTC",
  "ETH",
  "SOL",
  "DOGE",
  "LTC",
  "BCH",
  "AVAX",
  "LINK",
  "UNI",
  "AAVE",
  "DOT",
  "SHIB",
  "XRP",
  "USDC",
  "USDT",
  "MKR",
  "CRV",
  "GRT",
  "SUSHI",
  "XTZ",
  "YFI",
  "BAT",
  "PEPE",
  "TRUMP",
]);

const NOT_AUTHORIZED = { code: 40110000, message: "request is not authorized" };

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface Position {
  code: string;
  holding: Holding;
  qty: string;
  price: string;
  marketValue: string;
}

/**
 * The clock's `timestamp` as Alpaca sends it: New York time with its offset and nanoseconds,
 * `2023-11-22T08:07:57.654738097-05:00` (the answer recorded in ccxt's alpaca.fetchTime, which
 * reads the offset from fixed positions, so an ISO "Z" time would be read hours off).
 */
function newYorkTimestamp(ms: number): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: "America/New_York",
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "longOffset",
    })
      .formatToParts(new Date(ms))
      .map((part) => [part.type, part.value]),
  );
  const offset = String(parts.timeZoneName).replace("GMT", "") || "+00:00";
  const nanoseconds = `${String(ms % 1000).padStart(3, "0")}000000`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${nanoseconds}${offset}`;
}

export class AlpacaAdapter implements ExchangeAdapter {
  readonly id = "alpaca" as const;
  private readonly assetIds = new Map<string, string>();

  constructor(
    private readonly state: EmulatorState,
    readonly environment: "live" | "sandbox" = "live",
  ) {}

  claimedKey(req: ParsedRequest): string | null {
    return req.path.startsWith("/v2/") ? (header(req, "apca-api-key-id") ?? "") : null;
  }

  handle(req: ParsedRequest, revoked: boolean): Reply {
    if (!req.path.startsWith("/v2/")) return text(404, "404 page not found\n", "not_found");
    const keyId = header(req, "apca-api-key-id");
    const secret = header(req, "apca-api-secret-key");
    const account =
      revoked || keyId === undefined
        ? undefined
        : this.state.accountIn("alpaca", keyId, this.environment === "sandbox");
    if (account === undefined || secret === undefined || !same(secret, account.secret)) {
      return json(401, NOT_AUTHORIZED, "unauthorized");
    }
    if (this.state.overWindow(account, req.now, 60_000, this.state.limits.alpacaPerMinute)) {
      return this.faultReply("rate_limit", req, 429);
    }
    if (account.permissions === "no_funds_query")
      return json(403, { message: "forbidden." }, "forbidden");
    if (req.method !== "GET") return text(405, "405 method not allowed\n", "method_not_allowed");
    switch (req.path) {
      case "/v2/account":
        return this.account(account);
      case "/v2/positions":
        return json(
          200,
          this.positions(account).map((p) => this.positionBody(p)),
          null,
        );
      case "/v2/assets":
        return this.assets(req);
      case "/v2/clock":
        return json(
          200,
          {
            timestamp: newYorkTimestamp(req.now),
            is_open: false,
            next_open: new Date(req.now + 3_600_000).toISOString(),
            next_close: new Date(req.now + 7_200_000).toISOString(),
          },
          null,
        );
      default:
        return text(404, "404 page not found\n", "not_found");
    }
  }

  faultReply(
    kind: "http" | "rate_limit" | "invalid_nonce" | "malformed",
    _req: ParsedRequest,
    status: number,
  ): Reply {
    switch (kind) {
      case "rate_limit":
        return json(429, { code: 42910000, message: "rate limit exceeded" }, "rate_limit_exceeded");
      case "malformed":
        return text(200, '{"id":"', "malformed", "application/json");
      case "invalid_nonce":
        // Alpaca has no nonce; setFault refuses this kind, kept total for the type.
        return json(401, NOT_AUTHORIZED, "unauthorized");
      case "http":
        return status === 500
          ? json(
              500,
              { code: 50010000, message: "internal server error occurred" },
              `http ${status}`,
            )
          : gatewayPage(status);
    }
  }

  private priceOf(code: string): string {
    return this.state.pricesOf("alpaca").get(code) ?? "0";
  }

  private positions(account: Account): Position[] {
    const out: Position[] = [];
    for (const [code, holding] of account.balances) {
      if (code === "USD") continue;
      const qty = add(holding.free, holding.used);
      if (isZero(qty)) continue;
      const price = this.priceOf(code);
      out.push({ code, holding, qty, price, marketValue: mul(qty, price) });
    }
    return out;
  }

  /** Random per emulator, stable per symbol, like the ids Alpaca hands out. */
  private assetId(symbol: string): string {
    let id = this.assetIds.get(symbol);
    if (id === undefined) {
      id = randomUUID();
      this.assetIds.set(symbol, id);
    }
    return id;
  }

  private positionBody(p: Position): unknown {
    const crypto = CRYPTO.has(p.code);
    const costBasis = p.marketValue;
    return {
      asset_id: this.assetId(crypto ? `${p.code}/USD` : p.code),
      symbol: crypto ? `${p.code}USD` : p.code,
      exchange: crypto ? "CRYPTO" : "NASDAQ",
      asset_class: crypto ? "crypto" : "us_equity",
      asset_marginable: !crypto,
      qty: p.qty,
      avg_entry_price: p.price,
      side: "long",
      market_value: p.marketValue,
      cost_basis: costBasis,
      unrealized_pl: "0",
      unrealized_plpc: "0",
      unrealized_intraday_pl: "0",
      unrealized_intraday_plpc: "0",
      current_price: p.price,
      lastday_price: p.price,
      change_today: "0",
      qty_available: p.holding.free,
    };
  }

  private account(account: Account): Reply {
    const usd = account.balances.get("USD") ?? { free: "0", used: "0" };
    const positionsValue = this.positions(account).reduce((sum, p) => add(sum, p.marketValue), "0");
    const equity = add(add(usd.free, usd.used), positionsValue);
    const cash = usd.free;
    return json(
      200,
      {
        id: this.assetId(`account/${account.apiKey}`),
        admin_configurations: {},
        user_configurations: null,
        account_number: `PA${account.apiKey.slice(2, 12).toUpperCase()}`,
        status: "ACTIVE",
        crypto_status: "ACTIVE",
        options_approved_level: 0,
        options_trading_level: 0,
        currency: "USD",
        buying_power: cash,
        regt_buying_power: cash,
        daytrading_buying_power: "0",
        effective_buying_power: cash,
        non_marginable_buying_power: cash,
        options_buying_power: cash,
        bod_dtbp: "0",
        cash,
        accrued_fees: "0",
        portfolio_value: equity,
        pattern_day_trader: false,
        trading_blocked: false,
        transfers_blocked: false,
        account_blocked: false,
        created_at: account.createdAt,
        trade_suspended_by_user: false,
        multiplier: "1",
        shorting_enabled: false,
        equity,
        last_equity: equity,
        long_market_value: positionsValue,
        short_market_value: "0",
        position_market_value: positionsValue,
        initial_margin: "0",
        maintenance_margin: "0",
        last_maintenance_margin: "0",
        sma: "0",
        daytrade_count: 0,
        balance_asof: account.createdAt.slice(0, 10),
        crypto_tier: 1,
        intraday_adjustments: "0",
        pending_reg_taf_fees: "0",
      },
      null,
    );
  }

  private assets(req: ParsedRequest): Reply {
    const assetClass = req.query.get("asset_class");
    const codes = new Set<string>(this.state.pricesOf("alpaca").keys());
    for (const account of this.state.accountsOf("alpaca"))
      for (const code of account.balances.keys()) codes.add(code);
    codes.delete("USD");
    const list = [...codes]
      .map((code) => {
        const crypto = CRYPTO.has(code);
        const symbol = crypto ? `${code}/USD` : code;
        return {
          id: this.assetId(symbol),
          class: crypto ? "crypto" : "us_equity",
          exchange: crypto ? "CRYPTO" : "NASDAQ",
          symbol,
          name: crypto ? `${code} / US Dollar` : `${code} Inc. Common Stock`,
          status: "active",
          tradable: true,
          marginable: !crypto,
          maintenance_margin_requirement: crypto ? 100 : 30,
          margin_requirement_long: crypto ? "100" : "30",
          margin_requirement_short: crypto ? "100" : "100",
          shortable: !crypto,
          easy_to_borrow: !crypto,
          fractionable: true,
          attributes: [],
          ...(crypto
            ? {
                min_order_size: "0.000001",
                min_trade_increment: "0.000000001",
                price_increment: "0.01",
              }
            : {}),
        };
      })
      .filter((a) => assetClass === null || a.class === assetClass);
    return json(200, list, null);
  }
}
