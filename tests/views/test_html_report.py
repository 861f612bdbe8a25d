"""The HTML report: one self-contained page per run or test run, inert whatever the models say."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from typing import Any

import pytest

from promptlab.results import ErrorInfo, Result
from promptlab.testing import AssertionOutcome, BaselineDiff, CaseOutcome, Sample, TestRun
from promptlab.views import html as report

HOSTILE = [
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "![x](http://evil/x.png)",
    "<!-- never closed",
    "line\u2028para\u2029end",
]
EVIL = " ".join(HOSTILE) + " lone \ud800 half"


def result(**kw: Any) -> Result:
    fields: dict[str, Any] = dict(
        prompt_name="support", prompt_version="1.0.0", prompt_hash="a" * 64,
        model_alias="nova-lite", model_id="amazon.nova-lite-v1:0", region="us-east-1",
        params={}, request={}, output="Hello Ana", input_tokens=12, output_tokens=34,
        latency_ms=850, wall_ms=900, cost_usd=0.000123, case="greets",
        started_at="2026-12-01T00:29:52.000+00:00", run_id="20261201-002952-5ce447",
    )  # fmt: skip
    fields.update(kw)
    if "content" not in kw:
        fields["content"] = [{"text": fields["output"]}] if fields["output"] else []
    return Result(**fields)


def outcome(r: Result, status: str = "pass", reason: str = "", **kw: Any) -> CaseOutcome:
    check = AssertionOutcome("has-name", "contains", status == "pass", 1.0, 1.0, reason or "ok")
    sample = Sample(r, status, 1.0 if status == "pass" else 0.0, reason, [check])
    fields: dict[str, Any] = dict(
        prompt={"name": r.prompt_name, "version": r.prompt_version, "hash": r.prompt_hash},
        case=r.case or "c", model=r.model_alias, model_id=r.model_id, repeat=1, threshold=1.0,
        samples=[sample], status=status, reason=reason,
    )  # fmt: skip
    fields.update(kw)
    return CaseOutcome(**fields)


class Page(HTMLParser):
    """Every start tag with its attributes, and the raw text of each script and style."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._buf: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open, self._buf = (tag, dict(attrs)), []

    def handle_data(self, data: str) -> None:
        if self._open:
            self._buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == self._open[0]:
            text = "".join(self._buf)
            if tag == "style":
                self.styles.append(text)
            else:
                self.scripts.append((self._open[1], text))
            self._open = None

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]

    def data(self) -> Any:
        block = next(text for attrs, text in self.scripts if attrs.get("id") == "data")
        return json.loads(block)


def sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def hostile_results() -> list[Result]:
    return [
        result(prompt_name=f"p{HOSTILE[0]}", case=f"case {HOSTILE[1]}", vars={"x": EVIL},
               output=EVIL, notices=[HOSTILE[2]]),
        result(model_alias=f"m{HOSTILE[1]}", model_id="x", case=f"case {HOSTILE[1]}", output="",
               error=ErrorInfo("Throttling" + HOSTILE[0], EVIL, hint=HOSTILE[3])),
        result(model_alias="claude", model_id="anthropic.claude", case=f"case {HOSTILE[1]}",
               content=[{"reasoningContent": {"reasoningText": {"text": EVIL}}},
                        {"toolUse": {"name": HOSTILE[0], "toolUseId": "t", "input": {"q": EVIL}}},
                        {"citationsContent": {"citations": [{"title": HOSTILE[3]}]}},
                        {"text": EVIL}], output=EVIL),
    ]  # fmt: skip


def hostile_run() -> TestRun:
    cases = [outcome(r, "fail" if r.ok else "error", reason=EVIL) for r in hostile_results()]
    cases[0].description = EVIL
    diff = BaselineDiff(f"base{HOSTILE[0]}.json", newly_failing=[cases[0].key])
    return TestRun(cases, run_id="r1", shard="1/2", baseline=diff)


