import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export interface RedisServer {
  port: number;
  url: string;
  child: ChildProcess;
  /** A client for the test's own checks (not the code under test). */
  client(): Redis;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A throwaway redis-server on a free loopback port, without persistence. */
export async function startRedis(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "sub-redis-"));
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${output}`)),
      10_000,
    );
    child.stdout?.on("data", (d) => {
      output += d;
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited ${code}:\n${output}`));
    });
  });
  const clients: Redis[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const password = extraArgs[extraArgs.indexOf("--requirepass") + 1];
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    child,
    client: () => {
      const client = new Redis({
        port,
        host: "127.0.0.1",
        password: extraArgs.includes("--requirepass") ? password : undefined,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
      });
      client.on("error", () => undefined);
      clients.push(client);
      return client;
    },
    stop: async (signal = "SIGTERM") => {
      for (const c of clients) c.disconnect();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
