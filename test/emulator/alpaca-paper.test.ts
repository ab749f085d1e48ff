import ccxt from "ccxt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rebaseApiUrls } from "../../src/brokers/api-url.js";
import { type Emulator, newAlpacaKey, startEmulator } from "../../src/emulator/index.js";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(() => emulator.close());

function alpaca(key: { apiKey: string; secret: string }, origin: string, sandbox = false) {
  // ccxt's `sandbox: true` swaps in the paper URLs, which are then pointed at the emulator.
  const exchange = new ccxt.alpaca({ ...key, enableRateLimit: false, sandbox });
  exchange.urls.api = rebaseApiUrls(exchange.urls.api, origin) as never;
  return exchange as unknown as { traderPrivateGetV2Account(): Promise<Record<string, unknown>> };
}

function account(sandbox: boolean) {
  const key = newAlpacaKey();
  emulator.addAccount({ exchange: "alpaca", ...key, sandbox, balances: { USD: { free: "100" } } });
  return key;
}

describe("alpaca emulator: paper trading", () => {
  it("serves paper accounts on urls.alpacaPaper only, and records them as sandbox", async () => {
    const paper = account(true);
    await expect(
      alpaca(paper, emulator.urls.alpacaPaper, true).traderPrivateGetV2Account(),
    ).resolves.toMatchObject({ cash: "100", status: "ACTIVE" });
    expect(emulator.requests.at(-1)).toMatchObject({
      exchange: "alpaca",
      sandbox: true,
      apiKey: paper.apiKey,
      status: 200,
    });
  });

  it("answers a key of the other environment as an unknown key: 401 40110000", async () => {
    const paper = account(true);
    const live = account(false);
    const paperOnLive = alpaca(paper, emulator.urls.alpaca).traderPrivateGetV2Account();
    await expect(paperOnLive).rejects.toThrow(
      '{"code":40110000,"message":"request is not authorized"}',
    );
    expect(emulator.requests.at(-1)).toMatchObject({ status: 401, error: "unauthorized" });
    const liveOnPaper = alpaca(live, emulator.urls.alpacaPaper, true).traderPrivateGetV2Account();
    await expect(liveOnPaper).rejects.toBeInstanceOf(ccxt.AuthenticationError);
  });

  it("applies faults of a paper account on the paper server only", async () => {
    const paper = account(true);
    emulator.setFault("alpaca", paper.apiKey, { kind: "http", status: 500, times: 1 });
    // On live the key is unknown, so the fault is not taken there.
    await expect(alpaca(paper, emulator.urls.alpaca).traderPrivateGetV2Account()).rejects.toThrow(
      "40110000",
    );
    await expect(
      alpaca(paper, emulator.urls.alpacaPaper, true).traderPrivateGetV2Account(),
    ).rejects.toBeInstanceOf(ccxt.ExchangeNotAvailable);
  });

  it("refuses sandbox seeds for exchanges without an emulated test environment", () => {
    expect(() =>
      emulator.addAccount({
        exchange: "kraken",
        apiKey: "k",
        secret: "s",
        sandbox: true,
        balances: {},
      }),
    ).toThrow(/no kraken test environment/);
  });
});
