"""`kb:KBID/MODEL`: a knowledge base's RetrieveAndGenerate answer as a model, through the real
boto3 client (botocore's Stubber): the question sent, citations as passages, usage unknown,
failures as that cell's error, in the same table as a prompt that retrieves itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from promptlab import aws
from tests.conftest import Cli
from tests.fakebedrock import FakeBedrock

PROMPT = """version: "1.0.0"
instructions: Answer from the passages, citing them as [1].
input: '{{ question }}'
variables:
  question: {type: string}
inference: {temperature: 0, max_tokens: 300}
retrieve:
  files: [docs.md]
  query: '{{ question }}'
"""

ANSWER = {
    "sessionId": "session-1",
    "output": {"text": "Refunds are paid within 5 business days."},
    "citations": [
        {
            "generatedResponsePart": {
                "textResponsePart": {"text": "Refunds are paid", "span": {"start": 0, "end": 16}}
            },
            "retrievedReferences": [
                {
                    "content": {"text": "Refunds are issued within 5 business days."},
                    "location": {"type": "S3", "s3Location": {"uri": "s3://docs/refunds.md"}},
                    "metadata": {"page": 2},
                },
            ],
        },
        {
            "generatedResponsePart": {"textResponsePart": {"text": "5 business days"}},
            "retrievedReferences": [  # the same passage again: listed once
                {
                    "content": {"text": "Refunds are issued within 5 business days."},
                    "location": {"type": "S3", "s3Location": {"uri": "s3://docs/refunds.md"}},
                },
            ],
        },
    ],
}
EXPECTED = {
    "input": {"text": "when is my refund paid?"},
    "retrieveAndGenerateConfiguration": {
        "type": "KNOWLEDGE_BASE",
        "knowledgeBaseConfiguration": {
            "knowledgeBaseId": "KB12345678",
            "modelArn": "anthropic.claude-3-haiku-20240307-v1:0",
            "generationConfiguration": {
                "promptTemplate": {
                    "textPromptTemplate": "Answer from the passages, citing them as [1].\n\n"
                    "<context>\n$search_results$\n</context>\n\n$output_format_instructions$"
                },
                "inferenceConfig": {"textInferenceConfig": {"temperature": 0, "maxTokens": 300}},
            },
        },
    },
}


@pytest.fixture
def stubbed(
    project: Path, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stubber]:
    (project / "prompts" / "rag.yaml").write_text(PROMPT, "utf-8")
    (project / "prompts" / "docs.md").write_text("Your refund is paid in 5 days.", "utf-8")
    client = boto3.client("bedrock-agent-runtime", region_name="us-east-1")
    stub = Stubber(client)
    real = aws.AwsClients.client

    def pick(self: aws.AwsClients, service: str) -> Any:
        return client if service == "bedrock-agent-runtime" else real(self, service)

    monkeypatch.setattr(aws.AwsClients, "client", pick)
    with stub:
        yield stub


def run_json(cli: Cli, *models: str) -> Any:
    args = [a for m in models for a in ("-m", m)]
    result = cli("run", "prompts/rag.yaml", *args, "-v", "question=when is my refund paid?",
                 "--format", "json", "--no-log")  # fmt: skip
    return result


def test_the_answer_and_its_citations_come_back_as_passages(stubbed: Stubber, cli: Cli) -> None:
    stubbed.add_response("retrieve_and_generate", ANSWER, EXPECTED)
    result = run_json(cli, "kb:KB12345678/claude-haiku")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["output"] == "Refunds are paid within 5 business days."
    assert row["passages"] == [
        {"id": "1", "text": "Refunds are issued within 5 business days.",
         "source": "s3://docs/refunds.md", "score": None, "metadata": {"page": 2},
         "cited": True},
    ]  # fmt: skip
    assert row["usage"]["input_tokens"] is None and row["cost_usd"] is None
    notes = " ".join(row["notices"])
    assert "reports no token usage" in notes
    assert "retrieve: (files) is not used" in notes  # the knowledge base searches itself


def test_managed_rag_sits_next_to_prompt_file_rag(
    stubbed: Stubber, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    stubbed.add_response("retrieve_and_generate", ANSWER, EXPECTED)
    result = run_json(cli, "claude-haiku", "kb:KB12345678/claude-haiku")
    assert result.exit_code == 0, result.output
    prompt_rag, managed = json.loads(result.stdout)
    assert prompt_rag["passages"][0]["source"] == "docs.md"
    assert prompt_rag["passages"][0]["cited"] is None
    assert managed["passages"][0]["cited"] is True
    sent = fake_bedrock.requests_for("anthropic.claude-3-haiku-20240307-v1:0")[0].body
    assert (
        "[1] docs.md\nYour refund is paid in 5 days." in sent["messages"][0]["content"][0]["text"]
    )


def test_a_missing_knowledge_base_is_that_cells_error(stubbed: Stubber, cli: Cli) -> None:
    stubbed.add_client_error("retrieve_and_generate", "ResourceNotFoundException",
                             "Knowledge base KB12345678 not found", 404)  # fmt: skip
    result = run_json(cli, "echo", "kb:KB12345678/claude-haiku")
    assert result.exit_code == 1
    ok, failed = json.loads(result.stdout)
    assert ok["error"] is None
    assert failed["error"]["code"] == "ResourceNotFoundException"
    assert "list-knowledge-bases" in failed["error"]["hint"]


def test_a_kb_model_without_its_model_is_refused_before_any_call(project: Path, cli: Cli) -> None:
    (project / "prompts" / "rag.yaml").write_text(PROMPT, "utf-8")
    (project / "prompts" / "docs.md").write_text("x", "utf-8")
    result = cli("run", "prompts/rag.yaml", "-m", "kb:KB12345678", "-v", "question=x")
    assert result.exit_code == 2
    assert "kb:KBID/MODEL" in result.output


KB_PROMPT = """version: "1.0.0"
instructions: Answer from the passages, citing them as [1].
context: The customer bought shoes.
input: '{{ question }}'
format: One short paragraph.
layout: markdown
variables:
  question: {type: string}
