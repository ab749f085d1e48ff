import { request } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { buildReport } from "../../src/report/model.js";
import { BROKER_STATES, DashboardMetrics } from "../../src/serve/metrics.js";
import { row, user } from "../report/fixtures.js";
import { guideSetup, serve, stopAll } from "./setup.js";

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a HELP, a TYPE, another
 * comment, a blank line or a sample; metric and label names and values must follow the grammar;
 * a family's TYPE comes before its samples, which are contiguous; a series appears once.
 */
interface Family {
  help: string | null;
  type: string | null;
  samples: { labels: Record<string, string>; value: number }[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`label without '=': ${text}`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`bad label name ${JSON.stringify(name)}`);
    if (text[eq + 1] !== '"') throw new Error(`label value not quoted: ${text}`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\n") throw new Error("raw newline in a label value");
      if (text[j] === "\\") {
        const next = text[++j];
        if (next === "\\") value += "\\";
        else if (next === '"') value += '"';
        else if (next === "n") value += "\n";
        else throw new Error(`bad escape \\${next} in a label value`);
      } else {
        value += text[j];
      }
    }
    if (j >= text.length) throw new Error(`unterminated label value: ${text}`);
    if (Object.hasOwn(labels, name)) throw new Error(`label ${name} twice`);
    labels[name] = value;
    i = j + 1;
    if (i < text.length) {
      if (text[i] !== ",") throw new Error(`expected ',' after a label: ${text}`);
      i++;
    }
  }
  return labels;
}

/** Splits `name{labels} value` with quoted values that may hold '}' or spaces. */
function splitSample(line: string): { name: string; labels: string; value: string } {
  const brace = line.indexOf("{");
  const space = line.indexOf(" ");
  if (brace < 0 || (space >= 0 && space < brace)) {
    const [name = "", value = "", ...rest] = line.split(" ");
    if (rest.length > 1) throw new Error(`bad sample line: ${line}`);
    return { name, labels: "", value };
  }
  let j = brace + 1;
  let quoted = false;
  for (; j < line.length; j++) {
    if (line[j] === "\\" && quoted) j++;
    else if (line[j] === '"') quoted = !quoted;
    else if (line[j] === "}" && !quoted) break;
  }
  const after = line.slice(j + 1);
  if (!after.startsWith(" ")) throw new Error(`bad sample line: ${line}`);
  const [value = "", ...rest] = after.slice(1).split(" ");
  if (rest.length > 1) throw new Error(`bad sample line: ${line}`);
  return { name: line.slice(0, brace), labels: line.slice(brace + 1, j), value };
}

function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: string | null = null;
  const family = (name: string) => {
    if (!NAME.test(name)) throw new Error(`bad metric name ${JSON.stringify(name)}`);
    if (current !== name) {
      if (closed.has(name)) throw new Error(`${name} is not contiguous`);
      if (current !== null) closed.add(current);
      current = name;
    }
    let f = families.get(name);
    if (!f) {
      f = { help: null, type: null, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name = "", rest = ""] = meta;
      const f = family(name);
      if (kind === "HELP") {
        if (f.help !== null) throw new Error(`HELP twice for ${name}`);
        f.help = rest;
      } else {
        if (f.type !== null || f.samples.length) throw new Error(`TYPE late or twice for ${name}`);
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(rest)) {
          throw new Error(`bad type ${rest}`);
        }
        f.type = rest;
      }
      continue;
    }
    if (line.startsWith("#")) continue;
    const { name, labels, value } = splitSample(line);
    const f = family(name);
    if (f.type === null) throw new Error(`sample of ${name} before its TYPE`);
    if (!VALUE.test(value)) throw new Error(`bad value ${JSON.stringify(value)} in ${line}`);
    const parsed = parseLabels(labels);
    const key = JSON.stringify(Object.entries(parsed).sort());
    if (f.samples.some((s) => JSON.stringify(Object.entries(s.labels).sort()) === key)) {
      throw new Error(`series twice: ${line}`);
    }
    f.samples.push({ labels: parsed, value: Number(value) });
  }
  return families;
}

/** The samples of one family whose labels include `where`. */
function samples(
  families: Map<string, Family>,
  name: string,
  where: Record<string, string> = {},
): { labels: Record<string, string>; value: number }[] {
  return (families.get(name)?.samples ?? []).filter((s) =>
    Object.entries(where).every(([k, v]) => s.labels[k] === v),
  );
}

