import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
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

  it("breaks at once a lock file that parses but holds no holder ({}, a future time, a foreign file)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sub-lock-"));
    const contents = [
      "{}",
      "null",
      "[1,2]",
      JSON.stringify({
        pid: process.pid,
        host: "elsewhere",
        at: Date.now() + 10 * 60_000,
        token: "f",
      }),
      JSON.stringify({ pid: "1", host: "x", at: Date.now(), token: "t" }),
    ];
    for (const [i, text] of contents.entries()) {
      const path = join(dir, `${i}.lock`);
      await writeFile(path, text);
      const started = Date.now();
      // The default wait is 120 s in real runs; here a broken holder must not cost even 1 s.
      const release = await acquireLock(path, { ...opts, waitMs: 5000 });
      expect(release, text).not.toBeNull();
      expect(Date.now() - started, text).toBeLessThan(1000);
      expect(JSON.parse(await readFile(path, "utf8")).pid).toBe(process.pid);
      await release?.();
    }
  });

  it("breaks a lock file that never became JSON once it is older than a moment", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "sub-lock-")), "e.lock");
    await writeFile(path, '{"pid":12');
    const old = new Date(Date.now() - 5000);
    await utimes(path, old, old);
    const release = await acquireLock(path, { ...opts, waitMs: 3000 });
    expect(release).not.toBeNull();
    await release?.();
  });

  it("takes a lock as a link to one holder file per process, and releases only its own", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sub-lock-"));
    const first = await acquireLock(join(dir, "f.lock"), opts);
    const second = await acquireLock(join(dir, "g.lock"), opts);
    const holders = (await readdir(dir)).filter((name) => name.startsWith(".holder-"));
    expect(holders).toHaveLength(1);
    const holder = await stat(join(dir, holders[0] as string));
    expect((await stat(join(dir, "f.lock"))).ino).toBe(holder.ino);
    expect(JSON.parse(await readFile(join(dir, "g.lock"), "utf8")).pid).toBe(process.pid);
    await first?.();
    expect((await readdir(dir)).sort()).toEqual([holders[0], "g.lock"]);
    // Broken (past its lease) and taken by another run: the late release leaves that one alone.
    const late = await acquireLock(join(dir, "h.lock"), opts);
    await writeFile(join(dir, "h.lock.other"), "{}");
    const { rename } = await import("node:fs/promises");
    await rename(join(dir, "h.lock.other"), join(dir, "h.lock"));
    await late?.();
    expect(await readFile(join(dir, "h.lock"), "utf8")).toBe("{}");
    await second?.();
  });

  it("sweeps the holder file of a run killed while holding a lock, and takes its lock at once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sub-lock-"));
    // The built module (npm test builds first): a plain node child runs it on every Node line.
    const lockModule = new URL("../../dist/cache/file-lock.js", import.meta.url).href;
    const script = `const { acquireLock } = await import(${JSON.stringify(lockModule)});
      await acquireLock(${JSON.stringify(join(dir, "k.lock"))}, { waitMs: 1000, leaseMs: 60000 });
      console.log("held"); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const held = await new Promise<boolean>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => resolve(chunk.toString().includes("held")));
      child.once("exit", () => resolve(false));
    });
    expect(held).toBe(true);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const left = (await readdir(dir)).filter((name) => name.startsWith(".holder-"));
    expect(left).toHaveLength(1);
    const started = Date.now();
    const release = await acquireLock(join(dir, "k.lock"), opts);
    expect(release).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await readdir(dir)).not.toContain(left[0]);
    await release?.();
  });
});
