/**
 * `npm run demo` (dist/demo.js) as an operator uses it: `-- serve` serves the demo's accounts, and
 * stopping the demo, by Ctrl-C or by SIGTERM, stops its CLI child and removes its temp folder.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";

interface Demo {
  demo: ChildProcess;
  /** The TMPDIR the demo makes its temp folder in: empty again once the demo has cleaned up. */
  tmp: string;
  url: Promise<string>;
  exited: Promise<{ code: number | null; stderr: string }>;
}

async function startDemo(args: string[]): Promise<Demo> {
  const tmp = await mkdtemp(join(tmpdir(), "sub-demo-"));
  const demo = spawn(process.execPath, [join(ROOT, "dist", "demo.js"), ...args], {
    cwd: tmp,
    env: { PATH: process.env.PATH ?? "", HOME: tmp, TMPDIR: tmp },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, as a terminal's foreground job: the group is what Ctrl-C signals.
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  const url = new Promise<string>((resolve, reject) => {
    demo.stdout?.on("data", (d) => {
      stdout += d;
      const match = /Dashboard on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    demo.on("exit", (code) =>
      reject(new Error(`the demo ended (${code}) before serving: ${stderr}`)),
    );
  });
  demo.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    demo.on("exit", (code) => resolve({ code, stderr })),
  );
  return { demo, tmp, url, exited };
}

/** The demo's temp folders in `tmp` (Node may keep its compile cache beside them). */
const demoFolders = async (tmp: string) =>
  (await readdir(tmp)).filter((name) => name.startsWith("show-user-balances-demo-"));

/** The processes whose working directory is under `dir` (the demo runs its CLI in its temp folder). */
async function processesIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => "");
    if (cwd.startsWith(`${dir}/`)) pids.push(Number(entry));
  }
  return pids;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.runIf(process.platform === "linux")("the demo", () => {
  it("`serve` serves the demo's accounts; SIGTERM stops the serve child and removes the temp folder", async () => {
    const { demo, tmp, url, exited } = await startDemo(["serve", "--port", "0"]);
    const base = await url;
    const doc = (await (await fetch(`${base}api/balances`)).json()) as {
      summary: { user_totals: Record<string, number> };
    };
    expect(doc.summary.user_totals).toEqual({ alice: 1000, bob: 2500, carol: 1200, dave: 800 });
    expect(await demoFolders(tmp)).toHaveLength(1);
    const [cli, ...others] = await processesIn(tmp);
    expect(others).toEqual([]);
    expect(cli).toBeDefined();

    demo.kill("SIGTERM");
    const { code, stderr } = await exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("SIGTERM: shutting down");
    expect(alive(cli as number)).toBe(false);
    expect(await demoFolders(tmp)).toEqual([]);
  });

  it("Ctrl-C (SIGINT to its process group) stops it cleanly and removes the temp folder", async () => {
    const { demo, tmp, url, exited } = await startDemo(["serve", "--port", "0"]);
    await url;
    expect(await demoFolders(tmp)).toHaveLength(1);
    const [cli] = await processesIn(tmp);
    process.kill(-(demo.pid as number), "SIGINT");
    const { code, stderr } = await exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("SIGINT: shutting down");
    expect(stderr.match(/shutting down/g)).toHaveLength(1);
    expect(alive(cli as number)).toBe(false);
    expect(await demoFolders(tmp)).toEqual([]);
  });
});
