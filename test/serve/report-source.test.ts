import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../src/config/index.js";
import { buildReport, type Report } from "../../src/report/model.js";
import { ReportSource } from "../../src/serve/report-source.js";
import { createDashboardServer } from "../../src/serve/server.js";
import { row, user } from "../report/fixtures.js";

const config = { platform: null, users: [] } as unknown as LoadedConfig;

function report(rows = [row("kraken", 123_456n)]): Report {
  return buildReport({
    platform: null,
    users: [user("alice", rows)],
    generatedAt: new Date("2026-01-21T16:00:00.000Z"),
  });
}

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A dashboard over a source whose runs are `runs`, one per refresh (the last repeats). */
async function dashboard(runs: (() => Promise<Report>)[]) {
  let i = 0;
  const errors: string[] = [];
  const source = new ReportSource(
    config,
    {},
    () => (runs[Math.min(i++, runs.length - 1)] as () => Promise<Report>)(),
    (message) => errors.push(message),
  );
  const server = createDashboardServer({
    source,
    names: { platform: null, users: {} },
    token: null,
    refreshSeconds: 30,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string) => {
    const answer = await fetch(`${base}${path}`);
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  };
  return { get, errors };
}

describe("serve: an internal error in one refresh", () => {
  it("never takes /api/balances down: the last good document is served with the error beside it", async () => {
    const d = await dashboard([
      async () => report(),
      async () => {
        throw new Error("boom in collect");
      },
      async () => report([row("kraken", 200n)]),
    ]);
    const first = await d.get("/api/balances");
    expect(first.status).toBe(200);
    expect(first.body.balances).toEqual({ platform: {}, users: { alice: { kraken: 1234.56 } } });
    expect(first.body).not.toHaveProperty("refresh_error");

    const failed = await d.get("/api/balances");
    expect(failed.status).toBe(200);
    expect(failed.body.balances).toEqual(first.body.balances);
    expect(failed.body.refresh_error).toBe("internal error while refreshing: boom in collect");
    expect(d.errors).toEqual(["refresh failed: boom in collect"]);

    const health = await d.get("/healthz");
    expect(health).toEqual({
      status: 200,
      body: expect.objectContaining({
        status: "degraded",
        error: "internal error while refreshing: boom in collect",
      }),
    });

    const recovered = await d.get("/api/balances");
    expect(recovered.body).not.toHaveProperty("refresh_error");
    expect((await d.get("/healthz")).body.status).toBe("ok");
  });

  it("answers 503 with the reason while there has never been a good document", async () => {
    const d = await dashboard([
      async () => {
        throw new Error("no config today");
      },
    ]);
    expect((await d.get("/healthz")).body.status).toBe("starting");
    const answer = await d.get("/api/balances");
    expect(answer).toEqual({
      status: 503,
      body: { error: "internal error while refreshing: no config today" },
    });
  });

  it("/healthz lists the failing rows of the last refresh and stays 200", async () => {
    const failing = row("kraken", null, {
      status: "timeout",
      message: "no answer within 10 s",
      source: "live",
    });
    const d = await dashboard([async () => report([failing, row("coinbase", 5n)])]);
    await d.get("/api/balances");
    const health = await d.get("/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: "degraded",
      error: null,
      failing_count: 1,
      failing: [
        { account: "alice", broker: "kraken", state: "timeout", message: "no answer within 10 s" },
      ],
    });
  });
});
