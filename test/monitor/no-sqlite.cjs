// Loaded with `node --require`: makes both SQLite drivers fail to load, as on a Node.js without
// node:sqlite (20, or 22 before 22.13) installed with --omit=optional (no libsql).
const Module = require("node:module");

const load = Module._load;
Module._load = function broken(request, ...rest) {
  if (request === "node:sqlite") {
    throw Object.assign(new Error(`No such built-in module: ${request}`), {
      code: "ERR_UNKNOWN_BUILTIN_MODULE",
    });
  }
  if (request === "libsql") {
    throw Object.assign(new Error(`Cannot find module '${request}'`), { code: "MODULE_NOT_FOUND" });
  }
  return load.call(this, request, ...rest);
};
