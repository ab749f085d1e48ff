import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addReportFlags } from "../../src/commands/report.js";
import { applySettings, settingsAsFlags } from "../../src/commands/settings-defaults.js";
import type { Settings } from "../../src/config/schemas.js";
import { parseSettings, SETTING_KEYS, SETTINGS_EXAMPLE } from "../../src/config/settings.js";
import { ROOT } from "../helpers/cli.js";

/** The report command's flags, parsed from `argv` as the CLI parses them. */
function reportCommand(argv: string[]): Command {
  const command = addReportFlags(new Command().exitOverride());
  command.parse(argv, { from: "user" });
  return command;
}

function io() {
  let stderr = "";
  const sink = new PassThrough();
  sink.on("data", (d) => {
    stderr += d;
  });
  return { io: { stdout: new PassThrough(), stderr: sink }, stderr: () => stderr };
}

/** Settings with no flag of their own: `stablecoins`, and `store` (resolved where it opens). */
const NOT_FLAGS = ["stablecoins", "store"];

describe("settingsAsFlags", () => {
  it("gives every other setting to a flag the report command declares", async () => {
    const example = JSON.parse(await readFile(join(ROOT, SETTINGS_EXAMPLE), "utf8"));
    const { settings } = parseSettings(example, "settings.example.json");
    const asFlags = settingsAsFlags(settings);
    const declared = reportCommand([]).options.map((o) => o.attributeName());
    for (const [flag, value] of Object.entries(asFlags)) {
      expect(declared, flag).toContain(flag);
      expect(value, flag).not.toBeUndefined();
    }
    expect(Object.keys(asFlags)).toHaveLength(SETTING_KEYS.length - NOT_FLAGS.length);
  });

  it("turns seconds into ms, dollars into exact cents, never into Infinity", () => {
    expect(
      settingsAsFlags({
        cacheTtlSeconds: 1.5,
        alertLowUsd: 100.1,
        renotifySeconds: "never",
        dropWindowSeconds: 3600,
      }),
    ).toMatchObject({
      cacheTtl: 1500,
      alertLow: 10010n,
      renotify: Number.POSITIVE_INFINITY,
      dropWindow: 3_600_000,
    });
  });
});

describe("applySettings: command line > environment > settings.json > built-in default", () => {
  const settings: Settings = {
    timeoutSeconds: 30,
    cacheTtlSeconds: 60,
    alertLowUsd: 250.5,
    notify: "https://settings.example.com/hook/s1",
  };

  it("fills what the command line left at its default, marking the source", () => {
    const command = reportCommand(["--timeout", "5"]);
    const flags = { ...command.opts() };
    const out = io();
    expect(applySettings(command, flags, settings, out.io, {})).toBeNull();
    expect(flags).toMatchObject({
      timeout: 5,
      cacheTtl: 60_000,
      alertLow: 25050n,
      notify: "https://settings.example.com/hook/s1",
      retries: command.getOptionValue("retries"),
    });
    expect(command.getOptionValueSource("timeout")).toBe("cli");
    expect(command.getOptionValueSource("cacheTtl")).toBe("config");
    expect(command.getOptionValueSource("retries")).toBe("default");
    expect(out.stderr()).toBe("");
  });

  it("takes the webhook from SHOW_USER_BALANCES_NOTIFY_URL over settings, --notify over both", () => {
    const env = { SHOW_USER_BALANCES_NOTIFY_URL: "https://env.example.com/hook/e1" };
    const fromEnv = reportCommand([]);
    const flags: Record<string, unknown> = {};
    expect(applySettings(fromEnv, flags, settings, io().io, env)).toBeNull();
    expect(flags.notify).toBe("https://env.example.com/hook/e1");
    expect(fromEnv.getOptionValueSource("notify")).toBe("env");

    const fromCli = reportCommand(["--notify", "https://cli.example.com/hook/c1"]);
    const given: Record<string, unknown> = {};
    expect(applySettings(fromCli, given, settings, io().io, env)).toBeNull();
    expect(fromCli.getOptionValue("notify")).toBe("https://cli.example.com/hook/c1");
    expect(given.notify).toBeUndefined();
  });

  it("refuses a variable's URL with credentials (exit 2), showing only its origin", () => {
    const out = io();
    const env = { SHOW_USER_BALANCES_NOTIFY_URL: "https://bob:hunter2@hooks.example.com/x/s3cr3t" };
    expect(applySettings(reportCommand([]), {}, {}, out.io, env)).toBe(2);
    expect(out.stderr()).toMatch(
      /SHOW_USER_BALANCES_NOTIFY_URL https:\/\/hooks\.example\.com: the URL carries credentials/,
    );
    expect(out.stderr()).not.toMatch(/hunter2|bob|s3cr3t/);
  });

  it("--no-history leaves the alerts of settings.json (and the variable's webhook) off", () => {
    const command = reportCommand(["--no-history"]);
    const flags: Record<string, unknown> = {};
    const env = { SHOW_USER_BALANCES_NOTIFY_URL: "https://env.example.com/hook/e1" };
    expect(applySettings(command, flags, settings, io().io, env)).toBeNull();
    expect(flags).toEqual({ timeout: 30, cacheTtl: 60_000 });
  });

  it("refuses a settings directory under /proc, naming the field (exit 2)", () => {
    const out = io();
    expect(applySettings(reportCommand([]), {}, { stateDir: "/proc/self" }, out.io, {})).toBe(2);
    expect(out.stderr()).toMatch(/settings\.json stateDir \/proc\/self is under \/proc/);
  });
});
