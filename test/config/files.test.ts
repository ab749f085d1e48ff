import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  invalidUtf8Offset,
  MAX_CONFIG_BYTES,
  nestedDeeperThan,
  readConfigText,
} from "../../src/config/files.js";
import { formatProblem, loadConfig } from "../../src/config/index.js";
import { tempDir, writeTree } from "./helpers.js";

const load = (root: string) => loadConfig({ configDir: join(root, "config"), cwd: root, env: {} });
const userFile = (root: string, name: string) => join(root, "config", "users", name);

function nested(depth: number): unknown {
  let value: unknown = { broker: "kraken" };
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe("readConfigText", () => {
  it("reads a regular UTF-8 file, dropping a BOM", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.json"), "\uFEFF{}");
    expect(await readConfigText(join(dir, "a.json"))).toMatchObject({ ok: true, text: "{}" });
  });

  it("refuses a file over 1 MiB before reading it, naming the limit", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "big.json"), Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));
    await writeFile(join(dir, "limit.json"), Buffer.alloc(MAX_CONFIG_BYTES, 0x20));
    const big = await readConfigText(join(dir, "big.json"));
    expect(big).toMatchObject({ ok: false, fault: { code: "unsafe_file" } });
    if (!big.ok && !big.missing) {
      expect(big.fault.message).toBe(
        "is 1048577 bytes, over the 1048576-byte (1 MiB) limit for a config file; it was not read",
      );
    }
    expect(await readConfigText(join(dir, "limit.json"))).toMatchObject({ ok: true });
  });

  it("names the byte offset and line of invalid UTF-8", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "latin1.json"), Buffer.from('{\n"name": "caf\xe9"}', "latin1"));
    await writeFile(join(dir, "utf16.json"), Buffer.from("\uFEFF{}", "utf16le"));
    const latin1 = await readConfigText(join(dir, "latin1.json"));
    expect(latin1).toMatchObject({ ok: false, fault: { code: "unsafe_file" } });
    if (!latin1.ok && !latin1.missing) {
      expect(latin1.fault.message).toContain("at byte offset 14 (line 2)");
      expect(latin1.fault.hint).toContain("UTF-8");
    }
    const utf16 = await readConfigText(join(dir, "utf16.json"));
    if (!utf16.ok && !utf16.missing) expect(utf16.fault.message).toContain("offset 0 (line 1)");
    else throw new Error("expected a fault");
  });

  it("tells a symlink loop, a dangling link, a directory and a missing file apart", async () => {
    const dir = await tempDir();
    await symlink("loop.json", join(dir, "loop.json"));
    await symlink("nowhere.json", join(dir, "dangling.json"));
    await mkdir(join(dir, "dir.json"));
    const faults = await Promise.all(
      ["loop.json", "dangling.json", "dir.json"].map((n) => readConfigText(join(dir, n))),
    );
    const messages = faults.map((f) => (!f.ok && !f.missing ? f.fault : null));
    expect(messages[0]?.message).toContain("symbolic link loop");
    expect(messages[0]?.hint).not.toContain("chmod");
    expect(messages[1]?.message).toContain("symbolic link to a file that does not exist");
    expect(messages[2]?.message).toContain("is a directory, not a file");
    expect(await readConfigText(join(dir, "absent.json"))).toEqual({ ok: false, missing: true });
  });
});

describe("invalidUtf8Offset", () => {
  it.each([
    [[0x61, 0x62], -1],
    [[0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], -1],
    [[0x61, 0xff], 1],
    [[0x61, 0xc0, 0x80], 1], // overlong
    [[0x61, 0xe0, 0x80, 0x80], 1], // overlong
    [[0xed, 0xa0, 0x80], 0], // a UTF-16 surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // past U+10FFFF
    [[0x61, 0x62, 0xe2, 0x82], 2], // truncated
    [[0xc3, 0x41], 0], // missing continuation
  ])("%j -> %i", (bytes, offset) => {
    expect(invalidUtf8Offset(Uint8Array.from(bytes))).toBe(offset);
  });
});

