"""How image answers are shown: inline thumbnails only where the terminal says it draws images
(kitty, iTerm2), a table of files otherwise, a grid in the HTML report, and the dry run's
per-image costs."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from rich.console import Console

from promptlab.results import Result
from promptlab.views import html as report
from promptlab.views import thumbnails
from promptlab.views.table import render_results
from tests.conftest import Cli, write
from tests.views.test_html_report import Page


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM": "xterm-kitty"}, "kitty"),
        ({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"}, "kitty"),
        ({"TERM_PROGRAM": "iTerm.app"}, "iterm2"),
        ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-1/default,1,0"}, None),
        ({"TERM": "screen-256color", "TERM_PROGRAM": "iTerm.app"}, None),
        ({"TERM": "xterm-256color"}, None),  # sixel or not: never guessed
        ({"TERM_PROGRAM": "WezTerm"}, None),
        ({}, None),
    ],
)
def test_the_image_protocol_comes_from_the_terminal_never_guessed(
    env: dict[str, str], expected: str | None
) -> None:
    assert thumbnails.protocol(env) == expected


def picture(path: Path, size: tuple[int, int], colour: str = "red", mode: str = "RGB") -> str:
    Image.new(mode, size, colour).save(path)
    return str(path)


def image_result(path: str | None, model: str = "titan-image", seed: int = 7) -> Result:
    entry: dict[str, Any] = {
        "path": path,
        "sha256": "x",
        "size": 10,
        "width": 64,
        "height": 32,
        "format": "png",
        "seed": seed,
        "index": 0,
        "filtered": None if path else "Filter reason: output image",
    }
    return Result(
        prompt_name="mug",
        prompt_version="1.0.0",
        prompt_hash="h",
        model_alias=model,
        model_id="amazon.titan-image-generator-v2:0",
        region="us-east-1",
        params={},
        request={},
        images=[entry],
        cost_usd=0.01,
        latency_ms=900,
        wall_ms=950,
    )


def test_a_contact_sheet_has_a_row_per_model_and_a_cell_per_image(tmp_path: Path) -> None:
    wide = picture(tmp_path / "a.png", (400, 200))
    clear = picture(tmp_path / "b.png", (100, 100), (0, 0, 0, 0), mode="RGBA")  # type: ignore[arg-type]
    group = [image_result(wide), image_result(clear, seed=8), image_result(None, "sd3.5-large")]
    rows = thumbnails.rows_of(group)
    assert rows == [[wide, clear], [None]]
    with Image.open(io.BytesIO(thumbnails.contact_sheet(rows))) as sheet:
        assert sheet.size == (
            2 * thumbnails.CELL + thumbnails.GAP,
            2 * thumbnails.CELL + thumbnails.GAP,
        )
        assert sheet.getpixel((thumbnails.CELL // 2, thumbnails.CELL // 2)) == (255, 0, 0)


def test_kitty_gets_the_sheet_in_chunks_and_iterm2_in_one_sequence() -> None:
    png = b"\x89PNG" + bytes(6000)
    kitty = thumbnails.escape(png, "kitty", 40)
    chunks = kitty.split("\033\\")[:-1]
    assert chunks[0].startswith("\033_Ga=T,f=100,c=40,m=1;")
    assert chunks[-1].startswith("\033_Gm=0;")
    assert "".join(c.split(";", 1)[1] for c in chunks) == base64.b64encode(png).decode()
    iterm = thumbnails.escape(png, "iterm2", 40)
    assert iterm.startswith(f"\033]1337;File=inline=1;size={len(png)};width=40;")
    assert iterm.endswith("\a")


def test_thumbnails_go_above_the_table_in_a_kitty_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = [image_result(picture(tmp_path / "a.png", (64, 32)))]
    monkeypatch.setenv("KITTY_WINDOW_ID", "3")
    buf = io.StringIO()
    render_results(Console(file=buf, force_terminal=True, width=120), group)
    assert buf.getvalue().startswith("\033_Ga=T,f=100,c=20,")
    assert "a.png" in buf.getvalue()
    off = io.StringIO()
    render_results(Console(file=off, force_terminal=True, width=120), group, thumbnails=False)
    assert "\033_G" not in off.getvalue()
    piped = io.StringIO()
    render_results(Console(file=piped, width=120), group)  # not a terminal: no thumbnails
    assert "\033_G" not in piped.getvalue() and "a.png" in piped.getvalue()


def test_the_run_table_names_each_file_and_each_filtered_image(tmp_path: Path) -> None:
    group = [image_result(picture(tmp_path / "a.png", (64, 32))), image_result(None, "sd3.5")]
    buf = io.StringIO()
    render_results(Console(file=buf, width=160), group)
    text = buf.getvalue()
    assert f"images in {tmp_path}/" in text
    assert "a.png" in text and "64×32" in text and "$0.0100 each" in text
    assert "✗ filtered: Filter reason: output image" in text


def test_the_html_report_shows_a_grid_of_embedded_thumbnails(tmp_path: Path) -> None:
    path = picture(tmp_path / "a.png", (600, 300))
    page = Page(report.run_page([image_result(path), image_result(None)], source="run"))
    [cell] = page.data()["rows"][0]["cells"]["0"][:1]
    [image] = cell["images"]
    assert image["src"].startswith("data:image/jpeg;base64,")
    thumb = Image.open(io.BytesIO(base64.b64decode(image["src"].split(",", 1)[1])))
    assert thumb.size == (256, 128)
    assert image["label"].startswith("image 1: ") and image["label"].endswith("seed 7)")
    assert "blocks" not in cell  # the image blocks are the grid, not "other" blocks
    assert cell["label"].endswith("· seed 7")


def test_a_dry_run_prices_each_image(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "mug.yaml",
        'kind: image\nversion: "1.0.0"\nprompt: a mug\n'
        "image: {size: 1024x1024, count: 2, quality: premium}\nmodels: [titan-image]\n",
    )
    result = cli("run", "mug", "--dry-run")
    assert "images: 2 1024x1024 · cost: $0.0240" in result.stdout
    assert "1 call(s) · cost of the images $0.0240" in result.stdout
    assert "CountTokens" not in result.stdout
    [row] = json.loads(cli("run", "mug", "--dry-run", "-f", "json").stdout)
    assert row["estimated_input_cost_usd"] == 0.024


def test_a_test_dry_run_prices_image_cases(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "mug.yaml",
        'kind: image\nversion: "1.0.0"\nprompt: a mug\n'
        "image: {seeds: [1, 2]}\nmodels: [sd3.5-large]\n",
    )
    write(
        project / "prompts" / "mug.tests.yaml",
        "tests:\n  - name: one\n    assert: [not-filtered]\n",
    )
    result = cli("test", "--dry-run")
    assert "×2" in result.stdout and "estimated cost: input $0.1600" in result.stdout
