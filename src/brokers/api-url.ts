/**
 * Points an exchange at another origin (a proxy, the emulator) while keeping every path.
 * ccxt keeps its endpoints in a nested `urls.api` tree of absolute URLs, some with a
 * `{hostname}` placeholder; each one's scheme, host and port is replaced by `base`'s.
 */
export function rebaseApiUrls(api: unknown, base: string): unknown {
  const origin = new URL(base);
  const prefix = origin.pathname.replace(/\/+$/, "");
  const rewrite = (node: unknown): unknown => {
    if (typeof node === "string") {
      const match = /^[a-z][a-z0-9+.-]*:\/\/[^/]+(.*)$/i.exec(node);
      return match ? `${origin.protocol}//${origin.host}${prefix}${match[1] ?? ""}` : node;
    }
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, rewrite(value)]));
    }
    return node;
  };
  return rewrite(api);
}
