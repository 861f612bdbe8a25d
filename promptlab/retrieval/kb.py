"""Amazon Bedrock Knowledge Bases: the Retrieve API (bedrock-agent-runtime) as a source.

`enable(config)` lets `run` and `test` search knowledge bases; boto3 is imported and the
client made on the first search only. A knowledge base that does not exist or cannot be read
is a configuration problem for every model: one line naming the prompt file's line, exit 2,
before any model call (retrieval happens while the jobs are built).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from promptlab.errors import ConfigError
from promptlab.retrieval import allow_remote
from promptlab.retrieval.spec import Source

if TYPE_CHECKING:
    from promptlab.config import Config

SERVICE = "bedrock-agent-runtime"
RERANKING = "BEDROCK_RERANKING_MODEL"  # VectorSearchRerankingConfigurationType


def retrieve_kwargs(source: Source, query: str) -> dict[str, Any]:
    """The Retrieve request: knowledgeBaseId, retrievalQuery and vectorSearchConfiguration."""
    search: dict[str, Any] = {"numberOfResults": source.k}
    if source.search:
        search["overrideSearchType"] = source.search.upper()
    if source.filter:
        search["filter"] = dict(source.filter)
    if source.rerank:
        search["rerankingConfiguration"] = {
            "type": RERANKING,
            "bedrockRerankingConfiguration": {"modelConfiguration": {"modelArn": source.rerank}},
        }
    return {"knowledgeBaseId": source.knowledge_base, "retrievalQuery": {"text": query},
            "retrievalConfiguration": {"vectorSearchConfiguration": search}}  # fmt: skip


def location_of(location: dict[str, Any] | None) -> str | None:
    """A result's source: the S3 URI, web URL or other location the service gives."""
    for value in (location or {}).values():
        if isinstance(value, dict):
            for key in ("uri", "url", "id"):
                if value.get(key):
                    return str(value[key])
    return None


def passages_of(results: list[dict[str, Any]], *, cited: bool | None = None
                ) -> list[dict[str, Any]]:  # fmt: skip
    """Retrieve results (or RetrieveAndGenerate references) → passages, ids "1", "2", …"""
    out = []
    for i, r in enumerate(results, 1):
        content = r.get("content") or {}
        out.append({"id": str(i), "text": str(content.get("text") or ""),
                    "source": location_of(r.get("location")), "score": r.get("score"),
                    "metadata": dict(r.get("metadata") or {}), "cited": cited})  # fmt: skip
    return out


class Searcher:
    """Searches knowledge bases through one bedrock-agent-runtime client, made on first use."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from promptlab.aws import AwsClients

                self._client = AwsClients(self.config).client(SERVICE)
            return self._client

    def __call__(self, source: Source, query: str) -> list[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client().retrieve(**retrieve_kwargs(source, query))
        except ClientError as exc:
            raise kb_error(source, exc.response.get("Error", {})) from None
        except BotoCoreError as exc:
            raise ConfigError(f"knowledge base {source.knowledge_base}: {exc}",
                              "check the network and the region", file=source.file or None,
                              line=source.line) from None  # fmt: skip
        return passages_of(list(response.get("retrievalResults") or []))


def kb_error(source: Source, err: dict[str, Any]) -> ConfigError:
    """A failed Retrieve as one line at the prompt file's `retrieve:` line."""
    code, message = str(err.get("Code") or "ClientError"), str(err.get("Message") or "")
    kb = source.knowledge_base
    hints = {
        "ResourceNotFoundException": f"no knowledge base {kb} in this region; list them with "
        "aws bedrock-agent list-knowledge-bases (or pass --region)",
        "AccessDeniedException": f"your IAM identity needs bedrock:Retrieve on knowledge base {kb}",
        "ValidationException": "check the knowledge base id and the retrieve settings (filter, "
        "search, rerank)",
    }
    return ConfigError(f"knowledge base {kb}: {code}: {message}".rstrip(": "),
                       hints.get(code, "see the message; retry later if it is throttling"),
                       file=source.file or None, line=source.line)  # fmt: skip


def enable(config: Config) -> None:
    """Let this command search knowledge bases (run, test)."""
    allow_remote(Searcher(config))
