import {
  chmodSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type LoadConfigOptions, type LoadedConfig, loadConfig } from "../../src/config/index.js";
import { newCoinbaseCdpKey } from "../../src/emulator/index.js";
import { writeTree } from "./helpers.js";

type Env = Record<string, string | undefined>;

const ANN_KEY = "AKSNAPSHOTANNKEY00001";
const ANN_SECRET = "snapshot-ann-secret-value-0001";
const BOB_KEY = "AKSNAPSHOTBOBKEY00002";
const BOB_SECRET = "snapshot-bob-secret-value-0002";
const ENV: Env = { ALPACA_USER_BOB_API_KEY: BOB_KEY, ALPACA_USER_BOB_API_SECRET: BOB_SECRET };

/** Ann's credentials in her file, Bob's in the environment; loads keep a snapshot. */
async function fixture() {
  const root = await writeTree({
    "config/users/ann.json": {
      user_id: "ann",
      brokers: [{ broker: "alpaca", credentials: { apiKey: ANN_KEY, secret: ANN_SECRET } }],
    },
    "config/users/bob.json": { user_id: "bob", brokers: [{ broker: "alpaca" }] },
  });
  const snapshotDir = join(root, "cache", "config");
  const load = (env: Env = ENV, extra: Partial<LoadConfigOptions> = {}) =>
    loadConfig({
      configDir: join(root, "config"),
      cwd: root,
      env: { ...env },
      snapshot: { dir: snapshotDir, settleMs: 0 },
      ...extra,
    });
  const user = (root: string, name: string) => join(root, "config", "users", name);
  return { root, snapshotDir, load, file: (name: string) => user(root, name) };
}

/** What a report needs of a config, credentials aside. */
function shape(config: LoadedConfig) {
  return {
    users: config.users.map((u) => ({
      id: u.id,
      enabled: u.enabled,
      brokers: u.brokers.map((b) => ({
        broker: b.broker,
        fingerprint: b.apiKeyFingerprint,
        apiUrl: b.apiUrl,
        sandbox: b.sandbox,
        explain: b.credentialsExplain,
      })),
    })),
    problems: config.problems,
    warnings: config.warnings,
    settings: config.settings,
    dotenvPath: config.dotenvPath,
  };
}

