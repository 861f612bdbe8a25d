"""Printing long Rich tables quickly.

Rich lays a table out cell by cell (about 0.7 ms a row), which makes the summary of a
thousand-case suite take longer than the suite answered from the cache. When every cell is one
line and the table fits the console, the layout is simple: each column as wide as its widest cell
(or its min_width), cells padded by one space, rows between box lines. `print_table` draws that
case directly, with the same characters, padding, justification and styles Rich would use, and
hands any other table (wrapping cells, titles, expanding, narrow consoles, other boxes) to Rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Column, Table

MIN_ROWS = 20  # below this Rich is quick enough


def print_table(console: Console, table: Table) -> None:
    """`console.print(table)`, drawn directly when the table is a simple grid."""
    lines = _grid(table, console.width) if table.row_count >= MIN_ROWS else None
    if lines is None:
        console.print(table)
        return
    console.print(Text("\n").join(lines), soft_wrap=True)


def _simple(table: Table) -> bool:
    return (
        table.box is box.HEAVY_HEAD and table.show_header and table.show_edge
        and not table.show_footer and not table.show_lines and not table.expand
        and table.title is None and table.caption is None and table.width is None
        and tuple(table.padding) == (0, 1, 0, 1) and table.pad_edge and not table.leading
        and not table.row_styles and not table.safe_box and table.style in ("", "none", None)
        and table.border_style is None
        and all(not r.style and not r.end_section for r in table.rows)
    )  # fmt: skip


def _cell(value: object) -> Text | None:
    """A cell as one line of Text, or None when it is not a plain one-line text."""
    if isinstance(value, str):
        text = Text(value)
    elif isinstance(value, Text):
        text = value
    else:
        return None
    if "\n" in text.plain or text.end != "\n" or text.justify or text.overflow or text.no_wrap:
        return None
    return text


def _column_ok(column: Column) -> bool:
    return (
        column.justify in ("left", "right") and column.vertical == "top" and column.width is None
        and column.max_width is None and not column.style and not column.footer
        and isinstance(column.header, str) and column.header_style in ("", None)
    )  # fmt: skip


def _grid(table: Table, width: int) -> list[Text] | None:
    """The table's lines, or None when it is not a simple grid that fits in `width`."""
    if not _simple(table) or not all(_column_ok(c) for c in table.columns):
        return None
    columns: list[list[Text]] = []
    widths: list[int] = []
    for column in table.columns:
        cells = [_cell(value) for value in column.cells]
        if any(c is None for c in cells):
            return None
        texts = [c for c in cells if c is not None]
        header = str(column.header)
        if "\n" in header:
            return None
        widest = max([cell_len(header), *(t.cell_len for t in texts)])
        widths.append(max(widest, column.min_width or 0))
        columns.append(texts)
    if sum(widths) + 3 * len(widths) + 1 > width:
        return None
    justify = [c.justify for c in table.columns]

    def rule(left: str, fill: str, cross: str, right: str) -> Text:
        return Text(left + cross.join(fill * (w + 2) for w in widths) + right)

    def row(cells: list[Text], edge: str, style: str = "") -> Text:
        """One row: a cell's own style covers its justification gap (as in Rich); a row style
        (the header's) covers the padding and the cell, each a segment of its own."""
        line = Text(edge)
        for i, (cell, w) in enumerate(zip(cells, widths, strict=True)):
            content = cell.copy()
            if justify[i] == "right":
                content.pad_left(w - cell.cell_len)
            else:
                content.pad_right(w - cell.cell_len)
            start = len(line)
            line.append(" ")
            line.append_text(content)
            line.append(" ")
            if style:
                end = len(line)
                for a, z in ((start, start + 1), (start + 1, end - 1), (end - 1, end)):
                    line.stylize(style, a, z)
            line.append(edge)
        return line

    b = box.HEAVY_HEAD
    headers = [Text(str(c.header)) for c in table.columns]
    lines = [rule(b.top_left, b.top, b.top_divider, b.top_right)]
    lines.append(row(headers, b.head_left, str(table.header_style or "")))
    lines.append(rule(b.head_row_left, b.head_row_horizontal, b.head_row_cross,
                      b.head_row_right))  # fmt: skip
    for r in range(table.row_count):
        lines.append(row([column[r] for column in columns], b.mid_vertical))
    lines.append(rule(b.bottom_left, b.bottom, b.bottom_divider, b.bottom_right))
    return lines
