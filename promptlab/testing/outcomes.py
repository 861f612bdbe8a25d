"""Outcomes of a test run: assertion results, samples, cases, totals, the JSON report."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.errors import UsageError
from promptlab.results import ErrorInfo, Result
from promptlab.testing.plan import case_key

if TYPE_CHECKING:
    from promptlab.testing.baseline import BaselineDiff

REPORT_SCHEMA = "promptlab.test/1"


@dataclass
class AssertionOutcome:
    name: str
    type: str
    passed: bool
    score: float
    weight: float
    reason: str
    error: ErrorInfo | None = None
    tokens: int = 0
    cost_usd: float | None = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "type": self.type, "passed": self.passed,
            "score": round(self.score, 4), "weight": self.weight, "reason": self.reason,
            "error": self.error.to_dict() if self.error else None,
            "tokens": self.tokens, "cost_usd": self.cost_usd,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AssertionOutcome:
        err = d.get("error")
        return cls(d["name"], d["type"], d["passed"], d["score"], d["weight"], d["reason"],
                   ErrorInfo(**err) if err else None, d.get("tokens", 0),
                   d.get("cost_usd", 0.0))  # fmt: skip


@dataclass
class Sample:
    """One model call and its evaluation. status: pass | fail | error (infrastructure)."""

    result: Result
    status: str
    score: float
    reason: str = ""
    assertions: list[AssertionOutcome] = field(default_factory=list)

    @property
    def eval_tokens(self) -> int:
        return sum(a.tokens for a in self.assertions)

    @property
    def eval_cost_usd(self) -> float:
        return sum(a.cost_usd or 0.0 for a in self.assertions)

    @property
    def latency_ms(self) -> int | None:
        r = self.result
        return r.latency_ms if r.latency_ms is not None else r.wall_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "repeat_index": self.result.repeat_index, "status": self.status,
            "score": round(self.score, 4), "reason": self.reason,
            "eval_tokens": self.eval_tokens, "eval_cost_usd": round(self.eval_cost_usd, 8),
            "assertions": [a.to_dict() for a in self.assertions],
            "result": self.result.to_dict(),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        return cls(Result.from_dict(d["result"]), d["status"], d["score"], d.get("reason", ""),
                   [AssertionOutcome.from_dict(a) for a in d.get("assertions", [])])  # fmt: skip


@dataclass
class CaseOutcome:
    """One case × model over its repeats."""

    prompt: dict[str, Any]  # name, version, hash, path
    case: str
    model: str
    model_id: str
    repeat: int
    threshold: float
    samples: list[Sample]
    description: str = ""
    where: str = ""
    status: str = "fail"  # pass | fail | error
    reason: str = ""

    @property
    def key(self) -> str:
        return case_key(self.prompt["name"], self.case, self.model)

    @property
    def passes(self) -> int:
        return sum(s.status == "pass" for s in self.samples)

    @property
    def pass_rate(self) -> float:
        return self.passes / self.repeat if self.repeat else 0.0

    @property
    def agreement(self) -> float | None:
        outs = [normalize(s.result.output) for s in self.samples if s.result.ok]
        if self.repeat < 2 or not outs:
            return None
        return Counter(outs).most_common(1)[0][1] / len(outs)

    @property
    def output(self) -> str:
        """The majority output (first sample's when all differ)."""
        ok = [s.result.output for s in self.samples if s.result.ok]
        if not ok:
            return ""
        top = Counter(normalize(o) for o in ok).most_common(1)[0][0]
        return next(o for o in ok if normalize(o) == top)

    @property
    def tokens(self) -> int:
        return sum(s.result.total_tokens + s.eval_tokens for s in self.samples)

    @property
    def cost_usd(self) -> float:
        return sum((s.result.cost_usd or 0.0) + s.eval_cost_usd for s in self.samples)

    @property
    def cost_complete(self) -> bool:
        return all(s.result.cost_usd is not None or not s.result.ok for s in self.samples)

    @property
    def latency_ms(self) -> float | None:
        values = [s.latency_ms for s in self.samples if s.latency_ms is not None and s.result.ok]
        return sum(values) / len(values) if values else None

    @property
    def score(self) -> float:
        return sum(s.score for s in self.samples) / len(self.samples) if self.samples else 0.0

    def to_dict(self) -> dict[str, Any]:
        agreement = self.agreement
        latency = self.latency_ms
        return {
            "key": self.key, "prompt": self.prompt, "case": self.case,
            "description": self.description, "where": self.where,
            "model": {"alias": self.model, "id": self.model_id},
            "status": self.status, "reason": self.reason,
            "repeat": self.repeat, "passes": self.passes, "pass_rate": round(self.pass_rate, 4),
            "threshold": self.threshold,
            "agreement": round(agreement, 4) if agreement is not None else None,
            "score": round(self.score, 4), "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 8), "cost_complete": self.cost_complete,
            "latency_ms": round(latency, 1) if latency is not None else None,
            "output": self.output,
            "samples": [s.to_dict() for s in self.samples],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CaseOutcome:
        return cls(
            prompt=d["prompt"], case=d["case"], model=d["model"]["alias"],
            model_id=d["model"]["id"], repeat=d["repeat"], threshold=d["threshold"],
            samples=[Sample.from_dict(s) for s in d.get("samples", [])],
            description=d.get("description", ""), where=d.get("where", ""),
            status=d["status"], reason=d.get("reason", ""),
        )  # fmt: skip


def normalize(text: str) -> str:
    """For agreement: strip, collapse whitespace, lowercase."""
    return " ".join(text.split()).lower()


@dataclass
class Totals:
    cases: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    samples: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    eval_tokens: int = 0
    cost_usd: float = 0.0
    eval_cost_usd: float = 0.0
    cache_read_tokens: int | None = None  # prompt-cache reads and writes; None: no call used it
    cache_write_tokens: int | None = None

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cases if self.cases else 1.0

    @property
    def tokens(self) -> int:
        return (self.input_tokens + self.output_tokens + self.eval_tokens
                + (self.cache_read_tokens or 0) + (self.cache_write_tokens or 0))  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases, "passed": self.passed, "failed": self.failed,
            "errors": self.errors, "pass_rate": round(self.pass_rate, 4), "samples": self.samples,
            "tokens": {"input": self.input_tokens, "output": self.output_tokens,
                       "cache_read": self.cache_read_tokens,
                       "cache_write": self.cache_write_tokens, "graders": self.eval_tokens,
                       "total": self.tokens},
            "cost_usd": {"models": round(self.cost_usd, 8), "graders": round(self.eval_cost_usd, 8),
                         "total": round(self.cost_usd + self.eval_cost_usd, 8)},
        }  # fmt: skip


@dataclass
class TestRun:
    """Everything `promptlab test` reports; `to_dict` is the documented --json schema."""

    __test__ = False  # not a pytest class

    cases: list[CaseOutcome]
    run_id: str = ""
    started_at: str = ""
    wall_ms: int = 0
    interrupted: bool = False
    shard: str | None = None
    baseline: BaselineDiff | None = None
    reused: int = 0  # calls answered by the resumed run (--resume); not in the report
    cached: int = 0  # calls answered by the response cache; not in the report
    collected: int = 0  # calls answered by batch jobs submitted before (--resume); not either

    @property
    def totals(self) -> Totals:
        t = Totals()
        for c in self.cases:
            t.cases += 1
            t.passed += c.status == "pass"
            t.failed += c.status == "fail"
            t.errors += c.status == "error"
            for s in c.samples:
                t.samples += 1
                t.input_tokens += s.result.input_tokens or 0
                t.output_tokens += s.result.output_tokens or 0
                r = s.result
                if r.cache_read_tokens is not None or r.cache_write_tokens is not None:
                    t.cache_read_tokens = (t.cache_read_tokens or 0) + (r.cache_read_tokens or 0)
                    t.cache_write_tokens = (t.cache_write_tokens or 0) + (r.cache_write_tokens or 0)
                t.eval_tokens += s.eval_tokens
                t.cost_usd += s.result.cost_usd or 0.0
                t.eval_cost_usd += s.eval_cost_usd
        return t

    def exit_code(self, fail_under: float | None = None) -> int:
        """0 pass, 1 failures, 3 infrastructure errors, 130 interrupted."""
        t = self.totals
        if self.interrupted:
            return 130
        if t.errors:
            return 3
        if t.failed == 0 or (fail_under is not None and t.pass_rate >= fail_under):
            return 0
        return 1

    def slowest(self, n: int = 3) -> list[CaseOutcome]:
        timed = [c for c in self.cases if c.latency_ms is not None]
        return sorted(timed, key=lambda c: c.latency_ms or 0.0, reverse=True)[:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA, "run_id": self.run_id, "started_at": self.started_at,
            "wall_ms": self.wall_ms, "interrupted": self.interrupted, "shard": self.shard,
            "summary": self.totals.to_dict(),
            "cases": [c.to_dict() for c in self.cases],
            "baseline": self.baseline.to_dict() if self.baseline else None,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TestRun:
        return cls([CaseOutcome.from_dict(c) for c in d.get("cases", [])], d.get("run_id", ""),
                   d.get("started_at", ""), d.get("wall_ms", 0), d.get("interrupted", False),
                   d.get("shard"))  # fmt: skip


def read_report(path: Path, *, what: str = "report") -> dict[str, Any]:
    """A `--json` file written by `promptlab test`. UsageError (exit 2) when it is not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} not found", "write one with --json FILE") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: not a JSON {what}: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        raise UsageError(f"{path}: not a 'promptlab test --json' report",
                         f"expected schema {REPORT_SCHEMA!r}")  # fmt: skip
    return data


CASE_SHAPE = ("each case is {prompt: {name, …}, case, model: {alias, id}, repeat, threshold, "
              "status, samples: [{result, status, score, assertions}]}")  # fmt: skip


def load_run(path: Path, *, what: str = "report") -> TestRun:
    """A `--json` report as a TestRun; a report of another shape is one line naming the first
    place it differs (`cases[3]: no 'model'`), exit 2."""
    data = read_report(path, what=what)
    cases = data.get("cases", [])
    if not isinstance(cases, list):
        raise _malformed(path, what, f"'cases' is {_kind(cases)}, expected a list")
    outcomes = []
    for i, case in enumerate(cases):
        if not isinstance(case, dict):
            raise _malformed(path, what, f"cases[{i}] is {_kind(case)}, expected a mapping")
        if not isinstance(case.get("prompt"), dict) or "name" not in case["prompt"]:
            raise _malformed(path, what, f"cases[{i}].prompt is not a mapping with a 'name'")
        try:
            outcomes.append(CaseOutcome.from_dict(case))
        except KeyError as exc:
            raise _malformed(path, what, f"cases[{i}] has no {exc.args[0]!r}") from None
        except (TypeError, ValueError, AttributeError, IndexError):
            raise _malformed(path, what, f"cases[{i}] has values of other types") from None
    try:
        return TestRun(outcomes, str(data.get("run_id", "")), str(data.get("started_at", "")),
                       int(data.get("wall_ms") or 0), bool(data.get("interrupted", False)),
                       None if data.get("shard") is None else str(data["shard"]))  # fmt: skip
    except (TypeError, ValueError):
        raise _malformed(path, what, "'wall_ms' is not a number") from None


def _malformed(path: Path, what: str, where: str) -> UsageError:
    return UsageError(f"{path}: not a {what} of the expected shape: {where}",
                      f"pass the --json file 'promptlab test' wrote; {CASE_SHAPE}")  # fmt: skip


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", type(None): "null",
             bool: "true or false", int: "a number", float: "a number"}  # fmt: skip
    return names.get(type(value), f"a {type(value).__name__}")
