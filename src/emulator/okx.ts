/**
 * OKX v5 REST (www.okx.com/api/v5). Private requests carry OK-ACCESS-KEY, OK-ACCESS-PASSPHRASE,
 * OK-ACCESS-TIMESTAMP (ISO 8601, milliseconds) and OK-ACCESS-SIGN, the base64 HMAC-SHA256 of
 * timestamp + method + request path (with its query) + body. Every answer is
 * {"code":"0","data":[...],"msg":""} when fine; refusals are {"msg":...,"code":"5xxxx"} with the
 * HTTP status OKX documents (401 for auth, 429 for rate limits). Demo trading shares the host: a
 * demo key answers only requests with `x-simulated-trading: 1`, a live key only those without.
 *
 * Checks run in the order OKX shows them: empty headers, timestamp, key, environment, passphrase,
 * signature, then the per-key rate limit.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { add, isZero, mul, normalize } from "./decimal.js";
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

const BALANCE = "/api/v5/account/balance";
const FUNDING = "/api/v5/asset/balances";
const TICKERS = "/api/v5/market/tickers";
const TIME = "/api/v5/public/time";
const TIMESTAMP_WINDOW_MS = 30_000;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Quotes the emulator lists each priced asset against, at its USD price. */
const QUOTES = ["USDT", "USDC"];
/** Valued at 1 USD in eqUsd when no price was set. */
const STABLE = new Set(["USD", "USDT", "USDC"]);

type Checked = { ok: true; account: Account } | { ok: false; reply: Reply };

/** OKX refusals put msg first and carry no data. */
function refuse(status: number, code: string, msg: string): Reply {
  return json(status, { msg, code }, code);
}

