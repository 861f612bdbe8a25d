"""Baselines (what changed since an earlier run) and merging shard reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptlab.testing.outcomes import CaseOutcome, TestRun, normalize


@dataclass
class BaselineDiff:
    """What changed since an earlier --json report (compared by prompt/case@model)."""

    file: str
    newly_failing: list[str] = field(default_factory=list)
    newly_passing: list[str] = field(default_factory=list)
    changed_outputs: list[str] = field(default_factory=list)
    new_cases: list[str] = field(default_factory=list)
    missing_cases: list[str] = field(default_factory=list)
    cost_usd: float = 0.0  # this run's cost on the cases both share
    baseline_cost_usd: float = 0.0
    latency_ms: float | None = None  # mean latency over shared cases
    baseline_latency_ms: float | None = None
    per_case: dict[str, dict[str, Any]] = field(default_factory=dict)

    def groups(self) -> list[tuple[str, list[str]]]:
        """(label, case keys) of each kind of change, in the order every view lists them."""
        return [
            ("newly failing", self.newly_failing), ("newly passing", self.newly_passing),
            ("changed outputs", self.changed_outputs), ("new cases", self.new_cases),
            ("not in this run", self.missing_cases),
        ]  # fmt: skip

    @property
    def cost_delta_usd(self) -> float:
        return self.cost_usd - self.baseline_cost_usd

    @property
    def latency_delta_ms(self) -> float | None:
        if self.latency_ms is None or self.baseline_latency_ms is None:
            return None
        return self.latency_ms - self.baseline_latency_ms

    def to_dict(self) -> dict[str, Any]:
        lat = self.latency_delta_ms
        return {
            "file": self.file, "newly_failing": self.newly_failing,
            "newly_passing": self.newly_passing, "changed_outputs": self.changed_outputs,
            "new_cases": self.new_cases, "missing_cases": self.missing_cases,
            "cost_usd": {"baseline": round(self.baseline_cost_usd, 8),
                         "current": round(self.cost_usd, 8),
                         "delta": round(self.cost_delta_usd, 8)},
            "latency_ms": {"baseline": _r(self.baseline_latency_ms), "current": _r(self.latency_ms),
                           "delta": _r(lat)},
            "cases": self.per_case,
        }  # fmt: skip


def _r(v: float | None) -> float | None:
    return round(v, 1) if v is not None else None


def compare(run: TestRun, baseline: TestRun, file: str) -> BaselineDiff:
    diff = BaselineDiff(file)
    old = {c.key: c for c in baseline.cases}
    new = {c.key: c for c in run.cases}
    lat_new: list[float] = []
    lat_old: list[float] = []
    for key, cur in new.items():
        prev = old.get(key)
        if prev is None:
            diff.new_cases.append(key)
            continue
        if prev.status == "pass" and cur.status != "pass":
            diff.newly_failing.append(key)
        elif prev.status != "pass" and cur.status == "pass":
            diff.newly_passing.append(key)
        changed = normalize(prev.output) != normalize(cur.output)
        if changed:
            diff.changed_outputs.append(key)
        diff.cost_usd += cur.cost_usd
        diff.baseline_cost_usd += prev.cost_usd
        entry: dict[str, Any] = {
            "status": [prev.status, cur.status], "output_changed": changed,
            "cost_delta_usd": round(cur.cost_usd - prev.cost_usd, 8),
        }  # fmt: skip
        if cur.latency_ms is not None and prev.latency_ms is not None:
            lat_new.append(cur.latency_ms)
            lat_old.append(prev.latency_ms)
            entry["latency_delta_ms"] = round(cur.latency_ms - prev.latency_ms, 1)
        diff.per_case[key] = entry
    diff.missing_cases = [k for k in old if k not in new]
    if lat_new:
        diff.latency_ms = sum(lat_new) / len(lat_new)
        diff.baseline_latency_ms = sum(lat_old) / len(lat_old)
    return diff


def missing_shards(runs: list[TestRun]) -> list[str]:
    """The shards (`I/N`) that the given shard reports leave out; [] when they cover every case
    (or none of them is a shard). UsageError when they come from different splits (N)."""
    from promptlab.errors import UsageError
    from promptlab.testing.plan import parse_shard

    shards = [parse_shard(r.shard) for r in runs if r.shard]
    totals = sorted({n for _, n in shards})
    if len(totals) > 1:
        splits = " and ".join(f"I/{n}" for n in totals)
        raise UsageError(f"the reports come from different splits: --shard {splits}",
                         "merge the reports of one split (the same N)")  # fmt: skip
    if not shards:
        return []
    have = {i for i, _ in shards}
    return [f"{i}/{totals[0]}" for i in range(1, totals[0] + 1) if i not in have]


def merge(runs: list[TestRun]) -> tuple[TestRun, list[str]]:
    """One report from shard reports, sorted by prompt, case and model. Returns it and the keys
    that appeared more than once. An incomplete set of shards keeps `shard` (the ones present)."""
    by_key: dict[str, CaseOutcome] = {}
    duplicates: list[str] = []
    for run in runs:
        for c in run.cases:
            if c.key in by_key:
                duplicates.append(c.key)
            by_key[c.key] = c
    started = min((r.started_at for r in runs if r.started_at), default="")
    ordered = sorted(by_key.values(), key=lambda c: (c.prompt["name"], c.case, c.model))
    partial = missing_shards(runs)
    merged = TestRun(
        ordered, run_id="+".join(r.run_id for r in runs if r.run_id),
        started_at=started, wall_ms=max((r.wall_ms for r in runs), default=0),
        interrupted=any(r.interrupted for r in runs),
        shard=", ".join(sorted({r.shard for r in runs if r.shard})) if partial else None,
    )  # fmt: skip
    return merged, duplicates
