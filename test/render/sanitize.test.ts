import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Alert } from "../../src/monitor/alerts.js";
import type { Sample } from "../../src/monitor/history.js";
import { alertToJson, renderAlerts } from "../../src/render/alerts.js";
import { renderHistory, toSeries } from "../../src/render/history.js";
import { stringifyJson } from "../../src/render/json-text.js";
import { safeLines, safeText } from "../../src/render/sanitize.js";
import { renderAssets, renderStatus } from "../../src/render/status.js";
import { buildReport } from "../../src/report/model.js";
import { row, user } from "../report/fixtures.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const UNSAFE_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("safeText", () => {
  it("removes whole escape sequences, not just their ESC", () => {
    expect(safeText("\u001b[31mred\u001b[0m")).toBe("red");
    expect(safeText("a\u001b]8;;https://evil.example\u0007link\u001b]8;;\u001b\\b")).toBe("alinkb");
    expect(safeText("\u001b]0;title\u0007x")).toBe("x");
    expect(safeText("\u001bPq#0;2;0;0;0\u001b\\after")).toBe("after");
    expect(safeText("\u009b2Jcleared")).toBe("cleared");
    expect(safeText("\u009d0;t\u009cok")).toBe("ok");
    expect(safeText("\u001bcreset")).toBe("reset");
    expect(safeText("lone\u001b")).toBe("lone");
  });

  it("drops BiDi overrides and isolates and the other controls; keeps ordinary Unicode", () => {
    expect(safeText("user\u202egnp.exe")).toBe("usergnp.exe");
    expect(safeText("\u2066a\u2067b\u2068c\u2069")).toBe("abc");
    expect(safeText("bell\u0007 nul\u0000 del\u007f")).toBe("bell nul del");
    expect(safeText("Zoë 👤 Ünïcödé — ✓")).toBe("Zoë 👤 Ünïcödé — ✓");
  });

  it("keeps one line one line; safeLines keeps line breaks", () => {
    expect(safeText("a\tb\nc\r\nd\u2028e")).toBe("a b c d e");
    expect(safeLines("problem\r\n  fix: x\u001b[2K")).toBe("problem\n  fix: x");
  });
});

/** Strings rich in what terminals interpret: controls, escape introducers, BiDi, plain text. */
const hostileText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        "\u001b",
        "\u009b",
        "\u009d",
        "\u0090",
        "\u009c",
        "\u0007",
        "\u202e",
        "\u2066",
        "\u2069",
        "\r",
        "\n",
        "\t",
        "\u0000",
        "\u007f",
        "[",
        "]",
        "\\",
        ";",
        "P",
        "m",
        "2J",
      ),
      fc.string({ unit: "binary", maxLength: 3 }),
      fc.string({ unit: "grapheme", maxLength: 3 }),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(""));

describe("renderers with hostile names and messages (property)", () => {
  it("safeText: no control, C1 or BiDi character survives; idempotent; plain text is untouched", () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const once = safeText(text);
        expect(once).not.toMatch(UNSAFE);
        expect(safeText(once)).toBe(once);
        expect(safeLines(text)).not.toMatch(UNSAFE_BUT_NEWLINE);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (text) => {
        fc.pre(!UNSAFE.test(text) && !/[\u2028\u2029]/.test(text));
        expect(safeText(text)).toBe(text);
      }),
    );
  });

  it("status and assets views: never throw, never print ESC, C1 or BiDi", () => {
    fc.assert(
      fc.property(
        hostileText,
        hostileText,
        hostileText,
        fc.option(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n })),
        (account, broker, message, cents) => {
          const report = buildReport({
            platform: null,
            users: [
              user(account || "u", [
                row(broker || "b", cents, {
                  status: cents === null ? "exchange_error" : "ok",
                  message,
                  assets: { [broker]: { free: "1", used: "0", total: "1", usdCents: cents } },
                }),
              ]),
            ],
            generatedAt: new Date(0),
          });
          const out = renderStatus(report, { credentials: () => message }) + renderAssets(report);
          expect(out).not.toMatch(UNSAFE_BUT_NEWLINE);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("alerts and history: never throw, never print ESC, C1 or BiDi; alert JSON stays valid", () => {
    fc.assert(
      fc.property(
        hostileText,
        fc.option(hostileText),
        hostileText,
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.option(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n })),
        (account, broker, status, current, previous) => {
          const key = { kind: "user" as const, account, broker };
          const base = { key, currentCents: current, previousCents: previous, at: 0, since: 0 };
          const alerts: Alert[] = [
            { ...base, type: "BALANCE_LOW", threshold: 100n, repeat: false },
            { ...base, type: "BALANCE_DROP", threshold: 12.5, repeat: true },
          ];
          expect(renderAlerts(alerts)).not.toMatch(UNSAFE_BUT_NEWLINE);
          const json = stringifyJson(alerts.map(alertToJson), 0);
          expect(JSON.parse(json)[0].user).toBe(account);
          const samples: Sample[] = [
            { ...key, at: 0, status: "ok", cents: previous, valuation: "cash", assets: null },
            { ...key, at: 1, status, cents: null, valuation: null, assets: null },
            { ...key, at: 2, status: "ok", cents: current, valuation: "cash", assets: null },
          ];
          const text = renderHistory(toSeries(samples), { since: new Date(0) });
          expect(text).not.toMatch(UNSAFE_BUT_NEWLINE);
        },
      ),
      { numRuns: 300 },
    );
  });
});
