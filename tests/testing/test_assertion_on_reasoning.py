"""Assertions check the answer, not the reasoning, unless `on: reasoning` asks for it; `on:` is
a common key of every text assertion and a mistake at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.assertions import Context, Verdict, evaluate
from promptlab.results import Result
from tests.conftest import Cli, write
from tests.testing.test_assertion_types import parse, result

THOUGHT = "The quick answer, 10 cents, is wrong: then the total would be 1.20."
ANSWER = "The ball costs $0.05."


def reasoned(**kw: object) -> Result:
    return result(ANSWER, content=[{"reasoningContent": {"reasoningText": {"text": THOUGHT}}},
                                   {"text": ANSWER}], **kw)  # fmt: skip


def check(spec: str, r: Result) -> Verdict:
    a, problems = parse(spec)
    assert a is not None, problems
    ctx = Context(r.output, r, {}, "case", Path.cwd(), reasoning=r.reasoning,
                  reasoning_redacted=r.reasoning_redacted)  # fmt: skip
    return evaluate(a, ctx)


@pytest.mark.parametrize(
    ("spec", "passed"),
    [
        ("{contains: 10 cents}", False),  # the answer, not the reasoning
        ("{contains: 10 cents, on: reasoning}", True),
        ("{contains: $0.05, on: answer}", True),
        ("{contains: $0.05, on: reasoning}", False),
        ("{not-contains: 10 cents}", True),
        ("{type: regex, value: 'total would be \\d', on: reasoning}", True),
        ("{type: length, max: 8, unit: words, on: reasoning}", False),
    ],
)
def test_a_text_assertion_reads_the_answer_unless_on_reasoning(spec: str, passed: bool) -> None:
    assert check(spec, reasoned()).passed is passed


@pytest.mark.parametrize(
    "spec", ["{contains: x, on: reasoning}", "{not-contains: x, on: reasoning}"]
)
def test_on_reasoning_without_reasoning_fails_either_way(spec: str) -> None:
    v = check(spec, result(ANSWER, content=[{"text": ANSWER}]))
    assert not v.passed and v.reason == "on: reasoning, but the answer's reasoning is empty"


def test_on_reasoning_when_it_was_redacted_says_so() -> None:
    r = result(ANSWER, content=[{"reasoningContent": {"redactedContent": b"x"}}, {"text": ANSWER}])
    v = check("{contains: x, on: reasoning}", r)
    assert not v.passed and "was redacted by the provider" in v.reason


@pytest.mark.parametrize(
    ("spec", "message", "hint"),
    [
        ("{contains: x, on: thoughts}", "'on' must be answer or reasoning, got 'thoughts'",
         "on: reasoning checks the reasoning"),
        ("{tool-called: f, on: reasoning}", "'on' does not apply to 'tool-called'",
         "text checks"),
        ("{max-output-tokens: 5, on: reasoning}", "'on' does not apply to 'max-output-tokens'",
         "text checks"),
    ],
)  # fmt: skip
def test_a_bad_on_is_one_problem_at_its_line(spec: str, message: str, hint: str) -> None:
    a, problems = parse(spec)
    assert a is None and len(problems) == 1
    assert problems[0].line == 3 and message in problems[0].message
    assert hint in (problems[0].hint or "")


def test_a_suite_checks_the_reasoning_of_a_real_run(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "q.yaml", 'version: "1.0.0"\ninput: Ball?\n'
          "reasoning: {effort: high}\n")  # fmt: skip
    write(project / "prompts" / "q.tests.yaml", """\
prompt: q.yaml
tests:
  - name: reasons
    models: [echo]
    assert:
      - {contains: effort high, on: reasoning}
      - not-contains: effort high
""")  # fmt: skip
    done = cli("test", "prompts/q.tests.yaml", "--no-log")
    assert done.exit_code == 0, done.output
    assert "1 passed" in done.stdout
