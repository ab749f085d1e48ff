/**
 * The HTTP client our ccxt instances send through: Node's http/https with one keep-alive agent
 * per scheme for the process. ccxt accepts a user-supplied `fetchImplementation`, calls it with
 * `{ method, headers, body, signal, agent }` and reads only `status`, `statusText`, `headers`
 * and `text()` of what it returns.
 *
 * Why not ccxt's defaults: Node's global `fetch` loads its bundled undici on first use (~20 ms of
 * a cold start) and costs ~0.2 ms more CPU per request; the npm undici that ccxt prefers costs
 * 55-100 ms to load. Measured in issue 14's bench (series 6 and 7).
 */
import * as http from "node:http";
import { createRequire } from "node:module";

/** Balance answers are a few KB; ccxt's market lists a few MB. Past this an answer is refused. */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export interface HttpRequest {
  method?: string;
  headers?: Record<string, unknown>;
  body?: string | Uint8Array | null;
  signal?: AbortSignal;
  /** ccxt's timeout (ms); it also aborts through `signal`, this is for a caller that does not. */
  timeout?: number;
  /** A proxy agent ccxt chose from the instance's proxy settings. */
  agent?: http.Agent;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  text(): Promise<string>;
}

const requireBuiltin = createRequire(import.meta.url);

/** https is loaded on first use: the emulator and most tests speak plain http, tls costs to load. */
function transportFor(secure: boolean): typeof http {
  return secure ? (requireBuiltin("node:https") as typeof http) : http;
}

const agents = new Map<boolean, http.Agent>();

function agentFor(secure: boolean): http.Agent {
  let agent = agents.get(secure);
  if (!agent) {
    // lifo: the most recently used connection is the one least likely to be closed by the server.
    agent = new (transportFor(secure).Agent)({ keepAlive: true, scheduling: "lifo" });
    agents.set(secure, agent);
  }
  return agent;
}

/** Callbacks for the next request handed to the OS (afterNextRequestSent). */
let whenSent = new Set<() => void>();

/**
 * Runs `callback` once, in a later turn, after the next request has been written out: work done
 * there overlaps the wait for the answer instead of following it. Registering the same function
 * again before then changes nothing.
 */
export function afterNextRequestSent(callback: () => void): void {
  whenSent.add(callback);
}

/** How `fetch` reports a request that got no usable answer; ccxt maps it to NetworkError. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError("fetch failed", { cause });
}

/** An abort (the caller's timeout) stays Node's AbortError, which ccxt reports as a timeout. */
function failure(error: Error): Error {
  return error.name === "AbortError" ? error : fetchFailed(error);
}

/**
 * One request. Resolves once the whole answer is in, so the caller's timeout (the `signal`)
 * covers the body too. Redirects are not followed: an exchange API does not redirect, and
 * following one would send a signed request elsewhere.
 */
export function sendHttpRequest(url: string, init: HttpRequest = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch (error) {
      reject(fetchFailed(error));
      return;
    }
    const secure = target.protocol === "https:";
    if (!secure && target.protocol !== "http:") {
      reject(fetchFailed(new Error(`unsupported protocol ${target.protocol}`)));
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers ?? {})) {
      if (value !== undefined && value !== null) headers[name] = String(value);
    }
    let request: http.ClientRequest;
    try {
      request = transportFor(secure).request(target, {
        method: init.method ?? "GET",
        headers,
        agent: init.agent ?? agentFor(secure),
        signal: init.signal,
      });
    } catch (error) {
      // An invalid header name or value: Node's message names the header, never its value.
      reject(fetchFailed(error));
      return;
    }
    request.on("error", (error) => reject(failure(error)));
    if (!init.signal && init.timeout !== undefined && init.timeout > 0) {
      request.setTimeout(init.timeout, () => {
        const timedOut = new Error(`no answer within ${init.timeout} ms`);
        timedOut.name = "AbortError";
        request.destroy(timedOut);
      });
    }
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        response.resume();
        reject(fetchFailed(new Error(`answered with a redirect (HTTP ${status}), not followed`)));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          reject(fetchFailed(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`)));
          request.destroy();
          return;
        }
        chunks.push(chunk);
      });
      response.on("error", (error) => reject(failure(error)));
      response.on("end", () => {
        let body: Buffer;
        try {
          body = decode(Buffer.concat(chunks, size), response.headers["content-encoding"]);
        } catch (error) {
          reject(fetchFailed(error));
          return;
        }
        const text = body.toString("utf8");
        resolve({
          status,
          statusText: response.statusMessage ?? http.STATUS_CODES[status] ?? "",
          headers: response.headers,
          text: () => Promise.resolve(text),
        });
      });
    });
    if (whenSent.size > 0) {
      const callbacks = whenSent;
      whenSent = new Set();
      // setImmediate: the requests started in the same turn go out first.
      request.once("finish", () =>
        setImmediate(() => {
          for (const callback of callbacks) callback();
        }),
      );
    }
    request.end(init.body ?? undefined);
  });
}

/** We send no Accept-Encoding, but a server may compress anyway; fetch would decode it. */
function decode(body: Buffer, encoding: string | undefined): Buffer {
  if (!encoding || encoding === "identity") return body;
  const zlib = requireBuiltin("node:zlib") as typeof import("node:zlib");
  const limit = { maxOutputLength: MAX_ANSWER_BYTES };
  switch (encoding.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return zlib.gunzipSync(body, limit);
    case "deflate":
      return zlib.inflateSync(body, limit);
    case "br":
      return zlib.brotliDecompressSync(body, limit);
    default:
      throw new Error(`answer in an unsupported content-encoding (${encoding})`);
  }
}
