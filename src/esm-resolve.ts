/**
 * An ES module's `import.meta.resolve`, which the CommonJS entry (cli.ts, built as dist/cli.cjs)
 * lacks: it imports this file when its bundle first asks where a package is (import-module.ts).
 */
export function resolveSpecifier(specifier: string): string {
  return import.meta.resolve(specifier);
}
