"""The stdout console of the table commands."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def stdout(piped_width: int) -> Console:
    """stdout console; piped output (no terminal, no COLUMNS) gets `piped_width` columns
    instead of being cut at 80."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=piped_width)
    return console
