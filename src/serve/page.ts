import { formatUsd } from "../money.js";
import { formatAge, STATUS_LABELS } from "../render/labels.js";
import { safeText } from "../render/sanitize.js";

/*
 * The dashboard's three files. They live in strings because the package ships only what tsc
 * writes to dist/ and there is no front-end build step. The client script is plain ES2020 written
 * without template literals (so it embeds here unescaped), takes its status wording and age
 * format from render/labels.ts, and writes data into the page only through textContent, after
 * render/sanitize.ts's safeText (names and broker messages may hold BiDi overrides or controls).
 */

/** The page shell: no data and no inline script or style, so the CSP can forbid both. */
export function pageHtml(refreshSeconds: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>User balances</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body data-refresh-seconds="${Number(refreshSeconds)}">
<header class="top">
  <h1>User balances</h1>
  <p id="freshness" role="status" aria-live="polite">Loading…</p>
</header>
<form id="controls" class="controls" aria-label="View, sort and filter">
  <fieldset id="layout" class="toggle">
    <legend>View</legend>
    <label><input id="layout-cards" type="radio" name="layout" value="cards"> Cards</label>
    <label><input id="layout-table" type="radio" name="layout" value="table"> Table</label>
  </fieldset>
  <span id="card-controls" class="group">
    <label>User <input id="filter-user" type="search" placeholder="id or name" autocomplete="off"></label>
    <label>Broker <select id="filter-broker"><option value="">all brokers</option></select></label>
    <label>Sort <select id="sort">
      <option value="name">by id</option>
      <option value="total">by total, highest first</option>
      <option value="problems">problems first</option>
    </select></label>
  </span>
  <span id="table-controls" class="group" hidden>
    <label>Filter <input id="table-filter" type="search" placeholder="user, broker or status" autocomplete="off"></label>
  </span>
</form>
<p id="error" class="banner" role="alert" hidden></p>
<section id="summary" class="summary" aria-label="Summary"></section>
<div class="panels">
<section id="history" class="panel" aria-labelledby="history-title">
  <div class="panel-head">
    <h2 id="history-title">Platform total and total user capital</h2>
    <fieldset id="range" class="range">
      <legend>Range</legend>
      <label><input type="radio" name="range" value="24h" checked> 24 h</label>
      <label><input type="radio" name="range" value="7d"> 7 d</label>
      <label><input type="radio" name="range" value="30d"> 30 d</label>
    </fieldset>
  </div>
  <figure id="chart" class="chart"><p class="empty">Loading the history…</p></figure>
</section>
<section id="portfolio" class="panel" aria-labelledby="portfolio-title">
  <h2 id="portfolio-title">Portfolio by asset</h2>
  <div id="portfolio-body"><p class="empty">Loading…</p></div>
</section>
</div>
<main>
<div id="cards" class="cards"></div>
<section id="table" class="table-wrap" aria-label="Users, one row each" hidden></section>
</main>
<noscript>This page needs JavaScript. The same figures are at /api/balances.</noscript>
</body>
</html>
`;
}

/** Okabe-Ito colours (safe for the common colour-vision deficiencies), always with an icon and a word. */
export const APP_CSS = `:root {
  --ok: #0072b2; --warn: #e69f00; --fail: #d55e00; --muted: #6b6b6b;
  --bg: #f6f7f9; --card: #fff; --text: #1b1f24; --line: #d8dce1;
  --series-a: #0072b2; --series-b: #c2528f;
  color-scheme: light dark;
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --ok: #56b4e9; --warn: #f0e442; --fail: #e69f00; --muted: #a0a6ad;
    --bg: #111418; --card: #1b1f24; --text: #e8eaed; --line: #343a41;
    --series-a: #56b4e9; --series-b: #e07fb8; }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem; background: var(--bg); color: var(--text); }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 0; overflow-wrap: anywhere; }
.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; }
.top p { margin: 0; color: var(--muted); }
.controls { display: flex; flex-wrap: wrap; gap: .5rem 1rem; margin: .75rem 0; }
.controls label { display: flex; align-items: center; gap: .4rem; }
.controls input, .controls select { font: inherit; padding: .25rem .4rem; max-width: 14rem; }
.controls .group { display: contents; }
[hidden] { display: none !important; }
.toggle { display: flex; align-items: center; gap: .75rem; border: 0; margin: 0; padding: 0; }
.toggle legend { float: left; margin-right: .1rem; padding: 0; }
.controls .toggle input { margin: 0; }
.banner { border: 2px solid var(--fail); border-radius: 6px; padding: .5rem .75rem; background: var(--card); }
.banner::before { content: "✗ "; color: var(--fail); font-weight: bold; }
.summary { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: .75rem; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .4rem .75rem; }
.stat dt { font-size: .8rem; color: var(--muted); }
.stat dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.partial { flex-basis: 100%; margin: 0; }
.partial::before { content: "⚠ "; color: var(--warn); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 20rem), 1fr)); gap: .75rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; }
.card.platform { border-top: 4px solid var(--ok); }
.card-head { display: grid; grid-template-columns: 1fr auto; gap: 0 .5rem; align-items: baseline; }
.card-id { color: var(--muted); font-size: .85rem; overflow-wrap: anywhere; }
.card-total { grid-row: 1 / span 2; grid-column: 2; font-size: 1.2rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.card-note { color: var(--muted); font-size: .85rem; margin: .25rem 0 0; }
.rows { list-style: none; margin: .5rem 0 0; padding: 0; }
.row { display: grid; grid-template-columns: 1fr auto; gap: 0 .5rem; padding: .35rem 0 .35rem .5rem; border-top: 1px solid var(--line); border-left: 4px solid var(--muted); }
.row-broker { font-weight: 600; }
.row-amount { text-align: right; font-variant-numeric: tabular-nums; }
.row-status { grid-column: 1 / -1; font-size: .85rem; overflow-wrap: anywhere; }
.row-status .icon { font-weight: bold; }
.row.ok { border-left-color: var(--ok); } .row.ok .icon { color: var(--ok); }
.row.stale { border-left-color: var(--warn); } .row.stale .icon { color: var(--warn); }
.row.failed { border-left-color: var(--fail); } .row.failed .icon { color: var(--fail); }
.row.muted { color: var(--muted); }
.empty { color: var(--muted); }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
.accounts { border-collapse: collapse; width: 100%; }
.accounts caption { text-align: left; padding: .5rem .75rem; color: var(--muted); }
.accounts th, .accounts td { padding: .3rem .6rem; border-top: 1px solid var(--line); text-align: left; vertical-align: top; }
.accounts thead th { border-top: 0; font-size: .85rem; color: var(--muted); white-space: nowrap; }
.accounts thead th.num { text-align: right; }
.accounts thead button { font: inherit; color: inherit; background: none; border: 0; padding: 0; cursor: pointer; text-decoration: underline dotted; }
.accounts thead [aria-sort] button { color: var(--text); font-weight: 700; text-decoration: none; }
.accounts tbody.users tr:nth-child(even) { background: var(--bg); }
.accounts tbody.platform tr { border-bottom: 3px solid var(--line); }
.accounts tbody th { font-weight: normal; min-width: 9rem; }
.cell-name { display: block; font-weight: 600; overflow-wrap: anywhere; }
.cell-id { display: block; color: var(--muted); font-size: .8rem; overflow-wrap: anywhere; }
.cell-amount, .cell-total { display: block; text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.cell-total { font-weight: 700; }
.cell-state { display: block; text-align: right; font-size: .8rem; white-space: nowrap; }
.cell-summary { font-size: .85rem; white-space: nowrap; }
.cell-summary > span + span::before { content: " · "; color: var(--muted); }
.accounts .ok .icon { color: var(--ok); } .accounts .stale .icon { color: var(--warn); }
.accounts .failed .icon { color: var(--fail); } .accounts .muted { color: var(--muted); }
.accounts td.failed { box-shadow: inset 3px 0 var(--fail); } .accounts td.stale { box-shadow: inset 3px 0 var(--warn); }
.panels { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: .75rem; margin-bottom: .75rem; }
@media (max-width: 56rem) { .panels { grid-template-columns: minmax(0, 1fr); } }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; min-width: 0; }
.panel-head { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: .25rem 1rem; }
.range { display: flex; gap: .75rem; border: 0; margin: 0; padding: 0; }
.range legend { float: left; margin-right: .5rem; color: var(--muted); }
.range label { display: flex; align-items: center; gap: .25rem; }
.chart { margin: .5rem 0 0; }
.chart svg { display: block; width: 100%; height: auto; overflow: visible; }
.chart figcaption { color: var(--muted); font-size: .85rem; margin-top: .25rem; }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; list-style: none; margin: .25rem 0 0; padding: 0; font-size: .9rem; }
.legend li { display: flex; align-items: center; gap: .4rem; }
.legend svg { width: 2.5rem; height: .9rem; }
svg text { fill: var(--text); font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
svg .tick { fill: var(--muted); font-size: 11px; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { stroke: var(--muted); stroke-width: 1; }
.line { fill: none; stroke-width: 2.5; stroke-linejoin: round; stroke-linecap: round; }
.series-platform { stroke: var(--series-a); } .marker.series-platform { fill: var(--series-a); stroke: none; }
.series-capital { stroke: var(--series-b); stroke-dasharray: 7 4; } .marker.series-capital { fill: var(--card); stroke-dasharray: none; stroke-width: 2; }
.end-label { font-weight: 600; }
.spark { display: flex; align-items: center; gap: .5rem; margin-top: .4rem; font-size: .85rem; color: var(--muted); }
.spark svg { width: 7.5rem; height: 1.75rem; flex: none; }
.spark .line { stroke: var(--series-a); stroke-width: 1.5; }
.spark .marker { fill: var(--series-a); }
.shares { list-style: none; margin: .5rem 0 0; padding: 0; max-height: 22rem; overflow-y: auto; }
.share { display: grid; grid-template-columns: minmax(0, 1fr) auto auto; gap: 0 .75rem; align-items: baseline; padding: .3rem 0; border-top: 1px solid var(--line); }
.share-asset { font-weight: 600; overflow-wrap: anywhere; }
.share-usd, .share-pct { text-align: right; font-variant-numeric: tabular-nums; }
.share-pct { min-width: 4.5rem; }
.share svg { grid-column: 1 / -1; width: 100%; height: .5rem; }
.share .bar-track { fill: var(--line); }
.share .bar { fill: var(--series-a); }
.share.other .share-asset, .share.unvalued .share-asset { font-weight: normal; color: var(--muted); }
.share-note { grid-column: 1 / -1; color: var(--muted); font-size: .85rem; }
.panel-note { color: var(--muted); font-size: .85rem; margin: .25rem 0 0; }
`;

export const APP_JS = `"use strict";
(function () {
  var STATUS_LABELS = ${JSON.stringify(STATUS_LABELS)};
  var formatAge = ${formatAge.toString()};
  var safeText = ${safeText.toString()};
  var formatUsd = ${formatUsd.toString()};
  var refreshMs = 1000 * (Number(document.body.dataset.refreshSeconds) || 30);
  var usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  // The report's and the portfolio's amounts arrive as exact decimal text (see readBalances) and
  // are compared, added and formatted as bigint cents; the chart's figures are plain numbers.
  // An unknown figure (null: the broker failed and no older figure stands in) is never $0.00.
  var money = { format: function (value) {
    if (value === null || value === undefined) return "—";
    if (typeof value !== "string") return usd.format(value);
    var cents = toCents(value);
    return cents === null ? value : formatUsd(cents);
  } };
  // Past this many users the table is the default view; the operator's own choice is remembered.
  var TABLE_PAST_USERS = 12;
  var LAYOUT_KEY = "show-user-balances:layout";
  var view = { doc: null, names: null, checkedAt: null, history: null, layout: storedLayout(),
    tableSort: { key: "name", descending: false } };
  var $ = function (id) { return document.getElementById(id); };

  /** "12345678901234567.89" as 1234567890123456789n; null for anything else. */
  function toCents(decimal) {
    var match = typeof decimal === "string" ? /^(-?)(\\d+)(?:\\.(\\d*))?$/.exec(decimal) : null;
    if (!match) return null;
    var cents = BigInt(match[2]) * 100n + BigInt(((match[3] || "") + "00").slice(0, 2));
    return match[1] ? -cents : cents;
  }

  function formatCents(cents) {
    return cents === null ? "—" : formatUsd(cents);
  }

  // JSON.parse reads 12345678901234567.89 as 12345678901234568: a document is parsed again with
  // every number quoted (strings are matched whole, so digits inside them stay as they are) and
  // its amounts are taken from that copy, digit for digit.
  var JSON_TOKEN = /"(?:[^"\\\\]|\\\\.)*"|-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?/g;
  var SUMMARY_AMOUNTS = ["platform_total", "user_totals", "total_user_capital", "average_per_user", "duplicate_usd"];

  function numbersAsText(text) {
    return JSON.parse(text.replace(JSON_TOKEN, function (token) {
      return token.charAt(0) === '"' ? token : '"' + token + '"';
    }));
  }

  function readBalances(text) {
    var doc = JSON.parse(text);
    if (!doc.balances || !doc.summary) return doc;
    var exact = numbersAsText(text);
    doc.balances = exact.balances;
    SUMMARY_AMOUNTS.forEach(function (key) { doc.summary[key] = exact.summary[key]; });
    return doc;
  }

  function readPortfolio(text) {
    var portfolio = JSON.parse(text);
    var exact = numbersAsText(text);
    portfolio.total_usd = exact.total_usd;
    portfolio.assets.forEach(function (line, i) { line.usd = exact.assets[i].usd; });
    return portfolio;
  }

  function storedLayout() {
    try {
      var stored = window.localStorage.getItem(LAYOUT_KEY);
      return stored === "cards" || stored === "table" ? stored : null;
    } catch (error) {
      return null; // storage blocked: the choice lasts until the page is closed
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = safeText(String(text));
    return node;
  }

  // "2026-01-21 16:00:00 UTC": local time, with the date and the zone's name.
  var STAMP = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short" });

  function stamp(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    var part = {};
    STAMP.formatToParts(date).forEach(function (p) { part[p.type] = p.value; });
    return part.year + "-" + part.month + "-" + part.day + " " + part.hour + ":" + part.minute + ":" +
      part.second + " " + part.timeZoneName;
  }

  function zoneName(ms) {
    var zone = STAMP.formatToParts(new Date(ms)).filter(function (p) { return p.type === "timeZoneName"; })[0];
    return zone ? zone.value : "local time";
  }

  function describe(status) {
    // short: the table's word for it; text: the whole story (the cards, the table's tooltip).
    if (status.state === "disabled") return { kind: "muted", icon: "○", short: "disabled", text: "disabled" };
    if (status.state === "no_credentials") {
      return { kind: "muted", icon: "○", short: "no credentials", text: "no credentials" };
    }
    var label = STATUS_LABELS[status.state] || status.state;
    var reason = status.message ? label + ": " + status.message : label;
    if (status.state !== "ok") {
      if (status.source === "stale") {
        var age = formatAge(status.age_seconds || 0);
        return { kind: "stale", icon: "⚠", short: "stale " + age, text: "stale " + age + " ago: " + reason };
      }
      return { kind: "failed", icon: "✗", short: label, text: reason };
    }
    if (status.source === "cached") {
      var cachedAge = formatAge(status.age_seconds || 0);
      return { kind: "ok", icon: "✓", short: "ok", text: "ok, cached " + cachedAge + " ago" };
    }
    return { kind: "ok", icon: "✓", short: "ok", text: "ok, live" };
  }

  function accountsOf(doc, names) {
    var list = [];
    var platformNames = (names && names.platform) || {};
    var userNames = (names && names.users) || {};
    if (Object.keys(doc.balances.platform).length > 0) {
      list.push({ kind: "platform", id: "platform", name: platformNames.name || null,
        balances: doc.balances.platform, status: doc.status.platform, total: toCents(doc.summary.platform_total) });
    }
    Object.keys(doc.balances.users).forEach(function (id) {
      var balances = doc.balances.users[id];
      var total = toCents(doc.summary.user_totals[id]);
      // A disabled user (--include-disabled) has no summary total: its enabled figures, in cents.
      if (!Object.prototype.hasOwnProperty.call(doc.summary.user_totals, id)) {
        total = Object.keys(balances).reduce(function (sum, b) {
          var cents = doc.status.users[id][b].state === "disabled" ? null : toCents(balances[b]);
          return cents === null ? sum : sum + cents;
        }, 0n);
      }
      list.push({ kind: "user", id: id, name: (userNames[id] && userNames[id].name) || null,
        balances: balances, status: doc.status.users[id], total: total });
    });
    return list;
  }

  function problems(account) {
    return Object.keys(account.status).filter(function (b) {
      var s = account.status[b].state;
      return s !== "ok" && s !== "no_credentials" && s !== "disabled";
    }).length;
  }

  // Charts are SVG drawn here: no library, nothing from another origin, text only via textContent.
  var SVG_NS = "http://www.w3.org/2000/svg";
  var RANGE_WORDS = { "24h": "24 h", "7d": "7 d", "30d": "30 d" };
  var SERIES = [
    { key: "platform_total", css: "series-platform", name: "Platform total", short: "Platform", shape: "circle" },
    { key: "total_user_capital", css: "series-capital", name: "Total user capital", short: "Users", shape: "square" },
  ];

  function svg(tag, attrs, className) {
    var node = document.createElementNS(SVG_NS, tag);
    if (className) node.setAttribute("class", className);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, String(attrs[name])); });
    return node;
  }

  function svgText(x, y, text, className, anchor) {
    var node = svg("text", { x: x, y: y, "text-anchor": anchor || "start" }, className);
    node.textContent = safeText(String(text));
    return node;
  }

  function marker(shape, x, y, size, className) {
    if (shape === "square") {
      return svg("rect", { x: x - size, y: y - size, width: 2 * size, height: 2 * size }, className);
    }
    return svg("circle", { cx: x, cy: y, r: size }, className);
  }

  // Runs of known points: an unknown figure (null) breaks the line, it never drops to zero.
  function segments(points) {
    var out = [];
    var run = [];
    points.forEach(function (p) {
      if (p[1] === null) {
        if (run.length) out.push(run);
        run = [];
      } else {
        run.push(p);
      }
    });
    if (run.length) out.push(run);
    return out;
  }

  function knownPoints(points) {
    return points.filter(function (p) { return p[1] !== null; });
  }

  function drawLine(group, points, sx, sy, className, shape, size) {
    segments(points).forEach(function (run) {
      if (run.length === 1) {
        group.append(marker(shape, sx(run[0][0]), sy(run[0][1]), size, "marker " + className));
        return;
      }
      var d = run.map(function (p, i) {
        return (i ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1);
      }).join(" ");
      group.append(svg("path", { d: d }, "line " + className));
    });
  }

  function niceStep(span, count) {
    var raw = span / count;
    var magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    var norm = raw / magnitude;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  }

  function scaleY(values) {
    var lo = Math.min.apply(null, values);
    var hi = Math.max.apply(null, values);
    if (lo === hi) {
      var pad = Math.max(1, Math.abs(lo) * 0.05);
      lo -= pad;
      hi += pad;
    }
    var step = niceStep(hi - lo, 4);
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    var ticks = [];
    for (var v = lo; v <= hi + step / 2; v += step) ticks.push(v);
    var tick = new Intl.NumberFormat("en-US", step >= 1000
      ? { style: "currency", currency: "USD", notation: "compact", maximumFractionDigits: 1 }
      : { style: "currency", currency: "USD", maximumFractionDigits: step < 1 ? 2 : 0 });
    return { lo: lo, hi: hi, ticks: ticks, format: tick.format };
  }

  // Axis ticks in the page's zone, which the legend names; 24 h spans two dates, so they show.
  function when(ms, range) {
    var date = new Date(ms);
    return range === "24h"
      ? date.toLocaleString("en-US", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      : date.toLocaleDateString("en-US", { month: "short", day: "numeric" });
  }

  function legend(until) {
    var list = el("ul", "legend");
    SERIES.forEach(function (s) {
      var item = el("li", null);
      var sample = svg("svg", { viewBox: "0 0 40 14", "aria-hidden": "true" });
      sample.append(svg("path", { d: "M2 7 L38 7" }, "line " + s.css));
      sample.append(marker(s.shape, 20, 7, 3.5, "marker " + s.css));
      item.append(sample, el("span", null, s.name + (s.shape === "square" ? " (dashed, squares)" : " (solid, dots)")));
      list.append(item);
    });
    list.append(el("li", "legend-zone", "Times in " + zoneName(until)));
    return list;
  }

  function renderChart() {
    var figure = $("chart");
    var h = view.history;
    if (!h) return;
    var word = RANGE_WORDS[h.range] || h.range;
    var lines = SERIES.map(function (s) { return { s: s, points: h[s.key] || [] }; });
    var values = [];
    lines.forEach(function (l) { knownPoints(l.points).forEach(function (p) { values.push(p[1]); }); });
    if (!h.recorded || values.length === 0) {
      figure.replaceChildren(el("p", "empty", h.recorded
        ? "Nothing recorded in the last " + word + "."
        : "No history recorded yet: report runs that fetch (and serve, as it refreshes) record it."));
      figure.dataset.points = "0";
      return;
    }
    var W = 720, H = 250, left = 64, right = 160, top = 12, bottom = 26;
    var since = Date.parse(h.since), until = Date.parse(h.until);
    var y = scaleY(values);
    var sx = function (t) { return left + (W - left - right) * (t - since) / Math.max(1, until - since); };
    var sy = function (v) { return top + (H - top - bottom) * (y.hi - v) / (y.hi - y.lo); };
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "chart-caption" });
    chart.dataset.chart = "totals";
    y.ticks.forEach(function (v) {
      chart.append(svg("line", { x1: left, x2: W - right, y1: sy(v), y2: sy(v) }, "grid"));
      chart.append(svgText(left - 6, sy(v) + 4, y.format(v), "tick", "end"));
    });
    chart.append(svg("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom }, "axis"));
    for (var i = 0; i <= 3; i++) {
      var t = since + (until - since) * i / 3;
      chart.append(svgText(sx(t), H - 8, when(t, h.range), "tick", i === 0 ? "start" : i === 3 ? "end" : "middle"));
    }
    // Direct labels at each line's last known point, pushed apart when they would overlap.
    var ends = [];
    lines.forEach(function (l) {
      drawLine(chart, l.points, sx, sy, l.s.css, l.s.shape, 3.5);
      var known = knownPoints(l.points);
      var last = known[known.length - 1];
      if (!last) return;
      chart.append(marker(l.s.shape, sx(last[0]), sy(last[1]), 4, "marker " + l.s.css));
      ends.push({ s: l.s, x: sx(last[0]) + 8, y: sy(last[1]) + 4, value: last[1] });
    });
    ends.sort(function (a, b) { return a.y - b.y; });
    if (ends.length === 2 && ends[1].y - ends[0].y < 15) {
      var middle = (ends[0].y + ends[1].y) / 2;
      ends[0].y = middle - 7.5;
      ends[1].y = middle + 7.5;
    }
    ends.forEach(function (e) {
      var label = svgText(e.x, e.y, e.s.short + " " + money.format(e.value), "end-label");
      label.dataset.series = e.s.key;
      chart.append(label);
    });
    var caption = el("figcaption", null, "Last " + word + ": " + lines.map(function (l) {
      var known = knownPoints(l.points);
      if (!l.points.length) return l.s.name + " not recorded";
      if (!known.length) return l.s.name + " unknown (a broker failed)";
      return l.s.name + " " + money.format(known[0][1]) + " → " + money.format(known[known.length - 1][1]);
    }).join(" · ") + ". A gap is a time with an unknown figure (a broker failed).");
    caption.id = "chart-caption";
    figure.dataset.points = String(values.length);
    figure.replaceChildren(chart, legend(until), caption);
  }

  // A user's (or the platform's) total over the chosen range, beside the card's total.
  function sparkline(points) {
    var h = view.history;
    var known = knownPoints(points || []);
    if (!h || !known.length) return null;
    var W = 120, H = 28;
    var since = Date.parse(h.since), until = Date.parse(h.until);
    var lo = Math.min.apply(null, known.map(function (p) { return p[1]; }));
    var hi = Math.max.apply(null, known.map(function (p) { return p[1]; }));
    var sx = function (t) { return 2 + (W - 4) * (t - since) / Math.max(1, until - since); };
    var sy = function (v) { return hi === lo ? H / 2 : 3 + (H - 6) * (hi - v) / (hi - lo); };
    var box = el("div", "spark");
    var text = (RANGE_WORDS[h.range] || h.range) + ": " + (known.length === 1
      ? money.format(known[0][1]) + ", one figure so far"
      : money.format(known[0][1]) + " → " + money.format(known[known.length - 1][1]));
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": safeText(text) });
    drawLine(chart, points, sx, sy, "", "circle", 1.5);
    var last = known[known.length - 1];
    chart.append(marker("circle", sx(last[0]), sy(last[1]), 2.5, "marker"));
    box.append(chart, el("span", "spark-text", text));
    return box;
  }

  function shareRow(line) {
    var kind = line.kind === "asset" ? (line.usd === null ? "unvalued" : "asset") : "other";
    var item = el("li", "share " + kind);
    item.dataset.asset = line.asset;
    var merged = line.members.length > 1 || (line.members[0] !== undefined && line.members[0] !== line.asset);
    item.append(el("span", "share-asset", merged ? line.asset + " (" + line.members.join(", ") + ")" : line.asset));
    item.append(el("span", "share-usd", money.format(line.usd)));
    item.append(el("span", "share-pct", line.share_percent === null ? "—" : line.share_percent.toFixed(2) + " %"));
    if (line.share_percent !== null) {
      var bar = svg("svg", { viewBox: "0 0 100 6", preserveAspectRatio: "none", "aria-hidden": "true" });
      bar.append(svg("rect", { x: 0, y: 0, width: 100, height: 6 }, "bar-track"));
      bar.append(svg("rect", { x: 0, y: 0, width: Math.max(0, Math.min(100, line.share_percent)), height: 6 }, "bar"));
      item.append(bar);
    }
    var note = line.kind !== "asset" ? null
      : line.usd === null ? line.amount + " held, no USD price"
      : line.unvalued_amount && line.unvalued_amount !== "0" ? line.unvalued_amount + " of it has no USD price"
      : null;
    var holders = line.accounts + " broker account" + (line.accounts === 1 ? "" : "s");
    item.append(el("span", "share-note", (note ? note + " · " : "") + holders));
    return item;
  }

  function renderPortfolio(p) {
    var body = $("portfolio-body");
    if (!p.assets.length) {
      body.replaceChildren(el("p", "empty", "No holdings to show."));
      return;
    }
    var out = [];
    if (p.rows.unknown) out.push(p.rows.unknown + " with no figure");
    if (p.rows.duplicate) out.push(p.rows.duplicate + " sharing another's key");
    if (p.rows.disabled) out.push(p.rows.disabled + " disabled");
    var note = el("p", "panel-note", "Total " + money.format(p.total_usd) + " (platform and users) over " +
      p.rows.counted + " broker account" + (p.rows.counted === 1 ? "" : "s") +
      (out.length ? "; left out as in the totals: " + out.join(", ") : "") + ".");
    var list = el("ol", "shares");
    p.assets.forEach(function (line) { list.append(shareRow(line)); });
    body.replaceChildren(note, list);
  }

  function selectedRange() {
    var checked = document.querySelector("#range input:checked");
    return checked ? checked.value : "24h";
  }

  function loadHistory() {
    var range = selectedRange();
    return getJson("/api/history?range=" + encodeURIComponent(range)).then(function (h) {
      if (range !== selectedRange()) return;
      view.history = h;
      renderChart();
      renderAccounts();
    }, function (error) {
      view.history = null;
      $("chart").replaceChildren(el("p", "empty", "History unavailable: " + error.message));
    });
  }

  function loadPortfolio() {
    return getText("/api/portfolio").then(readPortfolio).then(renderPortfolio, function (error) {
      $("portfolio-body").replaceChildren(el("p", "empty", "Portfolio unavailable: " + error.message));
    });
  }

  // The line under the title says "platform account": the title is the name alone, so a platform
  // named "Platform" reads once.
  function title(account) {
    return account.name || (account.kind === "platform" ? "Platform" : account.id);
  }

  function card(account, broker) {
    var article = el("article", "card " + account.kind);
    article.dataset.account = account.kind === "platform" ? "platform" : "user:" + account.id;
    var head = el("header", "card-head");
    head.append(el("h2", "card-name", title(account)));
    head.append(el("span", "card-id", account.kind === "platform" ? "platform account" : "id: " + account.id));
    var total = el("span", "card-total", formatCents(account.total));
    total.title = "total of this account's enabled brokers";
    head.append(total);
    article.append(head);
    var history = view.history;
    var spark = history && sparkline(account.kind === "platform"
      ? history.platform_total : (history.users || {})[account.id]);
    if (spark) article.append(spark);
    var rows = el("ul", "rows");
    Object.keys(account.balances).forEach(function (b) {
      if (broker && b !== broker) return;
      var status = account.status[b];
      var seen = describe(status);
      var row = el("li", "row " + seen.kind);
      row.dataset.broker = b;
      row.dataset.state = status.state;
      row.append(el("span", "row-broker", b.toUpperCase()));
      row.append(el("span", "row-amount", money.format(account.balances[b])));
      var line = el("span", "row-status");
      var icon = el("span", "icon", seen.icon);
      icon.setAttribute("aria-hidden", "true");
      line.append(icon, " ", el("span", "row-text", seen.text));
      if (status.unpriced && status.unpriced.length) {
        line.append(el("span", "row-unpriced", " · ⓘ no USD price for " + status.unpriced.join(", ")));
      }
      row.append(line);
      rows.append(row);
    });
    if (!rows.childElementCount) rows.append(el("li", "empty", "no brokers"));
    article.append(rows);
    return article;
  }

  function stat(label, value) {
    var box = el("dl", "stat");
    box.append(el("dt", null, label), el("dd", null, value));
    return box;
  }

  function renderSummary(doc) {
    var s = doc.summary;
    var failed = 0;
    accountsOf(doc, view.names).forEach(function (a) { failed += problems(a); });
    var parts = [
      stat("Users", s.user_count),
      stat("Total user capital", money.format(s.total_user_capital)),
      stat("Average per user", money.format(s.average_per_user)),
      stat("Platform total", money.format(s.platform_total)),
    ];
    if (doc.partial) {
      parts.push(el("p", "partial", failed + " broker" + (failed === 1 ? "" : "s") +
        " failed: totals are partial (see the brokers marked ✗ or ⚠)"));
    }
    $("summary").replaceChildren.apply($("summary"), parts);
  }

  function brokerIds(accounts) {
    var brokers = {};
    accounts.forEach(function (a) {
      Object.keys(a.balances).forEach(function (b) { brokers[b] = true; });
    });
    return Object.keys(brokers).sort();
  }

  function syncBrokerChoices(doc) {
    var select = $("filter-broker");
    var wanted = brokerIds(accountsOf(doc, view.names));
    var have = Array.prototype.slice.call(select.options, 1).map(function (o) { return o.value; });
    if (wanted.join(",") === have.join(",")) return;
    var current = select.value;
    var options = [el("option", null, "all brokers")];
    options[0].value = "";
    wanted.forEach(function (b) {
      var option = el("option", null, b);
      option.value = b;
      options.push(option);
    });
    select.replaceChildren.apply(select, options);
    select.value = wanted.indexOf(current) >= 0 ? current : "";
  }

  function byId(a, b) {
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  // Highest first, an unknown total last; bigint cents, so two totals a cent apart never tie.
  function byTotal(a, b) {
    if (a.total === b.total) return 0;
    if (a.total === null) return 1;
    if (b.total === null) return -1;
    return a.total > b.total ? -1 : 1;
  }

  function renderCards() {
    var doc = view.doc;
    var query = $("filter-user").value.trim().toLowerCase();
    var broker = $("filter-broker").value;
    var sort = $("sort").value;
    var users = accountsOf(doc, view.names).filter(function (a) { return a.kind === "user"; });
    var platform = accountsOf(doc, view.names).filter(function (a) { return a.kind === "platform"; });
    users = users.filter(function (a) {
      var matches = !query || a.id.toLowerCase().indexOf(query) >= 0 ||
        (a.name !== null && a.name.toLowerCase().indexOf(query) >= 0);
      return matches && (!broker || Object.prototype.hasOwnProperty.call(a.balances, broker));
    });
    users.sort(function (a, b) {
      if (sort === "total" && byTotal(a, b) !== 0) return byTotal(a, b);
      if (sort === "problems" && problems(a) !== problems(b)) return problems(b) - problems(a);
      return byId(a, b);
    });
    // Like the CLI: a user filter leaves the platform out.
    var shown = query ? [] : platform.filter(function (a) {
      return !broker || Object.prototype.hasOwnProperty.call(a.balances, broker);
    });
    var cards = shown.concat(users).map(function (a) { return card(a, broker); });
    if (!cards.length) cards.push(el("p", "empty", "No account matches the filter."));
    $("cards").replaceChildren.apply($("cards"), cards);
  }

  // The table: one row per user, a column per broker, sorted by a header and filtered by one box.
  var NATURAL = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  var TABLE_SORTS = {
    name: { label: "User", descending: false, compare: function (a, b) {
      return NATURAL.compare(title(a), title(b)) || byId(a, b);
    } },
    total: { label: "Total", descending: true, compare: function (a, b) { return -byTotal(a, b) || byId(a, b); } },
    status: { label: "Status", descending: true, compare: function (a, b) {
      return problems(a) - problems(b) || byId(a, b);
    } },
  };

  function statusSummary(account) {
    var counts = { failed: 0, stale: 0, ok: 0 };
    var muted = {};
    Object.keys(account.status).forEach(function (b) {
      var seen = describe(account.status[b]);
      if (seen.kind === "muted") muted[seen.short] = (muted[seen.short] || 0) + 1;
      else counts[seen.kind] += 1;
    });
    var parts = [];
    if (counts.failed) parts.push({ kind: "failed", icon: "✗", text: counts.failed + " failed" });
    if (counts.stale) parts.push({ kind: "stale", icon: "⚠", text: counts.stale + " stale" });
    if (counts.ok) parts.push({ kind: "ok", icon: "✓", text: counts.ok + " ok" });
    Object.keys(muted).forEach(function (word) {
      parts.push({ kind: "muted", icon: "○", text: muted[word] + " " + word });
    });
    return parts;
  }

  /** What the filter box searches: id, name, broker ids and every status word and reason. */
  function tableText(account) {
    var words = [account.id, title(account)];
    Object.keys(account.status).forEach(function (b) {
      var seen = describe(account.status[b]);
      words.push(b, seen.short, seen.text);
    });
    statusSummary(account).forEach(function (part) { words.push(part.text); });
    return safeText(words.join("\\n").toLowerCase());
  }

  function iconed(tag, className, icon, text) {
    var node = el(tag, className);
    var mark = el("span", "icon", icon);
    mark.setAttribute("aria-hidden", "true");
    node.append(mark, " ", el("span", null, text));
    return node;
  }

  function tableRow(account, brokers) {
    var tr = el("tr");
    tr.dataset.row = account.kind === "platform" ? "platform" : "user:" + account.id;
    var who = el("th");
    who.scope = "row";
    who.append(el("span", "cell-name", title(account)),
      el("span", "cell-id", account.kind === "platform" ? "platform account" : account.name ? account.id : ""));
    tr.append(who);
    brokers.forEach(function (b) {
      var td = el("td", "cell-broker");
      td.dataset.broker = b;
      if (Object.prototype.hasOwnProperty.call(account.status, b)) {
        var status = account.status[b];
        var seen = describe(status);
        td.className = "cell-broker " + seen.kind;
        td.dataset.state = status.state;
        var unpriced = status.unpriced && status.unpriced.length ? " · no USD price for " + status.unpriced.join(", ") : "";
        td.title = safeText(b.toUpperCase() + ": " + seen.text + unpriced);
        td.append(el("span", "cell-amount", money.format(account.balances[b])),
          iconed("span", "cell-state", seen.icon, seen.short + (unpriced ? " ⓘ" : "")));
      }
      tr.append(td);
    });
    var total = el("td");
    total.append(el("span", "cell-total", formatCents(account.total)));
    var summary = el("td", "cell-summary");
    statusSummary(account).forEach(function (part) {
      summary.append(iconed("span", part.kind, part.icon, part.text));
    });
    tr.append(total, summary);
    return tr;
  }

  function tableHead(brokers) {
    var sort = view.tableSort;
    var row = el("tr");
    var header = function (key, numeric) {
      var th = el("th", numeric ? "num" : null);
      th.scope = "col";
      var button = el("button", null, TABLE_SORTS[key].label);
      button.type = "button";
      button.dataset.sort = key;
      if (sort.key === key) {
        th.setAttribute("aria-sort", sort.descending ? "descending" : "ascending");
        var arrow = el("span", null, sort.descending ? " ▼" : " ▲");
        arrow.setAttribute("aria-hidden", "true");
        button.append(arrow);
      }
      th.append(button);
      return th;
    };
    row.append(header("name", false));
    brokers.forEach(function (b) {
      var th = el("th", "num", b.toUpperCase());
      th.scope = "col";
      row.append(th);
    });
    row.append(header("total", true), header("status", false));
    var thead = el("thead");
    thead.append(row);
    return thead;
  }

  function renderTable() {
    var accounts = accountsOf(view.doc, view.names);
    var brokers = brokerIds(accounts);
    var query = $("table-filter").value.trim().toLowerCase();
    var matches = function (a) { return !query || tableText(a).indexOf(query) >= 0; };
    var users = accounts.filter(function (a) { return a.kind === "user"; });
    var shown = users.filter(matches);
    var sort = view.tableSort;
    shown.sort(function (a, b) {
      var order = TABLE_SORTS[sort.key].compare(a, b);
      return sort.descending ? -order : order;
    });
    var table = el("table", "accounts");
    table.append(el("caption", null, (query ? shown.length + " of " : "") + users.length +
      " user" + (users.length === 1 ? "" : "s") + (query ? " match the filter" : "") +
      " · click User, Total or Status to sort"));
    table.append(tableHead(brokers));
    var platform = accounts.filter(function (a) { return a.kind === "platform" && matches(a); });
    if (platform.length) {
      var pinned = el("tbody", "platform");
      platform.forEach(function (a) { pinned.append(tableRow(a, brokers)); });
      table.append(pinned);
    }
    var body = el("tbody", "users");
    shown.forEach(function (a) { body.append(tableRow(a, brokers)); });
    if (!shown.length) {
      var none = el("td", "empty", "No user matches the filter.");
      none.colSpan = brokers.length + 3;
      var tr = el("tr");
      tr.append(none);
      body.append(tr);
    }
    table.append(body);
    $("table").replaceChildren(table);
  }

  function currentLayout() {
    if (view.layout) return view.layout;
    return Object.keys(view.doc.balances.users).length > TABLE_PAST_USERS ? "table" : "cards";
  }

  function renderAccounts() {
    if (!view.doc) return;
    var layout = currentLayout();
    var table = layout === "table";
    $("layout-" + layout).checked = true;
    $("card-controls").hidden = table;
    $("table-controls").hidden = !table;
    $("cards").hidden = table;
    $("table").hidden = !table;
    // Only the view on screen is built (and the other emptied): a refresh renders 500 users once.
    $(table ? "cards" : "table").replaceChildren();
    if (table) renderTable();
    else renderCards();
  }

  function render() {
    var doc = view.doc;
    renderSummary(doc);
    syncBrokerChoices(doc);
    renderAccounts();
    var when = el("time", null, stamp(doc.timestamp));
    when.dateTime = doc.timestamp;
    $("freshness").replaceChildren("Data from ", when, " · checked " + stamp(view.checkedAt) +
      " · refreshes every " + refreshMs / 1000 + " s");
  }

  function get(path) {
    return fetch(path, { credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) {
        var error = new Error(response.status === 401
          ? "access denied: open the dashboard with its token (…/?token=…)"
          : "the server answered HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response;
    });
  }

  function getJson(path) {
    return get(path).then(function (response) { return response.json(); });
  }

  function getText(path) {
    return get(path).then(function (response) { return response.text(); });
  }

  function showError(message) {
    var banner = $("error");
    banner.textContent = safeText(view.doc
      ? "Refresh failed (" + message + "); the figures below are from the last good refresh."
      : "Could not load the balances: " + message);
    banner.hidden = false;
  }

  function refresh() {
    Promise.all([getText("/api/balances").then(readBalances), getJson("/api/accounts")]).then(function (answers) {
      view.doc = answers[0];
      view.names = answers[1];
      view.checkedAt = new Date().toISOString();
      $("error").hidden = true;
      render();
      // After the balances: the portfolio is built from the report they just refreshed.
      loadPortfolio();
      loadHistory();
      // The server kept the last good document after an internal error: say so.
      if (view.doc.refresh_error) showError(String(view.doc.refresh_error));
      setTimeout(refresh, refreshMs);
    }, function (error) {
      showError(error.message);
      if (error.status !== 401) setTimeout(refresh, refreshMs);
    });
  }

  $("controls").addEventListener("submit", function (event) { event.preventDefault(); });
  ["filter-user", "filter-broker", "sort", "table-filter"].forEach(function (id) {
    $(id).addEventListener("input", renderAccounts);
  });
  $("layout").addEventListener("change", function (event) {
    view.layout = event.target.value;
    try {
      window.localStorage.setItem(LAYOUT_KEY, view.layout);
    } catch (error) {
      // storage blocked: the choice lasts until the page is closed
    }
    renderAccounts();
  });
  $("table").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-sort]");
    if (!button) return;
    var key = button.dataset.sort;
    view.tableSort = view.tableSort.key === key
      ? { key: key, descending: !view.tableSort.descending }
      : { key: key, descending: TABLE_SORTS[key].descending };
    renderTable();
    // The header was rebuilt: keep the keyboard where it was.
    $("table").querySelector('button[data-sort="' + key + '"]').focus();
  });
  $("range").addEventListener("change", loadHistory);
  refresh();
})();
`;
