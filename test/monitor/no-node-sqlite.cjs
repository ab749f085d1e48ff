// Loaded with `node --require`: hides node:sqlite as Node.js 20 (or 22 before 22.13) does, so the
// store falls back to libsql on any Node.js version under test.
const Module = require("node:module");

const load = Module._load;
Module._load = function withoutBuiltinSqlite(request, ...rest) {
  if (request === "node:sqlite") {
    throw Object.assign(new Error(`No such built-in module: ${request}`), {
      code: "ERR_UNKNOWN_BUILTIN_MODULE",
    });
  }
  return load.call(this, request, ...rest);
};
