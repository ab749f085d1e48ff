import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/** The cookie the page keeps its token in, after one visit with `?token=`. */
export const TOKEN_COOKIE = "sub_token";

/** 127.0.0.0/8, ::1 and localhost: the hosts `serve` binds to without a token. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || bare.startsWith("::ffff:127.");
  return false;
}

/**
 * Constant-time comparison: both sides are hashed first, so neither the content nor the length
 * of the expected token leaks through timing.
 */
export function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(expected), digest(given));
}

function cookie(request: IncomingMessage, name: string): string | null {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** Where a request may carry the token: `Authorization: Bearer`, the page's cookie, `?token=`. */
export function tokensOf(request: IncomingMessage, url: URL): string[] {
  const found: string[] = [];
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "");
  if (bearer?.[1]) found.push(bearer[1].trim());
  const fromCookie = cookie(request, TOKEN_COOKIE);
  if (fromCookie) found.push(fromCookie);
  const fromQuery = url.searchParams.get("token");
  if (fromQuery) found.push(fromQuery);
  return found;
}

/**
 * Without a token the dashboard trusts the loopback interface, so it also checks the Host header:
 * a web page whose DNS name was rebound to 127.0.0.1 would otherwise read balances from the
 * operator's browser.
 */
export function hostHeaderIsLoopback(request: IncomingMessage): boolean {
  const host = request.headers.host;
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return isLoopbackHost(name ?? "");
}
