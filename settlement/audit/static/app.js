// fedsettle auditor dashboard: plain JS, no dependencies. Reads the read-only audit API.
"use strict";

const ETHER = { token: null, symbol: "ETH", decimals: 18 };
// The asset the current page's amounts are in (a round page: its token's symbol and decimals).
let ASSET = ETHER;
const SVG_NS = "http://www.w3.org/2000/svg";
const COLORS = { c: "#2f5fb3", pos: "#2f8f5b", neg: "#c2453b", dep: "#9aa8c4", pay: "#2f5fb3" };

// ------------------------------------------------------------------ data helpers
let LABELS = {};

// Every amount and score comes as a decimal string (?amounts=string): exact in JavaScript.
async function api(path) {
  const url = path + (path.includes("?") ? "&" : "?") + "amounts=string";
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).message || text; } catch (e) { /* not JSON */ }
    throw new Error(`${response.status}: ${message}`);
  }
  return JSON.parse(text);
}

function big(v) {
  if (typeof v === "bigint") return v;
  if (v === null || v === undefined) return 0n;
  return BigInt(v);
}

function fmtWei(v) { return big(v).toString(); }

function fmtEth(v, digits = 6) {
  const w = big(v);
  if (ASSET.decimals === null || ASSET.decimals === undefined) return w.toString();
  const neg = w < 0n;
  const a = neg ? -w : w;
  const scale = 10n ** BigInt(ASSET.decimals);
  const whole = a / scale;
  const places = Math.min(digits, ASSET.decimals);
  const frac = (a % scale).toString().padStart(ASSET.decimals, "0").slice(0, places);
  return `${neg ? "-" : ""}${whole.toString()}${places ? "." + frac : ""}`;
}

function isEther() { return !ASSET.token || /^0x0+$/.test(ASSET.token); }

// The current asset's display name ("ETH", "tUSD", or "token units" when unknown).
function sym() {
  if (ASSET.decimals === null || ASSET.decimals === undefined) return "token units";
  return ASSET.symbol || "token";
}


// The display unit for a set of wei amounts: ETH, gwei or wei, whichever keeps numbers readable.
function unitFor(values) {
  if (!isEther()) {
    return ASSET.decimals === null || ASSET.decimals === undefined
      ? { name: "token units", div: 1 } : { name: sym(), div: 10 ** ASSET.decimals };
  }
  const maxAbs = Math.max(0, ...values.map((v) => Math.abs(Number(big(v)))));
  if (maxAbs >= 1e15) return { name: "ETH", div: 1e18 };
  if (maxAbs >= 1e6) return { name: "gwei", div: 1e9 };
  return { name: "wei", div: 1 };
}

// An amount shown in ETH, with the exact wei on hover and in data-wei.
function amount(v, attrs = {}) {
  const w = big(v);
  const cls = `num mono ${attrs.signed ? (w > 0n ? "pos" : w < 0n ? "neg" : "") : ""}`;
  const base = isEther() ? "wei" : "base units";
  return h("td", { class: cls, title: `${w.toString()} ${base}`, "data-wei": w.toString(),
    "data-field": attrs.field }, `${fmtEth(w)}`);
}

function pendingCell(field) {
  return h("td", { class: "num muted", "data-field": field, "data-pending": "true",
    title: "the round is not settled yet" }, "pending");
}

function orgLink(address) {
  const label = LABELS[address];
  return h("a", { href: `#/orgs/${address}`, class: label ? "" : "mono", title: address,
    "data-account": address }, label || short(address));
}

function txLink(ref) {
  return h("span", { class: "mono" },
    h("a", { href: `#/tx/${ref.tx_hash}`, title: ref.tx_hash, "data-tx": ref.tx_hash }, short(ref.tx_hash)),
    " in ",
    h("a", { href: `#/blocks/${ref.block_number}`, title: ref.block_hash }, `block ${ref.block_number}`));
}

function fmtTime(ts) {
  if (ts === null || ts === undefined) return "–";
  return new Date(Number(ts) * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

function short(addr) { return addr ? `${addr.slice(0, 6)}…${addr.slice(-4)}` : "–"; }

function fmtNum(x) {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e12 || a < 1e-3)) return x.toExponential(3);
  if (a >= 1e4) return Math.round(x).toLocaleString("en-US");
  return Number(x.toPrecision(6)).toString();
}

