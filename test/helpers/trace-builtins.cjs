// Loaded with `node --require`: at exit, reports on stderr which of the built-in modules a cache
// hit should never load were loaded (commander's child_process, fs/promises: the bundle stands
// them in with src/lazy-child-process.ts and src/lazy-fs-promises.ts). CommonJS, so that the
// tracer itself starts no ES module loader (which loads fs/promises).
"use strict";
const { writeSync } = require("node:fs");
const WATCHED = ["child_process", "internal/fs/promises"];
process.on("exit", () => {
  for (const name of WATCHED) {
    if (process.moduleLoadList.includes(`NativeModule ${name}`)) {
      writeSync(2, `[trace] builtin loaded: ${name}\n`);
    }
  }
});
