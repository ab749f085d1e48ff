/**
 * One HTTP server per exchange on 127.0.0.1. The adapter decides every answer synchronously when
 * the request arrives (nonces, counters and balances are judged at arrival, like the exchange
 * would); latency only delays sending it, so no request ever blocks the event loop.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { Account, EmulatorState } from "./state.js";
import type { ExchangeId, RecordedRequest } from "./types.js";

export interface ParsedRequest {
  method: string;
  path: string;
  /** Raw query string without "?", as sent (signatures cover it verbatim). */
  rawQuery: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The Host header as the client sent it. */
  host: string;
  body: string;
  /** Arrival time, ms epoch. */
  now: number;
}

export interface Reply {
  status: number;
  body: string;
  contentType?: string;
  /** Extra response headers (Retry-After, X-MBX-USED-WEIGHT-1M). */
  headers?: Record<string, string>;
  /** What goes into RecordedRequest.error; null when ok. */
  error: string | null;
}

/** Every exchange module implements this; the server does recording, faults, latency and hangs. */
export interface ExchangeAdapter {
  readonly id: ExchangeId;
  /**
   * Servers of one environment only (Alpaca paper, Binance testnet): accounts of the other one
   * are unknown here, faults included. Unset when one server serves both (OKX, by header).
   */
  readonly environment?: "live" | "sandbox";
  /** OKX: whether the request asks for demo trading. */
  isSandboxRequest?(req: ParsedRequest): boolean;
  /** The key the request claims, before any check; null for public requests. */
  claimedKey(req: ParsedRequest): string | null;
  /** Kraken private requests: the nonce sent, for the record. */
  nonceOf?(req: ParsedRequest): string | undefined;
  /** The normal answer. `revoked`: treat the claimed key exactly like an unknown key. */
  handle(req: ParsedRequest, revoked: boolean): Reply;
  /** The exchange's own answer for a fault kind. */
  faultReply(
    kind: "http" | "rate_limit" | "invalid_nonce" | "malformed",
    req: ParsedRequest,
    status: number,
  ): Reply;
}

export function json(status: number, value: unknown, error: string | null): Reply {
  return { status, body: JSON.stringify(value), contentType: "application/json", error };
}

export function text(
  status: number,
  body: string,
  error: string | null,
  contentType = "text/plain; charset=utf-8",
): Reply {
  return { status, body, contentType, error };
}

export function header(req: ParsedRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Cloudflare-style gateway page, what a 502/503/504 in front of an exchange looks like. */
export function gatewayPage(status: number): Reply {
  const reason: Record<number, string> = {
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
  };
  const title = `${status} ${reason[status] ?? "Error"}`;
  return text(
    status,
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`,
    `http ${status}`,
    "text/html",
  );
}

const MAX_BODY = 1 << 20;

export class ExchangeServer {
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hung = new Set<ServerResponse>();
  private closed = false;
  url = "";

  constructor(
    private readonly adapter: ExchangeAdapter,
    private readonly state: EmulatorState,
    private readonly requests: RecordedRequest[],
  ) {
    // Node's default keep-alive is kept so clients reuse connections as they would with the
    // exchange; close() ends idle and hung connections itself.
    this.server = createServer((req, res) => this.receive(req, res));
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => {
        const { port } = this.server.address() as AddressInfo;
        this.url = `http://127.0.0.1:${port}`;
        resolve(this.url);
      });
    });
  }

  close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = performance.timeOrigin + performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => this.answer(req, res, Buffer.concat(chunks).toString("utf8"), startedAt));
    req.on("error", () => res.destroy());
  }

  private answer(req: IncomingMessage, res: ServerResponse, body: string, startedAt: number): void {
    const target = req.url ?? "/";
    const queryAt = target.indexOf("?");
    const path = queryAt >= 0 ? target.slice(0, queryAt) : target;
    const rawQuery = queryAt >= 0 ? target.slice(queryAt + 1) : "";
    const parsed: ParsedRequest = {
      method: req.method ?? "GET",
      path,
      rawQuery,
      query: new URLSearchParams(rawQuery),
      headers: req.headers,
      host: req.headers.host ?? "",
      body,
      now: Date.now(),
    };
    const apiKey = this.adapter.claimedKey(parsed);
    const query: Record<string, string> = {};
    for (const [key, value] of parsed.query)
      query[key] = key in query ? `${query[key]},${value}` : value;
    const record: RecordedRequest = {
      exchange: this.adapter.id,
      method: parsed.method,
      path,
      query,
      apiKey,
      startedAt,
      status: 0,
      error: null,
    };
    const nonce = this.adapter.nonceOf?.(parsed);
    if (nonce !== undefined) record.nonce = nonce;
    const environment = this.adapter.environment;
    if (environment === "sandbox" || this.adapter.isSandboxRequest?.(parsed)) record.sandbox = true;
    this.requests.push(record);

    const account: Account | undefined =
      environment === undefined
        ? this.state.account(this.adapter.id, apiKey)
        : this.state.accountIn(this.adapter.id, apiKey, environment === "sandbox");
    const fault = account === undefined ? null : this.state.takeFault(account);
    let delay = this.state.latencyMs;
    let reply: Reply;
    switch (fault?.kind) {
      case "hang":
        record.error = "hang";
        this.hung.add(res);
        res.on("close", () => this.hung.delete(res));
        return;
      case "latency":
        delay += fault.ms;
        reply = this.adapter.handle(parsed, false);
        break;
      case "revoked":
        reply = this.adapter.handle(parsed, true);
        break;
      case "http":
        reply = this.adapter.faultReply("http", parsed, fault.status);
        break;
      case "rate_limit":
      case "invalid_nonce":
      case "malformed":
        reply = this.adapter.faultReply(fault.kind, parsed, 200);
        break;
      default:
        reply = this.adapter.handle(parsed, false);
    }
    const send = (): void => {
      record.status = reply.status;
      record.error = reply.error;
      res.writeHead(reply.status, {
        ...reply.headers,
        "content-type": reply.contentType ?? "application/json",
      });
      res.end(reply.body);
    };
    if (delay <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) send();
    }, delay);
    this.timers.add(timer);
  }
}
