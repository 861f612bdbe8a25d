"""Knowledge-base retrieval through the real boto3 client (botocore's Stubber on
bedrock-agent-runtime Retrieve): passages, one search shared by every model, and a missing
knowledge base stopping the run before any model call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from promptlab.retrieval import kb
from tests.conftest import Cli
from tests.fakebedrock import FakeBedrock

PROMPT = """version: "1.0.0"
instructions: Answer from the passages, citing them as [1].
input: '{{ question }}'
variables:
  question: {type: string}
retrieve:
  knowledge_base: KB12345678
  query: 'policy: {{ question }}'
  k: 2
  search: hybrid
"""

ANSWER = {
    "retrievalResults": [
        {
            "content": {"text": "Refunds are issued within 5 business days."},
            "location": {"type": "S3", "s3Location": {"uri": "s3://docs/refunds.md"}},
            "score": 0.82,
            "metadata": {"category": "refunds"},
        },
        {
            "content": {"text": "Express shipping costs $12."},
            "location": {"type": "WEB", "webLocation": {"url": "https://example.com/ship"}},
            "score": 0.41,
        },
    ]
}
EXPECTED = {
    "knowledgeBaseId": "KB12345678",
    "retrievalQuery": {"text": "policy: when is my refund paid?"},
    "retrievalConfiguration": {
        "vectorSearchConfiguration": {"numberOfResults": 2, "overrideSearchType": "HYBRID"}
    },
}


@pytest.fixture
def stubbed(
    project: Path, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stubber]:
    """The prompt file, and a stubbed bedrock-agent-runtime client behind every search."""
    (project / "prompts" / "kbqa.yaml").write_text(PROMPT, "utf-8")
    client = boto3.client("bedrock-agent-runtime", region_name="us-east-1")
    stub = Stubber(client)
    monkeypatch.setattr(kb.Searcher, "client", lambda self: client)
    with stub:
        yield stub


def run_json(cli: Cli, *models: str) -> Any:
    args = [a for m in models for a in ("-m", m)]
    return cli("run", "prompts/kbqa.yaml", *args, "-v", "question=when is my refund paid?",
               "--format", "json", "--no-log")  # fmt: skip


def test_retrieved_passages_reach_the_context_and_the_result(stubbed: Stubber, cli: Cli) -> None:
    stubbed.add_response("retrieve", ANSWER, EXPECTED)
    result = run_json(cli, "echo")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["passages"][0] == {
        "id": "1", "text": "Refunds are issued within 5 business days.",
        "source": "s3://docs/refunds.md", "score": 0.82,
        "metadata": {"category": "refunds"}, "cited": None,
    }  # fmt: skip
    assert row["passages"][1]["source"] == "https://example.com/ship"
    assert "[1] s3://docs/refunds.md\nRefunds are issued" in row["output"]


def test_one_search_serves_every_model(
    stubbed: Stubber, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    stubbed.add_response("retrieve", ANSWER, EXPECTED)  # a second search would fail the stub
    result = run_json(cli, "echo", "nova-micro")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [len(r["passages"]) for r in rows] == [2, 2]
    sent = fake_bedrock.requests_for("amazon.nova-micro-v1:0")[0].body
    assert "[2] https://example.com/ship" in sent["messages"][0]["content"][0]["text"]
    stubbed.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("ResourceNotFoundException", "list-knowledge-bases"),
        ("AccessDeniedException", "bedrock:Retrieve"),
    ],
)
def test_an_unusable_knowledge_base_stops_before_any_model_call(
    stubbed: Stubber, cli: Cli, fake_bedrock: FakeBedrock, code: str, hint: str
) -> None:
    stubbed.add_client_error("retrieve", code, "no such knowledge base", 404)
    result = run_json(cli, "nova-micro")
    assert result.exit_code == 2
    assert f"prompts/kbqa.yaml:6: knowledge base KB12345678: {code}" in result.output
    assert hint in result.output
    assert fake_bedrock.count() == 0


def test_render_does_not_search_a_knowledge_base(project: Path, cli: Cli) -> None:
    (project / "prompts" / "kbqa.yaml").write_text(PROMPT, "utf-8")
    result = cli("render", "prompts/kbqa.yaml", "-v", "question=x")
    assert result.exit_code == 0, result.output
    assert "knowledge base KB12345678 not searched here" in result.stdout
    assert "(no passages)" in result.stdout


def test_a_cached_search_is_not_repeated_in_the_next_run(
    stubbed: Stubber, cli: Cli, project: Path
) -> None:
    from promptlab import retrieval

    stubbed.add_response("retrieve", ANSWER, EXPECTED)  # one search only: a second would fail
    args = ["-m", "echo", "-v", "question=when is my refund paid?", "--format", "json"]
    first = cli("run", "prompts/kbqa.yaml", *args, "--cache")
    retrieval.STATE.memo.clear()  # a new run: only the store remembers
    again = cli("run", "prompts/kbqa.yaml", *args, "--cache")
    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert json.loads(again.stdout)[0]["passages"] == json.loads(first.stdout)[0]["passages"]
    stubbed.assert_no_pending_responses()
    listed = cli("cache", "stats")
    assert "retrieve:KB12345678" in listed.output, listed.output


def test_knowledge_base_searches_for_many_vars_sets_run_at_once(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from promptlab import retrieval
    from promptlab.config import load_config
    from promptlab.jobs import build_jobs
    from promptlab.request import InferenceParams
    from promptlab.sources import open_prompt

    (project / "prompts" / "kbqa.yaml").write_text(PROMPT, "utf-8")
    running, peak, lock = [0], [0], threading.Lock()

    def search(source: object, query: str) -> list[dict[str, Any]]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return [{"id": "1", "text": query, "source": "s3://x", "score": 0.5, "metadata": {},
                 "cited": None}]  # fmt: skip

    retrieval.allow_remote(search)
    config = load_config()
    prompt = open_prompt("prompts/kbqa.yaml", config)
    sets = [{"question": f"question {n}"} for n in range(4)]
    started = time.perf_counter()
    jobs = build_jobs([prompt], sets, {}, ["echo"], InferenceParams(), config)
    assert time.perf_counter() - started < 0.6  # four 0.2 s searches, not one after another
    assert peak[0] > 1
    assert [j.rendered.passages[0]["text"] for j in jobs] == [
        f"policy: question {n}" for n in range(4)
    ]
    assert retrieval.STATE.searches == 4


def test_test_searches_the_cases_knowledge_base_at_once(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    cases = "".join(f"  - name: case-{n}\n    vars: {{question: question {n}}}\n"
                    f"    assert: [{{contains: 'policy: question {n}'}}]\n"
                    for n in range(4))  # fmt: skip
    (project / "prompts" / "kbqa.yaml").write_text(PROMPT + "tests:\n" + cases, "utf-8")
    running, peak, lock = [0], [0], threading.Lock()

    def search(self: object, source: object, query: str) -> list[dict[str, Any]]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return [{"id": "1", "text": query, "source": "s3://x", "score": 0.5, "metadata": {},
                 "cited": None}]  # fmt: skip

    monkeypatch.setattr(kb.Searcher, "__call__", search)
    started = time.perf_counter()
    result = cli("test", "prompts/kbqa.yaml", "-m", "echo", "--concurrency", "4", "--no-cache")
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert peak[0] == 4  # every case's search at once, not one after another
    assert elapsed < 1.2 + 2  # four 0.3 s searches side by side, plus the test run itself


def test_test_searches_no_more_at_once_than_its_concurrency(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    cases = "".join(f"  - name: case-{n}\n    vars: {{question: question {n}}}\n"
                    "    assert: [{contains: policy}]\n" for n in range(4))  # fmt: skip
    (project / "prompts" / "kbqa.yaml").write_text(PROMPT + "tests:\n" + cases, "utf-8")
    running, peak, lock = [0], [0], threading.Lock()

    def search(self: object, source: object, query: str) -> list[dict[str, Any]]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.1)
        with lock:
            running[0] -= 1
        return [{"id": "1", "text": query, "source": None, "score": None, "metadata": {},
                 "cited": None}]  # fmt: skip

    monkeypatch.setattr(kb.Searcher, "__call__", search)
    result = cli("test", "prompts/kbqa.yaml", "-m", "echo", "--concurrency", "2", "--no-cache")
    assert result.exit_code == 0, result.output
    assert peak[0] == 2
