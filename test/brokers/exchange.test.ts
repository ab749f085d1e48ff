import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadExchangeClass } from "../../src/brokers/ccxt-loader.js";
import { createExchange, FETCH_REQUESTS_BEFORE_UNDICI } from "../../src/brokers/exchange.js";

const IDS = ["kraken", "coinbase", "alpaca", "binance", "okx"];

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

  it("send through Node's fetch at first, then share one undici pool: ccxt's own client", async () => {
    const server = createServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const Class = await loadExchangeClass("alpaca");
      if (!Class) throw new Error("no ccxt class for alpaca");
      const setup = { apiUrl: `http://127.0.0.1:${port}/undici-pool`, timeoutMs: 2000 };
      const views = [1, 2].map(
        (n) =>
          createExchange(Class, { ...setup, credentials: { apiKey: `k${n}`, secret: "s" } })
            .exchange,
      );
      const base = Object.getPrototypeOf(views[0]) as Record<string, unknown>;
      expect(Object.getPrototypeOf(views[1])).toBe(base);
      const send = (view: unknown) =>
        (view as { fetch(url: string, method: string): Promise<unknown> }).fetch(
          `http://127.0.0.1:${port}/v2/clock`,
          "GET",
        );
      for (let i = 0; i < FETCH_REQUESTS_BEFORE_UNDICI; i += 1) {
        await expect(send(views[i % 2])).resolves.toEqual({ ok: true });
        if (i < FETCH_REQUESTS_BEFORE_UNDICI - 1) expect(base.undiciModule).toBeUndefined();
      }
      // undici loads in the background (requests meanwhile still go through fetch), then every
      // view's requests go through it.
      await expect(send(views[0])).resolves.toEqual({ ok: true });
      for (let i = 0; i < 200 && base.undiciModule === undefined; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await expect(send(views[0])).resolves.toEqual({ ok: true });
      await expect(send(views[1])).resolves.toEqual({ ok: true });
      expect(typeof (base.undiciModule as { request?: unknown })?.request).toBe("function");
      expect(base.fetchIsNative).toBe(true);
      for (const view of views) {
        for (const own of [
          "fetchDispatcher",
          "fetchImplementation",
          "fetchImplementationLoading",
        ]) {
          expect(Object.hasOwn(view as object, own), own).toBe(false);
        }
      }
    } finally {
      server.close();
    }
  });

  it("get undici's named exports in the pre-bundled modules (dist/ccxt) too", async () => {
    // Bundled, a CommonJS package's dynamic import yields only `default`: without the build's
    // alias ccxt would take undici for loaded and fail every request with a TypeError.
    for (const id of IDS) {
      const file = fileURLToPath(new URL(`../../dist/ccxt/${id}.js`, import.meta.url));
      const Class = (await import(file)).default as new () => Record<string, unknown> & {
        loadFetchImplementation(): Promise<void>;
      };
      const instance = new Class();
      await instance.loadFetchImplementation();
      const undici = instance.undiciModule as Record<string, unknown> | undefined;
      expect(instance.fetchIsNative, id).toBe(true);
      for (const name of ["request", "Agent", "ProxyAgent", "fetch"]) {
        expect(typeof undici?.[name], `${id} undici.${name}`).toBe("function");
      }
    }
  });
});
