"""Long tables drawn directly look exactly as Rich draws them, in a pipe and on a terminal."""

from __future__ import annotations

import io
import random

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from promptlab.views.grid import _grid, print_table

WORDS = ["a", "PASS", "FAIL", "ticket/case-1", "claude-haiku", "$0.000014", "42 ms", "100%",
         "日本語", "émoji ✅", "x" * 30, ""]  # fmt: skip


def random_table(rng: random.Random) -> Table:
    table = Table(header_style=rng.choice(["bold", "", "bold magenta"]))
    columns = rng.randint(1, 7)
    for _ in range(columns):
        table.add_column(rng.choice(["Case", "Model", "Result", "Cost", "R"]),
                         justify=rng.choice(["left", "right"]),
                         min_width=rng.choice([None, 24, 5]))  # fmt: skip
    for _ in range(rng.randint(20, 40)):
        cells: list[str | Text] = []
        for _ in range(columns):
            word = rng.choice(WORDS)
            cell = Text(word, style=rng.choice(["", "green", "bold red"]))
            if rng.random() < 0.3:
                cell.append(" +", style="yellow")
            cells.append(cell if rng.random() < 0.6 else word)
        table.add_row(*cells)
    return table


def drawn(table: Table, width: int, terminal: bool, direct: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, highlight=False,
                      color_system="truecolor" if terminal else None)  # fmt: skip
    if direct:
        print_table(console, table)
    else:
        console.print(table)
    return out.getvalue()


@pytest.mark.parametrize("seed", range(4))
def test_the_direct_drawing_is_byte_for_byte_rich(seed: int) -> None:
    rng = random.Random(seed)
    direct = 0
    for _ in range(16):
        table = random_table(rng)
        for terminal in (False, True):
            width = rng.choice([60, 100, 160])
            direct += _grid(table, width) is not None
            assert drawn(table, width, terminal, True) == drawn(table, width, terminal, False)
    assert direct > 5  # the direct path was taken, not only the fallback


def test_tables_that_wrap_or_do_not_fit_go_to_rich() -> None:
    table = Table()
    table.add_column("Reason")
    for i in range(30):
        table.add_row(f"line {i}\nsecond line")
    assert _grid(table, 200) is None
    wide = Table()
    wide.add_column("Case")
    for _ in range(30):
        wide.add_row("x" * 90)
    assert _grid(wide, 80) is None and _grid(wide, 120) is not None
