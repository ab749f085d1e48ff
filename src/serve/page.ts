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
<form id="controls" class="controls" aria-label="Sort and filter">
  <label>User <input id="filter-user" type="search" placeholder="id or name" autocomplete="off"></label>
  <label>Broker <select id="filter-broker"><option value="">all brokers</option></select></label>
  <label>Sort <select id="sort">
    <option value="name">by id</option>
    <option value="total">by total, highest first</option>
    <option value="problems">problems first</option>
  </select></label>
</form>
<p id="error" class="banner" role="alert" hidden></p>
<section id="summary" class="summary" aria-label="Summary"></section>
<main id="cards" class="cards"></main>
<noscript>This page needs JavaScript. The same figures are at /api/balances.</noscript>
</body>
</html>
`;
}

/** Okabe-Ito colours (safe for the common colour-vision deficiencies), always with an icon and a word. */
export const APP_CSS = `:root {
  --ok: #0072b2; --warn: #e69f00; --fail: #d55e00; --muted: #6b6b6b;
  --bg: #f6f7f9; --card: #fff; --text: #1b1f24; --line: #d8dce1;
  color-scheme: light dark;
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --ok: #56b4e9; --warn: #f0e442; --fail: #e69f00; --muted: #a0a6ad;
    --bg: #111418; --card: #1b1f24; --text: #e8eaed; --line: #343a41; }
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
`;

export const APP_JS = `"use strict";
(function () {
  var STATUS_LABELS = ${JSON.stringify(STATUS_LABELS)};
  var formatAge = ${formatAge.toString()};
  var safeText = ${safeText.toString()};
  var refreshMs = 1000 * (Number(document.body.dataset.refreshSeconds) || 30);
  var usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  // An unknown figure (null: the broker failed and no older figure stands in) is never $0.00.
  var money = { format: function (value) { return value === null || value === undefined ? "—" : usd.format(value); } };
  var view = { doc: null, names: null, checkedAt: null };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = safeText(String(text));
    return node;
  }

  function time(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : date.toLocaleTimeString();
  }

  function describe(status) {
    if (status.state === "disabled") return { kind: "muted", icon: "○", text: "disabled" };
    if (status.state === "no_credentials") return { kind: "muted", icon: "○", text: "no credentials" };
    var label = STATUS_LABELS[status.state] || status.state;
    var reason = status.message ? label + ": " + status.message : label;
    if (status.state !== "ok") {
      if (status.source === "stale") {
        return { kind: "stale", icon: "⚠", text: "stale " + formatAge(status.age_seconds || 0) + " ago: " + reason };
      }
      return { kind: "failed", icon: "✗", text: reason };
    }
    if (status.source === "cached") {
      return { kind: "ok", icon: "✓", text: "ok, cached " + formatAge(status.age_seconds || 0) + " ago" };
    }
    return { kind: "ok", icon: "✓", text: "ok, live" };
  }

  function accountsOf(doc, names) {
    var list = [];
    var platformNames = (names && names.platform) || {};
    var userNames = (names && names.users) || {};
    if (Object.keys(doc.balances.platform).length > 0) {
      list.push({ kind: "platform", id: "platform", name: platformNames.name || null,
        balances: doc.balances.platform, status: doc.status.platform, total: doc.summary.platform_total });
    }
    Object.keys(doc.balances.users).forEach(function (id) {
      var balances = doc.balances.users[id];
      var total = doc.summary.user_totals[id];
      if (total === undefined) {
        total = Object.keys(balances).reduce(function (sum, b) {
          return doc.status.users[id][b].state === "disabled" || balances[b] === null ? sum : sum + balances[b];
        }, 0);
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

  function card(account, broker) {
    var article = el("article", "card " + account.kind);
    article.dataset.account = account.kind === "platform" ? "platform" : "user:" + account.id;
    var head = el("header", "card-head");
    var title = account.kind === "platform"
      ? "Platform" + (account.name ? " · " + account.name : "")
      : account.name || account.id;
    head.append(el("h2", "card-name", title));
    head.append(el("span", "card-id", account.kind === "platform" ? "platform account" : "id: " + account.id));
    var total = el("span", "card-total", money.format(account.total));
    total.title = "total of this account's enabled brokers";
    head.append(total);
    article.append(head);
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
        " failed: totals are partial (see the cards marked ✗ or ⚠)"));
    }
    $("summary").replaceChildren.apply($("summary"), parts);
  }

  function syncBrokerChoices(doc) {
    var select = $("filter-broker");
    var brokers = {};
    accountsOf(doc, view.names).forEach(function (a) {
      Object.keys(a.balances).forEach(function (b) { brokers[b] = true; });
    });
    var wanted = Object.keys(brokers).sort();
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

  function renderCards() {
    var doc = view.doc;
    if (!doc) return;
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
      if (sort === "total" && a.total !== b.total) return (b.total || 0) - (a.total || 0);
      if (sort === "problems" && problems(a) !== problems(b)) return problems(b) - problems(a);
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
    // Like the CLI: a user filter leaves the platform out.
    var shown = query ? [] : platform.filter(function (a) {
      return !broker || Object.prototype.hasOwnProperty.call(a.balances, broker);
    });
    var cards = shown.concat(users).map(function (a) { return card(a, broker); });
    if (!cards.length) cards.push(el("p", "empty", "No account matches the filter."));
    $("cards").replaceChildren.apply($("cards"), cards);
  }

  function render() {
    var doc = view.doc;
    renderSummary(doc);
    syncBrokerChoices(doc);
    renderCards();
    var when = el("time", null, time(doc.timestamp));
    when.dateTime = doc.timestamp;
    $("freshness").replaceChildren("Data from ", when, " · checked " + time(view.checkedAt) +
      " · refreshes every " + refreshMs / 1000 + " s");
  }

  function getJson(path) {
    return fetch(path, { credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) {
        var error = new Error(response.status === 401
          ? "access denied: open the dashboard with its token (…/?token=…)"
          : "the server answered HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response.json();
    });
  }

  function showError(message) {
    var banner = $("error");
    banner.textContent = safeText(view.doc
      ? "Refresh failed (" + message + "); the figures below are from the last good refresh."
      : "Could not load the balances: " + message);
    banner.hidden = false;
  }

  function refresh() {
    Promise.all([getJson("/api/balances"), getJson("/api/accounts")]).then(function (answers) {
      view.doc = answers[0];
      view.names = answers[1];
      view.checkedAt = new Date().toISOString();
      $("error").hidden = true;
      render();
      // The server kept the last good document after an internal error: say so.
      if (view.doc.refresh_error) showError(String(view.doc.refresh_error));
      setTimeout(refresh, refreshMs);
    }, function (error) {
      showError(error.message);
      if (error.status !== 401) setTimeout(refresh, refreshMs);
    });
  }

  $("controls").addEventListener("submit", function (event) { event.preventDefault(); });
  ["filter-user", "filter-broker", "sort"].forEach(function (id) {
    $(id).addEventListener("input", renderCards);
  });
  refresh();
})();
`;
