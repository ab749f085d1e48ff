// Loaded with `node --require`: makes better-sqlite3 fail to load as it does when its native
// binding is missing (an install on another Node.js version, a copied node_modules).
const Module = require("node:module");

const load = Module._load;
Module._load = function broken(request, ...rest) {
  if (request === "better-sqlite3") {
    throw new Error("Could not locate the bindings file. Tried:\n → build/better_sqlite3.node");
  }
  return load.call(this, request, ...rest);
};
