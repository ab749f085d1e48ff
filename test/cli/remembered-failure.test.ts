import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Credentials } from "../../src/brokers/types.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { runCli, scratch, writeJson } from "../helpers/cli.js";
import { seedAccount } from "../helpers/seed.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** alice on coinbase ($50) and bob on kraken ($70); the CLI's cache under the scratch dir. */
async function setup() {
  const s = await scratch();
  const alice = seedAccount(emulator, "coinbase", { USDC: "50" });
  const bob = seedAccount(emulator, "kraken", { USD: "70" });
  await writeJson(join(s.config, "users", "alice.json"), {
    user_id: "alice",
    brokers: [{ broker: "coinbase", credentials: alice, apiUrl: emulator.urls.coinbase }],
  });
  await writeJson(join(s.config, "users", "bob.json"), {
    user_id: "bob",
    brokers: [{ broker: "kraken", credentials: bob, apiUrl: emulator.urls.kraken }],
  });
  const run = (args: string[]) =>
    runCli(["--config-dir", s.config, "--cache-dir", s.cache, "--json", ...args], { cwd: s.dir });
  /** Requests signed with `key`: public price look-ups carry none. */
  const sent = (key: Credentials) => emulator.requests.filter((r) => r.apiKey === key.apiKey);
  return { ...s, alice, bob, run, sent };
}

describe("a revoked key is remembered for the cache TTL", () => {
  it("N runs within the TTL make exactly one request on it; --refresh asks again at once", async () => {
    const s = await setup();
    emulator.setFault("coinbase", s.alice.apiKey, { kind: "revoked" });
    const runs = 5;
    const docs = [];
    for (let i = 0; i < runs; i++) {
      const result = await s.run(["--kraken-spacing", "0"]);
      expect(result.code).toBe(3);
      docs.push(JSON.parse(result.stdout));
    }
    // The default TTL (120 s): one request on the revoked key, as on the good one (then cached).
    expect(s.sent(s.alice)).toHaveLength(1);
    expect(s.sent(s.bob)).toHaveLength(1);

    const first = docs[0].status.users.alice.coinbase;
    expect(first).toMatchObject({ state: "auth_failed", source: "live" });
    expect(first.remembered_failure).toBeUndefined();
    for (const doc of docs.slice(1)) {
      const row = doc.status.users.alice.coinbase;
      expect(row).toMatchObject({
        state: "auth_failed",
        remembered_failure: true,
        source: "cached",
      });
      expect(row.message).toMatch(
        /; remembered, not retried until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; --refresh retries now$/,
      );
      expect(Date.parse(row.retry_after)).toBeGreaterThan(Date.now());
      expect(doc.balances.users.alice.coinbase).toBeNull();
      expect(doc.partial).toBe(true);
    }

    const refreshed = await s.run(["--refresh", "--kraken-spacing", "0"]);
    expect(refreshed.code).toBe(3);
    expect(s.sent(s.alice)).toHaveLength(2);
    expect(JSON.parse(refreshed.stdout).status.users.alice.coinbase.remembered_failure).toBe(
      undefined,
    );
  });

  it("shows the last good figure as stale meanwhile, and asks again once the TTL has passed", async () => {
    const s = await setup();
    const ttl = ["--cache-ttl", "3s", "--kraken-spacing", "0"];
    expect((await s.run(ttl)).code).toBe(0);
    await sleep(3100);
    emulator.setFault("coinbase", s.alice.apiKey, { kind: "revoked" });
    const before = s.sent(s.alice).length;

    const failed = await s.run(ttl);
    const remembered = await s.run(ttl);
    expect(s.sent(s.alice).length - before).toBe(1);
    const doc = JSON.parse(remembered.stdout);
    expect(remembered.code).toBe(3);
    expect(doc.balances.users.alice.coinbase).toBe(50);
    expect(doc.status.users.alice.coinbase).toMatchObject({
      state: "auth_failed",
      source: "stale",
      remembered_failure: true,
    });
    expect(JSON.parse(failed.stdout).status.users.alice.coinbase.source).toBe("stale");

    await sleep(3100);
    emulator.setFault("coinbase", s.alice.apiKey, null);
    const recovered = await s.run(ttl);
    expect(recovered.code).toBe(0);
    expect(s.sent(s.alice).length - before).toBe(2);
    const row = JSON.parse(recovered.stdout).status.users.alice.coinbase;
    expect(row).toMatchObject({ state: "ok", source: "live" });
    expect(row.remembered_failure).toBeUndefined();
  });

  it("remembers by the key's fingerprint, never the key: a new key is asked at once", async () => {
    const s = await setup();
    emulator.setFault("coinbase", s.alice.apiKey, { kind: "revoked" });
    expect((await s.run(["--kraken-spacing", "0"])).code).toBe(3);
    const segments = (await readdir(s.cache)).filter((f) => f.startsWith("seg-"));
    const texts = await Promise.all(segments.map((f) => readFile(join(s.cache, f), "utf8")));
    const text = texts.join("\n");
    const keys = texts.flatMap((t) => Object.keys(JSON.parse(t).entries));
    expect(keys.some((k) => k.endsWith(".refused"))).toBe(true);
    expect(text).not.toContain(s.alice.apiKey);
    expect(text).not.toContain(s.alice.secret);

    // The operator replaces the revoked key: the next run asks with it straight away.
    const replacement = seedAccount(emulator, "coinbase", { USDC: "55" });
    await writeJson(join(s.config, "users", "alice.json"), {
      user_id: "alice",
      brokers: [{ broker: "coinbase", credentials: replacement, apiUrl: emulator.urls.coinbase }],
    });
    const fixed = await s.run(["--kraken-spacing", "0"]);
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.stdout).balances.users.alice.coinbase).toBe(55);
  });

  it("does not remember a transient failure: a rate-limited key is asked on the next run", async () => {
    const s = await setup();
    emulator.setFault("coinbase", s.alice.apiKey, { kind: "rate_limit" });
    expect((await s.run(["--kraken-spacing", "0"])).code).toBe(3);
    const after = s.sent(s.alice).length;
    const second = await s.run(["--kraken-spacing", "0"]);
    expect(second.code).toBe(3);
    expect(s.sent(s.alice).length).toBeGreaterThan(after);
    expect(JSON.parse(second.stdout).status.users.alice.coinbase.remembered_failure).toBe(
      undefined,
    );
  });
});
