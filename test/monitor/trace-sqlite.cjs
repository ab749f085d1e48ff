// Loaded with `node --require`: reports on stderr when the process loads better-sqlite3, so a test
// can prove that a run served from the cache never opens the history.
const Module = require("node:module");

const load = Module._load;
Module._load = function traced(request, ...rest) {
  if (request === "better-sqlite3") process.stderr.write("[trace] better-sqlite3 loaded\n");
  return load.call(this, request, ...rest);
};
