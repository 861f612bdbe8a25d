"""Real Amazon Bedrock calls. Skipped unless PROMPTLAB_LIVE_TESTS=1 (they cost a little money).

Run with your normal AWS setup, for example:
    PROMPTLAB_LIVE_TESTS=1 AWS_PROFILE=dev AWS_REGION=us-east-1 \\
        python -m pytest tests/test_live_bedrock.py
Models: PROMPTLAB_LIVE_MODELS (comma-separated, default nova-micro).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import Cli, write

LIVE = os.environ.get("PROMPTLAB_LIVE_TESTS") == "1"
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not LIVE, reason="set PROMPTLAB_LIVE_TESTS=1 to call real Bedrock"),
]


@pytest.fixture(autouse=True)
def _real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the suite's AWS isolation: live tests use the developer's own AWS setup."""
    monkeypatch.undo()
    if os.environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"):
        pytest.skip("AWS_ENDPOINT_URL_BEDROCK_RUNTIME points away from real Bedrock")


def test_real_models_answer_with_usage_and_cost(project: Path, cli: Cli) -> None:
    models = os.environ.get("PROMPTLAB_LIVE_MODELS", "nova-micro")
    write(
        project / "prompts" / "live.yaml",
        'version: "1.0.0"\ninstructions: Answer with one word.\n'
        "input: What is the capital of France?\ninference: {temperature: 0, max_tokens: 20}\n",
    )
    result = cli("run", "live", "-m", models, "--format", "json", "--no-log")
    assert result.exit_code == 0, result.stdout + result.stderr
    for row in json.loads(result.stdout):
        assert "paris" in row["output"].lower()
        assert row["usage"]["input_tokens"] > 0 and row["usage"]["estimated"] is False
        assert row["latency_ms"] is not None


def test_streaming_reports_time_to_first_token(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "s.yaml", 'version: "1.0.0"\ninput: Count from 1 to 5.\n')
    result = cli("run", "s", "-m", "nova-micro", "--stream", "--format", "json", "--no-log")
    assert result.exit_code == 0, result.stdout + result.stderr
    [row] = json.loads(result.stdout)
    assert row["ttft_ms"] is not None and "3" in row["output"]
