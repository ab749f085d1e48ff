import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One canned answer: what a path gets, verbatim. */
export interface RawAnswer {
  status?: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * A tiny HTTP server on 127.0.0.1 that answers each path with a fixed body, verbatim, and checks
 * nothing: for feeding recorded or deliberately wrong answers to the real ccxt classes. Paths not
 * listed get 404.
 */
export interface RawServer {
  url: string;
  /** Paths requested so far, without the query. */
  readonly paths: string[];
  set(path: string, answer: RawAnswer): void;
  close(): Promise<void>;
}

export async function startRawServer(answers: Record<string, RawAnswer> = {}): Promise<RawServer> {
  const table = new Map(Object.entries(answers));
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    paths.push(path);
    req.resume();
    req.on("end", () => {
      const answer = table.get(path);
      if (answer === undefined) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
        return;
      }
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
    paths,
    set(path, answer) {
      table.set(path, answer);
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
