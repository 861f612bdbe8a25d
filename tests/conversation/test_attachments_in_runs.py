"""Images and documents in runs: sent as Converse blocks through boto3, read once, recorded and
cached by their content's hash (never the path or the bytes), refused before any call when bad."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock
from tests.prompt.test_render_bad_input import one_line

NOVA_LITE = "amazon.nova-lite-v1:0"
PROMPT = """\
version: "1.0.0"
input: What is in the picture?
variables:
  photo: {type: image}
  notes: {type: document, required: false, citations: true}
inference: {temperature: 0}
"""


def png(path: Path, size: tuple[int, int] = (40, 30), color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "p.yaml", PROMPT)


def test_an_image_goes_before_the_text_as_bytes_and_is_recorded_by_its_hash(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    data = png(project / "shots" / "login.jpg")  # the content decides the format, not the name
    fake_bedrock.script(NOVA_LITE, text="A red square.")
    result = cli("run", "p", "-m", "nova-lite", "-v", "photo=@shots/login.jpg", "-f", "json")
    assert result.exit_code == 0, result.stderr
    [sent] = fake_bedrock.requests_for(NOVA_LITE)
    image, text = sent.body["messages"][0]["content"]
    assert image["image"]["format"] == "png"
    assert base64.b64decode(image["image"]["source"]["bytes"]) == data
    assert text == {"text": "What is in the picture?"}
    [row] = json.loads(result.stdout)
    digest = hashlib.sha256(data).hexdigest()
    assert row["request"]["messages"][0]["content"][0]["image"]["source"]["bytes"] == {
        "sha256": digest, "size": len(data)}  # fmt: skip
    assert row["vars"]["photo"] == "@shots/login.jpg"
    con = sqlite3.connect(project / ".promptlab" / "promptlab.db")
    stored = con.execute("SELECT request FROM calls").fetchone()[0]
    assert digest in stored and base64.b64encode(data).decode() not in stored


def test_the_cache_follows_the_content_not_the_path(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    png(project / "a.png")
    png(project / "copy" / "b.png")
    fake_bedrock.script(NOVA_LITE, text="red")

    def cached(arg: str) -> bool:
        result = cli("run", "p", "-m", "nova-lite", "-v", arg, "--cache", "-f", "json")
        return bool(json.loads(result.stdout)[0]["cached"])

    assert not cached("photo=@a.png")
    assert cached("photo=@copy/b.png")  # same bytes elsewhere: a hit
    png(project / "a.png", color="blue")
    assert not cached("photo=@a.png")  # same path, new content: a miss


def test_a_model_without_image_input_gets_an_error_cell(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    png(project / "a.png")
    result = cli("run", "p", "-m", "nova-micro,echo", "-v", "photo=@a.png", "-f", "json")
    by = {r["model"]["alias"]: r for r in json.loads(result.stdout)}
    assert by["nova-micro"]["error"]["code"] == "UnsupportedInput"
    assert by["nova-micro"]["error"]["message"] == "nova-micro does not take image through Converse"
    assert fake_bedrock.count(model="amazon.nova-micro-v1:0") == 0
    assert by["echo"]["output"].startswith("[image png ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("photo=@missing.png", "photo"),
        ("photo=@notes.txt", "photo"),
        ("photo=s3://", "photo"),
    ],
)
def test_a_bad_attachment_is_one_line_before_any_call(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock, value: str, message: str
) -> None:
    write(project / "notes.txt", "not an image")
    line = one_line(cli("run", "p", "-m", "nova-lite", "-v", value))
    assert message in line
    assert fake_bedrock.requests == []


def test_an_image_over_the_pixel_limit_names_the_variable_file_and_limit(
    prompt: Path, project: Path, cli: Cli
) -> None:
    png(project / "wide.png", size=(8001, 2))
    line = one_line(cli("render", "p", "-v", "photo=@wide.png"))
    assert "photo" in line and "wide.png" in line and "8000" in line


def test_a_cited_document_answer_keeps_its_citations(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    png(project / "a.png")
    cited = {"citationsContent": {"content": [{"text": "Worn boots cannot go back."}],
             "citations": [{"title": "policy", "sourceContent": [{"text": "Worn footwear"}],
                            "location": {"documentChar": {"documentIndex": 0, "start": 0,
                                                          "end": 13}}}]}}  # fmt: skip
    fake_bedrock.script("us.anthropic.claude-3-5-sonnet-20241022-v2:0", content=[cited])
    result = cli("run", "p", "-m", "claude-3.5-sonnet-v2", "-v", "photo=@a.png",
                 "-v", "notes=Worn footwear cannot be returned.", "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [sent] = fake_bedrock.requests
    document = sent.body["messages"][0]["content"][1]["document"]
    assert document["citations"] == {"enabled": True}
    assert document["source"] == {"text": "Worn footwear cannot be returned."}
    [row] = json.loads(result.stdout)
    assert row["content"] == [cited]


def test_citations_are_dropped_with_a_notice_for_models_without_them(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    png(project / "a.png")
    result = cli("run", "p", "-m", "nova-lite", "-v", "photo=@a.png", "-v", "notes=Some text.",
                 "-f", "json")  # fmt: skip
    [sent] = fake_bedrock.requests
    assert "citations" not in sent.body["messages"][0]["content"][1]["document"]
    assert "nova-lite: citations are not supported" in " ".join(
        json.loads(result.stdout)[0]["notices"]
    )


def test_dry_run_counts_the_blocks_that_would_be_sent(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    png(project / "a.png")
    fake_bedrock.script(NOVA_LITE, count_tokens=321)
    result = cli("run", "p", "-m", "nova-lite", "-v", "photo=@a.png", "--dry-run")
    assert result.exit_code == 0, result.stderr
    [counted] = fake_bedrock.requests
    assert counted.op == "count-tokens"
    assert "image" in counted.body["input"]["converse"]["messages"][0]["content"][0]
    assert "321" in result.stdout


def test_test_skip_unsupported_leaves_out_pairs_and_refuses_an_empty_plan(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    png(project / "prompts" / "a.png")
    write(project / "prompts" / "p.yaml", PROMPT + "tests:\n  - name: look\n"
          "    vars: {photo: a.png}\n    assert: [{contains: red}]\n")  # fmt: skip
    fake_bedrock.script(NOVA_LITE, text="red")
    both = cli("test", "prompts/p.yaml", "-m", "nova-lite,titan-express", "--skip-unsupported")
    assert both.exit_code == 0, both.stdout + both.stderr
    assert "skipped titan-express for p/look: does not take image" in both.stderr
    assert fake_bedrock.count(model="amazon.titan-text-express-v1") == 0
    none = cli("test", "prompts/p.yaml", "-m", "titan-express", "--skip-unsupported")
    assert none.exit_code == 2
    assert "no case × model left" in none.stderr
