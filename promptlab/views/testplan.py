"""`promptlab test --dry-run`: the planned case × model pairs; nothing is called."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from promptlab.config import Config
    from promptlab.testing import Planned


def print_plan(out: Console, planned: list[Planned], total: int, config: Config) -> None:
    """One line per case × model (with its assertions and where it is defined), then counts
    and what the run would cost."""
    from rich.text import Text

    from promptlab.testing import plan_line
    from promptlab.testing.engine import relative
    from promptlab.testing.plan import plan_cost
    from promptlab.views.format import usd

    for p in planned:
        graded = ", ".join(a.full_type for a in p.case.asserts) or "no assertions"
        case = p.case
        where = relative(case.file, config.root) + (f":{case.line}" if case.line else "")
        line = f"{case.id} × {p.ref.label} ×{p.repeat}  [{graded}]  {where}"
        out.print(Text(line), soft_wrap=True)
    out.print(Text(f"{len(planned)} case × model pair(s) ({total} case(s) in the suites), "
                   f"{plan_line(planned)}; nothing was called"), soft_wrap=True)  # fmt: skip
    cost = plan_cost(planned, config)
    worst = usd(cost.worst_usd) if cost.worst_usd is not None else "unknown (set max_tokens)"
    input_cost = usd(cost.input_usd) if cost.input_usd is not None else "unknown (some prices)"
    line = f"estimated cost: input {input_cost}, worst case with output {worst}"
    if any(p.ref.links for p in planned):
        line += "; fallback chains at their worst case, every link called once"
    if cost.grader_calls:
        line += (f"; plus {cost.grader_calls} grader call(s) (judge, similar, apply-guardrail), "
                 "priced once they run")  # fmt: skip
    out.print(Text(line + " (~4 characters per token)"), soft_wrap=True)
