import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type ExchangeClass, loadExchangeClass } from "../../src/brokers/ccxt-loader.js";
import { createExchange } from "../../src/brokers/exchange.js";
import {
  afterNextRequestSent,
  MAX_ANSWER_BYTES,
  sendHttpRequest,
} from "../../src/brokers/http-client.js";

const IDS = ["kraken", "coinbase", "alpaca", "binance", "okx"];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("account views of one shared ccxt instance", () => {
  it("inherit every implicit API method ccxt defines, called on the view", async () => {
    for (const id of IDS) {
      const Class = await loadExchangeClass(id);
      if (!Class) throw new Error(`no ccxt class for ${id}`);
      // What ccxt itself defines: the instance's own closures from defineRestApiEndpoint.
      const plain = new Class() as unknown as Record<string, unknown>;
      const implicit = Object.keys(plain).filter(
        (k) => typeof plain[k] === "function" && String(plain[k]).includes("this[methodName]"),
      );
      expect(implicit.length, id).toBeGreaterThan(50);
      const { exchange } = createExchange(Class, {
        credentials: { apiKey: "k", secret: "s" },
        apiUrl: `http://127.0.0.1:1/${id}-views`,
        timeoutMs: 1000,
      });
      const view = exchange as unknown as Record<string, unknown>;
      const base = Object.getPrototypeOf(exchange) as Record<string, unknown>;
      const missing = implicit.filter((k) => typeof base[k] !== "function");
      expect(missing, id).toEqual([]);
      // Nothing per view: the methods come from the shared instance, and run with `this` = view.
      expect(
        implicit.filter((k) => Object.hasOwn(view, k)),
        id,
      ).toEqual([]);
      const seen: unknown[] = [];
      const name = implicit.find((k) => /^private|Private/.test(k)) ?? (implicit[0] as string);
      view.request = function (this: unknown, path: unknown) {
        seen.push(this, path);
        return Promise.resolve("answered");
      };
      const result = (view as Record<string, () => unknown>)[name]?.();
      expect(result, `${id} ${name}`).toBeInstanceOf(Promise);
      await expect(result).resolves.toBe("answered");
      expect(seen[0]).toBe(view);
    }
  });
});

