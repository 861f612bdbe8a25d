"""Assertions on images: image-count, image-size, (not-)filtered; `similar` through a multimodal
embedding model (Titan Multimodal Embeddings; echo offline) and `judge` with a model that sees
the images."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock
from tests.testing.test_assertion_types import parse, run

EMBED = "amazon.titan-embed-image-v1"
NOVA_LITE = "amazon.nova-lite-v1:0"
SD = "stability.sd3-5-large-v1:0"


def images(*sizes: tuple[int, int] | None) -> list[dict[str, Any]]:
    """Image entries: a size per image made, None for one a filter withheld."""
    return [
        {"path": f"/x/{n}.png", "width": s[0], "height": s[1], "index": n, "filtered": None}
        if s
        else {"path": None, "index": n, "filtered": "Filter reason: output image"}
        for n, s in enumerate(sizes)
    ]


@pytest.mark.parametrize(
    ("spec", "good", "bad", "reason"),
    [
        (
            "image-count: 2",
            [(64, 64), (64, 64)],
            [(64, 64), None],
            "1 image(s) (1 filtered), expected 2",
        ),
        ("{type: image-count, min: 1}", [(64, 64)], [None], "0 image(s) (1 filtered)"),
        (
            "image-size: 1024x1024",
            [(1024, 1024)],
            [(1024, 768)],
            "image 1 is 1024×768: expected 1024×1024",
        ),
        (
            'image-size: "16:9"',
            [(1173, 640), (1280, 720)],
            [(1024, 1024)],
            "expected the shape 16:9",
        ),
        ("{type: image-size, min: 512x512}", [(512, 600)], [(384, 576)], "smaller than 512×512"),
        ("not-filtered", [(64, 64)], [(64, 64), None], "1 of 2 image(s) filtered: Filter reason"),
    ],
)
def test_image_assertions_pass_and_fail_with_a_reason(
    spec: str, good: list[Any], bad: list[Any], reason: str
) -> None:
    assert run(spec, "", images=images(*good)).passed
    verdict = run(spec, "", images=images(*bad))
    assert not verdict.passed and reason in verdict.reason


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("image-count: many", "'image-count' needs a number of images, got 'many'"),
        ("image-count", "'image-count' needs a value, 'min' or 'max'"),
        ("image-size: big", "'value' must be WIDTHxHEIGHT, got 'big'"),
        ("{type: image-size, max: 10}", "'max' must be WIDTHxHEIGHT, got 10"),
        (
            "{type: similar, image: refs/nowhere.png}",
            "reference image 'refs/nowhere.png' not found",
        ),
        ("{filtered: yes}", "'filtered' takes no value"),
    ],
)
def test_bad_image_assertions_are_refused_at_load(spec: str, message: str) -> None:
    a, problems = parse(spec)
    assert a is None and message in problems[0].message, problems


# ---------------------------------------------------------------- graders, end to end

PROMPT = """\
kind: image
version: "1.0.0"
prompt: A white mug on a {{ surface }}
variables:
  surface: {type: string, default: marble counter}
