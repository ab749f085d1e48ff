// Property-based walk of the config loader: arbitrary JSON and YAML user files (well-formed,
// mangled or random bytes) and credential variables. The loader must never throw, and nothing it
// reports may hold a credential value: every secret carries a marker that must not surface.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { readConfigText } from "../../src/config/files.js";
import { formatProblem, type LoadedConfig, loadConfig } from "../../src/config/index.js";
import { parseJson } from "../../src/config/json.js";
import { parseYaml } from "../../src/config/yaml.js";
import { tempDir } from "./helpers.js";

const MARKER = "ZQXSEC";
const secretArb = fc.stringMatching(/^[A-Za-z0-9+/=_-]{8,24}$/).map((s) => `${MARKER}${s}`);
/** Any JSON value without the marker (it cannot arise by chance, but the property is exact). */
const noise = fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes(MARKER));
/** Mostly a valid value, sometimes anything: enough valid files reach credential resolution. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: noise });
const brokerArb = fc.constantFrom(
  "kraken",
  "KRAKEN",
  "coinbase",
  "alpaca",
  "okx",
  "binance",
  "krakken",
  "tradier",
  "bad id!",
);
const idArb = fc.constantFrom("alice", "bob", "Bob", "bob_smith", "user_bob", "bad id");
const ENV_REFS = ["REF_A", "REF_B", "REF_UNSET"];
/** What goes where a credential goes: a literal secret, a reference, or the wrong type. */
const credValue = fc.oneof(
  { weight: 6, arbitrary: secretArb },
  { weight: 3, arbitrary: fc.constantFrom(...ENV_REFS).map((n) => `\${${n}}`) },
  { weight: 1, arbitrary: secretArb.map((s) => `pre-\${REF_A}-${s}`) },
  { weight: 1, arbitrary: noise },
);
const credentials = mostly(
  fc.record(
    { apiKey: credValue, secret: credValue, password: credValue, uid: credValue },
    { requiredKeys: ["apiKey", "secret"] },
  ),
);
const maybeBool = mostly(fc.boolean());
const entry = fc.record(
  {
    broker: brokerArb,
    enabled: maybeBool,
    paper: maybeBool,
    testnet: maybeBool,
    credentials,
    apiUrl: mostly(fc.constant("http://127.0.0.1:9")),
    options: mostly(fc.constant({ timeout: 1000 })),
    alerts: mostly(fc.constant({ lowUsd: 5 })),
  },
  { requiredKeys: ["broker"] },
);
const extra = fc.dictionary(
  fc.constantFrom("copy_from_master", "risk_multiplier", "notes", "_x"),
  noise,
);

/** The forms a user file takes, as values. */
const userValue = fc.oneof(
  fc.record(
    {
      user_id: idArb,
      name: mostly(fc.string()),
      enabled: maybeBool,
      brokers: fc.array(entry, { maxLength: 3 }),
    },
    { requiredKeys: ["user_id", "brokers"] },
  ),
  fc.tuple(entry, extra).map(([e, x]) => ({ ...x, ...e })),
  fc.array(
    fc.tuple(idArb, entry).map(([user_id, { broker, ...rest }]) => ({
      user_id,
      broker_type: broker,
      ...rest,
    })),
    { maxLength: 3 },
  ),
  fc
    .record(
      {
        broker: brokerArb,
        api_key: credValue,
        api_secret: credValue,
        passphrase: credValue,
        enabled: maybeBool,
        paper: maybeBool,
      },
      { requiredKeys: ["broker"] },
    )
    .chain((v) => extra.map((x) => ({ ...x, ...v }))),
  { weight: 1, arbitrary: noise },
);

