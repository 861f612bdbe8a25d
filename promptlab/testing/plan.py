"""Planning: which case runs on which model, filters, shards, and the runner Jobs."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from promptlab.assertions import is_remote
from promptlab.catalogue import ModelRef, resolve, split_models
from promptlab.config import Config
from promptlab.errors import UsageError
from promptlab.runner import Job


@dataclass(frozen=True)
class Planned:
    """One case × model, run `repeat` times."""

    case: Any  # suite.Case
    ref: ModelRef
    repeat: int

    @property
    def key(self) -> str:
        return case_key(self.case.prompt.name, self.case.name, self.ref.alias)


def case_key(prompt: str, case: str, model: str) -> str:
    return f"{prompt}/{case}@{model}"


def shard_of(prompt_name: str, case_name: str, total: int) -> int:
    """1-based shard of a case: a stable hash of prompt + case name, not list order."""
    digest = hashlib.sha256(f"{prompt_name}\0{case_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def parse_shard(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise UsageError(f"--shard {text!r} must be I/N with 1 ≤ I ≤ N", "e.g. --shard 2/4")
    return int(m.group(1)), int(m.group(2))


def matches(case: Any, pattern: str) -> bool:
    """Glob (when the pattern has * ? [) or case-insensitive substring on the case name or id."""
    names = (case.name.lower(), case.id.lower())
    p = pattern.lower()
    if any(ch in p for ch in "*?["):
        return any(fnmatch.fnmatchcase(n, p) for n in names)
    return any(p in n for n in names)


def select(cases: list[Any], pattern: str | None, shard: tuple[int, int] | None) -> list[Any]:
    out = cases
    if pattern:
        out = [c for c in out if matches(c, pattern)]
        if not out:
            raise UsageError(f"no test case matches --filter {pattern!r}",
                             "the pattern is a glob or substring of the case name")  # fmt: skip
    if shard:
        index, total = shard
        out = [c for c in out if shard_of(c.prompt.name, c.name, total) == index]
    return out


def plan(
    cases: list[Any], config: Config, *, models: list[str] | None = None, repeat: int | None = None
) -> list[Planned]:
    """Resolve each case's models (-m, case, suite defaults, prompt, config). UsageError early."""
    override = split_models(models or [])
    out: list[Planned] = []
    cache: dict[str, ModelRef] = {}
    for case in cases:
        names = override or list(case.models) or list(case.prompt.models) or list(config.models)
        if not names:
            raise UsageError(f"{case.where}: no models for case '{case.name}'",
                             "pass -m MODEL, or set models: in the suite, prompt or "
                             "promptlab.yaml (-m echo runs offline)")  # fmt: skip
        for name in names:
            if name not in cache:
                try:
                    cache[name] = resolve(name, config, config.region)
                except UsageError as exc:
                    where = "-m" if override else _model_where(case)
                    raise UsageError(f"{where}: {exc.message}", exc.hint) from None
            out.append(Planned(case, cache[name], repeat or case.repeat))
    return out


def _model_where(case: Any) -> str:
    file, line = case.model_lines
    if case.models and file:
        return f"{file}:{line}" if line else file
    return case.prompt.path


def grader_models(planned: list[Planned], config: Config) -> dict[str, ModelRef]:
    """Judge and embedding models the assertions need, resolved up front."""
    out: dict[str, ModelRef] = {}
    for p in planned:
        for a in p.case.asserts:
            if not is_remote(a):
                continue
            default = (p.case.judge_model or config.judge_model) if a.type == "judge" else (
                p.case.embedding_model or config.embedding_model)  # fmt: skip
            name = a.options.get("model") or default
            if name not in out:
                try:
                    out[name] = resolve(name, config, config.region)
                except UsageError as exc:
                    raise UsageError(f"{a.where}: {a.full_type}: {exc.message}", exc.hint) from None
    return out


def jobs_for(planned: list[Planned]) -> tuple[list[Job], list[tuple[int, int]]]:
    """Runner jobs and, for each, (planned index, repeat index)."""
    jobs: list[Job] = []
    index: list[tuple[int, int]] = []
    for pi, p in enumerate(planned):
        case = p.case
        params = case.prompt.params_for(p.ref.alias, p.ref.model_id)
        cacheable = p.repeat == 1 and params.temperature == 0
        for r in range(p.repeat):
            jobs.append(Job(case.prompt, case.rendered, p.ref, params, dict(case.vars), case.name,
                            r, cacheable))  # fmt: skip
            index.append((pi, r))
    return jobs, index
