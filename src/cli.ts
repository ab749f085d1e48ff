#!/usr/bin/env node
/**
 * The command's entry: as small as possible, so that what it does first happens before the
 * rest of the program is compiled. On Node 22.1+ that is turning on V8's on-disk compile cache
 * (in the OS temp directory): later runs reuse the compiled bundle instead of parsing it again.
 */
import * as module from "node:module";

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { version } = module.createRequire(import.meta.url)("../package.json") as { version: string };
const { runCli } = await import("./cli-main.js");
runCli(version);
