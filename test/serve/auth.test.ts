import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import {
  hostHeaderIsLoopback,
  isLoopbackHost,
  tokenMatches,
  tokensOf,
} from "../../src/serve/auth.js";

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe("serve/auth", () => {
  it("knows the loopback hosts", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      "0.0.0.0",
      "::",
      "10.0.0.1",
      "192.168.1.2",
      "example.com",
      "localhost.evil",
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it("compares tokens exactly, whatever their length", () => {
    expect(tokenMatches("abc123", "abc123")).toBe(true);
    expect(tokenMatches("abc123", "abc12")).toBe(false);
    expect(tokenMatches("abc123", "abc1234")).toBe(false);
    expect(tokenMatches("abc123", "")).toBe(false);
    expect(tokenMatches("abc123", null)).toBe(false);
  });

  it("reads the token from a bearer header, the cookie and the query", () => {
    const url = new URL("http://x/api/balances?token=q");
    expect(
      tokensOf(request({ authorization: "Bearer  b ", cookie: "a=1; sub_token=c%20d" }), url),
    ).toEqual(["b", "c d", "q"]);
    expect(tokensOf(request({ authorization: "Basic b" }), new URL("http://x/"))).toEqual([]);
  });

  it("checks the Host header against loopback names", () => {
    expect(hostHeaderIsLoopback(request({ host: "127.0.0.1:8787" }))).toBe(true);
    expect(hostHeaderIsLoopback(request({ host: "[::1]:8787" }))).toBe(true);
    expect(hostHeaderIsLoopback(request({ host: "localhost" }))).toBe(true);
    expect(hostHeaderIsLoopback(request({ host: "rebound.example:8787" }))).toBe(false);
    expect(hostHeaderIsLoopback(request({}))).toBe(false);
  });
});
