import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
}

/** An answer: a status, or a status with headers (e.g. Retry-After). */
export type Answer = number | { status: number; headers: Record<string, string> };

/** A local webhook receiver: answers each request with the next answer in `answers` (then 200). */
export async function startReceiver(answers: Answer[] = []) {
  const received: Received[] = [];
  /** Date.now() as each request arrived in full, to measure the waits between attempts. */
  const times: number[] = [];
  let hang = false;
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (d) => {
      text += d;
    });
    req.on("end", () => {
      received.push({
        method: req.method ?? "",
        path: req.url ?? "",
        contentType: req.headers["content-type"],
        body: text ? JSON.parse(text) : null,
      });
      times.push(Date.now());
      if (hang) return;
      const answer = answers.shift() ?? 200;
      if (typeof answer === "number") res.statusCode = answer;
      else {
        res.statusCode = answer.status;
        for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      }
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/secret-token`,
    received,
    times,
    /** Accept requests and never answer them. */
    hangUp() {
      hang = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
