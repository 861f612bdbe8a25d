"""Verdicts that cannot lie: a score that is not a number, a check that exits, an endpoint that
is not Bedrock, an empty settings file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from promptlab.assertions import Context, Verdict, evaluate, parse_assertion
from promptlab.assertions.graders import cosine
from promptlab.results import Result
from promptlab.yamlfile import parse_yaml
from tests.conftest import Cli, write

CHECKS = (
    "import math\n"
    "def nan(output, context):\n    return float('nan')\n"
    "def inf(output, context):\n    return math.inf\n"
    "def nan_score(output, context):\n    return {'score': float('nan')}\n"
    "def nan_with_pass(output, context):\n    return {'pass': True, 'score': float('nan')}\n"
    "def quits(output, context):\n    import sys\n    sys.exit('giving up')\n"
    "def quits_quietly(output, context):\n    exit(0)\n"
    "def fine(output, context):\n    return True\n"
)


def verdict(spec: str, root: Path) -> Verdict:
    doc = parse_yaml(f"assert:\n  - {spec}\n", "suite.tests.yaml")
    problems: list = []
    a = parse_assertion(doc.data["assert"][0], doc, ("assert", 0), root, problems)
    assert a is not None, problems
    r = Result(prompt_name="p", prompt_version="1", prompt_hash="h", model_alias="m",
               model_id="m", region=None, params={}, request={}, output="x")  # fmt: skip
    return evaluate(a, Context("x", r, {}, "case", root))


@pytest.mark.parametrize("func", ["nan", "inf", "nan_score", "nan_with_pass"])
def test_a_score_that_is_not_a_finite_number_is_the_checks_error(tmp_path: Path, func: str) -> None:
    write(tmp_path / "checks.py", CHECKS)
    for spec in (f"{{python: checks.py:{func}}}", f"{{not-python: checks.py:{func}}}"):
        v = verdict(spec, tmp_path)
        assert not v.passed and v.broken, (spec, v)
        assert "finite" in v.reason and math.isfinite(v.score)


def test_an_embedding_similarity_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not a number"):
        cosine([math.nan, 1.0], [1.0, 1.0])


@pytest.mark.parametrize("func", ["quits", "quits_quietly"])
def test_a_check_that_exits_is_that_checks_error(tmp_path: Path, func: str) -> None:
    write(tmp_path / "checks.py", CHECKS)
    v = verdict(f"{{python: checks.py:{func}}}", tmp_path)
    assert not v.passed and v.broken
    assert "sys.exit(" in v.reason


def test_a_check_exiting_at_import_does_not_end_the_run(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "checks.py", CHECKS)
    write(project / "prompts" / "leaves.py", "import sys\nsys.exit('bye')\ndef ok(o, c):\n"
          "    return True\n")  # fmt: skip
    write(project / "prompts" / "echoer.yaml",
          'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
          "tests:\n"
          "  - {name: exits, vars: {text: a}, assert: [{python: checks.py:quits}]}\n"
          "  - {name: import-exits, vars: {text: b}, assert: [{python: leaves.py:ok}]}\n"
          "  - {name: healthy, vars: {text: c}, assert: [{python: checks.py:fine}]}\n")  # fmt: skip
    out = cli("test", "-m", "echo", "--no-log", "--json", "out.json", "--junit", "out.xml")
    assert out.exit_code == 1, out.output
    assert "1 passed, 2 failed of 3" in out.stdout
    data = json.loads((project / "out.json").read_text("utf-8"))
    reasons = {c["key"].split("/")[1].split("@")[0]: c["samples"][0]["assertions"][0]["reason"]
               for c in data["cases"]}  # fmt: skip
    assert "sys.exit('giving up')" in reasons["exits"]
    assert "sys.exit('bye')" in reasons["import-exits"]
    assert (project / "out.xml").is_file()


# ------------------------------------------------------------ endpoints that are not Bedrock

PROMPT = ('version: "1.0.0"\ninput: "hi {{ text }}"\nvariables:\n  text: {type: string}\n'
          "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n")  # fmt: skip


class NotBedrock:
    """A local HTTP endpoint that answers every POST with an empty 404 (`empty-404`), or
    answers the first with half a ConverseStream and then goes away (`dies`)."""

    def __init__(self, mode: str) -> None:
        import socket
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from tests.fakebedrock import event

        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if mode == "empty-404":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                part = event("messageStart", {"role": "assistant"}) + event(
                    "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.amazon.eventstream")
                self.send_header("Content-Length", "100000")  # promised, never sent
                self.end_headers()
                self.wfile.write(part)
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                threading.Thread(target=outer.stop).start()  # nobody listens any more

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.stopped = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def not_bedrock(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> object:
    def start(mode: str) -> NotBedrock:
        endpoint = NotBedrock(mode)
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint.url)
        monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "2")
        started.append(endpoint)
        return endpoint

    started: list[NotBedrock] = []
    yield start
    for endpoint in started:
        endpoint.stop()


def test_an_endpoint_that_is_not_bedrock_is_infrastructure_not_a_failure(
    project: Path, cli: Cli, not_bedrock: object
) -> None:
    not_bedrock("empty-404")  # type: ignore[operator]
    write(project / "prompts" / "p.yaml", PROMPT)
    out = cli("test", "-m", "nova-micro", "--no-log", "--json", "out.json")
    assert out.exit_code == 3, out.output
    sample = json.loads((project / "out.json").read_text("utf-8"))["cases"][0]["samples"][0]
    assert sample["status"] == "error"
    assert "not Bedrock" in sample["result"]["error"]["hint"]


def test_an_endpoint_lost_mid_stream_is_a_failed_call_not_a_setup_error(
    project: Path, cli: Cli, not_bedrock: object
) -> None:
    not_bedrock("dies")  # type: ignore[operator]
    write(project / "prompts" / "p.yaml", PROMPT)
    out = cli("run", "prompts/p.yaml", "-v", "text=x", "-m", "nova-micro", "--no-log",
              "--stream", "--format", "json")  # fmt: skip
    assert out.exit_code == 1, out.output
    error = json.loads(out.stdout)[0]["error"]
    assert error["code"] == "ConnectionLost"
    assert error["infrastructure"] is True
    assert "mid-stream" in error["message"]


def test_a_settings_file_with_every_setting_commented_out_is_empty(project: Path, cli: Cli) -> None:
    write(project / "promptlab.yaml", "# concurrency: 4\n# models: [nova-micro]\n")
    write(project / "prompts" / "p.yaml", PROMPT)
    out = cli("render", "prompts/p.yaml", "-v", "text=x")
    assert out.exit_code == 0, out.output
    assert "hi x" in out.stdout


@pytest.mark.parametrize("key", ["weight", "threshold"])
@pytest.mark.parametrize("value", [".nan", ".inf"])
def test_yaml_nan_and_infinity_are_no_weight_or_threshold(key: str, value: str) -> None:
    doc = parse_yaml(f"assert:\n  - {{similar: hi, {key}: {value}}}\n", "suite.tests.yaml")
    problems: list = []
    a = parse_assertion(doc.data["assert"][0], doc, ("assert", 0), Path.cwd(), problems)
    assert a is None
    assert f"'{key}' must be" in problems[0].message


def test_a_checks_error_never_shows_a_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "TopSecretValue/0123456789")
    write(tmp_path / "leak.py", "import os\ndef leak(output, context):\n"
          "    raise ValueError(os.environ['AWS_SECRET_ACCESS_KEY'])\n")  # fmt: skip
    v = verdict("{python: leak.py:leak}", tmp_path)
    assert v.broken and "TopSecretValue" not in v.reason and "[masked]" in v.reason