describe("the config snapshot", () => {
  it("serves the next load without credentials; readSecrets reads them from their source", async () => {
    const f = await fixture();
    // Values the file leaves out when they are the default, here set otherwise: all restored.
    writeJson(f.file("dee.json"), {
      user_id: "dee",
      name: "Dee",
      brokers: [
        { broker: "alpaca", paper: true, options: { valuation: "cash" } },
        { broker: "kraken", enabled: false },
        { broker: "okx", credentials: { apiKey: "okx-key-0001", secret: "okx-secret-0001" } },
      ],
    });
    const first = await f.load(ENV, { includeDisabled: true });
    const dee = first.users.find((u) => u.id === "dee");
    expect(dee?.name).toBe("Dee");
    expect(dee?.brokers.map((b) => [b.sandbox, b.enabled, b.credentialProblem !== null])).toEqual([
      [true, true, false],
      [false, false, false],
      [false, true, true],
    ]);
    expect(first.fromSnapshot).toBeUndefined();
    const second = await f.load(ENV, { includeDisabled: true });
    expect(second.fromSnapshot).toBe(true);
    expect(shape(second)).toEqual(shape(first));
    // The whole config, as read, but for the credentials and the key parse left to a fetch.
    const { fromSnapshot: _from, readSecrets: _read, ...kept } = second;
    expect(kept).toEqual({
      ...first,
      users: first.users.map((u) => ({
        ...u,
        brokers: u.brokers.map(({ keyCheck: _check, ...b }) => ({ ...b, credentials: null })),
      })),
    });
    for (const user of second.users) expect(user.brokers[0]?.credentials).toBeNull();
    expect(second.users.map((u) => u.brokers[0]?.apiKeyFingerprint)).toEqual(
      first.users.map((u) => u.brokers[0]?.apiKeyFingerprint),
    );
    const read = await second.readSecrets?.();
    expect(read?.fromSnapshot).toBeUndefined();
    expect(read?.users.map((u) => u.brokers[0]?.credentials)).toEqual([
      { apiKey: ANN_KEY, secret: ANN_SECRET },
      { apiKey: BOB_KEY, secret: BOB_SECRET },
      null,
    ]);
    // Read once, however many accounts ask.
    expect(await second.readSecrets?.()).toBe(read);
  });

  it("puts a problem the secrets' key parse finds on the config from the snapshot", async () => {
    const ed = newCoinbaseCdpKey("ed25519");
    // Right length and base64, but the public half no longer matches the seed: only a parse says.
    const flipped = `${ed.secret.slice(0, 50)}${ed.secret[50] === "A" ? "B" : "A"}${ed.secret.slice(51)}`;
    const f = await fixture();
    writeJson(f.file("cid.json"), {
      user_id: "cid",
      brokers: [{ broker: "coinbase", credentials: { apiKey: ed.apiKey, secret: flipped } }],
    });
    await f.load();
    const kept = await f.load();
    expect(kept.fromSnapshot).toBe(true);
    expect(kept.problems).toEqual([]);
    const read = await kept.readSecrets?.();
    const cid = read?.users.find((u) => u.id === "cid")?.brokers[0];
    expect(cid?.keyCheck?.()).toContain("is not a base64 Ed25519 key");
    expect(kept.problems).toMatchObject([
      { code: "unusable_credentials", file: f.file("cid.json") },
    ]);
  });

  it("names .env as the source of a late problem with a key that .env set", async () => {
    const ed = newCoinbaseCdpKey("ed25519");
    const flipped = `${ed.secret.slice(0, 50)}${ed.secret[50] === "A" ? "B" : "A"}${ed.secret.slice(51)}`;
    const f = await fixture();
    writeJson(f.file("cid.json"), { user_id: "cid", brokers: [{ broker: "coinbase" }] });
    const dotenv = join(f.root, ".env");
    writeFileSync(
      dotenv,
      `COINBASE_USER_CID_API_KEY=${ed.apiKey}\nCOINBASE_USER_CID_API_SECRET=${flipped}\n`,
      { mode: 0o600 },
    );
    // One environment for the load and its re-read, as process.env is for the CLI: the first
    // load has applied .env to it before the re-read looks.
    const env: Env = { ...ENV };
    const options = { env, snapshot: { dir: f.snapshotDir, settleMs: 0 } };
    const load = () => loadConfig({ configDir: join(f.root, "config"), cwd: f.root, ...options });
    await load();
    for (const name of Object.keys(env)) if (name.startsWith("COINBASE_")) delete env[name];
    const kept = await load();
    expect(kept.fromSnapshot).toBe(true);
    const read = await kept.readSecrets?.();
    const cid = read?.users.find((u) => u.id === "cid")?.brokers[0];
    expect(cid?.credentials?.apiKey).toBe(ed.apiKey);
    expect(cid?.keyCheck?.()).toContain("is not a base64 Ed25519 key");
    expect(kept.problems).toMatchObject([{ code: "unusable_credentials", file: dotenv }]);
  });

  it("holds no credential: neither key nor secret, from a file or the environment; 0600 in 0700", async () => {
    const f = await fixture();
    await f.load();
    const [name] = readdirSync(f.snapshotDir);
    if (!name) throw new Error("no snapshot written");
    const file = join(f.snapshotDir, name);
    const bytes = readFileSync(file);
    for (const secret of [ANN_KEY, ANN_SECRET, BOB_KEY, BOB_SECRET]) {
      expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes(Buffer.from(secret, "utf16le"))).toBe(false);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(f.snapshotDir).mode & 0o777).toBe(0o700);
  });

  it.each([
    [
      "a file edited",
      (f: Fixture) =>
        writeJson(f.file("bob.json"), { user_id: "bob", brokers: [{ broker: "kraken" }] }),
    ],
    ["a file made readable by others", (f: Fixture) => chmodSync(f.file("ann.json"), 0o644)],
    [
      "a file added",
      (f: Fixture) =>
        writeJson(f.file("cat.json"), { user_id: "cat", brokers: [{ broker: "okx" }] }),
    ],
    ["a file removed", (f: Fixture) => rmSync(f.file("bob.json"))],
    [
      "settings.json added",
      (f: Fixture) => writeJson(join(f.root, "config", "settings.json"), { valuation: "cash" }),
    ],
    [
      "a .env appearing",
      (f: Fixture) => writeFileSync(join(f.root, ".env"), "SOMETHING=1\n", { mode: 0o600 }),
    ],
  ])("reads the files again after %s", async (_what, change) => {
    const f = await fixture();
    await f.load();
    expect((await f.load()).fromSnapshot).toBe(true);
    const before = shape(await f.load(ENV, { snapshot: undefined }));
    change(f);
    const after = await f.load();
    expect(after.fromSnapshot).toBeUndefined();
    expect(shape(after)).not.toEqual(before);
    // ...and keeps what it read now.
    expect((await f.load()).fromSnapshot).toBe(true);
  });

  it("reads the files again when a variable it looked up changes, not when another does", async () => {
    const f = await fixture();
    await f.load();
    expect((await f.load({ ...ENV, UNRELATED_VARIABLE: "x" })).fromSnapshot).toBe(true);
    const changed = await f.load({ ...ENV, ALPACA_USER_BOB_API_KEY: "AKSNAPSHOTBOBKEY00003" });
    expect(changed.fromSnapshot).toBeUndefined();
    expect(changed.users[1]?.brokers[0]?.credentials?.apiKey).toBe("AKSNAPSHOTBOBKEY00003");
    const gone = await f.load({});
    expect(gone.fromSnapshot).toBeUndefined();
    expect(gone.users[1]?.brokers[0]?.apiKeyFingerprint).toBeNull();
  });

  it("keeps one snapshot per way of reading and per build: --include-disabled is read apart", async () => {
    const f = await fixture();
    await f.load();
    expect((await f.load(ENV, { includeDisabled: true })).fromSnapshot).toBeUndefined();
    expect((await f.load(ENV, { includeDisabled: true })).fromSnapshot).toBe(true);
    expect((await f.load()).fromSnapshot).toBe(true);
    const otherBuild = { snapshot: { dir: f.snapshotDir, settleMs: 0, build: "0.2.0" } };
    expect((await f.load(ENV, otherBuild)).fromSnapshot).toBeUndefined();
    expect((await f.load(ENV, otherBuild)).fromSnapshot).toBe(true);
  });

  it("removes a snapshot not rewritten for 30 days, and stray temp files, when it writes one", async () => {
    const f = await fixture();
    await f.load();
    const [current] = readdirSync(f.snapshotDir);
    const old = join(f.snapshotDir, "0123456789abcdef0123.json");
    const recent = join(f.snapshotDir, "fedcba9876543210fedc.json");
    const temp = join(f.snapshotDir, "0123456789abcdef0123.json.999.tmp");
    for (const file of [old, recent, temp]) writeFileSync(file, "{}", { mode: 0o600 });
    const longAgo = new Date(Date.now() - 31 * 86_400_000);
    utimesSync(old, longAgo, longAgo);
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(temp, hoursAgo, hoursAgo);
    writeJson(f.file("bob.json"), { user_id: "bob", brokers: [{ broker: "okx" }] });
    await f.load();
    expect(readdirSync(f.snapshotDir).sort()).toEqual(
      [current, "fedcba9876543210fedc.json"].sort(),
    );
  });

  it("keeps none of files changed within the settle time, of a webhook URL, or in a directory others can write", async () => {
    const fresh = await fixture();
    const settle = { snapshot: { dir: fresh.snapshotDir } };
    await fresh.load(ENV, settle);
    expect((await fresh.load(ENV, settle)).fromSnapshot).toBeUndefined();

    const webhook = await fixture();
    writeJson(join(webhook.root, "config", "settings.json"), {
      notify: "https://hooks.example.com/T000/B000/secret-token",
    });
    await webhook.load();
    expect((await webhook.load()).fromSnapshot).toBeUndefined();

    const open = await fixture();
    await open.load();
    chmodSync(open.snapshotDir, 0o777);
    expect((await open.load()).fromSnapshot).toBeUndefined();
  });
});

type Fixture = Awaited<ReturnType<typeof fixture>>;

function writeJson(file: string, value: unknown) {
  writeFileSync(file, JSON.stringify(value), { mode: 0o600 });
}
