import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** One canned answer: a body as sent on the wire, with its status and headers. */
export interface RecordedAnswer {
  status?: number;
  body: string;
  headers?: Record<string, string>;
}

export type Route = RecordedAnswer | ((request: SeenRequest) => RecordedAnswer);

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
}

export interface RecordedServer {
  url: string;
  requests: SeenRequest[];
  /** Adds or replaces a route: `METHOD /path`, or `/path` for any method. */
  set(key: string, route: Route): void;
  close(): Promise<void>;
}

/**
 * A local HTTP server that answers each `METHOD /path` (or `/path`) with a recorded body, byte for byte, or
 * with what a function of the request returns: the way to put ccxt (real signing, real HTTP) in
 * front of an exchange's documented answers or a hostile body. Signatures are not checked here;
 * the emulator does that.
 */
export async function startRecordedServer(
  initial: Record<string, Route> = {},
): Promise<RecordedServer> {
  const routes = new Map(Object.entries(initial));
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const request: SeenRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
    };
    requests.push(request);
    req.resume();
    req.on("end", () => {
      const route = routes.get(`${request.method} ${request.path}`) ?? routes.get(request.path);
      const answer: RecordedAnswer = route
        ? typeof route === "function"
          ? route(request)
          : route
        : { status: 404, body: '{"error":"no such route in this test"}' };
      res.writeHead(answer.status ?? 200, {
        "content-type": "application/json",
        ...answer.headers,
      });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    set: (key, route) => {
      routes.set(key, route);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A recorded fixture's text, verbatim (test/fixtures/real/<exchange>/<file>). */
export function fixture(exchange: string, file: string): string {
  return readFileSync(new URL(`../fixtures/real/${exchange}/${file}`, import.meta.url), "utf8");
}
