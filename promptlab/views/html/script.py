"""The report's one script (inline; the page's CSP allows it by its hash only).

It reads the JSON data block and builds every element with createElement/textContent: no
innerHTML, no eval, no links made of model text. Rows are drawn PAGE at a time (more on
scroll or "show more"); filtering runs over all rows; filter state lives in the URL hash.
"""

JS = r"""
(() => {
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const PAGE = 200;
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
};
const details = (label, body, cls) => {
  const d = el("details", cls);
  d.append(el("summary", null, label), body);
  return d;
};

// ---------------------------------------------------------------- answers
const textOf = (r) => [r.guardrail || "", r.invalid || "", r.out || "",
  ...(r.images || []).map((i) => i.label),
  ...(r.calls || []).flatMap((c) => ["→ " + c.call, c.result === null ? "" : "← " + c.result]),
  ...(r.sources || []), ...(r.passages || []).map((p) => p.line)].filter((s) => s).join("\n");

function blockView(b) {
  if (b.t === "reasoning") return details("reasoning", el("div", "out", b.v), "reasoning");
  if (b.t === "media") {
    const d = el("div", "media");
    if (typeof b.src === "string" && b.src.startsWith("data:image/")) {
      const img = el("img");
      img.alt = b.label;
      img.src = b.src;
      d.append(img);
    }
    d.append(el("div", null, b.label));
    return d;
  }
  return details(b.label, el("pre", null, b.json), "other");
}

function imageGrid(images) {
  const grid = el("div", "grid");
  for (const im of images) {
    const fig = el("figure");
    if (typeof im.src === "string" && im.src.startsWith("data:image/")) {
      const img = el("img");
      img.src = im.src;
      img.alt = im.label;
      fig.append(img);
    } else {
      fig.append(el("div", "filtered", "no image"));
    }
    fig.append(el("figcaption", null, im.label));
    grid.append(fig);
  }
  return grid;
}

function resultView(r) {
  const box = el("div", "result");
  const top = el("div", "top");
  const pick = el("label", "pick");
  const cb = el("input");
  cb.type = "checkbox";
  const held = picked.find((p) => p.r.id === r.id);
  if (held) { held.cb = cb; cb.checked = true; }
  cb.addEventListener("change", () => choose(r, cb));
  pick.append(cb, document.createTextNode(" compare"));
  top.append(el("span", "muted", r.label), pick);
  box.append(top);
  if (r.err) {
    const e = el("div", "error-box");
    e.append(el("span", "code", r.err.code), el("div", "out", r.err.message));
    if (r.err.hint) e.append(el("div", "hint", "hint: " + r.err.hint));
    box.append(e);
  }
  if (r.guardrail) box.append(el("div", r.blocked ? "invalid" : "muted", r.guardrail));
  if (r.invalid) box.append(el("div", "invalid", r.invalid));
  for (const b of r.blocks || []) box.append(blockView(b));
  if (r.images) box.append(imageGrid(r.images));
  if (r.out) box.append(el("div", r.structured ? "out json" : "out", r.out));
  else if (!r.err && !r.calls && !r.blocks && !r.images) {
    box.append(el("div", "muted", "(empty answer)"));
  }
  for (const c of r.calls || []) {
    const d = el("div", "tool");
    d.append(el("code", null, "→ " + c.call), details("input JSON", el("pre", null, c.json)));
    if (c.result !== null) d.append(el("div", "sent", "← " + c.result));
    box.append(d);
  }
  if (r.sources) {
    const d = el("div", "cite");
    const ol = el("ol");
    for (const item of r.sources) ol.append(el("li", null, item));
    d.append(el("div", "muted", "sources"), ol);
    box.append(d);
  }
  if (r.passages) {
    const d = el("div", "cite");
    const ul = el("ul");
    for (const p of r.passages) {
      const li = el("li");
      li.append(details(p.line, el("div", "out", p.text)));
      ul.append(li);
    }
    d.append(el("div", "muted", "passages"), ul);
    box.append(d);
  }
  if (r.exchange) box.append(el("div", "muted", r.exchange));
  if (r.notices) {
    const ul = el("ul", "notices");
    for (const n of r.notices) ul.append(el("li", null, n));
    box.append(ul);
  }
  box.append(el("div", "facts", r.facts));
  return box;
}

// ---------------------------------------------------------------- compare: word diff
const picked = [];
function choose(r, cb) {
  const at = picked.findIndex((p) => p.r.id === r.id);
  if (at >= 0) picked.splice(at, 1);
  if (cb.checked) picked.push({ r, cb });
  while (picked.length > 2) picked.shift().cb.checked = false;
  showCompare();
}

const words = (s) => s.match(/\s+|\S+/g) || [];
function diffOps(a, b) {
  const A = words(a), B = words(b);
  let p = 0, s = 0;
  while (p < A.length && p < B.length && A[p] === B[p]) p++;
  while (s < A.length - p && s < B.length - p && A[A.length - 1 - s] === B[B.length - 1 - s]) s++;
  const X = A.slice(p, A.length - s), Y = B.slice(p, B.length - s);
  const n = X.length, m = Y.length;
  const ops = [["=", A.slice(0, p).join("")]];
  if (n * m > 4e6) {
    ops.push(["-", X.join("")], ["+", Y.join("")]);
  } else {
    const L = [];
    for (let i = 0; i <= n; i++) L.push(new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        L[i][j] = X[i] === Y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
      }
    }
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (X[i] === Y[j]) { ops.push(["=", X[i]]); i++; j++; }
      else if (L[i + 1][j] >= L[i][j + 1]) ops.push(["-", X[i++]]);
      else ops.push(["+", Y[j++]]);
    }
    while (i < n) ops.push(["-", X[i++]]);
    while (j < m) ops.push(["+", Y[j++]]);
  }
  ops.push(["=", A.slice(A.length - s).join("")]);
  const merged = [];
  for (const [k, t] of ops) {
    const last = merged[merged.length - 1];
    if (!t) continue;
    if (last && last[0] === k) last[1] += t; else merged.push([k, t]);
  }
  return merged;
}

function showCompare() {
  $("compare").hidden = picked.length === 0;
  const [a, b] = picked;
  $("cmp-a").textContent = a ? a.r.label : "";
  $("cmp-b").textContent = b ? b.r.label : "(tick a second answer)";
  const out = $("cmp-diff");
  out.replaceChildren();
  if (!a || !b) return;
  for (const [k, t] of diffOps(textOf(a.r), textOf(b.r))) {
    out.append(k === "=" ? document.createTextNode(t) : el(k === "-" ? "del" : "ins", null, t));
  }
}
$("cmp-swap").addEventListener("click", () => { picked.reverse(); showCompare(); });
$("cmp-clear").addEventListener("click", () => {
  for (const p of picked) p.cb.checked = false;
  picked.length = 0;
  showCompare();
});

// ---------------------------------------------------------------- search text
function hay(row) {
  if (row._h === undefined) {
    const parts = [row.key, row.vars || "", row.desc || "", row.reason || ""];
    const add = (r) => {
      parts.push(r.label, textOf(r));
      if (r.err) parts.push(r.err.code, r.err.message);
    };
    for (const k in row.cells || {}) for (const r of row.cells[k]) add(r);
    for (const s of row.samples || []) {
      add(s.r);
      parts.push(s.reason);
      for (const a of s.asserts) parts.push(a[0], a[4]);
    }
    row._h = parts.join("\n").toLowerCase();
  }
  return row._h;
}

// ---------------------------------------------------------------- run page: case × model
function runView() {
  const cols = D.columns;
  const heads = Array.from(document.querySelectorAll("th.col"));
  let shown = [];
  return {
    prepare(s) {
      shown = cols.map((c, i) => i).filter((i) =>
        (!s.model || cols[i].alias === s.model) && (!s.prompt || cols[i].prompt === s.prompt));
      heads.forEach((th, i) => { th.hidden = !shown.includes(i); });
    },
    match(row, s) {
      const cells = shown.map((i) => row.cells[i]).filter(Boolean);
      if (!cells.length) return false;
      if (s.status && (s.status === "error") !== cells.some((rs) => rs.some((r) => r.err))) {
        return false;
      }
      return !s.q || hay(row).includes(s.q);
    },
    row(row, frag) {
      const tr = el("tr", "row");
      const here = shown.filter((i) => row.cells[i]);
      const failed = here.some((i) => row.cells[i].some((r) => r.err));
      tr.dataset.key = row.key;
      tr.dataset.status = failed ? "error" : "ok";
      tr.dataset.model = here.map((i) => cols[i].alias).join(" ");
      const head = el("th", "case");
      head.append(el("div", null, row.key));
      if (row.vars) head.append(el("div", "muted out", row.vars));
      tr.append(head);
      for (const i of shown) {
        const td = el("td", "res");
        td.dataset.model = cols[i].alias;
        const rs = row.cells[i] || [];
        for (const r of rs) td.append(resultView(r));
        if (!rs.length) td.append(el("span", "muted", "–"));
        tr.append(td);
      }
      frag.append(tr);
    },
  };
}

// ---------------------------------------------------------------- test page: case × model rows
function assertTable(rows) {
  const t = el("table", "asserts");
  const head = el("tr");
  for (const h of ["assertion", "type", "passed", "score", "reason"]) {
    head.append(el("th", null, h));
  }
  t.append(head);
  for (const [name, type, passed, score, reason, err] of rows) {
    const tr = el("tr");
    const why = el("td", "reason-text", reason);
    if (err) why.append(el("div", "hint", err));
    const ok = el("td", passed ? "s-pass" : "s-fail", passed ? "✓ yes" : "✗ no");
    tr.append(el("td", null, name), el("td", null, type), ok, el("td", null, score), why);
    t.append(tr);
  }
  return t;
}

function detailRow(row) {
  const tr = el("tr", "detail");
  const td = el("td");
  td.colSpan = 9;
  if (row.where) td.append(el("div", "where", row.where));
  const agree = row.agree ? " · agreement " + row.agree : "";
  td.append(el("div", "muted", row.model + " → " + row.mid + " · " + row.plabel + agree));
  for (const s of row.samples) {
    const box = el("div", "sample");
    const h = el("h4");
    h.append(el("span", "status s-" + s.status, s.status.toUpperCase()),
      document.createTextNode(" sample " + s.n + " · score " + s.score));
    box.append(h);
    if (s.reason) box.append(el("div", "reason-text", s.reason));
    if (s.asserts.length) box.append(assertTable(s.asserts));
    box.append(resultView(s.r));
    td.append(box);
  }
  tr.append(td);
  return tr;
}

function testView() {
  return {
    prepare() {},
    match(row, s) {
      if (s.status && row.status !== s.status) return false;
      if (s.model && row.model !== s.model) return false;
      if (s.prompt && row.prompt !== s.prompt && row.plabel !== s.prompt) return false;
      return !s.q || hay(row).includes(s.q);
    },
    row(row, frag) {
      const tr = el("tr", "row");
      tr.dataset.key = row.key;
      tr.dataset.status = row.status;
      tr.dataset.model = row.model;
      const btn = el("button", "toggle", "▸");
      btn.type = "button";
      btn.setAttribute("aria-expanded", "false");
      btn.title = "samples and assertions";
      const first = el("td");
      first.append(btn);
      const name = el("td");
      const line = el("div", null, row.prompt + "/" + row.case);
      if (row.base) line.append(el("span", "tag", row.base));
      name.append(line);
      if (row.desc) name.append(el("div", "muted", row.desc));
      const reason = row.reason.length > 300 ? row.reason.slice(0, 299) + "…" : row.reason;
      tr.append(first, el("td", "status s-" + row.status, row.status.toUpperCase()), name,
        el("td", null, row.model), el("td", null, row.rate), el("td", null, row.score),
        el("td", null, row.cost), el("td", null, row.lat), el("td", "reason-text", reason));
      let detail = null;
      tr.addEventListener("click", () => {
        if (!detail) { detail = detailRow(row); tr.after(detail); }
        else detail.hidden = !detail.hidden;
        btn.textContent = detail.hidden ? "▸" : "▾";
        btn.setAttribute("aria-expanded", String(!detail.hidden));
      });
      frag.append(tr);
    },
  };
}

// ---------------------------------------------------------------- filters, hash, paging
const view = D.kind === "run" ? runView() : testView();
const KEYS = ["status", "model", "prompt", "q"];
const ctl = { status: $("f-status"), model: $("f-model"), prompt: $("f-prompt"), q: $("f-q") };
const tbody = $("rows"), more = $("more"), count = $("count");
let list = [], drawn = 0, timer = 0;

function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  for (const k of KEYS) {
    const c = ctl[k], v = params.get(k) || "";
    if (c.tagName === "SELECT" && v && !Array.from(c.options).some((o) => o.value === v)) {
      const o = el("option", null, v);
      o.value = v;
      c.append(o);
    }
    c.value = v;
  }
}
function writeHash() {
  const params = new URLSearchParams();
  for (const k of KEYS) if (ctl[k].value) params.set(k, ctl[k].value);
  const h = params.toString();
  try { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); }
  catch (e) { /* a page opened from disk may refuse; the filters still apply */ }
}
function state() {
  return { status: ctl.status.value, model: ctl.model.value, prompt: ctl.prompt.value,
    q: ctl.q.value.trim().toLowerCase() };
}
function showMore() {
  const end = Math.min(list.length, drawn + PAGE);
  const frag = document.createDocumentFragment();
  for (let i = drawn; i < end; i++) view.row(list[i], frag);
  tbody.append(frag);
  drawn = end;
  more.hidden = drawn >= list.length;
  more.textContent = "show " + Math.min(PAGE, list.length - drawn) + " more";
  count.textContent = list.length + " of " + D.rows.length + " row(s) match · " + drawn + " shown";
}
function apply(fromHash) {
  const s = state();
  view.prepare(s);
  list = D.rows.filter((r) => view.match(r, s));
  drawn = 0;
  tbody.replaceChildren();
  showMore();
  if (!fromHash) writeHash();
}
ctl.q.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(() => apply(false), 150);
});
for (const k of ["status", "model", "prompt"]) {
  ctl[k].addEventListener("change", () => apply(false));
}
window.addEventListener("hashchange", () => { readHash(); apply(true); });
more.addEventListener("click", showMore);
if ("IntersectionObserver" in window) {
  new IntersectionObserver((seen) => {
    if (!more.hidden && seen.some((e) => e.isIntersecting)) showMore();
  }, { rootMargin: "600px" }).observe(more);
}
readHash();
apply(true);
})();
"""
