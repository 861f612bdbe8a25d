"""Every assertion type: pass, fail and bad configuration; negation, weights, JSON paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promptlab.assertions import Assertion, Context, Verdict, evaluate, parse_assertion
from promptlab.errors import Problem
from promptlab.results import Result
from promptlab.testing import AssertionOutcome, decide
from promptlab.yamlfile import parse_yaml


def parse(spec: str, root: Path | None = None) -> tuple[Assertion | None, list[Problem]]:
    doc = parse_yaml(f"# suite\nassert:\n  - {spec}\n", "suite.tests.yaml")
    problems: list[Problem] = []
    a = parse_assertion(doc.data["assert"][0], doc, ("assert", 0), root or Path.cwd(), problems)
    return a, problems


def result(output: str = "", **kw: Any) -> Result:
    base: dict[str, Any] = dict(prompt_name="p", prompt_version="1.0.0", prompt_hash="h",
                                model_alias="m", model_id="m", region=None, params={},
                                request={}, output=output)  # fmt: skip
    base.update(kw)
    return Result(**base)


def run(spec: str, output: str, root: Path | None = None, **kw: Any) -> Verdict:
    a, problems = parse(spec, root)
    assert a is not None, problems
    r = result(output, **kw)
    return evaluate(a, Context(output, r, {"x": 1}, "case", root or Path.cwd()))


JSON_OUT = '{"name": "Ana", "items": [{"sku": "A1", "qty": 2}], "total": 9.5}'

CASES = [
    # (spec, passing output, failing output)
    ("{equals: hello}", "  hello \n", "hello world"),
    ("{equals: {a: 1}}", '{"a": 1}', '{"a": 2}'),
    ("{contains: Ana}", "Hi Ana,", "Hi ana,"),
    ("{icontains: ANA}", "Hi ana,", "Hi Bob,"),
    ("{contains-any: [refund, replace]}", "we replace it", "sorry"),
    ("{contains-all: [refund, photo]}", "refund after a photo", "refund only"),
    ("{icontains-any: [REFUND]}", "a Refund", "nothing"),
    ("{icontains-all: [A, b]}", "a B", "a"),
    ("{starts-with: Hi}", "  Hi there", "Oh hi"),
    ("{ends-with: Support}", "Maya\nSupport\n", "Support team"),
    ("{regex: '^\\d{4}-\\d{2}-\\d{2}$'}", "2024-04-03", "03.04.2024"),
    ("{type: length, min: 2, max: 3, unit: words}", "one two", "one two three four"),
    ("{length: {max: 5}}", "short", "too long text"),
    ("is-json", "```json\n{\"a\": 1}\n```", "not json"),
    ("{type: is-json, path: '$.items[0].sku'}", JSON_OUT, '{"items": []}'),
    ("{json-schema: {type: object, required: [name]}}", JSON_OUT, '{"x": 1}'),
    ("{type: json-schema, path: '$.items[0].qty', value: {const: 2}}", JSON_OUT,
     JSON_OUT.replace('"qty": 2', '"qty": 3')),
    ("{type: json-schema, path: \"$['total']\", schema: {type: number}}", JSON_OUT,
     '{"total": "9.5"}'),
    ("contains-json", 'Result: {"a": 1} as asked', "no JSON {here}"),
    ("is-xml", "<a>1</a>", "a: 1"),
    ("{contains-xml: [b]}", "see <a><b/></a>", "see <a/>"),
    ("{levenshtein: hello, threshold: 1}", "hallo", "help me"),
    ("{rouge-n: the cat sat}", "The cat sat.", "a dog ran"),
    ("{bleu: the cat sat on the mat}", "the cat sat on the mat", "a dog"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "good", "bad"), CASES)
def test_text_and_json_assertions_pass_and_fail(spec: str, good: str, bad: str) -> None:
    assert run(spec, good).passed, run(spec, good).reason
    verdict = run(spec, bad)
    assert not verdict.passed
    assert verdict.reason


@pytest.mark.parametrize(("spec", "good", "bad"), CASES)
def test_not_prefix_inverts_every_type(spec: str, good: str, bad: str) -> None:
    if spec.startswith("{type: "):
        negated = "{type: not-" + spec.removeprefix("{type: ")
    else:
        negated = "{not-" + spec[1:] if spec.startswith("{") else "not-" + spec
    assert not run(negated, good).passed
    assert run(negated, bad).passed


METRIC_CASES = [
    ("{max-latency-ms: 500}", {"latency_ms": 120}, {"latency_ms": 900}),
    ("{max-latency-ms: 500}", {"wall_ms": 10}, {"wall_ms": 501}),
    ("{max-output-tokens: 50}", {"output_tokens": 50}, {"output_tokens": 51}),
    ("{max-cost-usd: 0.01}", {"cost_usd": 0.001}, {"cost_usd": 0.02}),
    ("{max-cost-usd: 0.01}", {"cost_usd": 0.0}, {"cost_usd": None}),
    ("{stop-reason: end_turn}", {"stop_reason": "end_turn"}, {"stop_reason": "max_tokens"}),
    ("{stop-reason: [end_turn, stop_sequence]}", {"stop_reason": "stop_sequence"},
     {"stop_reason": None}),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "good", "bad"), METRIC_CASES)
def test_call_metric_assertions(spec: str, good: dict[str, Any], bad: dict[str, Any]) -> None:
    assert run(spec, "x", **good).passed
    verdict = run(spec, "x", **bad)
    assert not verdict.passed
    assert verdict.reason


BAD_CONFIG = [
    ("{contanis: x}", "unknown assertion type 'contanis'", "did you mean 'contains'?"),
    ("{type: not-equal, value: x}", "unknown assertion type 'not-equal'", "not-equals"),
    ("{contains: ''}", "needs a non-empty string", None),
    ("{contains: x, wieght: 2}", "unknown key 'wieght'", "did you mean 'weight'?"),
    ("{contains: x, weight: -1}", "'weight' must be a number ≥ 0", None),
    ("{contains: x, threshold: 0.5}", "'threshold' does not apply", None),
    ("{contains-any: []}", "non-empty list of strings", None),
    ("{regex: '(unclosed'}", "invalid regular expression", None),
    ("{type: length}", "needs 'min', 'max' or both", None),
    ("{type: length, min: 5, max: 2}", "greater than max", None),
    ("{type: length, max: 5, unit: lines}", "chars or words", None),
    ("{type: is-json, path: '$.a[x]'}", "invalid JSON path", None),
    ("{json-schema: {type: objekt}}", "invalid JSON schema", None),
    ("{json-schema: [1]}", "needs a JSON Schema mapping", None),
    ("{max-latency-ms: fast}", "non-negative number", None),
    ("{stop-reason: finished}", "unknown stop reason", "end_turn"),
    ("{similar: hello, threshold: 2}", "from 0 to 1", None),
    ("{judge: ''}", "non-empty string", None),
    ("{python: checks.py}", "needs 'file.py:function'", None),
    ("{python: missing.py:f}", "not found", None),
    ("{contains: a, icontains: b}", "one assertion per item", None),
    ("42", "must be a mapping", None),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "message", "hint"), BAD_CONFIG)
def test_bad_configuration_names_file_and_line(spec: str, message: str, hint: str | None) -> None:
    a, problems = parse(spec)
    assert a is None
    assert problems, spec
    p = problems[0]
    assert message in p.message
    assert p.file == "suite.tests.yaml"
    assert p.line == 3
    if hint:
        assert hint in (p.hint or "")


def test_python_assertion_bool_score_dict_and_exception(tmp_path: Path) -> None:
    (tmp_path / "checks.py").write_text(
        "def polite(output, context):\n    return 'please' in output\n"
        "def score(output, context):\n    return len(output) / 10\n"
        "def rich(output, context):\n"
        "    return {'pass': context['vars']['x'] == 1, 'score': 0.7, 'reason': 'x is one'}\n"
        "def boom(output, context):\n    raise ValueError('bad input')\n"
        "def odd(output, context):\n    return 'yes'\n",
        encoding="utf-8",
    )
    assert run("{python: checks.py:polite}", "please", tmp_path).passed
    assert not run("{python: checks.py:polite}", "now", tmp_path).passed
    assert run("{python: checks.py:score}", "123456", tmp_path).passed  # 0.6 ≥ 0.5
    assert not run("{python: checks.py:score, threshold: 0.9}", "123456", tmp_path).passed
    v = run("{python: checks.py:rich}", "", tmp_path)
    assert (v.passed, v.score, v.reason) == (True, 0.7, "x is one")
    boom = run("{python: checks.py:boom}", "", tmp_path)
    assert not boom.passed and "ValueError: bad input" in boom.reason
    assert not run("{not-python: checks.py:boom}", "", tmp_path).passed  # errors never invert
    assert "expected bool, number or dict" in run("{python: checks.py:odd}", "", tmp_path).reason


def test_python_reference_to_undefined_function_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "checks.py").write_text("def other(o, c):\n    return True\n", encoding="utf-8")
    a, problems = parse("{python: checks.py:polite}", tmp_path)
    assert a is None
    assert "no top-level function 'polite'" in problems[0].message
    assert "other" in (problems[0].hint or "")


def test_name_and_metric_label_the_assertion() -> None:
    a, _ = parse("{contains: x, name: mentions-x}")
    assert a is not None and a.label == "mentions-x"
    b, _ = parse("{type: not-contains, value: x, metric: no-x}")
    assert b is not None and b.label == "no-x" and b.full_type == "not-contains"


def outcome(passed: bool, score: float, weight: float = 1.0, name: str = "a") -> AssertionOutcome:
    return AssertionOutcome(name, "contains", passed, score, weight, f"{name} reason")


def test_sample_needs_every_weighted_assertion_without_min_score() -> None:
    r = result("x")
    assert decide(r, [outcome(True, 1), outcome(True, 1)], None).status == "pass"
    failed = decide(r, [outcome(True, 1), outcome(False, 0, name="b")], None)
    assert failed.status == "fail"
    assert failed.reason == "b: b reason"
    assert failed.score == 0.5


def test_weight_zero_is_reported_but_never_fails() -> None:
    s = decide(result("x"), [outcome(True, 1), outcome(False, 0, weight=0)], None)
    assert s.status == "pass"
    assert len(s.assertions) == 2


def test_min_score_uses_the_weighted_mean() -> None:
    outs = [outcome(True, 1, weight=3), outcome(False, 0, weight=1)]
    assert decide(result("x"), outs, 0.75).status == "pass"
    low = decide(result("x"), outs, 0.8)
    assert low.status == "fail"
    assert "score 0.75 < min_score 0.8" in low.reason


def test_a_quoted_value_in_a_reason_escapes_a_newline_once() -> None:
    from promptlab.assertions.base import quote

    assert quote("line one\nline two") == "'line one\\nline two'"
