"""Trust boundaries: what a suite may reach (python checks and schema files inside the project,
no remote schema references)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import Cli, write

PROMPT = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
CHECK = "def ok(output, context):\n    return True\n"


def suite(*asserts: str) -> str:
    items = "\n".join(f"      - {a}" for a in asserts)
    return (
        f"prompt: echoer.yaml\ntests:\n  - name: a\n    vars: {{text: x}}\n    assert:\n{items}\n"
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A python file outside the project (the project is tmp_path/proj)."""
    return write(tmp_path / "elsewhere" / "steal.py", CHECK)


def test_python_checks_outside_the_project_are_refused_by_test_and_lint(
    project: Path, cli: Cli, outside: Path
) -> None:
    write(project / "prompts" / "echoer.yaml", PROMPT)
    (project / "prompts" / "link.py").symlink_to(outside)
    write(project / "prompts" / "echoer.tests.yaml", suite(
        f"{{python: '{outside}:ok'}}",
        "{python: ../../elsewhere/steal.py:ok}",
        "{python: link.py:ok}",
    ))  # fmt: skip
    for args in (("test", "-m", "echo", "--no-log"), ("lint",)):
        out = cli(*args)
        assert out.exit_code in (1, 2), out.output
        text = out.output
        assert "is an absolute path" in text
        assert "'../../elsewhere/steal.py' is outside the project" in text
        assert "'link.py' is outside the project" in text
        assert "echoer.tests.yaml:7" in text


def test_python_checks_anywhere_inside_the_project_still_run(project: Path, cli: Cli) -> None:
    write(project / "checks" / "reply.py", CHECK)
    write(project / "prompts" / "echoer.yaml", PROMPT)
    write(project / "prompts" / "echoer.tests.yaml", suite("{python: ../checks/reply.py:ok}"))
    out = cli("test", "-m", "echo", "--no-log")
    assert out.exit_code == 0, out.output


def test_a_prompts_inline_python_check_is_confined_too(
    project: Path, cli: Cli, outside: Path
) -> None:
    write(project / "prompts" / "inline.yaml", PROMPT + "tests:\n  - name: a\n    vars: {text: x}\n"
          "    assert: [{python: ../../elsewhere/steal.py:ok}]\n")  # fmt: skip
    out = cli("lint")
    assert out.exit_code == 1
    assert "inline.yaml:8" in out.output and "outside the project" in out.output


def test_a_schema_file_outside_the_project_is_refused(
    project: Path, cli: Cli, tmp_path: Path
) -> None:
    write(tmp_path / "elsewhere" / "shape.json", '{"type": "object"}')
    write(project / "prompts" / "echoer.yaml", PROMPT)
    write(project / "prompts" / "echoer.tests.yaml",
          suite("{json-schema: ../../elsewhere/shape.json}"))  # fmt: skip
    out = cli("lint")
    assert out.exit_code == 1
    assert "'../../elsewhere/shape.json' is outside the project" in out.output


# ------------------------------------------------------------ remote schema references


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records what is asked of it (nothing should be)."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            asked.append(self.path)
            body = b'{"type": "string"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def test_remote_schema_references_are_refused_where_schemas_are_read(
    project: Path, cli: Cli, listener: tuple[str, list[str]]
) -> None:
    url, asked = listener
    ref = f"{url}/name.json"
    write(project / "prompts" / "echoer.yaml", PROMPT
          + f"output_schema:\n  type: object\n  properties:\n    name: {{$ref: '{ref}'}}\n"
          + "tools:\n  - name: look\n    input_schema:\n      type: object\n"
          + f"      properties:\n        q: {{$ref: '{ref}'}}\n")  # fmt: skip
    write(project / "prompts" / "other.yaml", PROMPT)
    write(project / "prompts" / "other.tests.yaml",
          suite(f"{{json-schema: {{type: object, properties: {{a: {{$ref: '{ref}'}}}}}}}}")
          .replace("echoer.yaml", "other.yaml"))  # fmt: skip
    out = cli("lint")
    assert out.exit_code == 1
    assert f"output_schema refers outside itself: $ref '{ref}'" in out.output
    assert f"input_schema of tool 'look' refers outside itself: $ref '{ref}'" in out.output
    assert "other.tests.yaml:6" in out.output and f"$ref '{ref}'" in out.output
    assert cli("test", "-m", "echo", "--no-log").exit_code == 2
    assert asked == []


