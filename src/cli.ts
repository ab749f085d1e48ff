#!/usr/bin/env node
/**
 * The command's entry. It runs the CLI's bundle (dist/cli-main.cjs, everything but the brokers'
 * ccxt modules) as one script with V8's code cache, so later runs skip compiling it: Node 20 has
 * no compile cache of its own, and compiling the bundle's ES modules was ~20 ms of every run (a
 * 10-account cache hit took 1.75x a bare `node -e 0`, 1.45x with the code cache).
 *
 * The cache is one file per bundle content and Node version under
 * `<cache home>/show-user-balances/code/`, written when there is none or V8 refused it, and once
 * more by the first report run after a run that was not one (a `version` run compiles less). It
 * is only a speed-up: a missing, refused or unwritable cache, or a directory others can write
 * to, means compiling as before. NODE_DISABLE_COMPILE_CACHE=1 turns it off, as on Node 22+.
 *
 * Built as CommonJS (dist/cli.cjs; `import.meta.url` is defined from `__filename`): an ES-module
 * entry makes Node set up its ES module loader first, ~4 ms of every run. ES modules load only
 * on a live fetch (ccxt).
 */
import { isAscii } from "node:buffer";
import { hash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as module from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as vm from "node:vm";
import { defaultCacheDir } from "./cache/paths.js";
import { isPrivateDirectory } from "./private-dir.js";

/** What the bundle exports (cli-main.ts). */
interface CliMain {
  runCli(version: string): void;
  ranReport(): boolean;
}

/** A cache file starts with who wrote it: a report run, or another command. */
const BY_REPORT = 0x52;
const BY_OTHER = 0x4f;

// Node 22.1+: its own compile cache, for the brokers' ccxt modules (ES modules it loads).
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { version } = module.createRequire(import.meta.url)("../package.json") as { version: string };
const bundle = fileURLToPath(new URL("./cli-main.cjs", import.meta.url));
const bytes = readFileSync(bundle);
const cacheFile = codeCacheFile(bytes);
const cached = cacheFile ? readCache(cacheFile) : null;
// Strict, as the ES modules it was bundled from were.
const script = new vm.Script(
  `(function (exports, require, module, __filename, __dirname, __bundleUrl, __bundleResolve, __bundleImport) {"use strict";${sourceText(bytes)}\n})`,
  { filename: bundle, cachedData: cached?.data },
);
const cli = { exports: {} as CliMain };
(script.runInThisContext() as (...args: unknown[]) => void)(
  cli.exports,
  module.createRequire(bundle),
  cli,
  bundle,
  dirname(bundle),
  pathToFileURL(bundle).href,
  // Only a live fetch asks (for ccxt), and it loads ES modules then anyway.
  (specifier: string) =>
    import("./esm-resolve.js").then(({ resolveSpecifier }) => resolveSpecifier(specifier)),
  // import-module.ts: an `import()` in code from V8's cache fails on Node 20.
  (specifier: string) => import(specifier),
);
if (cacheFile) {
  process.on("exit", () => {
    const byReport = cli.exports.ranReport();
    if (cached && !script.cachedDataRejected && (cached.byReport || !byReport)) return;
    writeCache(cacheFile, byReport, script.createCachedData());
  });
}
cli.exports.runCli(version);

/**
 * The bundle as text. It is ASCII (esbuild escapes what it can; a test keeps it so), and ASCII
 * read as latin1 is the same text without a UTF-8 decode: 0.6 ms instead of 1.2 for 450 KB.
 */
function sourceText(content: Buffer): string {
  return content.toString(isAscii(content) ? "latin1" : "utf8");
}

/** The cache file for this bundle and Node, or null when there is no safe place for one. */
function codeCacheFile(content: Buffer): string | null {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return null;
  try {
    const dir = join(defaultCacheDir(), "code");
    // Code from a file someone else could write would run as ours.
    if (!isPrivateDirectory(dir, true)) return null;
    const id = hash("sha256", content).slice(0, 20);
    return join(dir, `cli-${id}-${process.version}-${process.arch}.bin`);
  } catch {
    return null;
  }
}

function readCache(file: string): { data: Buffer; byReport: boolean } | null {
  try {
    const data = readFileSync(file);
    return { data: data.subarray(1), byReport: data[0] === BY_REPORT };
  } catch {
    return null;
  }
}

/** Temp file and rename, so a run never reads half a cache; then older bundles' files go. */
function writeCache(file: string, byReport: boolean, data: Buffer): void {
  try {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, Buffer.concat([Buffer.of(byReport ? BY_REPORT : BY_OTHER), data]), {
      mode: 0o600,
    });
    renameSync(temp, file);
    const dir = dirname(file);
    const sameNode = `-${process.version}-${process.arch}.bin`;
    for (const name of readdirSync(dir)) {
      if (name !== basename(file) && name.endsWith(sameNode))
        rmSync(join(dir, name), { force: true });
    }
  } catch {
    // Only a speed-up: the next run compiles, and tries again.
  }
}