describe("nestedDeeperThan", () => {
  it("measures any depth without recursion", () => {
    expect(nestedDeeperThan(nested(63), 64)).toBe(false);
    expect(nestedDeeperThan(nested(64), 64)).toBe(true);
    expect(nestedDeeperThan(nested(200_000), 64)).toBe(true);
    expect(nestedDeeperThan("text", 0)).toBe(false);
  });
});

describe("hostile config files", () => {
  it("refuses deeply nested user files (JSON and YAML) with a clear problem, loading the rest", async () => {
    const deep = 3000;
    const root = await writeTree({
      // Compact: indented, 3,000 levels would be over the size limit.
      "config/users/deep.json": JSON.stringify({
        user_id: "deep",
        brokers: [{ broker: "kraken", x: nested(deep) }],
      }),
      "config/users/deeper.json": `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
      "config/users/broken.json": `${"[".repeat(100_000)}`,
      "config/users/flow.yaml": `broker: kraken\nx: ${"[".repeat(deep)}${"]".repeat(deep)}\n`,
      "config/users/ok.json": { user_id: "ok", brokers: [{ broker: "kraken" }] },
    });
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["ok"]);
    expect(config.problems.map((p) => [p.code, p.file])).toEqual([
      ["invalid_json", userFile(root, "broken.json")],
      ["unsafe_file", userFile(root, "deep.json")],
      ["unsafe_file", userFile(root, "deeper.json")],
      ["unsafe_file", userFile(root, "flow.yaml")],
    ]);
    expect(config.problems[1]?.message).toBe("is nested more than 64 levels deep; it was skipped");
    expect(config.problems[3]?.message).toContain("nested more than 64 levels deep (at line 2");
  });

  it("gives each kind of unusable file its own message and fix", async () => {
    const root = await writeTree({
      "config/users/ok.json": { user_id: "ok", brokers: [] },
      "config/users/latin1.json": Buffer.from('{"user_id": "jos\xe9"}', "latin1").toString(
        "latin1",
      ),
    });
    // writeTree writes strings as UTF-8: rewrite the Latin-1 one byte for byte.
    await writeFile(
      userFile(root, "latin1.json"),
      Buffer.from('{"user_id": "jos\xe9", "brokers": []}', "latin1"),
    );
    await writeFile(userFile(root, "big.json"), Buffer.alloc(MAX_CONFIG_BYTES + 10, 0x20));
    await symlink("loop.yaml", userFile(root, "loop.yaml"));
    await mkdir(userFile(root, "folder.json"));
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["ok"]);
    const byFile = Object.fromEntries(
      config.problems.map((p) => [p.file.slice(p.file.lastIndexOf("/") + 1), p]),
    );
    expect(Object.keys(byFile).sort()).toEqual([
      "big.json",
      "folder.json",
      "latin1.json",
      "loop.yaml",
    ]);
    expect(byFile["big.json"]?.code).toBe("unsafe_file");
    expect(byFile["big.json"]?.message).toContain("1 MiB");
    expect(byFile["latin1.json"]?.message).toContain("byte offset 16 (line 1)");
    expect(byFile["loop.yaml"]?.code).toBe("unreadable_file");
    expect(formatProblem(byFile["loop.yaml"] as never)).not.toContain("chmod");
    expect(byFile["folder.json"]?.message).toContain("is a directory");
  });

  it("refuses a .env that is not UTF-8, naming it, and still loads the config", async () => {
    const root = await writeTree({ "config/users/ok.json": { user_id: "ok", brokers: [] } });
    await writeFile(join(root, ".env"), Buffer.from([0x41, 0x3d, 0xff, 0x0a]));
    const config = await load(root);
    expect(config.problems.map((p) => [p.code, p.file])).toEqual([
      ["unsafe_file", join(root, ".env")],
    ]);
    expect(config.users.map((u) => u.id)).toEqual(["ok"]);
  });
});
