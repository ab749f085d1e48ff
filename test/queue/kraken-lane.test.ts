import { describe, expect, it } from "vitest";
import { KrakenLane } from "../../src/queue/kraken-lane.js";
import { gaps } from "../helpers/gaps.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recorder() {
  const events: { key: string; start: number; end: number }[] = [];
  let running = 0;
  let maxRunning = 0;
  const task = (key: string, ms: number) => async (paceSend: () => Promise<void>) => {
    await paceSend();
    const start = performance.now();
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    await sleep(ms);
    running -= 1;
    events.push({ key, start, end: performance.now() });
    return key;
  };
  return { events, task, maxRunning: () => maxRunning };
}

describe("KrakenLane", () => {
  it("spaces the starts of requests on one key and runs one request at a time", async () => {
    const lane = new KrakenLane({ spacingMs: 60 });
    const r = recorder();
    const results = await Promise.all(["a", "a", "a"].map((k) => lane.run(k, r.task(k, 5))));
    expect(results).toEqual(["a", "a", "a"]);
    const starts = r.events.map((e) => e.start);
    expect(gaps(starts)).toHaveLength(2);
    for (const gap of gaps(starts)) expect(gap).toBeGreaterThanOrEqual(59);
    expect(r.maxRunning()).toBe(1);
  });

  it("lets different keys follow each other without the spacing, one at a time by default", async () => {
    const lane = new KrakenLane({ spacingMs: 500 });
    const r = recorder();
    const t0 = performance.now();
    await Promise.all(["a", "b", "c"].map((k) => lane.run(k, r.task(k, 10))));
    expect(performance.now() - t0).toBeLessThan(300);
    expect(r.maxRunning()).toBe(1);
  });

  it("runs different keys side by side with concurrency, never one key twice at once", async () => {
    const lane = new KrakenLane({ spacingMs: 30, concurrency: 4 });
    const r = recorder();
    await Promise.all(["a", "a", "b", "b"].map((k) => lane.run(k, r.task(k, 20))));
    expect(r.maxRunning()).toBe(2);
    for (const key of ["a", "b"]) {
      const [first, second] = r.events.filter((e) => e.key === key);
      if (!first || !second) throw new Error(`two requests expected on ${key}`);
      expect(second.start).toBeGreaterThanOrEqual(first.end - 1);
      expect(second.start - first.start).toBeGreaterThanOrEqual(29);
    }
  });

  it("sends the next key's request while the last answer's mark is written, the key held till then", async () => {
    // A shared state whose mark takes 80 ms to write (a slow disk).
    const marks = new Map<string, number>();
    const writes: { name: string; start: number; end: number }[] = [];
    const shared = {
      lock: async () => async () => undefined,
      readMark: async (name: string) => marks.get(name) ?? 0,
      writeMark: async (name: string, value: number) => {
        const start = performance.now();
        await sleep(80);
        marks.set(name, value);
        writes.push({ name, start, end: performance.now() });
      },
    };
    const lane = new KrakenLane({ spacingMs: 1, concurrency: 1, shared });
    const r = recorder();
    await Promise.all(["a", "b", "a"].map((k) => lane.run(k, r.task(k, 5))));
    const [a1, b, a2] = r.events;
    const firstMark = writes[0];
    if (!a1 || !b || !a2 || !firstMark) throw new Error("three requests and their marks expected");
    expect([a1.key, b.key, a2.key]).toEqual(["a", "b", "a"]);
    // b went out while a's mark was still being written...
    expect(firstMark.name).toBe("kraken-a");
    expect(b.start).toBeLessThan(firstMark.end - 40);
    // ...but a again only once its mark was down.
    expect(a2.start).toBeGreaterThanOrEqual(firstMark.end - 1);
    expect(r.maxRunning()).toBe(1);
  });

  it("passes failures through and keeps going", async () => {
    const lane = new KrakenLane({ spacingMs: 1 });
    const failing = lane.run("a", async (paceSend) => {
      await paceSend();
      throw new Error("boom");
    });
    await expect(failing).rejects.toThrow("boom");
    await expect(lane.run("a", async () => 7)).resolves.toBe(7);
  });
});
