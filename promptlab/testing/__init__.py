"""The test engine: cases × models × repeats → runner Jobs → evaluated outcomes.

Model calls go through one Runner; each finished sample is evaluated at once on a second pool
(so judge/similar calls run concurrently with the remaining model calls).
"""

from promptlab.testing.baseline import BaselineDiff, compare, merge, missing_shards
from promptlab.testing.engine import (
    GraderServices,
    Progress,
    TestEngine,
    aggregate,
    decide,
    evaluate_sample,
)
from promptlab.testing.outcomes import (
    REPORT_SCHEMA,
    AssertionOutcome,
    CaseOutcome,
    Sample,
    TestRun,
    Totals,
    load_run,
    normalize,
    read_report,
)
from promptlab.testing.plan import (
    Planned,
    case_key,
    grader_models,
    guardrails_used,
    jobs_for,
    kept_pinned,
    matches,
    paid_calls,
    parse_shard,
    plan,
    plan_line,
    prepare,
    select,
    shard_of,
    supported,
)

__all__ = [
    "REPORT_SCHEMA",
    "AssertionOutcome",
    "BaselineDiff",
    "CaseOutcome",
    "GraderServices",
    "Planned",
    "Progress",
    "Sample",
    "TestEngine",
    "TestRun",
    "Totals",
    "aggregate",
    "case_key",
    "compare",
    "decide",
    "evaluate_sample",
    "grader_models",
    "guardrails_used",
    "jobs_for",
    "kept_pinned",
    "load_run",
    "matches",
    "merge",
    "missing_shards",
    "normalize",
    "paid_calls",
    "parse_shard",
    "plan",
    "plan_line",
    "prepare",
    "read_report",
    "select",
    "shard_of",
    "supported",
]
