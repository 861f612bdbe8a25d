"""`promptlab models` piped into a file or a program, and as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from botocore.stub import Stubber

from tests.conftest import Cli
from tests.models.test_models_command import HAIKU, SONNET_37, control, stub_region

__all__ = ["control"]  # the fixture, used by name


def test_piped_region_listing_keeps_every_column_unpadded(
    project: Path, cli: Cli, control: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS")  # piped: no terminal, no COLUMNS
    stub_region(control)
    result = cli("models")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(line == line.rstrip() for line in lines)  # no padding
    header = next(line for line in lines if "id (pass to -m)" in line)
    for column in ("alias", "provider", "stream", "lifecycle", "$/1K in", "$/1K out"):
        assert column in header, column
    haiku = next(line for line in lines if HAIKU in line)
    assert "$0.000250" in haiku and "$0.001250" in haiku  # both prices, on one line
    note = next(line for line in lines if line.startswith("Prices:"))
    assert note.endswith("Unknown prices are left blank.")  # one line, not wrapped at 80


def test_region_listing_as_csv(project: Path, cli: Cli, control: Stubber) -> None:
    stub_region(control)
    result = cli("models", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    haiku = rows[HAIKU]
    assert (haiku["alias"], haiku["streaming"], haiku["input_modalities"]) == (
        "claude-haiku", "true", "TEXT+IMAGE",
    )  # fmt: skip
    assert (haiku["price_input_per_1k"], haiku["price_output_per_1k"]) == ("0.00025", "0.00125")
    assert rows[f"us.{SONNET_37}"]["kind"] == "inference-profile"
    assert rows["acme.mystery-v1:0"]["price_input_per_1k"] == ""  # unknown: blank


def test_offline_listing_as_csv(project: Path, cli: Cli) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("models", "--offline", "-f", "csv").stdout)))
    nova = next(r for r in rows if r["alias"] == "nova-lite")
    assert nova["id"] == "amazon.nova-lite-v1:0" and nova["output_modalities"] == "TEXT"
    assert float(nova["price_input_per_1k"]) > 0
