// Switchyard dashboard: plain modern JavaScript, no dependencies. Reads the
// admin endpoints (docs/API.md) and draws SVG by hand. Every value from the
// server goes into the page through textContent or SVG attributes, never as
// HTML; the one exception is the crossover chart, an SVG document the gateway
// renders itself (economics/chart.h), parsed as XML.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
// Okabe-Ito: distinguishable with every common colour-vision deficiency.
const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
                 "#f0e442", "#000000", "#999999"];
const LOCAL_COLOR = "#009e73";
const FRONTIER_COLOR = "#0072b2";
const SHARE_COLOR = "#d55e00";

const state = {
  key: sessionStorage.getItem("switchyard-admin-key") || "",
  timer: null,
  inFlight: false,
};

// ---- formatting -------------------------------------------------------------

function usd(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  const a = Math.abs(v);
  if (a === 0) return "$0";
  if (a >= 1000) return "$" + v.toLocaleString("en-US", { maximumFractionDigits: 0 });
  if (a >= 1) return "$" + v.toFixed(2);
  if (a >= 0.01) return "$" + v.toFixed(4);
  if (a >= 0.000001) return "$" + v.toFixed(6);
  return "$" + v.toExponential(1);
}
function int(v) { return (v || 0).toLocaleString("en-US"); }
function pct(v) { return v === null || v === undefined ? "—" : (100 * v).toFixed(1) + "%"; }
function ms(v) {
  if (v >= 1000) return (v / 1000).toFixed(2) + " s";
  return (v >= 10 ? Math.round(v) : v.toFixed(1)) + " ms";
}
function utc(msSinceEpoch, withDate) {
  const iso = new Date(msSinceEpoch).toISOString();
  return withDate ? iso.slice(5, 19).replace("T", " ") : iso.slice(11, 16);
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function setText(id, text) { document.getElementById(id).textContent = text; }
function fillBody(table, rows, emptyText, cols) {
  const body = document.querySelector(`#${table} tbody`);
  body.replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { colspan: String(cols), class: "muted", text: emptyText }))]));
}

// ---- data -------------------------------------------------------------------

class AuthError extends Error {}

async function getJson(path) {
  const headers = state.key ? { Authorization: "Bearer " + state.key } : {};
  const res = await fetch(path, { headers, cache: "no-store" });
  if (res.status === 401) throw new AuthError("admin key required");
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const msg = body && body.error ? body.error.message : res.statusText;
    const e = new Error(msg);
    e.status = res.status;
    throw e;
  }
  return body;
}
// Missing ledger (404) reads as "no data yet".
async function getOptional(path) {
  try { return await getJson(path); } catch (e) {
    if (e instanceof AuthError) throw e;
    if (e.status === 404) return null;
    throw e;
  }
}

// ---- charts -----------------------------------------------------------------