const value = (families: Map<string, Family>, name: string, where: Record<string, string> = {}) => {
  const found = samples(families, name, where);
  if (found.length > 1)
    throw new Error(`${name} ${JSON.stringify(where)}: ${found.length} samples`);
  return found[0]?.value;
};

describe("the Prometheus text reader used here", () => {
  it("reads escapes and refuses what the format does not allow", () => {
    const ok = parsePrometheus(
      '# HELP a_b x\n# TYPE a_b gauge\na_b{l="q\\"}\\\\ \\n",m="2"} -1.5e3\n\n# TYPE c counter\nc 3\n',
    );
    expect(ok.get("a_b")?.samples).toEqual([{ labels: { l: 'q"}\\ \n', m: "2" }, value: -1500 }]);
    for (const bad of [
      "a 1", // no final newline
      "a 1\n", // no TYPE
      "# TYPE a gauge\na 0x1\n",
      "# TYPE a gauge\na{l=1} 1\n",
      '# TYPE a gauge\na{l="\\t"} 1\n',
      '# TYPE a gauge\na{l="1"} 1\na{l="1"} 2\n',
      "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n",
      "# TYPE 1a gauge\n",
    ]) {
      expect(() => parsePrometheus(bad), bad).toThrow();
    }
  });
});

describe("DashboardMetrics", () => {
  it("shows nothing but empty families before the first refresh: no 0 stands in", async () => {
    const families = parsePrometheus((await new DashboardMetrics().render()).body);
    for (const [name, family] of families) expect(family.samples, name).toEqual([]);
    expect(families.has("platform_total_usd")).toBe(false);
    expect(families.has("last_refresh_timestamp_seconds")).toBe(false);
  });

  it("leaves unknown figures and partial totals out, and keeps exact cents until the sample", async () => {
    const huge = 9_007_199_254_740_993n; // $90,071,992,547,409.93: past 2^53 cents
    const report = buildReport({
      platform: {
        kind: "platform",
        id: "platform",
        name: null,
        enabled: true,
        rows: [row("kraken", huge)],
      },
      users: [
        user("alice", [
          row("coinbase", 25_000n),
          row("kraken", null, { status: "timeout", message: "no answer", source: "live" }),
        ]),
        user("bob", [row("kraken", 250_000n), row("alpaca", 0n, { status: "no_credentials" })]),
        user("carol", [row("kraken", 0n, { enabled: false, source: "none" })], { enabled: false }),
      ],
      generatedAt: new Date("2026-01-21T16:00:00.000Z"),
    });
    const metrics = new DashboardMetrics();
    metrics.observe(report, Date.parse("2026-01-21T16:00:01.500Z"));
    const text = (await metrics.render(Date.parse("2026-01-21T16:00:30.000Z"))).body;
    const m = parsePrometheus(text);
    expect(value(m, "balance_usd", { account: "platform", broker: "kraken" })).toBe(
      Number("90071992547409.93"),
    );
    expect(value(m, "platform_total_usd")).toBe(Number("90071992547409.93"));
    expect(value(m, "balance_usd", { account: "alice", broker: "coinbase" })).toBe(250);
    // alice's kraken failed with no older figure: no balance, no alice total, no user capital.
    expect(samples(m, "balance_usd", { account: "alice", broker: "kraken" })).toEqual([]);
    expect(samples(m, "account_total_usd", { account: "alice" })).toEqual([]);
    expect(m.has("user_capital_usd")).toBe(false);
    expect(text).not.toMatch(/^user_capital_usd /m);
    // No credentials is the report's $0.00 (nothing owed), not an unknown figure.
    expect(value(m, "balance_usd", { account: "bob", broker: "alpaca" })).toBe(0);
    expect(value(m, "account_total_usd", { account: "bob", kind: "user" })).toBe(2500);
    // A disabled user: its state, no figure.
    expect(samples(m, "balance_usd", { account: "carol" })).toEqual([]);
    expect(
      value(m, "broker_state", { account: "carol", broker: "kraken", state: "disabled" }),
    ).toBe(1);
    // One state per broker account is 1, the others 0, every state listed.
    for (const who of ["platform", "alice", "bob", "carol"]) {
      const states = samples(m, "broker_state", { account: who });
      expect(states.filter((s) => s.value === 1).length * BROKER_STATES.length).toBe(states.length);
      expect(states.length % BROKER_STATES.length).toBe(0);
    }
    expect(value(m, "broker_state", { account: "alice", broker: "kraken", state: "timeout" })).toBe(
      1,
    );
    expect(value(m, "broker_state", { account: "alice", broker: "kraken", state: "ok" })).toBe(0);
    expect(value(m, "balance_age_seconds", { account: "alice", broker: "coinbase" })).toBe(30);
    expect(samples(m, "balance_age_seconds", { account: "alice", broker: "kraken" })).toEqual([]);
    expect(value(m, "last_refresh_timestamp_seconds")).toBe(1769011201.5);
  });

  it("counts requests of this refresh's fetches only, and failed rows by state", async () => {
    const report = () =>
      buildReport({
        platform: null,
        users: [
          user("alice", [
            row("kraken", 100n, { requests: 2 }),
            // Served from the cache: its count is the run that stored it.
            row("coinbase", 100n, { source: "cached", requests: 5, ageSeconds: 10 }),
          ]),
          user("bob", [
            // Failed, an older figure stands in: the failed fetch's requests count.
            row("kraken", 900n, { status: "rate_limited", source: "stale", requests: 3 }),
            row("alpaca", null, { status: "auth_failed", requests: 1 }),
          ]),
          // Same credential as alice's kraken: shown, fetched once.
          user("carol", [row("kraken", 100n, { requests: 2, duplicateOf: "user alice" })]),
        ],
        generatedAt: new Date("2026-01-21T16:00:00.000Z"),
      });
    const metrics = new DashboardMetrics();
    metrics.observe(report());
    metrics.observe(report());
    const m = parsePrometheus((await metrics.render()).body);
    expect(m.get("fetch_requests_total")?.type).toBe("counter");
    expect(value(m, "fetch_requests_total", { broker: "kraken" })).toBe(10);
    expect(value(m, "fetch_requests_total", { broker: "coinbase" })).toBe(0);
    expect(value(m, "fetch_requests_total", { broker: "alpaca" })).toBe(2);
    expect(samples(m, "fetch_errors_total")).toEqual([
      { labels: { broker: "kraken", state: "rate_limited" }, value: 2 },
      { labels: { broker: "alpaca", state: "auth_failed" }, value: 2 },
    ]);
  });

  it("writes label values from the config through safeText, escaped by the format", async () => {
    const report = buildReport({
      platform: null,
      users: [user('ev"il\\id', [row("kr\u202eaken\u001b[31m", 100n)])],
      generatedAt: new Date(),
    });
    const metrics = new DashboardMetrics();
    metrics.observe(report);
    const text = (await metrics.render()).body;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may get through
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
    const m = parsePrometheus(text);
    expect(samples(m, "balance_usd")).toEqual([
      { labels: { account: 'ev"il\\id', kind: "user", broker: "kraken" }, value: 1 },
    ]);
  });
});

