// Loaded with `node --import`: reports on stderr every ccxt module the process loads, so a test
// can prove that a run served from the cache never loads ccxt.
import { register } from "node:module";

register(
  `data:text/javascript,${encodeURIComponent(`
    export async function load(url, context, next) {
      if (url.includes("/node_modules/ccxt/")) process.stderr.write("[trace] ccxt module loaded\\n");
      return next(url, context);
    }
  `)}`,
);