// ------------------------------------------------------------------ DOM helpers
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function badge(text, cls) { return h("span", { class: `badge ${cls}` }, text); }

function phaseBadge(phase) {
  const cls = phase === "Settled" ? "ok" : phase === "Abandoned" ? "warn" : "muted";
  return badge(phase, cls);
}

function verifyBadge(v) {
  if (!v) return badge("…", "muted");
  const el = v.status === "verified" ? badge("verified", "ok")
    : v.status === "failed" ? badge("MISMATCH", "bad") : badge("not verified", "muted");
  el.title = v.summary;
  el.dataset.status = v.status;
  return el;
}

function show(...nodes) {
  const view = document.getElementById("view");
  view.replaceChildren(...nodes);
}

function showError(err) {
  show(h("p", { class: "error", role: "alert" }, `Could not load: ${err.message}`),
    h("p", {}, h("a", { href: "#/" }, "Back to the rounds")));
}

// ------------------------------------------------------------------ plots (inline SVG)
function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) { const d = Math.abs(lo) || 1; lo -= d; hi += d; }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) || raw;
  const start = Math.floor(lo / step) * step;
  const ticks = [];
  for (let t = start; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

function frame(width, height, m, xTicks, yTicks, sx, sy, xLabel, yLabel, xTickLabel) {
  const g = [];
  for (const t of yTicks) {
    const y = sy(t);
    g.push(s("line", { class: "grid", x1: m.l, x2: width - m.r, y1: y, y2: y }));
    g.push(s("text", { x: m.l - 6, y: y + 4, "text-anchor": "end" }, fmtNum(t)));
  }
  for (const t of xTicks) {
    const x = sx(t);
    g.push(s("line", { class: "axis", x1: x, x2: x, y1: height - m.b, y2: height - m.b + 4 }));
    g.push(s("text", { x, y: height - m.b + 16, "text-anchor": "middle" },
      xTickLabel ? xTickLabel(t) : fmtNum(t)));
  }
  g.push(s("line", { class: "axis", x1: m.l, x2: width - m.r, y1: height - m.b, y2: height - m.b }));
  g.push(s("line", { class: "axis", x1: m.l, x2: m.l, y1: m.t, y2: height - m.b }));
  g.push(s("text", { x: (m.l + width - m.r) / 2, y: height - 6, "text-anchor": "middle" }, xLabel));
  g.push(s("text", {
    x: 14, y: (m.t + height - m.b) / 2, "text-anchor": "middle",
    transform: `rotate(-90 14 ${(m.t + height - m.b) / 2})`,
  }, yLabel));
  return g;
}

// Contribution score c_i (x) against redistribution R_i (y): the mechanism pays the orgs above
// the others' contributions and charges those below.
function scatterPlot(points, xLabel, yLabel, id) {
  const width = 560, height = 320, m = { l: 74, r: 18, t: 14, b: 46 };
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y).concat([0]);
  const xT = niceTicks(Math.min(...xs), Math.max(...xs));
  const yT = niceTicks(Math.min(...ys), Math.max(...ys));
  const sx = (v) => m.l + ((v - xT[0]) / (xT[xT.length - 1] - xT[0])) * (width - m.l - m.r);
  const sy = (v) => height - m.b - ((v - yT[0]) / (yT[yT.length - 1] - yT[0])) * (height - m.t - m.b);
  const g = frame(width, height, m, xT, yT, sx, sy, xLabel, yLabel);
  g.push(s("line", { class: "axis", x1: m.l, x2: width - m.r, y1: sy(0), y2: sy(0), "stroke-dasharray": "4 3" }));
  for (const p of points) {
    const color = p.y >= 0 ? COLORS.pos : COLORS.neg;
    const paint = p.silent
      ? { fill: "none", stroke: color, "stroke-width": 2, "data-silent": "true" }
      : { fill: color, "fill-opacity": 0.85 };
    g.push(s("circle", { cx: sx(p.x), cy: sy(p.y), r: 6, ...paint }, s("title", {}, p.title)));
    g.push(s("text", { x: sx(p.x) + 8, y: sy(p.y) - 8 }, p.label));
  }
  return s("svg", { id, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": yLabel }, g);
}

// Grouped bars, one group per org (e.g. deposit vs payout).
function barPlot(groups, series, yLabel, id) {
  const width = 560, height = 320, m = { l: 74, r: 18, t: 14, b: 46 };
  const vals = groups.flatMap((g) => g.values).concat([0]);
  const yT = niceTicks(Math.min(...vals), Math.max(...vals));
  const sy = (v) => height - m.b - ((v - yT[0]) / (yT[yT.length - 1] - yT[0])) * (height - m.t - m.b);
  const slot = (width - m.l - m.r) / Math.max(groups.length, 1);
  const barW = Math.min(28, (slot * 0.8) / series.length);
  const g = frame(width, height, m, [], yT, () => 0, sy, "org slot", yLabel);
  groups.forEach((grp, gi) => {
    const x0 = m.l + gi * slot + (slot - barW * series.length) / 2;
    grp.values.forEach((v, si) => {
      const y = Math.min(sy(v), sy(0));
      g.push(s("rect", {
        x: x0 + si * barW, y, width: barW - 2, height: Math.max(Math.abs(sy(v) - sy(0)), 1),
        fill: series[si].color,
      }, s("title", {}, `${grp.label} ${series[si].name}: ${grp.titles[si]}`)));
    });
    g.push(s("text", { x: m.l + gi * slot + slot / 2, y: height - m.b + 16, "text-anchor": "middle" }, grp.label));
  });
  g.push(s("line", { class: "axis", x1: m.l, x2: width - m.r, y1: sy(0), y2: sy(0) }));
  return s("svg", { id, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": yLabel }, g);
}

function legend(series) {
  return h("div", { class: "legend" }, series.map((x) =>
    [h("span", { class: "swatch", style: `background:${x.color}${x.border ? `;border:2px solid ${x.border}` : ""}` }), x.name]));
}

// ------------------------------------------------------------------ views
async function viewRounds() {
  const page = await api("/rounds?page=1&per_page=200");
  document.title = "Rounds · fedsettle auditor";
  if (page.items.length === 0) {
    show(h("h1", {}, "Rounds"), h("p", { class: "muted", id: "no-rounds" }, "No rounds indexed yet."));
    return;
  }
  const rows = page.items.map((r) => {
    const vcell = h("td", { "data-field": "verify" }, badge("…", "muted"));
    api(`/rounds/${r.round_id}/verify`).then((v) => vcell.replaceChildren(verifyBadge(v)))
      .catch(() => vcell.replaceChildren(badge("error", "bad")));
    return h("tr", { "data-round": r.round_id },
      h("td", {}, h("a", { href: `#/rounds/${r.round_id}` }, `Round ${r.round_id}`)),
      h("td", { "data-field": "phase" }, phaseBadge(r.phase)),
      h("td", { class: "num" }, `${r.joined_count}/${r.n}`),
      h("td", { class: "num" }, `${r.reported_count}/${r.joined_count}`),
      h("td", { class: "num", title: `${fmtWei(r.total_deposits_wei)} wei`, "data-field": "total_deposits_wei", "data-wei": fmtWei(r.total_deposits_wei) }, fmtEth(r.total_deposits_wei)),
      h("td", { class: "num", title: `${fmtWei(r.total_withdrawn_wei)} wei`, "data-field": "total_withdrawn_wei", "data-wei": fmtWei(r.total_withdrawn_wei) }, fmtEth(r.total_withdrawn_wei)),
      h("td", {}, fmtTime(r.report_deadline)),
      vcell);
  });
  show(
    h("h1", {}, "Rounds"),
    h("p", { class: "muted" }, `${page.total} round(s) in the index.`),
    h("div", { class: "scroll" }, h("table", { id: "rounds-table" },
      h("thead", {}, h("tr", {},
        h("th", {}, "Round"), h("th", {}, "Phase"), h("th", { class: "num" }, "Joined"),
        h("th", { class: "num" }, "Reported"), h("th", { class: "num" }, "Deposits (ETH)"),
        h("th", { class: "num" }, "Withdrawn (ETH)"), h("th", {}, "Report deadline"),
        h("th", {}, "Verification"))),
      h("tbody", {}, rows))));
}

function checkList(checks) {
  return h("div", { class: "checks" }, Object.entries(checks).map(([k, c]) => {
    const cls = c.status === "passed" ? "ok" : c.status === "failed" ? "bad" : "muted";
    const mark = c.status === "passed" ? "✓" : c.status === "failed" ? "✗" : "not checked:";
    return h("span", { class: cls, "data-check": k, "data-status": c.status, title: c.reason },
      `${mark} ${k.replaceAll("_", " ")}`);
  }));
}

function verifyBanner(ver) {
  const attrs = (cls) => ({ class: `banner ${cls}`, id: "verify-banner", "data-status": ver.status });
  if (ver.status === "verified") {
    return h("div", attrs("ok"),
      `Verified: every check ran and passed; budget balance ${fmtWei(ver.budget_balance_wei)} ${isEther() ? "wei" : sym() + " base units"}.`,
      checkList(ver.checks));
  }
  if (ver.status === "failed") {
    return h("div", attrs("bad"), "Verification found problems:",
      h("ul", {}, ver.problems.map((p) => h("li", {}, p))), checkList(ver.checks));
  }
  return h("div", attrs("muted"), `Not verified: ${ver.summary.replace(/^not verified: /, "")}`,
    h("ul", {}, ver.notes.map((n) => h("li", {}, n))), checkList(ver.checks));
}

function eventsTable(lists) {
  const rows = lists.flatMap(([kind, items, field]) => items.map((e) => ({ kind, e, field })))
    .sort((a, b) => a.e.event.block_number - b.e.event.block_number || a.e.event.log_index - b.e.event.log_index);
  return h("div", { class: "scroll" }, h("table", { id: "events-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "event"), h("th", {}, "org"),
      h("th", { class: "num" }, `amount (${sym()})`), h("th", {}, "transaction"), h("th", {}, "time"))),
    h("tbody", {}, rows.map(({ kind, e, field }) => h("tr", { "data-kind": kind },
      h("td", {}, kind), h("td", {}, orgLink(e.account)),
      field ? amount(e[field], { signed: field === "payoff_wei" }) : h("td", { class: "num" }, "–"),
      h("td", {}, txLink(e.event)), h("td", {}, fmtTime(e.event.timestamp)))))));
}

// A market round's import graph per FL round. The SVG is rendered by the server from the
// coordinator's on-chain table (labels escaped there); it is inserted as is, no script library.
function marketGraphs(doc) {
  if (!doc.graphs.length) {
    return h("p", { class: "muted", id: "market-graphs-pending" }, "No graph yet: the coordinator's table is not submitted.");
  }
  return h("div", { class: "graphs", id: "market-graphs" }, doc.graphs.map((g) => {
    const holder = h("div", { class: "graph-svg" });
    holder.innerHTML = g.svg;
    return h("figure", { class: "card graph", "data-fl-round": g.fl_round }, holder,
      h("figcaption", {}, `FL round ${g.fl_round}: ${g.edges.length} imports (arrow: exporter → importer)`));
  }));
}

async function viewRound(id) {
  const [round, orgs, ver, deps, cons, pays, wds] = await Promise.all([
    api(`/rounds/${id}`), api(`/rounds/${id}/orgs?per_page=1000`), api(`/rounds/${id}/verify`),
    api(`/rounds/${id}/deposits?per_page=1000`), api(`/rounds/${id}/contributions?per_page=1000`),
    api(`/rounds/${id}/payoffs?per_page=1000`), api(`/rounds/${id}/withdrawals?per_page=1000`),
  ]);
  const market = Number(round.config.mechanism_id) === 3 ? await api(`/rounds/${id}/market-graphs`) : null;
  document.title = `Round ${id} · fedsettle auditor`;
  ASSET = round.asset || ETHER;
  const c = round.config;
  const settled = round.phase === "Settled";
  const checks = new Map(ver.orgs.map((o) => [o.index, o]));
  const ethDd = (v, id2) => h("dd", { title: `${fmtWei(v)} wei`, "data-wei": fmtWei(v), id: id2 }, `${fmtEth(v)} ${sym()}`);
  const params = h("dl", { class: "params" },
    h("dt", {}, "phase"), h("dd", { id: "round-phase" }, round.phase),
    h("dt", {}, "operator"), h("dd", { class: "mono" }, round.operator),
    h("dt", {}, "mechanism"), h("dd", { id: "mechanism" }, `${c.mechanism_id}${ver.mechanism ? ` (${ver.mechanism})` : ""}`),
    ...Object.entries(c.parameters || {}).flatMap(([k, v]) => [
      h("dt", {}, k), h("dd", { "data-param": k }, Array.isArray(v) ? v.join(", ") : `${v}`)]),
    h("dt", {}, "asset"), h("dd", { class: "mono", id: "round-token" },
      /^0x0+$/.test(c.token) ? "ETH" : `${ASSET.symbol || "token"} ${c.token} (${ASSET.decimals ?? "unknown"} decimals; base units on hover)`),
    h("dt", {}, "scales x / f"), h("dd", {}, `${c.x_scale} / ${c.f_scale}`),
    h("dt", {}, "deposit deadline"), h("dd", {}, fmtTime(c.deposit_deadline)),
    h("dt", {}, "report deadline"), h("dd", {}, fmtTime(c.report_deadline)),
    h("dt", {}, "coordinator"), h("dd", { class: "mono" }, c.coordinator),
    h("dt", {}, "rho hash"), h("dd", { class: "mono" }, round.rho_hash),
    h("dt", {}, "params digest"), h("dd", { class: "mono", id: "params-digest" }, c.params_digest || "–"),
    h("dt", {}, "payoff digest"), h("dd", { class: "mono", id: "payoff-digest" }, round.payoff_digest),
    h("dt", {}, "total deposits"), ethDd(round.total_deposits_wei, "total-deposits"),
    h("dt", {}, "total withdrawn"), ethDd(round.total_withdrawn_wei, "total-withdrawn"),
    h("dt", {}, "opened"), h("dd", {}, txLink(round.opened)),
    h("dt", {}, "as of block"), h("dd", {}, `${round.as_of_block} (${fmtTime(round.as_of_timestamp)})`));

  // cogen: the measured leave-one-out scores the coordinator's table carries (never paid on)
  const measured = orgs.items.some((o) => o.measured_score !== null && o.measured_score !== undefined);
  const rows = orgs.items.map((o) => {
    const v = checks.get(o.index) || {};
    const match = v.payoff_ok === true ? h("span", { class: "ok" }, "✓")
      : v.payoff_ok === false ? h("span", { class: "bad" }, "✗")
        : h("span", { class: "muted", title: "not checked" }, o.payoff_pending ? "pending" : "–");
    return h("tr", { "data-index": o.index },
      h("td", { class: "num" }, o.index),
      h("td", { "data-field": "account" }, orgLink(o.account)),
      h("td", { "data-field": "role" }, o.reported ? "reported" : o.joined ? "joined, no report" : "not joined"),
      h("td", { class: "num" }, o.x),
      h("td", { class: "num" }, o.f),
      h("td", { class: "num", "data-field": "contribution" }, o.reported ? fmtNum(o.contribution_real) : "–"),
      ...(measured ? [h("td", { class: "num", "data-field": "measured_score" },
        o.measured_score === null ? "–" : fmtNum(o.measured_score))] : []),
      amount(o.bond_wei, { field: "bond_wei" }),
      amount(o.deposited_wei, { field: "deposited_wei" }),
      o.payoff_pending ? pendingCell("payoff_wei") : amount(o.payoff_wei, { field: "payoff_wei", signed: true }),
      v.payoff_expected_wei === null || v.payoff_expected_wei === undefined ? pendingCell("payoff_expected_wei")
        : amount(v.payoff_expected_wei, { field: "payoff_expected_wei", signed: true }),
      h("td", { "data-field": "payoff_ok" }, match),
      amount(o.withdrawn_wei, { field: "withdrawn_wei" }),
      amount(o.owed_wei, { field: "owed_wei" }),
      h("td", { "data-field": "status" }, v.status || "–"));
  });
  const table = h("div", { class: "scroll" }, h("table", { id: "payoff-table" },
    h("thead", {}, h("tr", {},
      h("th", { class: "num" }, "#"), h("th", {}, "org"), h("th", {}, "slot"),
      h("th", { class: "num" }, "x"), h("th", { class: "num" }, "f"),
      h("th", { class: "num" }, "c_i"),
      ...(measured ? [h("th", { class: "num", title: "leave-one-out on validation loss, attested by the coordinator's table; not paid on" }, "measured (LOO)")] : []),
      h("th", { class: "num" }, `bond (${sym()})`),
      h("th", { class: "num" }, `deposit (${sym()})`), h("th", { class: "num" }, `R_i on-chain (${sym()})`),
      h("th", { class: "num" }, `R_i recomputed (${sym()})`), h("th", {}, "match"),
      h("th", { class: "num" }, `withdrawn (${sym()})`), h("th", { class: "num" }, `owed (${sym()})`),
      h("th", {}, "status"))),
    h("tbody", {}, rows)));

  // every depositor is settled: reporters on their score, silent depositors (hollow points) on
  // the minimum score their bond covers (spec 4.1: silence never pays)
  const settledOrgs = orgs.items.filter((o) => o.joined);
  const rUnit = unitFor(settledOrgs.map((o) => o.payoff_wei));
  const scatter = !settled
    ? h("p", { class: "muted", id: "redistribution-pending" }, "Redistribution pending: payoffs are computed at settlement.")
    : settledOrgs.length
      ? scatterPlot(settledOrgs.map((o) => ({
        x: o.contribution_real, y: Number(big(o.payoff_wei)) / rUnit.div, label: LABELS[o.account] || `#${o.index}`,
        silent: !o.reported,
        title: `org ${o.index}${o.reported ? "" : " (silent: settled at its minimum)"}: `
          + `c = ${fmtNum(o.contribution_real)}, R = ${fmtWei(o.payoff_wei)} wei`,
      })), "contribution score c_i", `redistribution R_i (${rUnit.name})`, "plot-redistribution")
      : h("p", { class: "muted" }, "No deposits.");
  const joined = orgs.items.filter((o) => o.joined);
  const series = settled
    ? [{ name: "deposit", color: COLORS.dep }, { name: "payout", color: COLORS.pay }]
    : [{ name: "deposit (payout pending)", color: COLORS.dep }];
  const values = (o) => (settled ? [big(o.deposited_wei), big(o.deposited_wei) + big(o.payoff_wei)]
    : [big(o.deposited_wei)]);
  const pUnit = unitFor(joined.flatMap(values));
  const bars = joined.length
    ? barPlot(joined.map((o) => ({
      label: `#${o.index}`,
      values: values(o).map((w) => Number(w) / pUnit.div),
      titles: values(o).map((w) => `${w.toString()} wei`),
    })), series, pUnit.name, "plot-payouts")
    : h("p", { class: "muted" }, "No deposits.");

  show(
    h("p", {}, h("a", { href: "#/" }, "← all rounds")),
    h("h1", {}, `Round ${round.round_id} `, phaseBadge(round.phase)),
    verifyBanner(ver),
    h("div", { class: "card" }, params),
    h("h2", {}, "Payoffs"),
    table,
    h("p", {}, "Export: ", h("a", { href: `/rounds/${id}/export?format=json&amounts=string`, id: "export-json" }, "JSON (sealed report)"),
      " · ", h("a", { href: `/rounds/${id}/export?format=csv`, id: "export-csv" }, "CSV")),
    h("div", { class: "plots" },
      h("div", { class: "card plot" }, h("h2", {}, "Contributions vs redistribution"), scatter,
        settled ? legend([{ name: "receives", color: COLORS.pos }, { name: "pays", color: COLORS.neg },
          { name: "silent, settled at its minimum", color: "transparent", border: COLORS.neg }]) : ""),
      h("div", { class: "card plot" }, h("h2", {}, settled ? "Payouts (deposit + R_i)" : "Deposits"), bars, legend(series))),
    ...(market ? [h("h2", {}, "Import graphs"), marketGraphs(market)] : []),
    h("h2", {}, "Events"),
    eventsTable([["deposit", deps.items, "amount_wei"], ["report", cons.items, null],
      ["payoff", pays.items, "payoff_wei"], ["withdrawal", wds.items, "amount_wei"]]));
}

async function viewOrg(address, token) {
  const a = await api(`/accounts/${address}${token ? `?token=${token}` : ""}`);
  ASSET = a.asset || ETHER;
  const name = a.label || a.account;
  document.title = `${name} · fedsettle auditor`;
  const rows = a.rounds.map((r) => h("tr", { "data-round": r.round_id },
    h("td", {}, h("a", { href: `#/rounds/${r.round_id}` }, `Round ${r.round_id}`)),
    h("td", { class: "num" }, r.index),
    h("td", { "data-field": "phase" }, phaseBadge(r.phase)),
    amount(r.deposited_wei, { field: "deposited_wei" }),
    r.payoff_pending ? pendingCell("payoff_wei") : amount(r.payoff_wei, { field: "payoff_wei", signed: true }),
    amount(r.withdrawn_wei, { field: "withdrawn_wei" }),
    amount(r.owed_wei, { field: "owed_wei" })));
  show(
    h("p", {}, h("a", { href: "#/balances" }, "← balances")),
    h("h1", { id: "org-name" }, name),
    h("p", { class: "mono" }, a.account),
    h("p", { id: "org-totals" }, `Deposited ${fmtEth(a.deposited_wei)} ${sym()} · settled payoffs ${fmtEth(a.payoff_wei)} ${sym()} · `
      + `withdrawn ${fmtEth(a.withdrawn_wei)} ${sym()} · still owed ${fmtEth(a.owed_wei)} ${sym()}`),
    a.other_assets.length ? h("p", { id: "org-assets" }, "Also settles in: ",
      ...a.other_assets.map((t) => h("a", { href: `#/orgs/${a.account}/${t}`, class: "mono" }, `${t} `))) : "",
    h("div", { class: "scroll" }, h("table", { id: "org-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "round"), h("th", { class: "num" }, "slot"), h("th", {}, "phase"),
        h("th", { class: "num" }, `deposit (${sym()})`), h("th", { class: "num" }, `R_i (${sym()})`),
        h("th", { class: "num" }, `withdrawn (${sym()})`), h("th", { class: "num" }, `owed (${sym()})`))),
      h("tbody", {}, rows))));
}

async function viewEvents(kind, key) {
  const items = await api(kind === "tx" ? `/tx/${key}` : `/blocks/${key}`);
  document.title = `${kind === "tx" ? "Transaction" : "Block"} ${kind === "tx" ? short(key) : key} · fedsettle auditor`;
  const first = items[0].ref;
  show(
    h("p", {}, h("a", { href: "#/" }, "← all rounds")),
    h("h1", {}, kind === "tx" ? "Transaction" : `Block ${key}`),
    h("dl", { class: "params card" },
      h("dt", {}, kind === "tx" ? "hash" : "block hash"),
      h("dd", { class: "mono", id: "hash" }, kind === "tx" ? key : first.block_hash),
      h("dt", {}, "block"), h("dd", {}, h("a", { href: `#/blocks/${first.block_number}` }, String(first.block_number))),
      h("dt", {}, "time"), h("dd", {}, fmtTime(first.timestamp))),
    h("div", { class: "scroll" }, h("table", { id: "tx-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "event"), h("th", {}, "round"), h("th", {}, "org"),
        h("th", {}, "transaction"))),
      h("tbody", {}, items.map((e) => h("tr", {},
        h("td", { "data-field": "event" }, e.event),
        h("td", {}, h("a", { href: `#/rounds/${e.round_id}` }, `Round ${e.round_id}`)),
        h("td", {}, e.account ? orgLink(e.account) : "–"),
        h("td", {}, txLink(e.ref))))))));
}

function checkLine(id, name, check) {
  const cls = check.status === "passed" ? "ok" : check.status === "failed" ? "bad" : "muted";
  return h("p", { class: cls, id, "data-status": check.status },
    `${name} ${check.status.replace("_", " ")}: ${check.reason}`);
}

async function viewBalances() {
  const [b, dep] = await Promise.all([api("/balances?per_page=1000"), api("/deployment")]);
  document.title = "Balances · fedsettle auditor";
  const d = dep.deployment;
  // one row per account and asset, each in its own asset's units
  const rows = b.accounts.map((a) => {
    ASSET = a.asset || ETHER;
    const row = h("tr", { "data-token": a.token },
      h("td", { "data-field": "account" }, orgLink(a.account)),
      h("td", { "data-field": "asset" }, sym()),
      amount(a.deposited_wei, { field: "deposited_wei" }),
      amount(a.payoff_wei, { field: "payoff_wei", signed: true }),
      amount(a.withdrawn_wei, { field: "withdrawn_wei" }),
      amount(a.owed_wei, { field: "owed_wei" }),
      h("td", {}, a.rounds.map((r) => r.round_id).join(", ")));
    ASSET = ETHER;
    return row;
  });
  const tokenLines = dep.solvency.tokens.map((t) => checkLine(`solvency-${t.token}`, `Solvency (token ${t.token})`, t.check));
  show(
    h("h1", {}, "Balances"),
    h("p", {}, `Owed to depositors in ETH (index): ${fmtEth(b.liabilities_wei)} ETH`,
      b.contract_balance_wei === null || b.contract_balance_wei === undefined ? ""
        : ` · contract balance: ${fmtEth(b.contract_balance_wei)} ETH`),
    checkLine("solvency", "Solvency", dep.solvency.check),
    ...tokenLines,
    h("h2", {}, "Deployment"),
    h("dl", { class: "params card" },
      h("dt", {}, "chain id"), h("dd", {}, String(d.chain_id)),
      h("dt", {}, "contract"), h("dd", { class: "mono" }, d.contract_address),
      h("dt", {}, "genesis"), h("dd", { class: "mono" }, d.genesis_hash || "–"),
      h("dt", {}, "deployed in block"), h("dd", {}, d.deployment_block === null ? "–"
        : h("a", { href: `#/blocks/${d.deployment_block}` }, String(d.deployment_block))),
      h("dt", {}, "code hash"), h("dd", { class: "mono", id: "code-hash" }, d.code_hash || "–"),
      h("dt", {}, "as of block"), h("dd", { class: "mono" }, `${d.block_number} ${d.block_hash}`)),
    checkLine("code-check", "Code vs artifact", d.code),
    h("h2", {}, "Accounts"),
    h("div", { class: "scroll" }, h("table", { id: "balances-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "org"), h("th", {}, "asset"), h("th", { class: "num" }, "deposited"),
        h("th", { class: "num" }, "settled payoffs"), h("th", { class: "num" }, "withdrawn"),
        h("th", { class: "num" }, "owed"), h("th", {}, "rounds"))),
      h("tbody", {}, rows))));
}

