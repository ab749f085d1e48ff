// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is the config syntax under test
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatProblem, loadConfig } from "../../src/config/index.js";
import { parseYaml } from "../../src/config/yaml.js";
import { writeTree } from "./helpers.js";

type Env = Record<string, string | undefined>;

function load(root: string, env: Env = {}) {
  return loadConfig({ configDir: join(root, "config"), cwd: root, env });
}

const userFile = (root: string, name: string) => join(root, "config", "users", name);
const K1 = Buffer.from("kraken secret one").toString("base64");

/** The original's config/users/user.yaml.example, verbatim (dantelrharrell-debug/Nija). */
const ORIGINAL_EXAMPLE =
  "broker: KRAKEN\napi_key: YOUR_API_KEY_HERE\napi_secret: YOUR_API_SECRET_HERE\nenabled: true\ncopy_from_master: true\n";

async function failure(text: string) {
  const result = await parseYaml(text);
  if (result.ok) throw new Error("expected a parse failure");
  return result;
}

describe("parseYaml", () => {
  it("reads the original's example as YAML 1.1, as PyYAML does", async () => {
    expect(await parseYaml(ORIGINAL_EXAMPLE)).toEqual({
      ok: true,
      value: {
        broker: "KRAKEN",
        api_key: "YOUR_API_KEY_HERE",
        api_secret: "YOUR_API_SECRET_HERE",
        enabled: true,
        copy_from_master: true,
      },
    });
    expect(await parseYaml("enabled: yes\npaper: off\n")).toEqual({
      ok: true,
      value: { enabled: true, paper: false },
    });
  });

  it.each([
    ["broker: kraken\n\tapi_key: x\n", 2, 1, "tab"],
    ["broker: kraken\nbroker: okx\n", 2, 1, "twice"],
    ["broker: kraken\napi_key: x: y\n", 2, 10, "needs quotes"],
    ["---\nbroker: kraken\n---\nbroker: okx\n", 3, 1, "several YAML documents"],
    ['broker: kraken\napi_key: "unclosed\n', 3, 1, "closing quote"],
  ])("locates the error in %j at %i:%i", async (text, line, column, reason) => {
    const result = await failure(text);
    expect([result.line, result.column, result.tooDeep]).toEqual([line, column, false]);
    expect(result.reason).toContain(reason);
  });

  it("never quotes the source in its reason", async () => {
    const result = await failure('api_secret: "S3CRET-YAML-7c1e\n  next: [\n');
    expect(JSON.stringify(result)).not.toContain("S3CRET");
  });

  it("refuses flow and compact nesting past 64 levels before parsing", async () => {
    const flow = await failure(`a: ${"[".repeat(65)}${"]".repeat(65)}\n`);
    expect([flow.tooDeep, flow.line, flow.column]).toEqual([true, 1, 68]);
    expect(flow.reason).toBe("nested more than 64 levels deep");
    const compact = await failure(`a:\n  ${"- ".repeat(65)}x\n`);
    expect([compact.tooDeep, compact.line]).toEqual([true, 2]);
    expect(await parseYaml(`a: ${"[".repeat(60)}${"]".repeat(60)}\n`)).toMatchObject({ ok: true });
  });

  it("reports block nesting too deep for the parser as too deep, not as a crash", async () => {
    const text = `a:\n${Array.from({ length: 1200 }, (_, i) => `${" ".repeat(i + 1)}- `).join("\n")}x\n`;
    expect(await failure(text)).toMatchObject({ tooDeep: true });
  });

  it("refuses alias expansion bombs", async () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 200; i++) lines.push(`b${i}: [${"*a, ".repeat(50)}]`);
    const result = await failure(lines.join("\n"));
    expect(result.reason).toContain("aliases");
  });
});

