"""`promptlab test --dry-run`: the planned case × model pairs; nothing is called."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from promptlab.testing import Planned


def print_plan(out: Console, planned: list[Planned], total: int) -> None:
    """One line per case × model (with its assertions and where it is defined), then counts."""
    from rich.text import Text

    from promptlab.testing import plan_line

    for p in planned:
        graded = ", ".join(a.full_type for a in p.case.asserts) or "no assertions"
        line = f"{p.case.id} × {p.ref.label} ×{p.repeat}  [{graded}]  {p.case.where}"
        out.print(Text(line), soft_wrap=True)
    out.print(Text(f"{len(planned)} case × model pair(s) ({total} case(s) in the suites), "
                   f"{plan_line(planned)}; nothing was called"), soft_wrap=True)  # fmt: skip
