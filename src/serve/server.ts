import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { LoadedConfig } from "../config/index.js";
import { defaultStateDir } from "../monitor/paths.js";
import { toJsonDocument } from "../render/json.js";
import { stringifyJson } from "../render/json-text.js";
import type { Report } from "../report/model.js";
import { buildPortfolio, portfolioJson } from "../report/portfolio.js";
import { hostHeaderIsLoopback, TOKEN_COOKIE, tokenMatches, tokensOf } from "./auth.js";
import { setSecurityHeaders } from "./headers.js";
import { HistoryService, parseRange } from "./history-route.js";
import { DashboardMetrics } from "./metrics.js";
import { APP_CSS, APP_JS, pageHtml } from "./page.js";
import { failingRows, type Snapshot } from "./report-source.js";

/** Display names the JSON document leaves out (it carries ids only), for the cards' titles. */
export interface AccountNames {
  platform: { name: string | null } | null;
  users: Record<string, { name: string | null; enabled: boolean }>;
}

export function accountNames(config: LoadedConfig): AccountNames {
  return {
    platform: config.platform ? { name: config.platform.name } : null,
    users: Object.fromEntries(
      config.users.map((user) => [user.id, { name: user.name, enabled: user.enabled }]),
    ),
  };
}

export interface DashboardOptions {
  /** Where reports come from; `ReportSource` shares one in-flight run between requests. */
  source: {
    snapshot(): Promise<Snapshot>;
    latest(): Snapshot;
    /** Called with every refreshed report: what /metrics shows. */
    subscribe?(listener: (report: Report) => void): void;
  };
  names: AccountNames;
  /** Required on every route but /healthz when set; when null only loopback Host names pass. */
  token: string | null;
  refreshSeconds: number;
  /**
   * The state directory whose history.sqlite /api/history reads (default: the CLI's,
   * `$XDG_STATE_HOME/show-user-balances`); null: no history, the chart says so.
   */
  historyDir?: string | null;
  /** Unexpected failures (a report that threw); never sent to the client. */
  onError?: (message: string) => void;
}

type Route = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void> | void;

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, {
    "Content-Type": `${type}; charset=utf-8`,
    "Content-Length": Buffer.byteLength(body),
  });
  response.end(body);
}

const sendJson = (response: ServerResponse, status: number, value: unknown) =>
  send(response, status, "application/json", `${stringifyJson(value, 2)}\n`);