def test_a_schema_check_never_fetches_a_reference(listener: tuple[str, list[str]]) -> None:
    from promptlab.assertions.structured import schema_errors
    from promptlab.schemas import check_structured

    url, asked = listener
    schema = {"type": "object", "properties": {"a": {"$ref": f"{url}/a.json"}},
              "$defs": {"n": {"type": "integer"}}, "required": ["a"]}  # fmt: skip
    with pytest.raises(Exception, match=r"a\.json"):
        schema_errors(schema, {"a": 1})
    assert "not followed" in (check_structured(schema, '{"a": 1}', True)["error"] or "")
    local = {"properties": {"a": {"$ref": "#/$defs/n"}}, "$defs": {"n": {"type": "integer"}}}
    assert [e.message for e in schema_errors(local, {"a": "x"})] == ["'x' is not of type 'integer'"]
    assert asked == []


# ------------------------------------------------------------ credentials in error text

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFILEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEFakeSessionToken0123456789"
ENV_SECRET = "EnvSecretKey/abcdefghijklmnopqrstuvwxyz01"
LEAKY = (
    f"proxy echo: key {SECRET} token {TOKEN} env {ENV_SECRET} "
    "url https://alice:hunter22@proxy.example.com/x?X-Amz-Signature=deadbeefcafe&a=1 "
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/"
    "bedrock/aws4_request, SignedHeaders=host, Signature=0123456789abcdef"
)
NEVER = (SECRET, TOKEN, ENV_SECRET, "hunter22", "deadbeefcafe", "0123456789abcdef",
         "AKIAIOSFODNN7EXAMPLE")  # fmt: skip


def test_every_known_credential_is_masked_in_history_reports_and_terminal(
    project: Path,
    cli: Cli,
    fake_bedrock: object,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # keys from the shared credentials file (resolved by the session), one secret in the env
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", ENV_SECRET)
    write(tmp_path / "no-aws-credentials", "[default]\naws_access_key_id = AKIAFILEFILEFILEFILE\n"
          f"aws_secret_access_key = {SECRET}\naws_session_token = {TOKEN}\n")  # fmt: skip
    fake_bedrock.script(  # type: ignore[attr-defined]
        "amazon.nova-micro-v1:0", fail=99, status=400, error="ValidationException",
        message=LEAKY,
    )  # fmt: skip
    write(project / "prompts" / "echoer.yaml", PROMPT)
    write(project / "prompts" / "echoer.tests.yaml", suite("{contains: x}"))
    out = cli("test", "-m", "nova-micro", "--json", "out.json", "--html", "out.html",
              "--junit", "out.xml", "--markdown", "out.md")  # fmt: skip
    assert out.exit_code == 1, out.output
    ran = cli("run", "prompts/echoer.yaml", "-v", "text=x", "-m", "nova-micro", "--format",
              "json")  # fmt: skip
    logged = cli("log", "--format", "json")
    kept = [out.output, ran.output, logged.output]
    kept += [
        (project / f).read_text("utf-8") for f in ("out.json", "out.html", "out.xml", "out.md")
    ]
    stores = list(project.rglob("*.db*"))
    assert stores  # the history holds the error too
    kept += [p.read_bytes().decode("utf-8", "replace") for p in stores]
    assert "[masked]" in out.output and "[masked]" in kept[3]
    for text in kept:
        for secret in NEVER:
            assert secret not in text


def test_a_password_in_the_endpoint_url_is_never_shown(
    project: Path, cli: Cli, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://bob:s3cretpass@127.0.0.1:9")
    monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "1")
    write(project / "prompts" / "echoer.yaml", PROMPT)
    out = cli("run", "prompts/echoer.yaml", "-v", "text=x", "-m", "nova-micro", "--no-log")
    assert out.exit_code == 2, out.output
    assert "127.0.0.1:9" in out.output and "s3cretpass" not in out.output