/** A local server; `sockets` numbers each connection in the order it was opened. */
async function withServer(
  handle: (request: IncomingMessage, response: ServerResponse, socket: number) => void,
  body: (origin: string) => Promise<void>,
): Promise<void> {
  const sockets = new WeakMap<Socket, number>();
  let opened = 0;
  const server = createServer((request, response) => {
    let n = sockets.get(request.socket);
    if (n === undefined) {
      n = ++opened;
      sockets.set(request.socket, n);
    }
    handle(request, response, n);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await body(`http://127.0.0.1:${port}`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

type Sender = { fetch(url: string, method: string): Promise<unknown> };

async function alpacaView(Class: ExchangeClass | null, origin: string, timeoutMs = 2000) {
  if (!Class) throw new Error("no ccxt class for alpaca");
  const { exchange } = createExchange(Class, {
    credentials: { apiKey: "k", secret: "s" },
    apiUrl: `${origin}/client-${timeoutMs}`,
    timeoutMs,
  });
  return exchange as unknown as Sender & Record<string, unknown>;
}

describe("the HTTP client every instance sends through (http-client.ts)", () => {
  it("shares one keep-alive connection between the views, none holding a client of its own", async () => {
    const seen: number[] = [];
    await withServer(
      (_request, response, socket) => {
        seen.push(socket);
        response.setHeader("content-type", "application/json");
        response.end('{"ok":true}');
      },
      async (origin) => {
        const Class = await loadExchangeClass("alpaca");
        if (!Class) throw new Error("no ccxt class for alpaca");
        const views = [1, 2].map(
          (n) =>
            createExchange(Class, {
              credentials: { apiKey: `k${n}`, secret: "s" },
              apiUrl: `${origin}/shared-pool`,
              timeoutMs: 2000,
            }).exchange as unknown as Sender,
        );
        for (let i = 0; i < 6; i += 1) {
          await expect(views[i % 2]?.fetch(`${origin}/v2/clock`, "GET")).resolves.toEqual({
            ok: true,
          });
        }
        expect(seen).toEqual([1, 1, 1, 1, 1, 1]);
        const base = Object.getPrototypeOf(views[0]) as Record<string, unknown>;
        expect(base.fetchImplementation).toBe(sendHttpRequest);
        expect(base.undiciModule).toBeUndefined();
        for (const view of views) {
          for (const own of ["fetchImplementation", "fetchImplementationLoading"]) {
            expect(Object.hasOwn(view as object, own), own).toBe(false);
          }
        }
      },
    );
  });

  it("runs afterNextRequestSent's work once, after the request is out and before its answer", async () => {
    const events: string[] = [];
    let held: ServerResponse | null = null;
    await withServer(
      (request, response) => {
        if (request.url === "/held") held = response;
        else response.end("{}");
      },
      async (origin) => {
        afterNextRequestSent(() => events.push(`work, answered: ${held?.writableEnded === true}`));
        const first = sendHttpRequest(`${origin}/held`);
        // Not in the turn that sends.
        expect(events).toEqual([]);
        for (let i = 0; i < 200 && (events.length === 0 || !held); i += 1) await sleep(5);
        (held as ServerResponse | null)?.end("{}");
        await first;
        await sendHttpRequest(`${origin}/next`);
        expect(events).toEqual(["work, answered: false"]);
      },
    );
  });

  it("refuses a redirect instead of following it with the signed request", async () => {
    const paths: string[] = [];
    await withServer(
      (request, response) => {
        paths.push(request.url ?? "");
        response.writeHead(302, { location: "/elsewhere" }).end();
      },
      async (origin) => {
        const view = await alpacaView(await loadExchangeClass("alpaca"), origin);
        const error = await view.fetch(`${origin}/v2/account`, "GET").catch((e: unknown) => e);
        expect(error).toMatchObject({ name: "NetworkError" });
        expect(String(error)).toMatch(/fetch failed: answered with a redirect \(HTTP 302\)/);
        expect(paths).toEqual(["/v2/account"]);
      },
    );
  });

  it("reports an answer that does not come within the timeout as ccxt's RequestTimeout", async () => {
    await withServer(
      () => undefined,
      async (origin) => {
        const view = await alpacaView(await loadExchangeClass("alpaca"), origin, 150);
        const started = performance.now();
        await expect(view.fetch(`${origin}/v2/account`, "GET")).rejects.toMatchObject({
          name: "RequestTimeout",
        });
        expect(performance.now() - started).toBeLessThan(1500);
        // A caller with a timeout but no signal (ccxt passes both) is not left waiting either.
        await expect(
          sendHttpRequest(`${origin}/v2/account`, { timeout: 100 }),
        ).rejects.toMatchObject({ name: "AbortError", message: "no answer within 100 ms" });
      },
    );
  });

  it("decodes a compressed answer, and names a refused connection's cause", async () => {
    await withServer(
      (_request, response) => {
        response.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
        response.end(gzipSync('{"cash":"1234.56"}'));
      },
      async (origin) => {
        const view = await alpacaView(await loadExchangeClass("alpaca"), origin);
        await expect(view.fetch(`${origin}/v2/account`, "GET")).resolves.toEqual({
          cash: "1234.56",
        });
      },
    );
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const view = await alpacaView(await loadExchangeClass("alpaca"), `http://127.0.0.1:${closed}`);
    const error = await view.fetch(`http://127.0.0.1:${closed}/v2/account`, "GET").catch((e) => e);
    expect(error).toMatchObject({ name: "NetworkError" });
    expect(String(error)).toMatch(/fetch failed: connect ECONNREFUSED/);
  });

  it("refuses an answer larger than MAX_ANSWER_BYTES without holding it all", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    await withServer(
      (_request, response) => {
        response.writeHead(200, { "content-type": "application/json" });
        let sent = 0;
        const more = () => {
          while (sent <= MAX_ANSWER_BYTES && !response.destroyed) {
            sent += chunk.length;
            if (!response.write(chunk)) return void response.once("drain", more);
          }
          response.end();
        };
        response.on("error", () => undefined);
        more();
      },
      async (origin) => {
        await expect(sendHttpRequest(`${origin}/big`)).rejects.toMatchObject({
          message: "fetch failed",
          cause: { message: `answer larger than ${MAX_ANSWER_BYTES} bytes` },
        });
      },
    );
  });

  it("is what the pre-bundled modules (dist/ccxt) send through too: no undici in them", async () => {
    await withServer(
      (_request, response) => {
        response.setHeader("content-type", "application/json");
        // OKX's error handler wants its success code.
        response.end('{"code":"0","ok":true}');
      },
      async (origin) => {
        for (const id of IDS) {
          const file = fileURLToPath(new URL(`../../dist/ccxt/${id}.js`, import.meta.url));
          const Class = (await import(file)).default as ExchangeClass;
          const { exchange } = createExchange(Class, {
            credentials: null,
            apiUrl: `${origin}/bundled-${id}`,
            timeoutMs: 2000,
          });
          const view = exchange as unknown as Sender & Record<string, unknown>;
          await expect(view.fetch(`${origin}/ping`, "GET"), id).resolves.toMatchObject({
            ok: true,
          });
          expect(view.undiciModule, id).toBeUndefined();
        }
      },
    );
  });
});
