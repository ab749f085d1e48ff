import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadExchangeClass } from "../../src/brokers/ccxt-loader.js";
import { createExchange } from "../../src/brokers/exchange.js";

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

  it("share one undici pool: ccxt's own HTTP client, loaded on the shared instance", async () => {
    const Class = await loadExchangeClass("alpaca");
    if (!Class) throw new Error("no ccxt class for alpaca");
    const { exchange } = createExchange(Class, {
      credentials: { apiKey: "k", secret: "s" },
      apiUrl: "http://127.0.0.1:1/undici-pool",
      timeoutMs: 1000,
    });
    const base = Object.getPrototypeOf(exchange) as Record<string, unknown> & {
      fetchImplementationLoading: Promise<void>;
    };
    await base.fetchImplementationLoading;
    const view = exchange as unknown as Record<string, unknown>;
    expect(typeof (view.undiciModule as { request?: unknown })?.request).toBe("function");
    expect(view.fetchDispatcher).toBeDefined();
    expect(Object.hasOwn(view, "fetchDispatcher")).toBe(false);
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
