"""Image prompts (`kind: image`): read and checked at file:line, rendered as text or as the exact
InvokeModel request of the chosen model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.errors import PromptFileError
from promptlab.prompt import load_prompt, render, resolve_vars
from tests.conftest import Cli, write

PROMPT = """\
kind: image
version: "1.0.0"
prompt: |
  A photo of {{ thing }}
negative_prompt: blurry
variables:
  thing: {type: string, default: a red mug}
image:
  size: 1024x1024
  seeds: [7, 42]
  quality: premium
  overrides:
    sd3.5-large: {aspect_ratio: "16:9"}
models: [titan-image]
"""


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "shot.yaml", PROMPT)


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path / "p.yaml", text)
    with pytest.raises(PromptFileError) as exc:
        load_prompt(path)
    return [str(p) for p in exc.value.problems]


def test_an_image_prompt_keeps_its_templates_settings_and_overrides(prompt: Path) -> None:
    p = load_prompt(prompt)
    assert p.kind == "image"
    assert p.sections == {"prompt": "A photo of {{ thing }}\n", "negative_prompt": "blurry"}
    base = p.image.for_model("titan-image") if p.image else None
    assert base is not None and base.size == (1024, 1024) and base.seeds == (7, 42)
    stability = p.image.for_model("sd3.5-large") if p.image else None
    assert stability is not None and stability.size is None and stability.aspect_ratio == "16:9"
    rendered = render(p, resolve_vars(p))
    assert rendered.user == "A photo of a red mug"
    assert rendered.sections["negative_prompt"] == "blurry"


def test_text_sections_in_an_image_prompt_are_errors_at_their_line(tmp_path: Path) -> None:
    found = problems(tmp_path, PROMPT + "instructions: be nice\n")
    assert any(":15: error: 'instructions' does not apply to an image prompt" in p for p in found)


def test_image_keys_in_a_text_prompt_are_errors_at_their_line(tmp_path: Path) -> None:
    found = problems(tmp_path, 'version: "1.0.0"\ninput: hi\nimage: {size: 512x512}\n')
    assert found == [
        f"{tmp_path / 'p.yaml'}:3: error: 'image' applies to image prompts only — add kind: "
        "image to make this an image prompt (run it on image models), or write a text prompt "
        "with instructions: / input:"
    ]


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("size: big", "'size' must be WIDTHxHEIGHT in pixels, got 'big'"),
        ("aspect_ratio: wide", "'aspect_ratio' must be W:H, got 'wide'"),
        ("count: 0", "'count' must be a positive integer, got 0"),
        ("seeds: [1, 1]", "a seed is listed twice"),
        ("colour: red", "unknown image setting 'colour' — did you mean 'colors'?"),
        ("task: paint", "'task' must be one of text-to-image"),
        ("size: 512x512\n  seed: 1\n  seeds: [2]", "'seed' and 'seeds' in the same mapping"),
        ("source: photo", "source: 'photo' is not declared"),
    ],
)
def test_bad_image_settings_are_one_line_each_at_their_line(
    tmp_path: Path, setting: str, expected: str
) -> None:
    text = f'kind: image\nversion: "1.0.0"\nprompt: a cat\nimage:\n  {setting}\n'
    found = problems(tmp_path, text)
    assert len(found) == 1 and expected in found[0], found
    assert ":5: error:" in found[0] or ":7: error:" in found[0]  # the key's line


def test_a_task_names_what_it_needs(tmp_path: Path) -> None:
    text = (
        'kind: image\nversion: "1.0.0"\nprompt: a cat\nvariables:\n  photo: {type: image}\n'
        "image:\n  task: inpainting\n  source: photo\n"
    )
    [found] = problems(tmp_path, text)
    assert ":6: error: task inpainting needs 'mask' (an image variable) or 'mask_prompt'" in found


def test_an_override_that_changes_the_task_is_checked_too(tmp_path: Path) -> None:
    text = (
        'kind: image\nversion: "1.0.0"\nprompt: a cat\nimage:\n  overrides:\n'
        "    titan-image: {task: variation}\n"
    )
    [found] = problems(tmp_path, text)
    assert ":6: error: task variation for 'titan-image' needs 'source'" in found


def test_only_image_variables_can_be_sources(tmp_path: Path) -> None:
    text = (
        'kind: image\nversion: "1.0.0"\nprompt: a cat\nvariables:\n  doc: {type: document}\n'
        "image: {task: variation, source: doc}\n"
    )
    found = problems(tmp_path, text)
    assert any(
        "variable 'doc' is a document: an image prompt works from image variables" in p
        for p in found
    )
    assert any("source: 'doc' is a document variable, not an image" in p for p in found)


def test_an_image_prompt_needs_a_prompt_unless_it_removes_backgrounds(tmp_path: Path) -> None:
    [found] = problems(tmp_path, 'kind: image\nversion: "1.0.0"\n')
    assert "an image prompt needs 'prompt'" in found
    text = (
        'kind: image\nversion: "1.0.0"\nvariables:\n  photo: {type: image}\n'
        "image: {task: background-removal, source: photo}\n"
    )
    assert load_prompt(write(tmp_path / "bg.yaml", text)).kind == "image"


def test_render_shows_the_prompt_negative_prompt_and_settings(
    prompt: Path, cli: Cli, project: Path
) -> None:
    result = cli("render", "shot")
    assert result.exit_code == 0, result.stderr
    assert "━━━ prompt ━━━\nA photo of a red mug" in result.stdout
    assert "━━━ negative prompt ━━━\nblurry" in result.stdout
    assert '"seeds": [7, 42]' in result.stdout


def test_render_json_is_the_exact_invoke_model_request_per_family(prompt: Path, cli: Cli) -> None:
    titan = json.loads(cli("render", "shot", "-m", "titan-image", "-f", "json").stdout)
    assert titan == {
        "modelId": "amazon.titan-image-generator-v2:0",
        "contentType": "application/json",
        "accept": "application/json",
        "body": {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "A photo of a red mug", "negativeText": "blurry"},
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "width": 1024,
                "height": 1024,
                "quality": "premium",
                "seed": 7,
            },
        },
    }
    sd = json.loads(cli("render", "shot", "-m", "sd3.5-large", "-f", "json").stdout)
    assert sd["body"] == {
        "prompt": "A photo of a red mug",
        "negative_prompt": "blurry",
        "mode": "text-to-image",
        "aspect_ratio": "16:9",
        "seed": 7,
    }


def test_render_text_for_a_model_notes_what_it_drops(prompt: Path, cli: Cli) -> None:
    result = cli("render", "shot", "-m", "sd3.5-large")
    assert "# note: sd3.5-large: Stable Diffusion 3.5 Large does not take quality" in result.stdout
    assert "# note: seeds 7, 42: one call each; this is the request for seed 7" in result.stdout


def test_render_json_of_an_image_prompt_needs_a_model(prompt: Path, cli: Cli) -> None:
    result = cli("render", "shot", "-f", "json")
    assert result.exit_code == 2
    assert "an image prompt's request body depends on the model — pass -m MODEL" in result.stderr


def test_source_images_are_elided_to_their_digest_unless_asked(project: Path, cli: Cli) -> None:
    from tests.conversation.test_attachments_in_runs import png

    data = png(project / "in.png", (320, 320))  # Nova Canvas takes sides of 320 px and more
    write(
        project / "prompts" / "vary.yaml",
        'kind: image\nversion: "1.0.0"\nprompt: same, '
        "bluer\nvariables:\n  photo: {type: image}\nimage: {task: variation, source: photo}\n",
    )
    args = ("render", "vary", "-m", "nova-canvas", "-f", "json", "-v", "photo=@in.png")
    body = json.loads(cli(*args).stdout)["body"]
    assert body["imageVariationParams"]["images"][0]["size"] == len(data)
    full = json.loads(cli(*args, "--include-bytes").stdout)["body"]
    import base64

    assert base64.b64decode(full["imageVariationParams"]["images"][0]) == data


def test_an_image_prompt_on_a_text_model_is_refused_with_the_image_models(
    prompt: Path, cli: Cli
) -> None:
    result = cli("render", "shot", "-m", "nova-lite")
    assert result.exit_code == 2
    assert "nova-lite does not make images, and shot is an image prompt" in result.stderr
    assert "titan-image, nova-canvas" in result.stderr


def test_lint_checks_image_prompt_templates(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "x.yaml", 'kind: image\nversion: "1.0.0"\nprompt: "{{ nope }}"\n')
    result = cli("lint")
    assert result.exit_code == 1
    assert "variable 'nope' is used in 'prompt' but not declared" in result.stdout


def test_lint_checks_an_image_prompt_against_its_own_models(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "x.yaml",
        'kind: image\nversion: "1.0.0"\nprompt: a cat\n'
        "image: {size: 1000x1000}\nmodels: [titan-image, nova-lite]\n",
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert "x.yaml:4: error: titan-image: size 1000x1000 is not one Titan" in result.stdout
    assert "x.yaml:5: error: nova-lite does not make images" in result.stdout


def test_an_image_prompt_is_not_published_to_prompt_management(prompt: Path) -> None:
    from promptlab.config import Config
    from promptlab.deploy.publish import content_for
    from promptlab.errors import UsageError

    with pytest.raises(UsageError) as exc:
        content_for(load_prompt(prompt), None, Config(root=prompt.parent), "us-east-1")
    assert "is an image prompt: Prompt Management holds text prompts" in exc.value.message
