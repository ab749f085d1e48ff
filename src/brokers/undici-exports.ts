/**
 * ccxt loads undici with `await import("undici")` and uses its named exports (`request`, `Agent`,
 * `ProxyAgent`, `fetch`). In the pre-bundled exchange modules (dist/ccxt) a CommonJS package's
 * dynamic import yields only `default`, so `npm run bundle:ccxt` points "undici" here (esbuild
 * `--alias`): an ES module that names them. "#undici" (package.json `imports`) is undici itself.
 */
export { Agent, fetch, ProxyAgent, request } from "#undici";
