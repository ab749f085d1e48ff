// Loaded with `node --import`: reports on stderr every ccxt module the process loads (from
// node_modules, or the build's pre-bundled dist/ccxt/<id>.js), and whether zod ran, so a test
// can prove that a run served from the cache loads neither. zod is inside the CLI's one-script
// bundle (dist/cli-main.cjs), which no module hook sees: it is told by the global its core sets
// when it first runs (`globalThis.__zod_globalConfig`), checked at exit.
import { writeSync } from "node:fs";
import { register } from "node:module";

process.on("exit", () => {
  if (globalThis.__zod_globalConfig !== undefined) writeSync(2, "[trace] zod module loaded\n");
});

register(
  `data:text/javascript,${encodeURIComponent(`
    import { writeSync } from "node:fs";
    // Straight to fd 2: the hooks run on their own thread, whose process.stderr is flushed
    // through the main thread, and a CLI that exits as soon as its output is written would
    // drop the line.
    const say = (line) => writeSync(2, line + "\\n");
    export async function load(url, context, next) {
      if (/\\/node_modules\\/ccxt\\/|\\/dist\\/ccxt\\//.test(url)) say("[trace] ccxt module loaded: " + url);
      return next(url, context);
    }
  `)}`,
);