async function refreshStatus() {
  const el = document.getElementById("status");
  try {
    const st = await api("/status");
    LABELS = st.labels || {};
    const lag = st.head_block === null || st.head_block === undefined ? " (node not reachable)" : ` of ${st.head_block}`;
    el.textContent = `chain ${st.chain_id ?? "?"} · contract ${short(st.contract_address)} · indexed block ${st.indexed_block}${lag}`;
  } catch (err) {
    el.textContent = `status unavailable (${err.message})`;
  }
}

async function route() {
  const hash = location.hash || "#/";
  const m = hash.match(/^#\/rounds\/(\d+)$/);
  const org = hash.match(/^#\/orgs\/(0x[0-9a-fA-F]{40})(?:\/(0x[0-9a-fA-F]{40}))?$/);
  const tx = hash.match(/^#\/tx\/(0x[0-9a-fA-F]{64})$/);
  const block = hash.match(/^#\/blocks\/(\d+)$/);
  try {
    await statusLoaded;
    ASSET = ETHER;
    if (m) await viewRound(m[1]);
    else if (org) await viewOrg(org[1], org[2]);
    else if (tx) await viewEvents("tx", tx[1]);
    else if (block) await viewEvents("block", block[1]);
    else if (hash === "#/balances") await viewBalances();
    else await viewRounds();
    document.body.dataset.loaded = "true";
  } catch (err) {
    showError(err);
    document.body.dataset.loaded = "error";
  }
}

window.addEventListener("hashchange", route);
const statusLoaded = refreshStatus();
setInterval(refreshStatus, 5000);
route();