const W = 640, H = 260, M = { l: 56, r: 48, t: 12, b: 28 };

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// Stacked bars per bucket. series: [{name, color, values[]}]; share: optional
// values in [0,1] drawn as a line on a right-hand percent axis.
function stackedBars(svgEl, starts, series, opts) {
  const g = [];
  const n = starts.length;
  const pw = W - M.l - M.r, ph = H - M.t - M.b;
  const totals = starts.map((_, i) => series.reduce((s, x) => s + (x.values[i] || 0), 0));
  const yMax = niceMax(Math.max(0, ...totals));
  const x = (i) => M.l + (i * pw) / Math.max(1, n);
  const bw = Math.max(1, pw / Math.max(1, n) - (n > 90 ? 0 : 1));
  const y = (v) => M.t + ph - (v / yMax) * ph;
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    g.push(svg("line", { class: "grid", x1: M.l, x2: W - M.r, y1: y(v), y2: y(v) }));
    g.push(svg("text", { x: M.l - 6, y: y(v) + 4, "text-anchor": "end" }, opts.fmt(v)));
  }
  g.push(svg("line", { class: "axis", x1: M.l, x2: W - M.r, y1: y(0), y2: y(0) }));
  const every = Math.max(1, Math.ceil(n / 8));
  for (let i = 0; i < n; i += every) {
    g.push(svg("text", { x: x(i) + bw / 2, y: H - 8, "text-anchor": "middle" },
               utc(starts[i], opts.bucketMs >= 86400000)));
  }
  for (let i = 0; i < n; i++) {
    let base = 0;
    for (const s of series) {
      const v = s.values[i] || 0;
      if (v <= 0) continue;
      const r = svg("rect", { x: x(i), y: y(base + v), width: bw, height: y(base) - y(base + v),
                              fill: s.color });
      r.append(svg("title", {}, `${utc(starts[i], true)} ${s.name}: ${opts.fmt(v)}`));
      g.push(r);
      base += v;
    }
  }
  if (opts.share) {
    const ys = (v) => M.t + ph - v * ph;
    for (let k = 0; k <= 4; k++) {
      g.push(svg("text", { x: W - M.r + 6, y: ys(k / 4) + 4 }, `${k * 25}%`));
    }
    let d = "";
    opts.share.forEach((v, i) => {
      if (v === null) return;
      d += `${d ? "L" : "M"}${(x(i) + bw / 2).toFixed(1)},${ys(v).toFixed(1)}`;
    });
    if (d) {
      g.push(svg("path", { d, fill: "none", stroke: SHARE_COLOR, "stroke-width": 2,
                           "stroke-dasharray": "6 3" }));
    }
  }
  svgEl.replaceChildren(...g);
  svgEl.dataset.ready = "1";
  svgEl.dataset.total = String(totals.reduce((a, b) => a + b, 0));
}

function legend(id, items) {
  const box = document.getElementById(id);
  box.replaceChildren(...items.map(({ name, color, dashed }) => {
    const swatch = el("i");
    swatch.style.background = dashed ? "transparent" : color;
    if (dashed) swatch.style.borderTop = `3px dashed ${color}`;
    return el("span", {}, swatch, name);
  }));
}

// ---- sections -----------------------------------------------------------------

function renderSummary(s) {
  const all = s.windows.all, today = s.windows.today, month = s.windows.month;
  const kReq = document.getElementById("kpi-requests");
  kReq.textContent = int(all.requests);
  kReq.dataset.value = String(all.requests);
  setText("kpi-requests-today", `${int(today.requests)} today · ${int(all.errors)} errors`);
  const kSpend = document.getElementById("kpi-spend");
  kSpend.textContent = usd(all.spend_usd);
  kSpend.dataset.value = String(all.spend_usd);
  setText("kpi-spend-sub", `all-frontier: ${usd(all.all_frontier_usd)}`);
  setText("kpi-spend-today", usd(today.spend_usd));
  setText("kpi-spend-month", `this month ${usd(month.spend_usd)}`);
  setText("kpi-frontier-cost", usd(month.all_frontier_usd));
  setText("kpi-frontier-cost-all", `this month · today ${usd(today.all_frontier_usd)}`);
  setText("kpi-saving", usd(month.saving_usd));
  setText("kpi-saving-share", `this month · ${pct(month.saving_share)} of all-frontier`);
  setText("kpi-frontier-share", today.answered ? pct(today.frontier_share) : "—");
  setText("kpi-frontier-share-all", `all time ${all.answered ? pct(all.frontier_share) : "—"}`);
  document.getElementById("empty").hidden = all.requests > 0;
}