inference: {temperature: 0.2, top_p: 0.9, max_tokens: 200, stop: ["END"]}
retrieve:
  knowledge_base: KB12345678
  query: 'policy: {{ question }}'
  k: 4
  search: semantic
  filter: {equals: {key: year, value: 2024}}
"""
KB_EXPECTED = {
    "input": {"text": "when is my refund paid?"},
    "retrieveAndGenerateConfiguration": {
        "type": "KNOWLEDGE_BASE",
        "knowledgeBaseConfiguration": {
            "knowledgeBaseId": "KB12345678",
            "modelArn": "anthropic.claude-3-haiku-20240307-v1:0",
            "retrievalConfiguration": {
                "vectorSearchConfiguration": {
                    "numberOfResults": 4,
                    "overrideSearchType": "SEMANTIC",
                    "filter": {"equals": {"key": "year", "value": 2024}},
                }
            },
            "generationConfiguration": {
                "promptTemplate": {
                    "textPromptTemplate": "Answer from the passages, citing them as [1].\n\n"
                    "## Context\n\nThe customer bought shoes.\n\n$search_results$\n\n"
                    "## Output format\n\nOne short paragraph.\n\n$output_format_instructions$"
                },
                "inferenceConfig": {
                    "textInferenceConfig": {
                        "temperature": 0.2,
                        "topP": 0.9,
                        "maxTokens": 200,
                        "stopSequences": ["END"],
                    }
                },
            },
        },
    },
}


def test_the_prompt_template_inference_and_search_settings_are_sent(
    stubbed: Stubber, cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptlab.retrieval import kb

    (project / "prompts" / "rag.yaml").write_text(KB_PROMPT, "utf-8")
    monkeypatch.setattr(kb.Searcher, "__call__", lambda self, source, query: [])
    stubbed.add_response("retrieve_and_generate", ANSWER, KB_EXPECTED)  # checked against the
    result = run_json(cli, "kb:KB12345678/claude-haiku")  # service model by the Stubber too
    assert result.exit_code == 0, result.output
    stubbed.assert_no_pending_responses()
    notes = " ".join(json.loads(result.stdout)[0]["notices"])
    assert "not sent" not in notes and "not used" not in notes


def test_render_shows_the_exact_retrieve_and_generate_request(project: Path, cli: Cli) -> None:
    (project / "prompts" / "rag.yaml").write_text(KB_PROMPT, "utf-8")
    result = cli("render", "prompts/rag.yaml", "-v", "question=when is my refund paid?",
                 "-m", "kb:KB12345678/claude-haiku", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == KB_EXPECTED


def test_a_template_longer_than_a_knowledge_base_takes_is_that_cells_error(
    stubbed: Stubber, cli: Cli, project: Path
) -> None:
    long = PROMPT.replace("citing them as [1].", "citing them as [1]. " + "Be careful. " * 400)
    (project / "prompts" / "rag.yaml").write_text(long, "utf-8")
    result = run_json(cli, "echo", "kb:KB12345678/claude-haiku")
    assert result.exit_code == 1
    ok, refused = json.loads(result.stdout)
    assert ok["error"] is None
    assert "takes at most 4,000" in refused["error"]["message"]
    stubbed.assert_no_pending_responses()  # no call was made


def test_passages_a_template_places_itself_are_replaced_by_the_knowledge_bases(
    project: Path, cli: Cli
) -> None:
    placed = PROMPT.replace(
        "input: '{{ question }}'",
        'context: "Sources:{% for p in passages %} [{{ p.id }}] {{ p.text }}{% endfor %}"\n'
        "input: '{{ question }}'",
    )
    (project / "prompts" / "rag.yaml").write_text(placed, "utf-8")
    (project / "prompts" / "docs.md").write_text("Your refund is paid in 5 days.", "utf-8")
    result = cli("render", "prompts/rag.yaml", "-v", "question=refund paid?",
                 "-m", "kb:KB12345678/claude-haiku", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    config = json.loads(result.stdout)["retrieveAndGenerateConfiguration"]
    template = config["knowledgeBaseConfiguration"]["generationConfiguration"]["promptTemplate"]
    assert "<context>\nSources:\n\n$search_results$\n</context>" in template["textPromptTemplate"]
    assert "paid in 5 days" not in template["textPromptTemplate"]


def test_more_stop_sequences_than_a_knowledge_base_takes_is_that_cells_error(
    stubbed: Stubber, cli: Cli, project: Path
) -> None:
    many = PROMPT.replace("max_tokens: 300}", "max_tokens: 300, stop: [a, b, c, d, e]}")
    (project / "prompts" / "rag.yaml").write_text(many, "utf-8")
    result = run_json(cli, "kb:KB12345678/claude-haiku")
    assert result.exit_code == 1
    (refused,) = json.loads(result.stdout)
    assert "5 stop sequences" in refused["error"]["message"]
    assert "keep 4" in refused["error"]["hint"]
    stubbed.assert_no_pending_responses()
