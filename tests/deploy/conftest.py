"""Prompt Management tests: a real bedrock-agent client behind botocore's Stubber, a git repo."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from promptlab.deploy import service
from tests.git.test_git_repo import GitRepo, make_repo

ARN = "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234"
PID = "PROMPT1234"
WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
GREET = """name: greet
version: "1.2.0"
description: Greets a customer
models: [nova-lite]
inference:
  temperature: 0.2
  max_tokens: 300
variables:
  name: {type: string, example: Ana}
  topic: {type: string, default: billing}
instructions: |
  You are a support agent.
  {% include "_partials/tone.j2" %}
input: |
  Say hello to {{ name }} about {{ topic }}.
"""
TONE = "Be friendly to {{ name }}.\n"
SYSTEM = "You are a support agent.\nBe friendly to {{name}}."
USER = "Say hello to {{name}} about {{topic}}."


def variant(system: str = SYSTEM, user: str = USER, model: str = "amazon.nova-lite-v1:0",
            variables: tuple[str, ...] = ("name", "topic"),
            inference: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The CHAT variant promptlab publishes for GREET (or a variation of it)."""
    return {
        "name": "default",
        "templateType": "CHAT",
        "templateConfiguration": {
            "chat": {
                "messages": [{"role": "user", "content": [{"text": user}]}],
                "inputVariables": [{"name": n} for n in variables],
                "system": [{"text": system}],
            }
        },
        "modelId": model,
        "inferenceConfiguration": {
            "text": inference if inference is not None else {"maxTokens": 300, "temperature": 0.2}
        },
    }


def prompt_response(version: str = "DRAFT", description: str = "", **kw: Any) -> dict[str, Any]:
    """A GetPrompt / CreatePrompt / UpdatePrompt / CreatePromptVersion answer."""
    arn = ARN if version == "DRAFT" else f"{ARN}:{version}"
    out: dict[str, Any] = {
        "name": "greet", "id": PID, "arn": arn, "version": version, "defaultVariant": "default",
        "variants": [variant(**kw)], "createdAt": WHEN, "updatedAt": WHEN,
    }  # fmt: skip
    if description:
        out["description"] = description
    return out


def summary(version: str = "DRAFT", description: str = "", name: str = "greet") -> dict[str, Any]:
    out = {"name": name, "id": PID, "arn": ARN if version == "DRAFT" else f"{ARN}:{version}",
           "version": version, "createdAt": WHEN, "updatedAt": WHEN}  # fmt: skip
    if description:
        out["description"] = description
    return out


@dataclass
class Stubbed:
    stub: Stubber
    made: list[int]  # agent clients handed out (0: nothing was sent, nothing was set up)

    def add(self, op: str, response: dict[str, Any], params: Any = None) -> None:
        self.stub.add_response(op, response, params)

    def error(self, op: str, code: str, message: str = "nope", status: int = 400) -> None:
        self.stub.add_client_error(op, code, message, status)


@pytest.fixture
def agent(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubbed]:
    """`promptlab.deploy.service.agent_client` answers with a Stubber-wrapped real client."""
    real = service.agent_client
    made: list[int] = []
    holder: dict[str, Any] = {}

    def client(config: Any, region: str | None, profile: str | None) -> tuple[Any, str]:
        made.append(1)
        return holder["client"], holder["region"]

    from promptlab.config import Config

    holder["client"], holder["region"] = real(Config(root=Path.cwd()), None, None)
    monkeypatch.setattr(service, "agent_client", client)
    with Stubber(holder["client"]) as stub:
        yield Stubbed(stub, made)
        stub.assert_no_pending_responses()


@pytest.fixture
def repo(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """A git repository holding prompts/greet.yaml (committed) as the working directory."""
    r = make_repo(tmp_path, monkeypatch)
    r.commit("greet", {"prompts/greet.yaml": GREET, "prompts/_partials/tone.j2": TONE})
    return r
