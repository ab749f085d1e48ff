/**
 * `import()` of a package or file URL, for the few modules loaded on demand (ccxt, yaml, ioredis,
 * prom-client). The CLI runs its bundle as a script with V8's code cache (see cli.ts), and on
 * Node 20 an `import()` in code that came from that cache fails ("A dynamic import callback was
 * not specified"): the bundle gets `__bundleImport`, an ES module's `import`, from the entry.
 * Everywhere else (the library, tests) this is a plain `import()`.
 */
declare const __bundleImport: ((specifier: string) => Promise<unknown>) | undefined;
/** The entry is CommonJS (no `import.meta`): it resolves through an ES module (esm-resolve.ts). */
declare const __bundleResolve: ((specifier: string) => Promise<string>) | undefined;

export function importModule<T>(specifier: string): Promise<T> {
  return (
    typeof __bundleImport === "function" ? __bundleImport(specifier) : import(specifier)
  ) as Promise<T>;
}

/** The URL `import(specifier)` would load, as an ES module resolves it (ccxt's layout is read from it). */
export function resolveModule(specifier: string): Promise<string> {
  return typeof __bundleResolve === "function"
    ? __bundleResolve(specifier)
    : Promise.resolve(import.meta.resolve(specifier));
}