def pages() -> list[str]:
    return [report.run_page(hostile_results(), source=f"run {HOSTILE[0]}"),
            report.test_page(hostile_run(), source=HOSTILE[1])]  # fmt: skip


# ---------------------------------------------------------------- the document and its policy


@pytest.mark.parametrize("kind", ["run", "test"])
def test_page_has_one_strict_csp_whose_hashes_match_its_own_script_and_style(kind: str) -> None:
    doc = pages()[kind == "test"]
    page = Page(doc)
    assert doc.startswith("<!DOCTYPE html>")
    csp = [m for m in page.named("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1
    policy = csp[0]["content"] or ""
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "data:"
    assert directives["base-uri"] == directives["form-action"] == "'none'"
    assert len(page.styles) == 1
    assert directives["style-src"] == f"'{sha(page.styles[0])}'"
    code = [text for attrs, text in page.scripts if "type" not in attrs]
    assert len(code) == 1
    assert directives["script-src"] == f"'{sha(code[0])}'"


@pytest.mark.parametrize("kind", ["run", "test"])
def test_page_loads_nothing_from_the_network(kind: str) -> None:
    doc = pages()[kind == "test"]
    page = Page(doc)
    assert not page.named("link") and not page.named("img") and not page.named("iframe")
    for _, attrs in page.tags:
        for name in ("src", "href", "action", "xlink:href"):
            assert attrs.get(name) is None, attrs
    css = page.styles[0]
    assert "url(" not in css and "@import" not in css
    code = next(text for attrs, text in page.scripts if "type" not in attrs)
    for word in ("http:", "https:", "//", "fetch(", "XMLHttpRequest", "import("):
        assert word not in code.replace("// ---", "")


def test_script_builds_the_page_without_html_parsing_or_eval() -> None:
    page = Page(pages()[0])
    code = next(text for attrs, text in page.scripts if "type" not in attrs)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "Function(", "createElement(\"a\")", "href"):  # fmt: skip
        assert sink not in code


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to parse JavaScript")
def test_script_is_valid_javascript(tmp_path: Any) -> None:
    page = Page(pages()[1])
    code = next(text for attrs, text in page.scripts if "type" not in attrs)
    (tmp_path / "page.js").write_text(code, "utf-8")
    done = subprocess.run(["node", "--check", str(tmp_path / "page.js")], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- untrusted text stays text


@pytest.mark.parametrize("kind", ["run", "test"])
def test_hostile_text_never_becomes_live_markup(kind: str) -> None:
    doc = pages()[kind == "test"]
    page = Page(doc)
    assert len(page.named("script")) == 2  # the data block and the page's own script
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "javascript:" not in " ".join(v or "" for v in attrs.values())
    for text in HOSTILE[:2]:
        assert text not in doc
    assert "<img" not in doc and "<!--" not in doc
    assert "\u2028" not in doc and "\u2029" not in doc
    doc.encode("utf-8")  # no lone surrogate left


def test_hostile_text_reaches_the_script_whole_as_data() -> None:
    data = Page(pages()[0]).data()
    cells = [r for row in data["rows"] for rs in row["cells"].values() for r in rs]
    assert cells[0]["out"] == EVIL.replace("\ud800", "\ufffd")
    assert cells[1]["err"]["hint"] == HOSTILE[3]
    assert [b["t"] for b in cells[2]["blocks"]] == ["reasoning"]  # the rest: answer parts
    assert cells[2]["calls"][0]["call"].startswith(f"{HOSTILE[0]}(q=")
    assert json.loads(cells[2]["calls"][0]["json"]) == {"q": EVIL.replace("\ud800", "\ufffd")}
    assert cells[2]["sources"] == [HOSTILE[3]]


def test_header_and_charts_escape_prompt_case_and_model_names() -> None:
    doc = pages()[0]
    assert "p&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in doc  # prompt, header
    assert "m&lt;img src=x onerror=alert(1)&gt;" in doc  # model alias: header, charts
    test_doc = pages()[1]
    assert "base&lt;/script&gt;" in test_doc  # baseline file name
    assert "made from &lt;img src=x onerror=alert(1)&gt;" in test_doc


# ---------------------------------------------------------------- what a run page shows


def test_run_page_has_one_column_header_per_model() -> None:
    results = [result(model_alias=m, model_id=f"id.{m}", case=c)
               for c in ("a", "b") for m in ("nova-lite", "claude", "llama")]  # fmt: skip
    page = Page(report.run_page(results, source="run x"))
    heads = page.named("th")
    assert [h.get("data-model") for h in heads if h.get("class") == "col"] == [
        "nova-lite", "claude", "llama",
    ]  # fmt: skip
    data = page.data()
    assert [row["key"] for row in data["rows"]] == ["a", "b"]
    assert all(sorted(row["cells"]) == ["0", "1", "2"] for row in data["rows"])


def test_run_page_has_a_column_per_prompt_version_and_model_when_versions_are_compared() -> None:
    results = [result(prompt_version=v, prompt_hash=v * 8, model_alias=m, model_id=m)
               for v in ("1", "2") for m in ("nova-lite", "claude")]  # fmt: skip
    doc = report.run_page(results, source="run x")
    assert len([h for h in Page(doc).named("th") if h.get("class") == "col"]) == 4
    assert "support v2" in doc


def test_run_page_header_says_what_was_run() -> None:
    results = [result(prompt_ref="0123456789abcdef0123", prompt_path="prompts/support.yaml"),
               result(model_alias="claude", model_id="anthropic.claude-3",
                      started_at="2026-12-01T00:30:10.000+00:00", cost_usd=1.5)]  # fmt: skip
    doc = report.run_page(results, source="run 20261201-002952-5ce447")
    assert "made from run 20261201-002952-5ce447" in doc
    assert "support v1.0.0 · hash aaaaaaaaaaaa · git 0123456789ab · prompts/support.yaml" in doc
    assert "claude → anthropic.claude-3" in doc
    assert "us-east-1" in doc
    assert "2026-12-01T00:29:52.000+00:00 – 2026-12-01T00:30:10.000+00:00" in doc
    assert "2 call(s) · 0 error(s) · tokens 24 in / 68 out · cost $1.50" in doc


def test_cells_carry_facts_errors_and_content_blocks_readably() -> None:
    image = {"image": {"format": "png", "source": {"bytes": {"sha256": "f" * 64, "size": 2048}}}}
    results = [
        result(cached=True, ttft_ms=120, notices=["max_tokens lowered"]),
        result(model_alias="claude", model_id="c", output="", content=[],
               error=ErrorInfo("AccessDeniedException", "no access", hint="enable the model")),
        result(model_alias="tools", model_id="t", output="see", content=[
            {"toolUse": {"toolUseId": "1", "name": "lookup", "input": {"order": "A1", "n": 2}}},
            {"reasoningContent": {"redactedContent": {"sha256": "0", "size": 3}}},
            {"citationsContent": {"content": [{"text": "cited"}], "citations": [
                {"title": "Policy", "sourceContent": [{"text": "30 days"}]}]}},
            image, {"text": "see"}]),
    ]  # fmt: skip
    row = Page(report.run_page(results, source="r")).data()["rows"][0]
    cells = [rs[0] for rs in row["cells"].values()]
    assert cells[0]["facts"] == ("tokens 12 in / 34 out · latency 850 ms · wall 900 ms · "
                                 "TTFT 120 ms · cost $0.000123 · cached")  # fmt: skip
    assert cells[0]["notices"] == ["max_tokens lowered"]
    assert cells[1]["err"] == {"code": "AccessDeniedException", "message": "no access",
                               "hint": "enable the model"}  # fmt: skip
    reasoning, media = cells[2]["blocks"]  # text, tool uses and citations: the answer's parts
    assert reasoning == {"t": "reasoning", "v": "(reasoning redacted by the provider)"}
    assert media == {"t": "media", "label": "image · png · 2,048 bytes · sha256 ffffffffffff…"}
    assert cells[2]["out"] == "citedsee"  # the cited passage is part of the answer's text
    [call] = cells[2]["calls"]
    assert call["call"] == 'lookup(order="A1", n=2)' and call["result"] is None
    assert json.loads(call["json"]) == {"order": "A1", "n": 2}
    assert cells[2]["sources"] == ['Policy: "30 days"']


def test_charts_are_inline_svg() -> None:
    results = [result(model_alias=m, model_id=m, latency_ms=ms) for m in ("a", "b")
               for ms in (100, 200, 900)]  # fmt: skip
    doc = report.run_page(results, source="r")
    assert doc.count("<svg") == 2
    assert "Latency per model" in doc and "Cost per model" in doc
    assert ">p95</text>" in doc and ">900 ms</text>" in doc
    assert report.test_page(hostile_run(), source="x").count("<svg") == 5


def test_an_empty_run_still_makes_a_page() -> None:
    page = Page(report.run_page([], source="nothing"))
    assert page.data() == {"kind": "run", "columns": [], "rows": []}


# ---------------------------------------------------------------- what a test page shows


def test_test_page_lists_failed_and_errored_cases_first_with_filters() -> None:
    run = TestRun([
        outcome(result(case="fine")),
        outcome(result(case="broken", model_alias="claude", model_id="c"), "error"),
        outcome(result(case="wrong", prompt_name="other"), "fail", reason="'Ana' not found"),
    ], run_id="r", shard="2/4")  # fmt: skip
    doc = report.test_page(run, source="report.json")
    page = Page(doc)
    rows = page.data()["rows"]
    assert [(r["case"], r["status"]) for r in rows] == [
        ("wrong", "fail"), ("broken", "error"), ("fine", "pass"),
    ]  # fmt: skip
    assert rows[0]["reason"] == "'Ana' not found"
    assert rows[0]["samples"][0]["asserts"][0][:4] == ["has-name", "contains", False, "1.00"]
    options = {s["id"]: [] for s in page.named("select")}
    assert set(options) == {"f-status", "f-model", "f-prompt"}
    values = [a.get("value") for a in page.named("option")]
    assert values == ["", "fail", "error", "pass", "", "claude", "nova-lite", "", "other",
                      "support"]  # fmt: skip
    assert "1 passed · 1 failed · 1 error(s) of 3 · pass rate 33%" in doc
    assert "<dt>shard</dt><dd>2/4</dd>" in doc


def test_test_page_shows_the_baseline_comparison() -> None:
    cur = outcome(result(case="a"), "fail")
    diff = BaselineDiff("base.json", newly_failing=[cur.key], changed_outputs=[cur.key],
                        cost_usd=0.02, baseline_cost_usd=0.01, latency_ms=900.0,
                        baseline_latency_ms=800.0)  # fmt: skip
    doc = report.test_page(TestRun([cur], baseline=diff), source="r.json")
    assert "Compared with baseline base.json" in doc
    assert "newly failing: 1" in doc and "changed outputs: 1" in doc
    assert "cost $0.0100 → $0.0200 (+$0.0100) · latency 800 ms → 900 ms (+100 ms)" in doc
    assert Page(doc).data()["rows"][0]["base"] == "newly failing"


def test_a_thousand_cases_on_three_models_make_a_page_quickly_and_under_10_mb() -> None:
    answer = ("The refund policy allows returns within thirty days of purchase. " * 16)[:1000]
    cases = [
        outcome(result(case=f"case-{i}", model_alias=m, model_id=f"id.{m}", output=answer,
                       vars={"question": f"question {i}"}),
                "pass" if i % 7 else "fail", reason="" if i % 7 else "'refund' not found")
        for i in range(1000) for m in ("nova-lite", "claude", "llama")
    ]  # fmt: skip
    run = TestRun(cases, run_id="big")
    start = time.perf_counter()
    doc = report.test_page(run, source="big.json")
    elapsed = time.perf_counter() - start
    assert elapsed < 5  # a generous bound; bench/ measures the real figure
    assert len(doc.encode("utf-8")) < 10_000_000
    assert len(Page(doc).data()["rows"]) == 3000


def test_data_block_escapes_every_character_that_could_end_it() -> None:
    doc = report.run_page([result(output="a<b>c&d\u2028e\u2029f")], source="r")
    block = re.search(r'<script type="application/json" id="data">(.*?)</script>', doc, re.S)
    assert block is not None
    raw = block.group(1)
    assert not re.search("[<>&\u2028\u2029]", raw)
    assert "a\\u003cb\\u003ec\\u0026d\\u2028e\\u2029f" in raw


# ---------------------------------------------------------------- the page's script, run in node

# Just enough DOM for the page's script: elements by id, createElement, text, events.
FAKE_DOM = r"""
class El {
  constructor(tag) {
    this.tagName = tag; this.children = []; this.own = ""; this.dataset = {}; this.attrs = {};
    this.on = {}; this.hidden = false; this.className = ""; this.parent = null; this.value = "";
  }
  get textContent() { return this.own + this.children.map((c) => c.textContent).join(""); }
  set textContent(v) { this.own = String(v); this.children = []; }
  get options() { return this.children.filter((c) => c.tagName === "OPTION"); }
  append(...nodes) {
    for (const n of nodes) {
      const list = n.tagName === "#FRAG" ? n.children.splice(0) : [n];
      for (const c of list) { c.parent = this; this.children.push(c); }
    }
  }
  replaceChildren() { this.children = []; this.own = ""; }
  after(n) { n.parent = this.parent; const k = this.parent.children;
    k.splice(k.indexOf(this) + 1, 0, n); }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  addEventListener(type, f) { (this.on[type] = this.on[type] || []).push(f); }
  fire(type) { for (const f of this.on[type] || []) f({ target: this }); }
  all(tag) { return this.children.flatMap((c) => [...(c.tagName === tag ? [c] : []),
    ...c.all(tag)]); }
}
const ids = {};
const heads = [];
globalThis.document = {
  getElementById: (id) => ids[id],
  createElement: (tag) => new El(tag.toUpperCase()),
  createTextNode: (s) => { const n = new El("#TEXT"); n.own = s; return n; },
  createDocumentFragment: () => new El("#FRAG"),
  querySelectorAll: (sel) => (sel === "th.col" ? heads : []),
};
globalThis.location = { hash: CONFIG.hash, pathname: "/report.html", search: "" };
globalThis.history = { replaceState: (s, t, url) => {
  location.hash = url.startsWith("#") ? url : ""; } };
globalThis.window = { addEventListener() {} };
for (const id of CONFIG.ids) ids[id] = new El("DIV");
ids.data.textContent = CONFIG.data;
for (const [id, values] of Object.entries(CONFIG.selects)) {
  ids[id] = new El("SELECT");
  for (const v of values) { const o = new El("OPTION"); o.value = v; ids[id].append(o); }
}
ids["f-q"] = new El("INPUT");
for (let i = 0; i < CONFIG.heads; i++) heads.push(new El("TH"));
const rows = () => ids.rows.children.filter((r) => r.className === "row");
const report = (extra) => console.log(JSON.stringify({
  rows: rows().map((r) => r.dataset), count: ids.count.textContent, hash: location.hash,
  ...extra }));
"""


def browse(doc: str, tmp_path: Any, then: str, hash: str = "") -> Any:
    """Runs the page's script on a fake DOM in node; `then` is JS ending in report({...})."""
    page = Page(doc)
    selects: dict[str, list[str]] = {}
    current = ""
    for tag, attrs in page.tags:
        if tag == "select":
            current = attrs["id"] or ""
            selects[current] = []
        elif tag == "option":
            selects[current].append(attrs.get("value") or "")
    config = {
        "hash": hash, "selects": selects,
        "data": next(text for attrs, text in page.scripts if attrs.get("id") == "data"),
        "ids": ["data", "rows", "more", "count", "compare", "cmp-a", "cmp-b", "cmp-diff",
                "cmp-swap", "cmp-clear"],
        "heads": len([h for h in page.named("th") if h.get("class") == "col"]),
    }  # fmt: skip
    code = next(text for attrs, text in page.scripts if "type" not in attrs)
    program = f"const CONFIG = {json.dumps(config)};\n{FAKE_DOM}\n{code}\n{then}\n"
    (tmp_path / "page.js").write_text(program, "utf-8")
    done = subprocess.run(["node", str(tmp_path / "page.js")], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def big_run(n: int) -> TestRun:
    cases = [
        outcome(result(case=f"case-{i}", model_alias=m, model_id=m,
                       output="refund granted" if i % 2 else "no refund"),
                "fail" if i % 3 == 0 else "pass", reason="too short" if i % 3 == 0 else "")
        for i in range(n) for m in ("nova-lite", "claude", "llama")
    ]  # fmt: skip
    return TestRun(cases)


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")


@needs_node
def test_filters_from_the_url_hash_apply_at_load_over_all_rows(tmp_path: Any) -> None:
    doc = report.test_page(big_run(300), source="r")
    seen = browse(doc, tmp_path, "report({});", hash="#status=fail&model=claude&q=granted")
    # case i fails when i % 3 == 0 and says "granted" when i is odd: i = 3, 9, … (50 of 300)
    assert len(seen["rows"]) == 50
    assert {(r["status"], r["model"]) for r in seen["rows"]} == {("fail", "claude")}
    assert seen["rows"][0]["key"] == "support/case-3@claude"
    assert seen["count"].startswith("50 of 900 row(s) match")


@needs_node
def test_rows_are_drawn_on_demand_and_filter_changes_update_the_hash(tmp_path: Any) -> None:
    doc = report.test_page(big_run(300), source="r")
    then = """
    const first = rows().length;
    ids.more.fire("click");
    const second = rows().length;
    ids["f-status"].value = "pass";
    ids["f-status"].fire("change");
    report({ first, second });
    """
    seen = browse(doc, tmp_path, then)
    assert (seen["first"], seen["second"]) == (200, 400)
    assert len(seen["rows"]) == 200 and {r["status"] for r in seen["rows"]} == {"pass"}
    assert seen["hash"] == "#status=pass"
    assert seen["count"] == "600 of 900 row(s) match · 200 shown"


@needs_node
def test_a_row_expands_to_its_samples_and_assertions(tmp_path: Any) -> None:
    doc = report.test_page(big_run(3), source="r")
    then = """
    rows()[0].fire("click");
    const detail = ids.rows.children[1];
    report({ detail: detail.className, text: detail.textContent });
    """
    seen = browse(doc, tmp_path, then)
    assert seen["detail"] == "detail"
    assert "has-name" in seen["text"] and "too short" in seen["text"]


@needs_node
def test_two_ticked_answers_show_a_word_diff(tmp_path: Any) -> None:
    results = [
        result(output="the cat sat on the mat"),
        result(model_alias="claude", model_id="c", output="the dog sat on the mat"),
    ]
    then = """
    const boxes = ids.rows.all("INPUT");
    for (const b of boxes) { b.checked = true; b.fire("change"); }
    const diff = ids["cmp-diff"].children.map((c) => [c.tagName, c.textContent]);
    report({ boxes: boxes.length, diff, shown: !ids.compare.hidden });
    """
    seen = browse(report.run_page(results, source="r"), tmp_path, then)
    assert seen["boxes"] == 2 and seen["shown"]
    assert seen["diff"] == [["#TEXT", "the "], ["DEL", "cat"], ["INS", "dog"],
                            ["#TEXT", " sat on the mat"]]  # fmt: skip
