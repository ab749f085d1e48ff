import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock } from "../../src/cache/file-lock.js";

const opts = { waitMs: 2000, leaseMs: 60_000, pollMs: 5 };

describe("acquireLock", () => {
  it("excludes a second holder until the first releases", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "sub-lock-")), "a.lock");
    const release = await acquireLock(path, opts);
    expect(release).not.toBeNull();
    expect(await acquireLock(path, { ...opts, waitMs: 50 })).toBeNull();
    await release?.();
    const again = await acquireLock(path, { ...opts, waitMs: 50 });
    expect(again).not.toBeNull();
    await again?.();
  });

  it("breaks at once a lock whose owner was killed with SIGKILL", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "sub-lock-")), "b.lock");
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
    await new Promise((resolve) => child.once("spawn", resolve));
    await writeFile(
      path,
      JSON.stringify({
        pid: child.pid,
        host: (await import("node:os")).hostname(),
        at: Date.now(),
        token: "dead",
      }),
    );
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const started = Date.now();
    const release = await acquireLock(path, opts);
    expect(release).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(500);
    expect(JSON.parse(await readFile(path, "utf8")).pid).toBe(process.pid);
    await release?.();
  });

  it("breaks a lock held past its lease even when the owner looks alive", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "sub-lock-")), "c.lock");
    await writeFile(
      path,
      JSON.stringify({ pid: process.pid, host: "elsewhere", at: Date.now() - 5000, token: "old" }),
    );
    const release = await acquireLock(path, { ...opts, leaseMs: 1000 });
    expect(release).not.toBeNull();
    await release?.();
  });

  it("waits for a live holder rather than breaking its lock", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "sub-lock-")), "d.lock");
    await writeFile(
      path,
      JSON.stringify({ pid: process.pid, host: "elsewhere", at: Date.now(), token: "live" }),
    );
    expect(await acquireLock(path, { ...opts, waitMs: 100 })).toBeNull();
    expect(JSON.parse(await readFile(path, "utf8")).token).toBe("live");
  });
});
