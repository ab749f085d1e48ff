// Loaded with `node --import`: reports on stderr every ccxt module the process loads (from
// node_modules, or the build's pre-bundled dist/ccxt/<id>.js) and any module holding zod (the
// bundle's chunks have no names, so zod is told by its `_zod` internals), so a test can prove
// that a run served from the cache loads neither.
import { register } from "node:module";

register(
  `data:text/javascript,${encodeURIComponent(`
    import { writeSync } from "node:fs";
    // Straight to fd 2: the hooks run on their own thread, whose process.stderr is flushed
    // through the main thread, and a CLI that exits as soon as its output is written would
    // drop the line.
    const say = (line) => writeSync(2, line + "\\n");
    export async function load(url, context, next) {
      if (/\\/node_modules\\/ccxt\\/|\\/dist\\/ccxt\\//.test(url)) say("[trace] ccxt module loaded: " + url);
      const result = await next(url, context);
      if (/\\/node_modules\\/zod\\//.test(url) || (url.includes("/dist/") && String(result.source ?? "").includes("._zod"))) {
        say("[trace] zod module loaded: " + url);
      }
      return result;
    }
  `)}`,
);