/** A file's text: serialized, perhaps mangled; or random characters around a secret. */
function fileText(format: "json" | "yaml") {
  const serialized = userValue.map((v) =>
    format === "json" ? JSON.stringify(v, null, 1) : toYaml(v),
  );
  const mangled = fc
    .tuple(
      serialized,
      fc.nat(),
      fc.constantFrom("cut", "insert", "drop"),
      fc.string({ maxLength: 3 }),
    )
    .map(([text, at, how, chars]) => {
      const i = at % (text.length + 1);
      if (how === "cut") return text.slice(0, i);
      if (how === "insert") return text.slice(0, i) + chars + text.slice(i);
      return text.slice(0, i) + text.slice(i + 1);
    });
  const random = fc
    .tuple(fc.string({ unit: "binary", maxLength: 40 }), secretArb, fc.string({ maxLength: 40 }))
    .map(([a, s, b]) => `${a}${s}${b}`);
  return fc.oneof(
    { weight: 3, arbitrary: serialized },
    { weight: 3, arbitrary: mangled },
    {
      weight: 1,
      arbitrary: random,
    },
  );
}

const file = fc.oneof(
  fc.tuple(fc.constantFrom("a.json", "bob.json", "retail_kraken.json"), fileText("json")),
  fc.tuple(fc.constantFrom("b.yaml", "Bob.yaml", "bob_smith.yml"), fileText("yaml")),
);

const envArb = fc.record(
  {
    REF_A: secretArb,
    REF_B: secretArb,
    KRAKEN_USER_BOB_API_KEY: secretArb,
    KRAKEN_USER_BOB_API_SECRET: secretArb,
    OKX_USER_BOB_API_KEY: secretArb,
    OKX_USER_BOB_API_SECRET: secretArb,
    COINBASE_PEM_CONTENT: secretArb.map((s) => `-----BEGIN EC PRIVATE KEY-----\\n${s}`),
    COINBASE_API_KEY: secretArb,
    ALPACA_API_KEY: secretArb,
    ALPACA_API_SECRET: secretArb,
    ALPACA_PAPER: fc.constantFrom("true", "no", "maybe"),
    OKX_BASE_URL: fc.constantFrom("http://127.0.0.1:1", "nope"),
  },
  { requiredKeys: [] },
);

/** Everything the loader says about the config, as text. */
function reported(config: LoadedConfig): string[] {
  const accounts = [config.platform, ...config.users];
  return [
    ...config.problems.map(formatProblem),
    JSON.stringify(config.problems),
    JSON.stringify(config.warnings),
    JSON.stringify(config.sharedCredentials),
    ...accounts.flatMap((a) =>
      (a?.brokers ?? []).map((b) =>
        JSON.stringify([b.credentialProblem, b.credentialsExplain, b.sandboxSource, b.apiUrl]),
      ),
    ),
  ];
}

describe("the config loader, property-based", () => {
  it("never throws and never reports a secret, whatever the user files and variables", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(file, { minLength: 1, maxLength: 3 }),
        envArb,
        fc.constantFrom(0o600, 0o644),
        async (files, env, mode) => {
          const root = await tempDir();
          await mkdir(join(root, "config", "users"), { recursive: true });
          for (const [name, text] of files) {
            const path = join(root, "config", "users", name);
            await writeFile(path, text);
            await chmod(path, mode);
          }
          const config = await loadConfig({
            configDir: join(root, "config"),
            cwd: root,
            env: { ...env },
          });
          for (const text of reported(config)) expect(text).not.toContain(MARKER);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("parses any text as JSON or YAML without throwing or quoting it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(
          fc.string({ unit: "binary", maxLength: 60 }),
          secretArb,
          fc.string({ maxLength: 60 }),
        ),
        async ([a, secret, b]) => {
          const text = `${a}${secret}${b}`;
          const json = parseJson(text);
          const yaml = await parseYaml(text);
          if (!json.ok) expect(json.reason).not.toContain(MARKER);
          if (!yaml.ok) expect(yaml.reason).not.toContain(MARKER);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reads any bytes without throwing: text or a fault, never an exception", async () => {
    const dir = await tempDir();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
        const path = join(dir, "f.json");
        await writeFile(path, bytes);
        const read = await readConfigText(path);
        expect(read.ok || !read.missing).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
