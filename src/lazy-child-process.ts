/**
 * `node:child_process` in the CLI bundle (esbuild --alias, package.json bundle:cli). commander
 * requires it when it loads, for executable subcommands this CLI does not have; loading it (with
 * net, dgram and their kin) was ~2.5 ms of every run. The module is required on the first spawn.
 */
import type * as ChildProcess from "node:child_process";
import { createRequire } from "node:module";

export function spawn(...args: unknown[]): unknown {
  const real = createRequire(import.meta.url)("node:child_process") as typeof ChildProcess;
  return (real.spawn as (...a: unknown[]) => unknown)(...args);
}
