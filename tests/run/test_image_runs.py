"""`promptlab run` with image models: several models and seeds at once, each image written once
under a stable name (never over another file), filtered images as their cell's answer, and every
bad input refused in one line, exit 2, before any call."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

TITAN = "amazon.titan-image-generator-v2:0"
SD = "stability.sd3-5-large-v1:0"
PROMPT = """\
kind: image
version: "1.0.0"
prompt: A {{ colour }} mug on an oak table
negative_prompt: text, watermark
variables:
  colour: {type: string, default: red}
image:
  size: 1024x1024
  seeds: [7, 42]
models: [titan-image, sd3.5-large]
"""


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "mug.yaml", PROMPT)


def run_json(cli: Cli, *args: str) -> list[dict[str, object]]:
    result = cli("run", "mug", "--no-log", "-f", "json", *args)
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_every_model_and_seed_runs_and_each_image_is_a_file(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    rows = run_json(cli, "--out", "shots")
    assert [(r["model"]["alias"], r["images"][0]["seed"]) for r in rows] == [  # type: ignore[index]
        ("titan-image", 7),
        ("titan-image", 42),
        ("sd3.5-large", 7),
        ("sd3.5-large", 42),
    ]
    names = sorted(p.name for p in (project / "shots").iterdir())
    assert names == [
        "mug-sd3.5-large-42-0.png",
        "mug-sd3.5-large-7-0.png",
        "mug-titan-image-42-0.png",
        "mug-titan-image-7-0.png",
    ]
    first = rows[0]["images"][0]  # type: ignore[index]
    data = Path(first["path"]).read_bytes()
    assert first["sha256"] == hashlib.sha256(data).hexdigest() and first["size"] == len(data)
    assert (first["width"], first["height"], first["format"]) == (1024, 1024, "png")
    assert rows[0]["cost_usd"] == 0.01 and rows[2]["cost_usd"] == 0.08
    assert fake_bedrock.count(op="invoke") == 4


def test_a_second_run_keeps_the_first_runs_images(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    run_json(cli, "--out", "shots")
    same = sorted(os.listdir(project / "shots"))
    run_json(cli, "--out", "shots")  # the same images again: the files are reused
    assert sorted(os.listdir(project / "shots")) == same
    kept = project / "shots" / "mug-titan-image-7-0.png"
    kept.write_bytes(b"someone else's picture")
    rows = run_json(cli, "--out", "shots", "-m", "titan-image")
    assert kept.read_bytes() == b"someone else's picture"
    assert Path(rows[0]["images"][0]["path"]).name == "mug-titan-image-7-0-2.png"  # type: ignore[index]


def test_a_filtered_image_is_its_cells_answer_and_the_others_are_kept(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(SD, finish_reasons=["Filter reason: output image"])
    result = cli("run", "mug", "--no-log", "--out", "shots")
    assert result.exit_code == 0, result.stderr
    assert "✗ filtered: Filter reason: output image" in result.stdout
    assert "mug-titan-image-7-0.png" in result.stdout
    assert sorted(os.listdir(project / "shots")) == [
        "mug-titan-image-42-0.png",
        "mug-titan-image-7-0.png",
    ]


def test_the_table_lists_file_size_seed_latency_and_cost(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    result = cli("run", "mug", "--no-log", "--out", "shots")
    assert "images in shots/" in result.stdout
    line = next(x for x in result.stdout.splitlines() if "mug-titan-image-42-0.png" in x)
    assert "titan-image" in line and "42" in line and "1024×1024" in line
    assert "42 ms /" in line and "$0.0100 each" in line
    assert "4 call(s) · 0 error(s) · 4 image(s) · cost $0.1800" in result.stdout


def test_jsonl_and_markdown_give_the_paths(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    lines = cli("run", "mug", "--no-log", "--out", "shots", "-f", "jsonl").stdout.splitlines()
    assert [json.loads(x)["images"][0]["path"].endswith(".png") for x in lines] == [True] * 4
    md = cli("run", "mug", "--no-log", "--out", "shots", "-f", "markdown").stdout
    assert "image 1: shots/mug-titan-image-7-0.png (1024×1024 png" in md
    assert "![titan-image seed 7](shots/mug-titan-image-7-0.png)" in md


def test_echo_draws_small_deterministic_images_offline(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "mug.yaml", PROMPT)
    first = run_json(cli, "-m", "echo", "--out", "a")
    second = run_json(cli, "-m", "echo", "--out", "b")
    digests = [r["images"][0]["sha256"] for r in first]  # type: ignore[index]
    assert digests == [r["images"][0]["sha256"] for r in second]  # type: ignore[index]
    assert len(set(digests)) == 2  # one per seed
    assert first[0]["images"][0]["width"] == 64 and first[0]["cost_usd"] == 0.0  # type: ignore[index]


# ---------------------------------------------------------------- bad input: exit 2, no call


def one_line_error(result: object) -> str:
    from tests.prompt.test_render_bad_input import one_line

    return one_line(result)  # type: ignore[arg-type]


def refused(cli: Cli, fake: FakeBedrock, *args: str) -> str:
    result = cli("run", *args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert fake.count() == 0
    return result.stderr


def test_a_size_the_family_does_not_make_is_refused_at_its_line(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "mug.yaml", PROMPT.replace("1024x1024", "1000x1000"))
    err = refused(cli, fake_bedrock, "mug")
    assert (
        "prompts/mug.yaml:8: error: titan-image: size 1000x1000 is not one Titan Image "
        "Generator v2 makes — closest: 1024x1024"
    ) in err
    assert "sd3.5-large" not in err  # it takes the size as its aspect ratio, 1:1
    assert len(err.strip().splitlines()) == 1


def test_a_prompt_over_the_length_limit_is_refused(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "mug.yaml", PROMPT)
    err = refused(cli, fake_bedrock, "mug", "-v", "colour=" + "very " * 120)
    assert (
        "prompts/mug.yaml:3: error: titan-image: prompt is 622 characters after rendering; "
        "Titan Image Generator v2 takes at most 512" in err
    )


def test_a_missing_source_image_is_refused(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(
        project / "prompts" / "vary.yaml",
        'kind: image\nversion: "1.0.0"\nprompt: bluer\n'
        "variables:\n  photo: {type: image}\nimage: {task: variation, source: photo}\n"
        "models: [nova-canvas]\n",
    )
    err = refused(cli, fake_bedrock, "vary", "-v", "photo=@nowhere.png")
    assert err.startswith("error: photo: nowhere.png does not exist — looked for ")


def test_an_unwritable_output_folder_is_refused_and_nothing_is_lost(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    (project / "taken").write_text("a file, not a folder")
    err = refused(cli, fake_bedrock, "mug", "--out", "taken")
    assert err.startswith("error: --out taken: cannot write images there")
    assert (project / "taken").read_text() == "a file, not a folder"


def test_a_setting_a_model_cannot_take_is_refused_before_any_call(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "mug.yaml", PROMPT.replace("seeds: [7, 42]", "count: 3"))
    err = refused(cli, fake_bedrock, "mug")
    assert (
        "prompts/mug.yaml:9: error: sd3.5-large: count 3: Stable Diffusion 3.5 Large makes "
        "1 image per request — ask for several seeds instead" in err
    )


def test_an_image_prompt_on_a_text_model_and_back_are_refused(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    err = refused(cli, fake_bedrock, "mug", "-m", "nova-lite")
    assert "nova-lite does not make images, and mug is an image prompt" in err
    write(project / "prompts" / "t.yaml", 'version: "1.0.0"\ninput: hi\n')
    err = refused(cli, fake_bedrock, "t", "-m", "titan-image")
    assert "titan-image is an image model and t is a text prompt" in err
