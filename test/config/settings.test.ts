import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { SETTING_BOUNDS } from "../../src/config/schemas.js";
import { parseSettings, SETTING_KEYS, SETTINGS_EXAMPLE } from "../../src/config/settings.js";
import { ROOT } from "../helpers/cli.js";
import { writeTree } from "./helpers.js";

const FILE = "/etc/sub/settings.json";

async function shippedExample(): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(ROOT, SETTINGS_EXAMPLE), "utf8"));
}

describe("the shipped settings example", () => {
  it("loads through the real schema without a problem", async () => {
    const { problems, settings } = parseSettings(await shippedExample(), FILE);
    expect(problems).toEqual([]);
    expect(Object.keys(settings).sort()).toEqual([...SETTING_KEYS].sort());
  });

  it("shows every setting the schema accepts, and nothing else", async () => {
    expect(Object.keys(await shippedExample()).sort()).toEqual([...SETTING_KEYS].sort());
  });
});

describe("parseSettings", () => {
  it("refuses a value outside the flag's range, naming the field, the range and the fix", () => {
    const { problems, settings } = parseSettings(
      { timeoutSeconds: 1e308, historyRetentionSeconds: 60, concurrency: 8 },
      FILE,
    );
    expect(problems).toEqual([
      {
        code: "invalid_field",
        file: FILE,
        field: "timeoutSeconds",
        message: "must be from 0.1 to 600 (the --timeout flag's range)",
        hint: expect.stringMatching(
          /^correct "timeoutSeconds" in settings\.json, or remove it .*config\/settings\.example\.json/,
        ),
      },
      expect.objectContaining({
        field: "historyRetentionSeconds",
        message: `must be from ${SETTING_BOUNDS.historyRetentionSeconds.min} to ${SETTING_BOUNDS.historyRetentionSeconds.max} (the --history-retention flag's range)`,
      }),
    ]);
    // One bad value costs that setting only.
    expect(settings).toEqual({ concurrency: 8 });
  });

  it("names each unknown key and lists the settings", () => {
    const { problems, settings } = parseSettings({ alertLow: 5, stateDir: "/srv/state" }, FILE);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ field: "alertLow", message: /is not a setting/ });
    expect(problems[0]?.hint).toContain("alertLowUsd");
    expect(settings).toEqual({ stateDir: "/srv/state" });
  });

  it("takes dollars with at most two decimals, a drop above 0 up to 100, renotify never", () => {
    expect(
      parseSettings({ alertLowUsd: 250.5, alertDropPct: 100, renotifySeconds: "never" }, FILE),
    ).toEqual({
      settings: { alertLowUsd: 250.5, alertDropPct: 100, renotifySeconds: "never" },
      problems: [],
    });
    const bad = parseSettings(
      { alertLowUsd: 1.005, alertDropPct: 0, renotifySeconds: "soon", dropWindowSeconds: 59 },
      FILE,
    );
    expect(bad.problems.map((p) => p.field)).toEqual([
      "alertLowUsd",
      "alertDropPct",
      "dropWindowSeconds",
      "renotifySeconds",
    ]);
    expect(bad.problems[3]?.message).toMatch(/^must be "never" or a number from 60/);
    expect(parseSettings({ renotifySeconds: 5 }, FILE).problems[0]?.message).toMatch(
      /from 60 to 31536000/,
    );
    expect(bad.settings).toEqual({});
  });

  it("refuses a webhook URL with credentials without repeating it", () => {
    const { problems } = parseSettings(
      { notify: "https://bob:hunter2@hooks.example.com/x/secret-token" },
      FILE,
    );
    expect(problems).toEqual([
      expect.objectContaining({
        field: "notify",
        message: expect.stringMatching(/user:password@/),
      }),
    ]);
    expect(JSON.stringify(problems)).not.toMatch(/hunter2|bob|secret-token/);
  });

  it("refuses alerts with history off (they compare against the history)", () => {
    const { problems, settings } = parseSettings(
      { history: false, alertLowUsd: 10, timeoutSeconds: 0 },
      FILE,
    );
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      "timeoutSeconds: must be from 0.1 to 600 (the --timeout flag's range)",
      'alertLowUsd: "history": false turns alerts off (they compare against the history)',
    ]);
    expect(settings).toEqual({ history: false });
  });

  it("a file that is not an object is one problem, and no setting", () => {
    const { problems, settings } = parseSettings([1], FILE);
    expect(problems).toEqual([
      expect.objectContaining({ field: null, hint: expect.stringContaining("one JSON object") }),
    ]);
    expect(settings).toEqual({});
  });
});

describe("settings.json through loadConfig", () => {
  it("warns when a readable-by-others file holds the webhook URL, naming the variable", async () => {
    const root = await writeTree(
      {
        "config/users/a.json": { user_id: "a", brokers: [] },
        "config/settings.json": { notify: "https://hooks.example.com/x/secret-token" },
      },
      { "config/settings.json": 0o644 },
    );
    const config = await loadConfig({ configDir: join(root, "config"), cwd: root });
    expect(config.settings.notify).toBe("https://hooks.example.com/x/secret-token");
    const warning = config.warnings.find((w) => w.code === "insecure_permissions");
    expect(warning?.message).toMatch(/webhook URL .*chmod 600 .*SHOW_USER_BALANCES_NOTIFY_URL/);
    expect(warning?.message).not.toContain("secret-token");
  });
});
