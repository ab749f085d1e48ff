import { defaultCacheDir } from "../cache/paths.js";
import { defaultStateDir } from "../monitor/paths.js";
import { stringifyJson } from "../render/json-text.js";
import { safeText } from "../render/sanitize.js";
import { loadPalette, type Palette } from "../render/style.js";
import { type CliIo, EXIT, useColor } from "./context.js";
import type { DoctorFlags } from "./doctor.js";
import {
  type Check,
  type CheckState,
  CONFIG_CHECKS,
  checkCache,
  checkConfig,
  checkCredentials,
  checkHistory,
  checkPermissions,
} from "./doctor-checks.js";

/** 2 when the configuration is at fault (it wins), 3 when a key or an exchange is, else 0. */
export function doctorExitCode(checks: readonly Check[]): number {
  const failed = checks.filter((c) => c.state === "fail");
  if (failed.some((c) => CONFIG_CHECKS.includes(c.name))) return EXIT.config;
  return failed.length > 0 ? EXIT.partial : EXIT.ok;
}

export async function runDoctor(flags: DoctorFlags): Promise<Check[]> {
  const { checks, config } = await checkConfig(flags.configDir);
  // The directories and store a report would use: flag, else settings.json, else the default.
  const settings = config?.settings ?? {};
  const cacheDir = flags.cacheDir ?? settings.cacheDir ?? defaultCacheDir();
  const storeUrl = process.env.SHOW_USER_BALANCES_STORE ?? settings.store;
  const local = [
    ...(await checkCache(cacheDir, storeUrl)),
    settings.history === false
      ? { name: "history", state: "ok", detail: "off in settings.json; not checked", fix: null }
      : checkHistory(flags.stateDir ?? settings.stateDir ?? defaultStateDir()),
  ] satisfies Check[];
  if (!config) return [...checks, ...local];
  const timeoutMs = (flags.timeout ?? settings.timeoutSeconds ?? 10) * 1000;
  // ccxt loads only now, and only the exchanges the config uses.
  const { checkAuth, checkClocks } = await import("./doctor-exchange.js");
  const [clocks, auth] = await Promise.all([
    checkClocks(config, timeoutMs),
    checkAuth(config, { timeoutMs, cacheDir }),
  ]);
  return [
    ...checks,
    ...checkPermissions(config),
    ...checkCredentials(config),
    ...local,
    ...clocks,
    ...auth,
  ];
}

const MARKS: Record<CheckState, string> = { ok: "✓", warn: "!", fail: "✗" };

export function renderChecks(checks: readonly Check[], code: number, palette: Palette): string {
  const colour: Record<CheckState, (text: string) => string> = {
    ok: palette.green,
    warn: palette.yellow,
    fail: palette.red,
  };
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.flatMap((check) => {
    const head = `${colour[check.state](MARKS[check.state])} ${check.name.padEnd(width)}  ${safeText(check.detail)}`;
    const indent = " ".repeat(width + 4);
    return check.fix === null
      ? [head]
      : [head, `${indent}${palette.dim(`fix: ${safeText(check.fix)}`)}`];
  });
  const count = (state: CheckState) => checks.filter((c) => c.state === state).length;
  const verdict =
    code === EXIT.ok
      ? "all checks passed"
      : code === EXIT.config
        ? "the configuration needs fixing"
        : "a key or an exchange check failed";
  lines.push(
    "",
    `${count("ok")} ok, ${count("warn")} warning${count("warn") === 1 ? "" : "s"}, ${count("fail")} failed: ${verdict} (exit ${code})`,
  );
  return `${lines.join("\n")}\n`;
}

export async function doctorAction(flags: DoctorFlags, io: CliIo): Promise<number> {
  const checks = await runDoctor(flags);
  const code = doctorExitCode(checks);
  if (flags.json) {
    const count = (state: CheckState) => checks.filter((c) => c.state === state).length;
    const document = {
      ok: code === EXIT.ok,
      exit_code: code,
      summary: { ok: count("ok"), warn: count("warn"), fail: count("fail") },
      checks,
    };
    io.stdout.write(`${stringifyJson(document)}\n`);
    return code;
  }
  const palette = await loadPalette(useColor(io, flags.color, false));
  io.stdout.write(renderChecks(checks, code, palette));
  return code;
}