function renderSeries(ts) {
  const starts = ts.buckets.map((b) => b.start_ms);
  const share = ts.buckets.map((b) => (b.local + b.frontier ? b.frontier_share : null));
  const unanswered = ts.buckets.map((b) => b.requests - b.local - b.frontier);
  const reqSeries = [
    { name: "local (student / owned)", color: LOCAL_COLOR, values: ts.buckets.map((b) => b.local) },
    { name: "frontier API", color: FRONTIER_COLOR, values: ts.buckets.map((b) => b.frontier) },
    { name: "unanswered / errors", color: "#999999", values: unanswered },
  ];
  stackedBars(document.getElementById("chart-requests"), starts, reqSeries,
              { fmt: (v) => (v >= 1000 ? (v / 1000).toFixed(1) + "k" : String(Math.round(v))),
                bucketMs: ts.bucket_ms, share });
  legend("legend-requests", [...reqSeries, { name: "frontier share (right axis)",
                                             color: SHARE_COLOR, dashed: true }]);
  const spendSeries = ts.by_task.map((t, i) => ({
    name: t.key, color: PALETTE[i % PALETTE.length], values: t.cost_usd }));
  stackedBars(document.getElementById("chart-spend"), starts, spendSeries,
              { fmt: (v) => (v === 0 ? "$0" : "$" + Number(v.toPrecision(2))),
                bucketMs: ts.bucket_ms });
  legend("legend-spend", spendSeries);
  const rows = (list) => list.map((k) => el("tr", {},
    el("td", { text: k.key }), el("td", { class: "num", text: int(k.requests_total) }),
    el("td", { class: "num", text: int(k.frontier.reduce((a, b) => a + b, 0)) }),
    el("td", { class: "num", text: usd(k.cost_total_usd) })));
  fillBody("by-route", rows(ts.by_route), "no requests in this window", 4);
  fillBody("by-task", rows(ts.by_task), "no requests in this window", 4);
}

function recPill(id, label) {
  const cls = id === "self_host" || id === "hybrid_student" ? "ok"
            : id === "keep_on_api" ? "info" : "warn";
  return el("span", { class: `pill ${cls}`, text: label });
}

function renderTasks(t) {
  const o = t.overall;
  const overall = document.getElementById("overall");
  overall.replaceChildren(el("strong", { text: "Advisor, all traffic: " }),
                          recPill(o.recommendation, o.recommendation_label),
                          " " + (o.reasons[0] || ""));
  const rows = t.tasks.map((task) => {
    const s = task.student;
    const student = s ? el("span", {}, `v${s.version} `,
        el("span", { class: `pill ${s.serving ? "ok" : s.status === "demoted" ? "bad" : "warn"}`,
                     text: s.serving ? "serving" : s.status }))
      : el("span", { class: "muted", text: task.candidate ? "candidate" : "none yet" });
    const live = task.live;
    // Live: the accepted comparisons (the answers users get from the student).
    const liveText = live && live.accepted
      ? `${pct(live.accepted_agreement)} of ${int(live.accepted)}`
      : live && live.compared ? `${pct(live.agreement)} of ${int(live.compared)}`
      : (task.expected_agreement !== null ? `expected ${pct(task.expected_agreement)}` : "—");
    const total = task.labels.reduce((a, l) => a + l.count, 0);
    const bar = el("div", { class: "labelbar", title: task.labels_source });
    task.labels.forEach((l, i) => {
      const seg = el("span", { title: `${l.label}: ${int(l.count)}` });
      seg.style.width = `${(100 * l.count) / Math.max(1, total)}%`;
      seg.style.background = PALETTE[i % PALETTE.length];
      bar.append(seg);
    });
    const names = el("div", { class: "labelnames",
      text: task.labels.slice(0, 4).map((l) => `${l.label} ${pct(l.count / total)}`).join(", ") });
    const reasons = el("ul", { class: "reasons" },
                       ...task.reasons.slice(0, 3).map((r) => el("li", { text: r })));
    const more = task.reasons.length > 3
      ? el("details", {}, el("summary", { text: `${task.reasons.length - 3} more` }),
           el("ul", { class: "reasons" }, ...task.reasons.slice(3).map((r) => el("li", { text: r }))))
      : null;
    return el("tr", {},
      el("td", {}, el("strong", { text: task.name }), task.kind ? ` (${task.kind})` : ""),
      el("td", {}, student),
      el("td", { class: "num", text: int(task.requests) }),
      el("td", { class: "num", text: pct(task.coverage) }),
      el("td", { class: "num", text: liveText }),
      el("td", { class: "num", text: pct(task.escalation_rate) }),
      el("td", {}, total ? bar : el("span", { class: "muted", text: "—" }), total ? names : null),
      el("td", {}, recPill(task.recommendation, task.recommendation_label), reasons, more));
  });
  fillBody("tasks", rows, "No tasks yet: configure [[tasks]] (docs/CONFIG.md) and send " +
           "requests with model \"task:NAME\".", 8);
}

