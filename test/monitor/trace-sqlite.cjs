// Loaded with `node --require`: reports on stderr when the process loads a SQLite driver
// (node:sqlite, or libsql on Node 20), so a test can prove that a run served from the cache never
// opens the history.
const Module = require("node:module");

const load = Module._load;
Module._load = function traced(request, ...rest) {
  const loaded = load.call(this, request, ...rest);
  // After the load: on Node 20 the node:sqlite attempt fails and libsql is the one loaded.
  if (request === "node:sqlite" || request === "libsql") {
    process.stderr.write("[trace] sqlite driver loaded\n");
  }
  return loaded;
};
