import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastPlatformFile, fastUserFile } from "../../src/config/fast-parse.js";
import { PlatformFileSchema, UserFileSchema } from "../../src/config/schemas.js";

// Mostly valid values, sometimes a near miss of the right type, rarely a wrong type.
const wrong = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constant(JSON.parse("1e400") as number), // JSON's Infinity
  fc.string({ maxLength: 3 }),
  fc.constant([]),
  fc.constant({}),
);
const pick = <T>(valid: T[], nearMiss: T[]) =>
  fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...valid) },
    ...(nearMiss.length ? [{ weight: 1, arbitrary: fc.constantFrom(...nearMiss) }] : []),
    { weight: 1, arbitrary: wrong },
  );
const ENV_REF = (name: string) => `\${${name}}`;

const credentials = fc.record(
  {
    apiKey: pick(["key", ENV_REF("KRAKEN_KEY")], [""]),
    secret: pick(["c2VjcmV0"], [""]),
    password: pick(["pass"], [""]),
    uid: pick(["1"], [""]),
    extra: pick(["dropped"], []),
  },
  { requiredKeys: ["apiKey", "secret"] },
);
const options = fc.record(
  {
    valuation: pick(["cash", "total"], ["equity"]),
    stablecoins: pick([["USD", "USDC"], []], [[1], ["USD", null]]),
    accountsApi: pick(["v3", "v2"], ["v1"]),
    wallets: pick([["spot"], ["trading", "funding"]], [[], ["margin"]]),
    maxPages: pick([1, 40, 1000], [0, 1001, 2.5]),
    ccxt: pick<unknown>([{ options: { x: 1 } }, {}], [[], null]),
    somethingElse: pick(["kept"], []),
  },
  { requiredKeys: [] },
);
const alerts = fc.record(
  {
    lowUsd: pick([0, 100.5], [-1]),
    dropPct: pick([0.5, 100], [0, 101]),
    typo: pick([1], []),
  },
  { requiredKeys: [] },
);
const entry = fc.record(
  {
    broker: pick(["kraken", " Coinbase ", "interactive_brokers"], ["kra ken", "", "okx!"]),
    enabled: pick([true, false], []),
    paper: pick([true, false], []),
    testnet: pick([true], []),
    credentials: fc.oneof({ weight: 8, arbitrary: credentials }, { weight: 1, arbitrary: wrong }),
    apiUrl: pick(
      ["https://api.kraken.com", "http://127.0.0.1:1", ENV_REF("URL")],
      ["ftp://x", "x"],
    ),
    options: fc.oneof({ weight: 8, arbitrary: options }, { weight: 1, arbitrary: wrong }),
    alerts: fc.oneof({ weight: 8, arbitrary: alerts }, { weight: 1, arbitrary: wrong }),
    note: pick(["dropped"], []),
  },
  { requiredKeys: ["broker"] },
);
const brokers = fc.oneof(
  { weight: 20, arbitrary: fc.array(entry, { maxLength: 3 }) },
  { weight: 1, arbitrary: wrong },
);
const userFile = fc.record(
  {
    user_id: pick(["alice", "bob.smith@x", "a_1-2"], ["-x", "", "a b"]),
    name: pick(["Alice", null], []),
    enabled: pick([true, false], []),
    brokers,
    alerts: fc.oneof({ weight: 8, arbitrary: alerts }, { weight: 1, arbitrary: wrong }),
    copy_from_master: pick([true], []),
  },
  { requiredKeys: ["user_id", "brokers"] },
);
const platformFile = fc.record(
  { name: pick(["Nija", null], []), brokers, extra: pick([1], []) },
  { requiredKeys: ["brokers"] },
);

/** Runs both readers on generated files; they must agree on every one. */
function agree<T>(
  arb: fc.Arbitrary<unknown>,
  fast: (v: unknown) => T | undefined,
  schema: { safeParse(v: unknown): { success: boolean; data?: unknown } },
) {
  let accepted = 0;
  fc.assert(
    fc.property(fc.oneof({ weight: 30, arbitrary: arb }, { weight: 1, arbitrary: wrong }), (v) => {
      const zod = schema.safeParse(v);
      if (zod.success) accepted += 1;
      expect(fast(v)).toEqual(zod.success ? zod.data : undefined);
    }),
    { numRuns: 4000 },
  );
  // Both answers are reached, so this is not a comparison of rejections only.
  expect(accepted).toBeGreaterThan(200);
}

describe("the zod-free reading of config files", () => {
  it("answers as UserFileSchema does", () => agree(userFile, fastUserFile, UserFileSchema));
  it("answers as PlatformFileSchema does", () =>
    agree(platformFile, fastPlatformFile, PlatformFileSchema));
});