image: {seeds: [3]}
"""


def setup(project: Path, asserts: str, models: str = "[sd3.5-large]") -> None:
    write(project / "prompts" / "mug.yaml", PROMPT)
    write(
        project / "prompts" / "mug.tests.yaml",
        f"tests:\n  - name: mug\n    models: {models}\n    assert:\n{asserts}",
    )


def outcome(cli: Cli, project: Path) -> tuple[int, list[dict[str, Any]]]:
    result = cli("test", "--no-log", "--json", "r.json")
    data = json.loads((project / "r.json").read_text("utf-8"))
    return result.exit_code, data["cases"][0]["samples"][0]["assertions"]


def test_similar_embeds_each_image_and_the_text_with_the_multimodal_model(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(EMBED, embedding=[0.6, 0.8])
    setup(project, "      - similar: a white mug\n")
    code, [a] = outcome(cli, project)
    assert code == 0 and a["passed"] and "similarity 1.000 ≥ 0.3" in a["reason"]
    text, image = (r.body for r in fake_bedrock.requests_for(EMBED))
    assert text == {"inputText": "a white mug", "embeddingConfig": {"outputEmbeddingLength": 1024}}
    made = list((project / ".promptlab" / "images").iterdir())
    assert base64.b64decode(image["inputImage"]) == made[0].read_bytes()


def test_similar_to_a_reference_image_uses_the_image_threshold(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    (project / "prompts" / "refs").mkdir()
    (project / "prompts" / "refs" / "mug.png").write_bytes(b"reference")
    setup(project, "      - {similar: null, image: refs/mug.png}\n")
    _, [a] = outcome(cli, project)
    assert a["passed"] and "≥ 0.8 to mug.png" in a["reason"]
    reference = fake_bedrock.requests_for(EMBED)[0].body
    assert (
        base64.b64decode(reference["inputImage"]) == b"reference" and "inputText" not in reference
    )


def test_similar_runs_offline_on_echo(project: Path, cli: Cli) -> None:
    setup(
        project,
        "      - {similar: a white mug on marble, model: echo}\n"
        "      - {not-similar: a red bicycle at night, model: echo, threshold: 0.3}\n",
        models="[echo]",
    )
    code, verdicts = outcome(cli, project)
    assert code == 0, verdicts
    assert [v["passed"] for v in verdicts] == [True, True]


def test_judge_sees_the_images_and_a_text_only_judge_is_replaced(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(NOVA_LITE, text='{"pass": true, "score": 0.9, "reason": "a mug"}')
    setup(project, "      - judge: One white mug on marble.\n")
    code, [a] = outcome(cli, project)
    assert code == 0, a
    assert a["reason"] == ("nova-lite (nova-micro reads no images; judged by nova-lite): a mug")
    [sent] = fake_bedrock.requests_for(NOVA_LITE)
    image, text = sent.body["messages"][0]["content"]
    made = next((project / ".promptlab" / "images").iterdir()).read_bytes()
    assert image["image"]["format"] == "png"
    assert base64.b64decode(image["image"]["source"]["bytes"]) == made
    assert "<output>\nthe image above\n</output>" in text["text"]
    assert "<input>\nA white mug on a marble counter\n</input>" in text["text"]


def test_a_judge_model_named_by_the_assertion_is_used_as_is(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    claude = "anthropic.claude-3-haiku-20240307-v1:0"
    fake_bedrock.script(claude, text='{"pass": false, "score": 0.1, "reason": "two mugs"}')
    setup(project, "      - {judge: One mug., model: claude-haiku}\n")
    code, [a] = outcome(cli, project)
    assert code == 1 and a["reason"] == "claude-haiku: two mugs"


def test_not_filtered_fails_on_a_stability_filter(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(SD, finish_reasons=["Filter reason: output image"])
    setup(project, "      - not-filtered\n      - image-count: 1\n")
    code, verdicts = outcome(cli, project)
    assert code == 1
    assert [v["passed"] for v in verdicts] == [False, False]
    assert verdicts[0]["reason"] == "1 of 1 image(s) filtered: Filter reason: output image"


def test_a_suite_asking_a_model_for_what_it_cannot_make_stops_before_any_call(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "mug.yaml", PROMPT.replace("{seeds: [3]}", "{count: 2}"))
    write(
        project / "prompts" / "mug.tests.yaml",
        "tests:\n  - name: mug\n    models: [sd3.5-large]\n    assert: [not-filtered]\n",
    )
    result = cli("test", "--no-log")
    assert result.exit_code == 2 and fake_bedrock.count() == 0
    assert (
        "prompts/mug.yaml:6: error: sd3.5-large: count 2: Stable Diffusion 3.5 Large makes "
        "1 image per request" in result.stderr + result.stdout
    )