function renderCrossover(c) {
  const box = document.getElementById("crossover-chart");
  const facts = document.getElementById("crossover-facts");
  if (!c || !c.priced) {
    box.replaceChildren(el("p", { class: "muted",
      text: c ? `No crossover yet: ${c.reason}.` : "No crossover yet: no requests recorded." }));
    facts.replaceChildren();
    box.dataset.ready = "1";
    return;
  }
  const doc = new DOMParser().parseFromString(c.svg, "image/svg+xml");
  const root = doc.documentElement;
  if (root.nodeName === "svg") {
    root.removeAttribute("width");
    root.removeAttribute("height");
    box.replaceChildren(document.importNode(root, true));
  }
  const x = c.crossover, cur = c.current;
  const dl = [
    ["API cost per request", usd(c.api_cost_per_request_usd)],
    ["Current volume", `${int(Math.round(cur.requests_per_day))} requests/day`],
    ["At this volume, per month", `API ${usd(cur.api_monthly_usd)} · self-hosted ` +
      usd(cur.self_hosted_monthly_usd)],
    ["Crossover", x.summary],
  ];
  facts.replaceChildren(...dl.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  box.dataset.ready = "1";
}

function renderLatency(l) {
  const groups = l ? l.groups : [];
  const max = Math.max(1, ...groups.map((g) => g.p99_ms));
  const rows = groups.map((g) => {
    const bar = el("div", { class: "latbar" });
    [[g.p99_ms, "#cfe3f1"], [g.p95_ms, "#56b4e9"], [g.p50_ms, "#0072b2"]].forEach(([v, c]) => {
      const b = el("b");
      b.style.width = `${(100 * v) / max}%`;
      b.style.background = c;
      bar.append(b);
    });
    return el("tr", {},
      el("td", { text: g.route === "*" ? "all routes" : g.route }),
      el("td", {}, el("span", { class: `pill ${g.where === "local" ? "ok"
                                               : g.where === "api" ? "info" : "warn"}`,
                                text: g.where })),
      el("td", { class: "num", text: int(g.requests) }),
      el("td", { class: "num", text: ms(g.p50_ms) }),
      el("td", { class: "num", text: ms(g.p95_ms) }),
      el("td", { class: "num", text: ms(g.p99_ms) }),
      el("td", {}, bar));
  });
  fillBody("latency", rows, "no requests in the last 24 hours", 7);
}

function renderProviders(p) {
  const rows = (p ? p.providers : []).map((x) => el("tr", {},
    el("td", {}, el("strong", { text: x.name }), x.owned ? " (owned)" : ""),
    el("td", { text: x.kind }),
    el("td", {}, el("span", { class: `pill ${x.circuit === "closed" ? "ok"
                                             : x.circuit === "open" ? "bad" : "warn"}`,
                              text: x.circuit })),
    el("td", { class: "num", text: int(x.requests) }),
    el("td", { class: "num", text: int(x.errors) }),
    el("td", { class: "num", text: x.requests ? pct(x.error_rate) : "—" })));
  fillBody("providers", rows, "no providers configured", 6);
}

function pii(findings) {
  if (!findings || findings === "[]" || findings === "{}" || findings === "null") return "—";
  try {
    const f = JSON.parse(findings);
    if (Array.isArray(f)) return f.map((x) => x.type || x.kind || JSON.stringify(x)).join(", ");
    return Object.entries(f).map(([k, v]) => `${k} ×${v}`).join(", ");
  } catch { return findings; }
}

function renderRecent(t) {
  const records = t ? [...t.data].reverse() : [];
  const rows = records.map((r) => {
    const local = r.answered_by.startsWith("student/");
    const decision = el("span", {},
      el("span", { class: `pill ${!r.answered_by ? "bad" : local ? "ok" : "info"}`,
                   text: !r.answered_by ? "unanswered" : local ? "student" : "API" }),
      " " + (r.answered_by || r.error_code || ""),
      r.escalated ? el("span", { class: "pill warn", text: "escalated" }) : null);
    const payload = r.request_body || r.response_body
      ? el("details", {}, el("summary", { text: "show" }),
           el("pre", { class: "payload", text: `request:\n${r.request_body}\n\nresponse:\n` +
                                               r.response_body }))
      : el("span", { class: "muted", text: "not kept" });
    return el("tr", {},
      el("td", { text: utc(r.ts_ms, true) }),
      el("td", { text: `${r.route}${r.task ? " / " + r.task : ""}` }),
      el("td", {}, decision),
      el("td", { class: "num", text: r.confidence === null ? "—" : r.confidence.toFixed(2) }),
      el("td", { class: "num", text: usd(r.cost_usd) }),
      el("td", { class: "num", text: String(r.status) }),
      el("td", { class: "num", text: ms(r.total_ms) }),
      el("td", { text: pii(r.pii_findings) }),
      el("td", {}, payload));
  });
  fillBody("recent", rows, "no requests yet", 9);
}

// ---- refresh loop -----------------------------------------------------------

async function refresh() {
  if (state.inFlight) return;
  state.inFlight = true;
  const bucket = document.getElementById("bucket").value;
  try {
    const summary = await getJson("/admin/summary");
    // Without a ledger yet, the endpoints that read it would only say so (404).
    const hasData = summary.ledger_exists && summary.windows.all.requests > 0;
    const ledger = (path) => (hasData ? getOptional(path) : Promise.resolve(null));
    const [ts, tasks, crossover, latency, providers, tail] = await Promise.all([
      ledger(`/admin/timeseries?bucket=${bucket}`),
      getJson("/admin/tasks"),
      ledger("/admin/crossover"),
      ledger("/admin/latency"),
      getJson("/admin/providers"),
      ledger("/admin/ledger/tail?n=50"),
    ]);
    document.getElementById("auth").hidden = true;
    document.getElementById("main").hidden = false;
    renderSummary(summary);
    if (ts) {
      renderSeries(ts);
    } else {
      renderSeries({ bucket_ms: 60000, buckets: [], by_route: [], by_task: [] });
    }
    renderTasks(tasks);
    renderCrossover(crossover);
    renderLatency(latency);
    renderProviders(providers);
    renderRecent(tail);
    setText("status", `updated ${new Date().toISOString().slice(11, 19)} UTC`);
    document.body.dataset.loaded = "1";
  } catch (e) {
    if (e instanceof AuthError) {
      document.getElementById("auth").hidden = false;
      setText("auth-error", state.key ? "That key was refused." : "");
      setText("status", "admin key required");
    } else {
      setText("status", `refresh failed: ${e.message}`);
    }
  } finally {
    state.inFlight = false;
  }
}

function schedule() {
  clearInterval(state.timer);
  const every = Number(document.getElementById("refresh").value);
  if (every > 0) {
    state.timer = setInterval(() => { if (!document.hidden) refresh(); }, every);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("refresh").addEventListener("change", schedule);
  document.getElementById("bucket").addEventListener("change", refresh);
  document.getElementById("auth").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.key = document.getElementById("auth-key").value.trim();
    sessionStorage.setItem("switchyard-admin-key", state.key);
    refresh();
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  refresh();
  schedule();
});
