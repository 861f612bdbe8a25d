"""`promptlab cache stats`: entries, hits, money saved, age range and entries per model."""

from __future__ import annotations

from typing import Any

import typer

from promptlab.views.format import usd
from promptlab.views.sanitize import inert


def print_cache_stats(path: str, info: dict[str, Any]) -> None:
    typer.echo(f"store:    {path}")
    typer.echo(f"entries:  {info['entries']:,} ({info['answer_bytes']:,} bytes of answers)")
    typer.echo(f"hits:     {info['hits']:,} (saved {usd(info['saved_usd'])})")
    if info["oldest"]:
        typer.echo(f"oldest:   {info['oldest']}")
        typer.echo(f"newest:   {info['newest']}")
    for m in info["models"]:
        typer.echo(f"  {inert(m['model_id'])}: {m['entries']:,} entries, {m['hits']:,} hits")
