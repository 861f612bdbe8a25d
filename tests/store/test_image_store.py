"""Image calls in the store (migration 9): recorded with each file's path and hash; the cache
answers an identical request with a fixed seed from the stored file, read again, and makes the
images again when a file is gone; older files read as before."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from promptlab.store.db import MIGRATIONS, prompt_text
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock
from tests.store.test_store_api import old_store

TITAN = "amazon.titan-image-generator-v2:0"
PROMPT = """\
kind: image
version: "1.0.0"
prompt: A red mug
image: {size: 512x512, seeds: [3]}
models: [titan-image]
"""


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "mug.yaml", PROMPT)


def run(cli: Cli, *args: str) -> dict[str, object]:
    result = cli("run", "mug", "-f", "json", *args)
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows[0]


def test_an_image_call_is_recorded_with_its_files_path_and_hash(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    ran = run(cli)
    [logged] = json.loads(cli("log", "--format", "json").stdout)
    assert logged["images"] == ran["images"]
    [image] = logged["images"]
    assert Path(image["path"]).is_file() and len(image["sha256"]) == 64
    shown = cli("log", "show", str(logged["id"])).stdout
    assert "image 1: .promptlab/images/mug-titan-image-3-0.png (512×512 png" in shown
    assert "mug-titan-image-3-0.png" in cli("log").stdout  # the table's output column
    found = json.loads(cli("log", "--search", "red mug", "--format", "json").stdout)
    assert [r["id"] for r in found] == [logged["id"]]


def test_the_cache_answers_a_fixed_seed_from_the_stored_file(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    first = run(cli, "--cache")
    again = run(cli, "--cache")
    assert fake_bedrock.count(op="invoke") == 1
    assert again["cached"] is True and again["cost_usd"] == 0.0
    assert again["images"] == first["images"]  # the same file, not a copy
    elsewhere = run(cli, "--cache", "--out", "other")
    assert fake_bedrock.count(op="invoke") == 1
    [copy] = elsewhere["images"]  # type: ignore[misc]
    assert Path(copy["path"]) == (project / "other" / "mug-titan-image-3-0.png").resolve()
    assert Path(copy["path"]).read_bytes() == Path(first["images"][0]["path"]).read_bytes()  # type: ignore[index]


def test_a_cached_image_whose_file_is_gone_is_made_again(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    first = run(cli, "--cache")
    Path(first["images"][0]["path"]).unlink()  # type: ignore[index]
    again = run(cli, "--cache")
    assert fake_bedrock.count(op="invoke") == 2
    assert again["cached"] is False and Path(again["images"][0]["path"]).is_file()  # type: ignore[index]
    run(cli, "--cache")  # the cache holds the new file now
    assert fake_bedrock.count(op="invoke") == 2


def test_without_a_fixed_seed_the_cache_never_answers(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "mug.yaml", PROMPT.replace(", seeds: [3]", ""))
    run(cli, "--cache")
    run(cli, "--cache")
    assert fake_bedrock.count(op="invoke") == 2


def test_rows_written_before_the_images_column_read_as_before(project: Path, cli: Cli) -> None:
    config = old_store(project, upto=8, output="older")
    [shown] = json.loads(cli("log", "--format", "json").stdout)  # opening migrates the file
    assert shown["output"] == "older" and shown["images"] == []
    con = sqlite3.connect(config.store_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 9
    assert con.execute("SELECT images FROM calls").fetchall() == [(None,)]


def test_the_prompt_of_an_image_body_is_searchable() -> None:
    body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a mug", "negativeText": "x"}}
    assert prompt_text(body) == "a mug\nx"
    assert prompt_text({"prompt": "a cat", "aspect_ratio": "1:1"}) == "a cat"