describe("YAML user files", () => {
  it("reads the original's form: id from the file name, broker in any case, literal keys", async () => {
    const root = await writeTree({
      // user_id is ignored, as the original's loader does: the file name is the id.
      "config/users/daivon_frazier.yaml": `broker: KRAKEN\napi_key: yaml-key\napi_secret: ${K1}\nenabled: true\ncopy_from_master: true\nrisk_multiplier: 1.5\nuser_id: someone_else\n`,
    });
    const config = await load(root);
    expect(config.problems).toEqual([]);
    const file = userFile(root, "daivon_frazier.yaml");
    expect(config.users).toMatchObject([
      { id: "daivon_frazier", name: null, enabled: true, sources: [file] },
    ]);
    const broker = config.users[0]?.brokers[0];
    expect(broker).toMatchObject({
      broker: "kraken",
      credentials: { apiKey: "yaml-key", secret: K1 },
      credentialProblem: null,
      source: file,
    });
    expect(broker?.credentialsExplain).toEqual({
      source: "config",
      tried: [`config:${file}#api_key`],
      used: `config:${file}#api_key`,
    });
  });

  it("takes the passphrase, ${VAR} references, .yml files and paper/testnet", async () => {
    const root = await writeTree({
      "config/users/olga.yml":
        "broker: okx\napi_key: ${OLGA_KEY}\napi_secret: ${OLGA_SECRET}\npassphrase: ${OLGA_PASS}\ntestnet: true\n",
    });
    const config = await load(root, { OLGA_KEY: "k", OLGA_SECRET: "s", OLGA_PASS: "p" });
    expect(config.problems).toEqual([]);
    expect(config.warnings).toEqual([]);
    expect(config.users[0]?.brokers[0]).toMatchObject({
      broker: "okx",
      credentials: { apiKey: "k", secret: "s", password: "p" },
      sandbox: true,
      sandboxSource: `config:${userFile(root, "olga.yml")}#testnet`,
    });
  });

  it("reads credentials from the environment when the file has none", async () => {
    const root = await writeTree({ "config/users/tania_gilbert.yaml": "broker: alpaca\n" });
    const config = await load(root, {
      ALPACA_USER_TANIA_API_KEY: "PKTEST",
      ALPACA_USER_TANIA_API_SECRET: "s",
    });
    expect(config.users[0]?.brokers[0]).toMatchObject({
      credentials: { apiKey: "PKTEST", secret: "s" },
      credentialsExplain: { source: "env", used: "ALPACA_USER_TANIA_API_KEY" },
    });
  });

  it("leaves a disabled YAML user out, and merges YAML and JSON files of one user", async () => {
    const root = await writeTree({
      "config/users/off.yaml": "broker: kraken\nenabled: false\n",
      "config/users/tania.yaml": "broker: alpaca\n",
      "config/users/retail_kraken.json": [{ user_id: "tania", broker_type: "kraken" }],
    });
    const config = await load(root);
    expect(config.problems).toEqual([]);
    expect(config.users.map((u) => [u.id, u.brokers.map((b) => b.broker), u.sources])).toEqual([
      [
        "tania",
        ["kraken", "alpaca"],
        [userFile(root, "retail_kraken.json"), userFile(root, "tania.yaml")],
      ],
    ]);
  });

  it("reports a YAML syntax error with file, line and column, and loads the other files", async () => {
    const root = await writeTree({
      "config/users/bad.yaml": "broker: kraken\n\tapi_key: x\n",
      "config/users/good.yaml": "broker: kraken\n",
    });
    const config = await load(root);
    expect(config.users.map((u) => u.id)).toEqual(["good"]);
    expect(config.problems).toEqual([
      expect.objectContaining({
        code: "invalid_yaml",
        file: userFile(root, "bad.yaml"),
        field: null,
        line: 2,
        column: 1,
      }),
    ]);
    expect(formatProblem(config.problems[0] as never)).toMatch(
      /bad\.yaml: invalid YAML at line 2, column 1: a tab used for indentation.*\n {2}fix: fix the syntax at line 2, column 1/,
    );
  });

  it("reports each invalid field by name with a fix", async () => {
    const root = await writeTree({
      "config/users/a.yaml": "broker: kraken\napi_key: only-a-key\n",
      "config/users/b.yaml": "broker: kraken\napi_key: 123456\napi_secret: x\n",
      "config/users/c.yaml": "api_key: k\napi_secret: s\n",
      "config/users/d.yaml": "broker: kraken\nenabled: maybe\n",
      "config/users/e.yaml": "",
      "config/users/f.yaml": "- broker: kraken\n",
      "config/users/my user.yaml": "broker: kraken\n",
    });
    const config = await load(root);
    expect(config.users).toEqual([]);
    expect(
      config.problems.map((p) => [p.file.slice(p.file.lastIndexOf("/") + 1), p.field, p.message]),
    ).toEqual([
      ["a.yaml", "api_secret", "is required with api_key"],
      ["b.yaml", "api_key", "must be a string, not a number"],
      ["c.yaml", "broker", "is required"],
      ["d.yaml", "enabled", "must be true or false, not a string"],
      ["e.yaml", null, "is empty"],
      ["f.yaml", "[0].user_id", "is required"],
      ["my user.yaml", null, expect.stringContaining('"my user" is not a valid user id')],
    ]);
    const b = config.problems.find((p) => p.field === "api_key");
    expect(b?.hint).toContain("quote");
  });

  it("flags the original example's placeholders as unusable credentials", async () => {
    const root = await writeTree({ "config/users/alice.yaml": ORIGINAL_EXAMPLE });
    const config = await load(root);
    const file = userFile(root, "alice.yaml");
    expect(config.users[0]?.brokers[0]?.credentialProblem).toBe(
      `the API key in ${file} (api_key) is still the example file's placeholder`,
    );
    expect(config.problems).toEqual([
      expect.objectContaining({ code: "unusable_credentials", file, field: "api_key" }),
    ]);
  });
});

describe.skipIf(process.platform === "win32")("YAML file permissions", () => {
  it("warns about literal keys readable by others, as for JSON, but not about ${VAR}s", async () => {
    const root = await writeTree(
      {
        "config/users/alice.yaml": `broker: kraken\napi_key: literal\napi_secret: ${K1}\n`,
        "config/users/bob.yaml": "broker: kraken\napi_key: ${K}\napi_secret: ${S}\n",
        "config/users/carol.yaml":
          "broker: okx\napi_key: ${K}\napi_secret: ${S}\npassphrase: lit\n",
      },
      {
        "config/users/alice.yaml": 0o640,
        "config/users/bob.yaml": 0o644,
        "config/users/carol.yaml": 0o604,
      },
    );
    const config = await load(root, { K: "k", S: K1 });
    expect(config.warnings.map((w) => [w.code, w.file])).toEqual([
      ["insecure_permissions", userFile(root, "alice.yaml")],
      ["insecure_permissions", userFile(root, "carol.yaml")],
    ]);
    expect(config.warnings[0]?.message).toContain(`chmod 600 ${userFile(root, "alice.yaml")}`);
  });
});