function ok(data: unknown[]): Reply {
  return json(200, { code: "0", data, msg: "" }, null);
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export class OkxAdapter implements ExchangeAdapter {
  readonly id = "okx" as const;
  /** Arrival times per key and endpoint: OKX limits each private endpoint per user. */
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly state: EmulatorState) {}

  private isPrivate(path: string): boolean {
    return path.startsWith("/api/v5/account/") || path.startsWith("/api/v5/asset/");
  }

  claimedKey(req: ParsedRequest): string | null {
    return this.isPrivate(req.path) ? (header(req, "ok-access-key") ?? "") : null;
  }

  isSandboxRequest(req: ParsedRequest): boolean {
    return header(req, "x-simulated-trading") === "1";
  }

  handle(req: ParsedRequest, revoked: boolean): Reply {
    if (req.method !== "GET" || ![BALANCE, FUNDING, TICKERS, TIME].includes(req.path))
      return refuse(404, "404", "Not Found");
    if (req.path === TIME) return ok([{ ts: String(req.now) }]);
    if (req.path === TICKERS) return this.tickers(req);
    const checked = this.authenticate(req, revoked);
    if (!checked.ok) return checked.reply;
    const { account } = checked;
    const [windowMs, max] =
      req.path === BALANCE
        ? [2000, this.state.limits.okxBalancePer2s]
        : [1000, this.state.limits.okxFundingPerSecond];
    if (this.overLimit(`${account.apiKey} ${req.path}`, req.now, windowMs, max))
      return this.faultReply("rate_limit", req, 429);
    if (account.permissions === "no_funds_query")
      return refuse(401, "50120", "API key doesn't have permission");
    const wanted = req.query
      .get("ccy")
      ?.split(",")
      .filter((c) => c !== "");
    return req.path === BALANCE
      ? this.balance(account, req.now, wanted)
      : this.funding(account, wanted);
  }

  faultReply(
    kind: "http" | "rate_limit" | "invalid_nonce" | "malformed",
    _req: ParsedRequest,
    status: number,
  ): Reply {
    switch (kind) {
      case "rate_limit":
        return refuse(429, "50011", "Too Many Requests");
      case "invalid_nonce":
        return refuse(401, "50102", "Timestamp request expired");
      case "malformed":
        return text(
          200,
          '{"code":"0","data":[{"details":[{"ccy":"BTC","eq":"0.1',
          "malformed",
          "application/json",
        );
      case "http":
        if (status === 500) return refuse(500, "50026", "System error. Try again later.");
        if (status === 503)
          return refuse(503, "50001", "Service temporarily unavailable. Try again later.");
        return gatewayPage(status);
    }
  }

  private authenticate(req: ParsedRequest, revoked: boolean): Checked {
    const no = (code: string, msg: string): Checked => ({
      ok: false,
      reply: refuse(401, code, msg),
    });
    const key = header(req, "ok-access-key") ?? "";
    const passphrase = header(req, "ok-access-passphrase") ?? "";
    const sign = header(req, "ok-access-sign") ?? "";
    const timestamp = header(req, "ok-access-timestamp") ?? "";
    if (key === "") return no("50103", "Request header OK-ACCESS-KEY can not be empty.");
    if (passphrase === "")
      return no("50104", "Request header OK-ACCESS-PASSPHRASE can not be empty.");
    if (sign === "") return no("50106", "Request header OK-ACCESS-SIGN can not be empty.");
    if (timestamp === "")
      return no("50107", "Request header OK-ACCESS-TIMESTAMP can not be empty.");
    const sentAt = ISO_MS.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(sentAt)) return no("50112", "Invalid OK-ACCESS-TIMESTAMP");
    if (Math.abs(req.now - sentAt) > TIMESTAMP_WINDOW_MS)
      return no("50102", "Timestamp request expired");
    // A malformed key is "invalid"; a well-formed one OKX does not know "doesn't exist".
    if (!UUID.test(key)) return no("50111", "Invalid OK-ACCESS-KEY");
    const account = revoked ? undefined : this.state.account("okx", key);
    if (account === undefined) return no("50119", "API key doesn't exist");
    if (account.sandbox !== this.isSandboxRequest(req))
      return no("50101", "APIKey does not match current environment.");
    if (!same(Buffer.from(passphrase), Buffer.from(account.passphrase ?? "")))
      return no("50105", "Request header OK-ACCESS-PASSPHRASE incorrect.");
    const requestPath = req.rawQuery === "" ? req.path : `${req.path}?${req.rawQuery}`;
    const expected = createHmac("sha256", account.secret)
      .update(timestamp + req.method + requestPath + req.body)
      .digest();
    if (!same(Buffer.from(sign, "base64"), expected)) return no("50113", "Invalid Sign");
    return { ok: true, account };
  }

  private overLimit(key: string, now: number, windowMs: number, max: number): boolean {
    const hits = (this.hits.get(key) ?? []).filter((at) => at > now - windowMs);
    this.hits.set(key, hits);
    if (hits.length >= max) return true;
    hits.push(now);
    return false;
  }

  private usdPrice(code: string): string {
    return this.state.pricesOf("okx").get(code) ?? (STABLE.has(code) ? "1" : "0");
  }

  private held(wallet: Map<string, Holding>, wanted: string[] | undefined): [string, Holding][] {
    return [...wallet].filter(
      ([code, h]) =>
        (wanted === undefined || wanted.includes(code)) && !(isZero(h.free) && isZero(h.used)),
    );
  }

  /**
   * Trading account in spot mode: per currency eq = cashBal = availBal + frozenBal (no positions,
   * so no unrealised P&L); eqUsd at the set price; totalEq the sum of eqUsd. Fields that only
   * margin modes fill are empty strings, as OKX sends them.
   */
  private balance(account: Account, now: number, wanted: string[] | undefined): Reply {
    const uTime = String(Date.parse(account.createdAt));
    let totalEq = "0";
    const details = this.held(account.balances, wanted).map(([ccy, h]) => {
      const eq = add(h.free, h.used);
      const eqUsd = mul(eq, this.usdPrice(ccy));
      totalEq = add(totalEq, eqUsd);
      return {
        accAvgPx: "",
        availBal: normalize(h.free),
        availEq: normalize(h.free),
        borrowFroz: "",
        cashBal: eq,
        ccy,
        clSpotInUseAmt: "",
        crossLiab: "",
        disEq: eqUsd,
        eq,
        eqUsd,
        fixedBal: "0",
        frozenBal: normalize(h.used),
        imr: "",
        interest: "",
        isoEq: "",
        isoLiab: "",
        isoUpl: "",
        liab: "",
        maxLoan: "",
        maxSpotInUse: "",
        mgnRatio: "",
        mmr: "",
        notionalLever: "",
        openAvgPx: "",
        ordFrozen: normalize(h.used),
        rewardBal: "0",
        smtSyncEq: "0",
        spotBal: eq,
        spotInUseAmt: "",
        spotIsoBal: "0",
        spotUpl: "",
        spotUplRatio: "",
        stgyEq: "0",
        totalPnl: "",
        totalPnlRatio: "",
        twap: "0",
        uTime,
        upl: "0",
        uplLiab: "",
      };
    });
    return ok([
      {
        adjEq: "",
        availEq: "",
        borrowFroz: "",
        details,
        imr: "",
        isoEq: "0",
        mgnRatio: "",
        mmr: "",
        notionalUsd: "",
        notionalUsdForBorrow: "",
        notionalUsdForFutures: "",
        notionalUsdForOption: "",
        notionalUsdForSwap: "",
        ordFroz: "",
        totalEq,
        uTime: String(now),
        upl: "",
      },
    ]);
  }

  /** Funding account: only currencies held there. */
  private funding(account: Account, wanted: string[] | undefined): Reply {
    return ok(
      this.held(account.funding, wanted).map(([ccy, h]) => ({
        availBal: normalize(h.free),
        bal: add(h.free, h.used),
        ccy,
        frozenBal: normalize(h.used),
      })),
    );
  }

  private tickers(req: ParsedRequest): Reply {
    const instType = req.query.get("instType");
    if (!instType) return refuse(400, "50014", "Parameter instType can not be empty.");
    if (instType !== "SPOT") return ok([]);
    const ts = String(req.now);
    const data: unknown[] = [];
    for (const [code, price] of this.state.pricesOf("okx")) {
      if (code === "USD" || code === "USDT") continue;
      for (const quote of QUOTES) {
        if (quote === code) continue;
        data.push({
          instType: "SPOT",
          instId: `${code}-${quote}`,
          last: price,
          lastSz: "0.01",
          askPx: price,
          askSz: "1",
          bidPx: price,
          bidSz: "1",
          open24h: price,
          high24h: price,
          low24h: price,
          volCcy24h: "0",
          vol24h: "0",
          ts,
          sodUtc0: price,
          sodUtc8: price,
        });
      }
    }
    return ok(data);
  }
}
