import { hash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Remembers public exchange data (price lists, pair lists) between runs, so a cold run after a
 * recent one need not ask again: `remember(name, maxAgeMs, load)` returns the stored value while
 * it is younger than maxAgeMs, else loads, stores and returns it. Only public, secret-free data
 * goes here; a file that cannot be read or written costs a request, never the report.
 */
export interface PublicCache {
  remember<T>(name: string, maxAgeMs: number, load: () => Promise<T>): Promise<T>;
}

interface Stored {
  storedAt: number;
  value: unknown;
}

/** One small JSON file per name under `<cacheDir>/public`. */
export class DiskPublicCache implements PublicCache {
  constructor(private readonly dir: string) {}

  private file(name: string): string {
    const digest = hash("sha256", name, "hex").slice(0, 24);
    return join(this.dir, "public", `${digest}.json`);
  }

  async remember<T>(name: string, maxAgeMs: number, load: () => Promise<T>): Promise<T> {
    const file = this.file(name);
    try {
      const stored = JSON.parse(await readFile(file, "utf8")) as Stored;
      const age = Date.now() - stored.storedAt;
      // A file dated in the future is as good as missing.
      if (typeof stored.storedAt === "number" && age >= 0 && age < maxAgeMs) {
        return stored.value as T;
      }
    } catch {
      // missing or unreadable: load below
    }
    const value = await load();
    const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(join(this.dir, "public"), { recursive: true, mode: 0o700 });
      await writeFile(temp, JSON.stringify({ storedAt: Date.now(), value }), { mode: 0o600 });
      await rename(temp, file);
    } catch {
      await unlink(temp).catch(() => undefined);
    }
    return value;
  }
}

/** No memory: every call loads (no cache, or --refresh). */
export const NO_PUBLIC_CACHE: PublicCache = {
  remember: (_name, _maxAgeMs, load) => load(),
};
