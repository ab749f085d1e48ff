import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { writeTree } from "./helpers.js";

// Counts imports of the YAML parser and of ccxt, in this file's module graph only.
const imported = vi.hoisted(() => ({ yaml: 0, ccxt: 0 }));
vi.mock("yaml", async (original) => {
  imported.yaml++;
  return await original();
});
vi.mock("ccxt", async (original) => {
  imported.ccxt++;
  return await original();
});

describe("lazy loading", () => {
  it("loads neither the YAML parser nor ccxt without YAML files, even for an unknown broker", async () => {
    const root = await writeTree({
      "config/users/alice.json": { user_id: "alice", brokers: [{ broker: "krakken" }] },
    });
    const config = await loadConfig({ configDir: join(root, "config"), cwd: root, env: {} });
    expect(config.problems.map((p) => p.code)).toEqual(["unknown_broker"]);
    expect(imported).toEqual({ yaml: 0, ccxt: 0 });
  });

  it("loads the YAML parser once a YAML user file exists", async () => {
    const root = await writeTree({ "config/users/bob.yaml": "broker: kraken\n" });
    const config = await loadConfig({ configDir: join(root, "config"), cwd: root, env: {} });
    expect(config.users.map((u) => u.id)).toEqual(["bob"]);
    expect(imported).toEqual({ yaml: 1, ccxt: 0 });
  });
});
