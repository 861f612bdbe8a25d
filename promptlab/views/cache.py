"""`promptlab cache stats`: entries, hits, money saved, age range and entries per model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer

from promptlab.views.console import count
from promptlab.views.format import usd
from promptlab.views.sanitize import inert


def print_cache_stats(path: str, info: Mapping[str, Any]) -> None:
    """The summary, then one line per model (a full id labelled with its alias)."""
    from promptlab.modellist import alias_of

    typer.echo(f"store:    {path}")
    typer.echo(f"entries:  {info['entries']:,} ({count(info['answer_bytes'], 'byte')} of answers)")
    typer.echo(f"hits:     {info['hits']:,} (saved {usd(info['saved_usd'])})")
    if info["oldest"]:
        typer.echo(f"oldest:   {info['oldest']}")
        typer.echo(f"newest:   {info['newest']}")
    for m in info["models"]:
        alias = alias_of(m["model_id"])
        name = m["model_id"] + (f" ({alias})" if alias else "")
        entries, hits = count(m["entries"], "entry", "entries"), count(m["hits"], "hit")
        typer.echo(f"  {inert(name)}: {entries}, {hits}")