/** The dashboard's HTTP handler: routes, the token gate and the security headers. */
export function createDashboardServer(options: DashboardOptions): Server {
  const html = pageHtml(options.refreshSeconds);
  /** The last document that rendered, served (with the error beside it) when a refresh fails. */
  let lastGood: Record<string, unknown> | null = null;
  const metrics = new DashboardMetrics();
  const history = new HistoryService(
    options.historyDir === undefined ? defaultStateDir() : options.historyDir,
    () =>
      Object.entries(options.names.users)
        .filter(([, user]) => user.enabled)
        .map(([id]) => id),
    options.onError,
  );
  options.source.subscribe?.((report) => {
    metrics.observe(report);
  });

  /**
   * The JSON document for the latest snapshot. A refresh that threw, or a report that cannot be
   * rendered, falls back to the last good document with `refresh_error` saying why; only when
   * there has never been one is the answer an error (503).
   */
  function balancesDocument(snapshot: Snapshot): { status: number; body: unknown } {
    let error = snapshot.error;
    if (snapshot.report && error === null) {
      try {
        lastGood = toJsonDocument(snapshot.report);
        return { status: 200, body: lastGood };
      } catch (e) {
        error = `internal error while rendering: ${e instanceof Error ? e.message : String(e)}`;
        options.onError?.(error);
      }
    }
    const reason = error ?? "no report yet";
    if (lastGood) return { status: 200, body: { ...lastGood, refresh_error: reason } };
    return { status: 503, body: { error: reason } };
  }

  /**
   * Liveness plus the last refresh's health, always HTTP 200 (the process is up): `degraded` when
   * it failed or left brokers failing. Which accounts failed is only shown to a caller that may
   * see the dashboard (/healthz itself needs no token).
   */
  function health(request: IncomingMessage, url: URL) {
    const last = options.source.latest();
    const failing = failingRows(last.report);
    const degraded = last.error !== null || failing.length > 0;
    return {
      status: last.refreshedAt === null ? "starting" : degraded ? "degraded" : "ok",
      refreshed_at: last.refreshedAt,
      error: last.error,
      failing_count: failing.length,
      ...(allowed(request, url) ? { failing } : {}),
    };
  }

  const routes: Record<string, Route> = {
    "/": (request, response, url) => {
      // A token that came in the address is moved into an HttpOnly cookie and out of the
      // address bar (and the browser history) by a redirect.
      if (options.token !== null && url.searchParams.has("token")) {
        const secure = request.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
        response.setHeader(
          "Set-Cookie",
          `${TOKEN_COOKIE}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Lax; Path=/${secure}`,
        );
        response.writeHead(303, { Location: "/" });
        response.end();
        return;
      }
      send(response, 200, "text/html", html);
    },
    "/app.js": (_request, response) => send(response, 200, "text/javascript", APP_JS),
    "/app.css": (_request, response) => send(response, 200, "text/css", APP_CSS),
    "/api/balances": async (_request, response) => {
      const { status, body } = balancesDocument(await options.source.snapshot());
      sendJson(response, status, body);
    },
    "/api/accounts": (_request, response) => sendJson(response, 200, options.names),
    // From the report /api/balances last served (the page asks for it right after): no refresh.
    "/api/portfolio": (_request, response) => {
      const report = options.source.latest().report;
      if (!report) {
        sendJson(response, 503, { error: "no report yet" });
        return;
      }
      sendJson(response, 200, portfolioJson(buildPortfolio(report)));
    },
    "/api/history": (_request, response, url) => {
      const range = parseRange(url.searchParams.get("range"));
      if (range === null) {
        sendJson(response, 400, { error: "range must be one of 24h, 7d, 30d" });
        return;
      }
      const { status, body } = history.answer(range);
      sendJson(response, status, body);
    },
    // Reads the last refreshed report: a scrape never starts a refresh, so never an exchange request.
    "/metrics": async (_request, response) => {
      const { contentType, body } = await metrics.render();
      response.writeHead(200, {
        "Content-Type": contentType,
        "Content-Length": Buffer.byteLength(body),
      });
      response.end(body);
    },
    "/favicon.ico": (_request, response) => {
      response.writeHead(204);
      response.end();
    },
  };

  function allowed(request: IncomingMessage, url: URL): boolean {
    if (options.token === null) return hostHeaderIsLoopback(request);
    const token = options.token;
    return tokensOf(request, url).some((given) => tokenMatches(token, given));
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    setSecurityHeaders(response);
    const url = new URL(request.url ?? "/", "http://dashboard.invalid");
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("Allow", "GET, HEAD");
      send(response, 405, "text/plain", "405 Method Not Allowed\n");
      return;
    }
    if (url.pathname === "/healthz") {
      sendJson(response, 200, health(request, url));
      return;
    }
    if (!allowed(request, url)) {
      if (options.token === null) {
        send(response, 403, "text/plain", "403 Forbidden: use a loopback host name (127.0.0.1)\n");
      } else {
        response.setHeader("WWW-Authenticate", 'Bearer realm="show-user-balances"');
        send(response, 401, "text/plain", "401 Unauthorized: a valid access token is required\n");
      }
      return;
    }
    const route = routes[url.pathname === "/index.html" ? "/" : url.pathname];
    if (!route) {
      send(response, 404, "text/plain", "404 Not Found\n");
      return;
    }
    await route(request, response, url);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.onError?.(error instanceof Error ? error.message : String(error));
      if (!response.headersSent) sendJson(response, 500, { error: "internal error" });
      else response.end();
    });
  });
  server.on("close", () => history.close());
  return server;
}

/** Listens and returns the URL to open (the real port when asked for port 0). */
export function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      const actual = typeof address === "object" && address ? address.port : port;
      const shown = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
      resolve(`http://${shown}:${actual}/`);
    });
  });
}

/**
 * How long `serve` gives in-flight answers (and a refresh waiting on a slow broker) after SIGTERM
 * or SIGINT before it cuts them and exits: documented in `serve --help` and docs/dashboard.md.
 */
export const SHUTDOWN_GRACE_MS = 5000;

/**
 * Stops accepting connections, lets in-flight responses finish and closes keep-alive connections
 * as they fall idle (a browser would otherwise hold the process open); whatever is still open
 * after `graceMs` is cut.
 */
export function closeGracefully(server: Server, graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearTimeout(force);
      clearInterval(idle);
      resolve();
    });
    server.closeIdleConnections();
  });
}
