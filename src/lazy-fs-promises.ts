/**
 * `node:fs/promises` in the CLI bundle (esbuild --alias, package.json bundle:cli). Loading it
 * (with readline, the fs watchers and their kin) was ~0.65 ms of every run, and a cache hit calls
 * none of it: each function here loads it on its first call. The names are those the bundle
 * imports; a missing one fails the build.
 */
import { promises } from "node:fs";

type FsPromises = typeof promises;

function lazy<K extends keyof FsPromises>(name: K): FsPromises[K] {
  return ((...args: unknown[]) =>
    (promises[name] as (...a: unknown[]) => unknown)(...args)) as FsPromises[K];
}

export const access = lazy("access");
export const lstat = lazy("lstat");
export const mkdir = lazy("mkdir");
export const readdir = lazy("readdir");
export const readFile = lazy("readFile");
export const rename = lazy("rename");
export const unlink = lazy("unlink");
export const writeFile = lazy("writeFile");