const TOKEN = "metrics-token-0123456789abcdef0123";

function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

interface BalancesDoc {
  timestamp: string;
  balances: {
    platform: Record<string, number | null>;
    users: Record<string, Record<string, number | null>>;
  };
  summary: { user_totals: Record<string, number>; total_user_capital: number };
  status: {
    platform: Record<string, { state: string }>;
    users: Record<string, Record<string, { state: string }>>;
  };
}

describe("serve: GET /metrics", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.clearRequests());
  afterEach(stopAll);

  it("equals /api/balances, counts the refresh's requests, and a scrape makes no exchange request", async () => {
    const s = await guideSetup(emulator, { failing: true });
    const served = await serve(s);
    const first = await get(`${served.url}metrics`);
    expect(first.status).toBe(200);
    expect(first.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(samples(parsePrometheus(first.body), "balance_usd")).toEqual([]);
    expect(emulator.requests).toHaveLength(0); // a scrape before any refresh starts none

    const doc = (await (await fetch(`${served.url}api/balances`)).json()) as BalancesDoc;
    const made = emulator.requests.filter((r) => r.apiKey !== null);
    emulator.clearRequests();
    const [a, b] = [await get(`${served.url}metrics`), await get(`${served.url}metrics`)];
    expect(emulator.requests).toEqual([]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const m = parsePrometheus(b.body);

    const accounts: [string, "platform" | "user", Record<string, number | null>][] = [
      ["platform", "platform", doc.balances.platform],
      ...Object.entries(doc.balances.users).map(
        ([id, rows]) => [id, "user", rows] as [string, "user", Record<string, number | null>],
      ),
    ];
    let figures = 0;
    for (const [account, kind, rows] of accounts) {
      for (const [broker, usd] of Object.entries(rows)) {
        const shown = samples(m, "balance_usd", { account, kind, broker });
        // An unknown figure (null in the JSON) has no sample at all.
        expect(shown, `${account}/${broker}`).toEqual(usd === null ? [] : [expect.anything()]);
        if (usd !== null) {
          figures++;
          expect(shown[0]?.value).toBe(usd);
        }
        const state =
          account === "platform"
            ? doc.status.platform[broker]?.state
            : doc.status.users[account]?.[broker]?.state;
        const current = samples(m, "broker_state", { account, broker }).filter((x) => x.value);
        expect(current.map((x) => x.labels.state)).toEqual([state]);
      }
    }
    expect(figures).toBe(5);
    expect(samples(m, "balance_usd")).toHaveLength(5);
    expect(
      value(m, "broker_state", { account: "platform", broker: "alpaca", state: "auth_failed" }),
    ).toBe(1);
    for (const [id, total] of Object.entries(doc.summary.user_totals)) {
      expect(value(m, "account_total_usd", { account: id, kind: "user" })).toBe(total);
    }
    expect(value(m, "user_capital_usd")).toBe(doc.summary.total_user_capital);
    expect(value(m, "user_capital_usd")).toBe(3500);
    // The platform's Alpaca key is revoked: its total is partial, so it is absent, not $6,913.46.
    expect(samples(m, "account_total_usd", { account: "platform" })).toEqual([]);
    expect(m.has("platform_total_usd")).toBe(false);

    // Counters: the requests the refresh made, per broker, and the failed row.
    for (const broker of ["kraken", "coinbase", "alpaca"]) {
      expect(value(m, "fetch_requests_total", { broker }), broker).toBe(
        made.filter((r) => r.exchange === broker).length,
      );
    }
    expect(samples(m, "fetch_errors_total")).toEqual([
      { labels: { broker: "alpaca", state: "auth_failed" }, value: 1 },
    ]);
    const refreshed = value(m, "last_refresh_timestamp_seconds") ?? 0;
    expect(Math.abs(refreshed - Date.parse(doc.timestamp) / 1000)).toBeLessThan(5);
    for (const x of samples(m, "balance_age_seconds")) {
      expect(x.value).toBeGreaterThanOrEqual(0);
      expect(x.value).toBeLessThan(60);
    }

    // A second refresh inside the cache TTL: figures from the cache, no request counted; the
    // revoked key is asked again and fails again.
    await fetch(`${served.url}api/balances`);
    const again = parsePrometheus((await get(`${served.url}metrics`)).body);
    expect(value(again, "fetch_requests_total", { broker: "kraken" })).toBe(
      value(m, "fetch_requests_total", { broker: "kraken" }),
    );
    expect(value(again, "fetch_errors_total", { broker: "alpaca", state: "auth_failed" })).toBe(2);
  });

  it("takes the dashboard's token rule: 401 off loopback without it, 200 with Bearer", async () => {
    const s = await guideSetup(emulator);
    const served = await serve(s, ["--host", "0.0.0.0"], { SHOW_USER_BALANCES_TOKEN: TOKEN });
    const url = `http://127.0.0.1:${new URL(served.url).port}/metrics`;
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: "Bearer wrong" },
      { Cookie: "sub_token=no" },
    ];
    for (const headers of attempts) {
      const denied = await get(url, headers);
      expect(denied.status).toBe(401);
      expect(denied.body).not.toMatch(/balance_usd|alice/);
    }
    const allowed = await get(url, { Authorization: `Bearer ${TOKEN}` });
    expect(allowed.status).toBe(200);
    expect(allowed.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parsePrometheus(allowed.body).has("balance_usd")).toBe(true);
  });

  it("without a token, answers only loopback Host names", async () => {
    const s = await guideSetup(emulator);
    const served = await serve(s);
    expect((await get(`${served.url}metrics`, { Host: "evil.example" })).status).toBe(403);
    expect((await get(`${served.url}metrics`)).status).toBe(200);
  });
});
