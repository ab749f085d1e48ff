/**
 * The systemd example (docs/systemd.md and the unit files under docs/systemd/): the page shows
 * the files as they are, and `systemd-analyze verify` (where the tool exists) finds nothing to
 * say about them. It runs against a scratch root holding the host's own units (targets the
 * services order against) and a stand-in at the command's path: verify checks that ExecStart
 * names an executable, and this test checks the units, not an install.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

const exec = promisify(execFile);
const UNITS_DIR = join(ROOT, "docs", "systemd");
const HOST_UNITS = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((d) => existsSync(d));
const canVerify = await exec("systemd-analyze", ["--version"]).then(
  () => HOST_UNITS !== undefined,
  () => false,
);

async function units(): Promise<{ name: string; text: string }[]> {
  const names = (await readdir(UNITS_DIR)).sort();
  return Promise.all(
    names.map(async (name) => ({ name, text: await readFile(join(UNITS_DIR, name), "utf8") })),
  );
}

/** `systemd-analyze verify` of `extra` units plus the shipped ones, in a scratch root. */
async function verify(extra: { name: string; text: string }[] = []) {
  const root = await mkdtemp(join(tmpdir(), "sub-systemd-"));
  await cp(HOST_UNITS as string, join(root, "usr", "lib", "systemd", "system"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  const system = join(root, "etc", "systemd", "system");
  await mkdir(system, { recursive: true });
  const all = [...(await units()), ...extra];
  for (const unit of all) {
    await writeFile(join(system, unit.name), unit.text);
    for (const [, command] of unit.text.matchAll(/^ExecStart=(\S+)/gm)) {
      const standIn = join(root, command as string);
      await mkdir(dirname(standIn), { recursive: true });
      await writeFile(standIn, "#!/bin/sh\n");
      await chmod(standIn, 0o755);
    }
  }
  try {
    const { stdout, stderr } = await exec("systemd-analyze", [
      "verify",
      `--root=${root}`,
      ...all.map((u) => u.name),
    ]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe("the systemd example", () => {
  it("ships a oneshot report service, its timer and a serve service; the page shows each verbatim", async () => {
    const shipped = await units();
    expect(shipped.map((u) => u.name)).toEqual([
      "show-user-balances-report.service",
      "show-user-balances-report.timer",
      "show-user-balances-serve.service",
    ]);
    const page = await readFile(join(ROOT, "docs", "systemd.md"), "utf8");
    for (const unit of shipped) expect(page).toContain(`\`\`\`ini\n${unit.text}\`\`\``);
    const [report, timer, serve] = shipped.map((u) => u.text);
    expect(report).toMatch(/^Type=oneshot$/m);
    expect(report).toMatch(/^SuccessExitStatus=4$/m);
    expect(timer).toMatch(/^OnCalendar=\*:0\/5$/m);
    expect(serve).toMatch(/^ExecStart=\S+ serve /m);
    expect(serve).toMatch(/^RestartPreventExitStatus=2$/m);
  });

  it.runIf(canVerify)("passes systemd-analyze verify without a word", async () => {
    expect(await verify()).toEqual({ code: 0, output: "" });
  });

  it.runIf(canVerify)("(the check bites: a unit with an unknown key is reported)", async () => {
    const broken = {
      name: "broken.service",
      text: "[Service]\nType=oneshot\nExecStart=/usr/local/bin/show-user-balances\nRestartt=no\n",
    };
    const { output } = await verify([broken]);
    expect(output).toContain("Unknown key 'Restartt' in section [Service]");
  });
});
