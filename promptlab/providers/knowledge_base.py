"""A knowledge base's managed RAG answer as a model: `kb:KBID/MODEL`.

bedrock-agent-runtime RetrieveAndGenerate searches knowledge base KBID and answers with MODEL
(an alias or model id, sent as `modelArn`, which takes a model id or profile id as is). The
question is the prompt's `input` section (or its user text) and the prompt's instructions,
context and format become the generation prompt template (`prompt_template`), the knowledge
base's passages placed as `$search_results$` where the prompt's own would be; the inference
settings go in `textInferenceConfig`, and the prompt's `retrieve:` settings (k, search, filter,
rerank) in `retrievalConfiguration` when it names the same knowledge base (`jobs`'s "query"
request shape builds all this; a notice for what is still not sent). The answer's citations
become the result's passages, each `cited: true`. RetrieveAndGenerate reports no token usage:
tokens and cost are unknown (`null`), never guessed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from promptlab.catalogue import ModelRef, resolve
from promptlab.config import Config
from promptlab.errors import UsageError
from promptlab.providers.base import ModelCallError, OnText
from promptlab.providers.registry import ProviderSettings
from promptlab.request import Request, Text
from promptlab.results import Completion

SCHEME = "kb:"
SEARCH_RESULTS = "$search_results$"  # where the knowledge base puts its passages (required)
FORMAT_INSTRUCTIONS = "$output_format_instructions$"  # how to cite them (gives the citations)
MAX_TEMPLATE = 4000  # TextPromptTemplate's maximum length (characters)
MAX_STOP = 4  # RAGStopSequences' maximum length
ENDPOINT_ENV = "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME"
NO_USAGE = "RetrieveAndGenerate reports no token usage: tokens and cost unknown"


def split(name: str) -> tuple[str, str]:
    """`kb:KBID/MODEL` → (KBID, MODEL); anything else is a UsageError."""
    kb, _, model = name.removeprefix(SCHEME).partition("/")
    if not kb or not model:
        raise UsageError(f"{name!r}: a knowledge-base model is kb:KBID/MODEL",
                         "e.g. -m kb:KB12345678/claude-haiku (the knowledge base id, then the "
                         "model that answers)")  # fmt: skip
    return kb, model


def prompt_template(sections: Mapping[str, str], layout: str) -> str:
    """The generation prompt: the instructions, then the context (its own text, then the
    knowledge base's passages as `$search_results$`) and format laid out as the prompt lays
    out its user message, then `$output_format_instructions$` (citations)."""
    from promptlab.prompt.render import join_user

    context = "\n\n".join(filter(None, [sections.get("context", ""), SEARCH_RESULTS]))
    user = join_user({"context": context, "format": sections.get("format", "")}, layout)
    return "\n\n".join(filter(None, [sections.get("instructions", ""), user,
                                       FORMAT_INSTRUCTIONS]))  # fmt: skip


def template_problem(request: Request, alias: str) -> tuple[str, str] | None:
    """Why RetrieveAndGenerate would refuse the request (its prompt template's length, its
    stop sequences), and the fix; None when it takes it."""
    template = request.system or ""
    if len(template) > MAX_TEMPLATE:
        return (f"{alias}: the prompt template is {len(template):,} characters; a knowledge "
                f"base takes at most {MAX_TEMPLATE:,}", "shorten the instructions, context "
                "or format (the knowledge base's passages are not counted)")  # fmt: skip
    if len(request.params.stop) > MAX_STOP:
        return (f"{alias}: {len(request.params.stop)} stop sequences; RetrieveAndGenerate "
                f"takes at most {MAX_STOP}", f"keep {MAX_STOP} in inference.stop (or in an "
                "override for this model)")  # fmt: skip
    return None


def rag_request(ref: ModelRef, request: Request, config: Config, region: str | None
                ) -> dict[str, Any]:  # fmt: skip
    """The RetrieveAndGenerate request for `kb:KBID/MODEL` (MODEL resolved offline)."""
    kb, model = split(ref.model_id)
    return rag_kwargs(kb, resolve(model, config, region).model_id, request)


def rag_kwargs(kb: str, model_id: str, request: Request) -> dict[str, Any]:
    """The RetrieveAndGenerate request: the question, the knowledge base, the model, and the
    prompt template, inference settings, guardrail and search settings the request carries."""
    question = "\n\n".join(b.text for m in request.messages if m.role == "user"
                           for b in m.content if isinstance(b, Text))  # fmt: skip
    config: dict[str, Any] = {"knowledgeBaseId": kb, "modelArn": model_id}
    if request.retrieval_config:
        config["retrievalConfiguration"] = _plain(request.retrieval_config)
    generation: dict[str, Any] = {}
    if request.system:
        generation["promptTemplate"] = {"textPromptTemplate": request.system}
    p = request.params
    text = {"temperature": p.temperature, "topP": p.top_p, "maxTokens": p.max_tokens,
            "stopSequences": list(p.stop) or None}  # fmt: skip
    text = {k: v for k, v in text.items() if v is not None}
    if text:
        generation["inferenceConfig"] = {"textInferenceConfig": text}
    guard = request.guardrail_config or {}
    if guard.get("guardrailIdentifier"):
        generation["guardrailConfiguration"] = {"guardrailId": guard["guardrailIdentifier"],
                                                "guardrailVersion": guard.get("guardrailVersion",
                                                                              "DRAFT")}  # fmt: skip
    if generation:
        config["generationConfiguration"] = generation
    return {"input": {"text": question},
            "retrieveAndGenerateConfiguration": {"type": "KNOWLEDGE_BASE",
                                                 "knowledgeBaseConfiguration": config}}  # fmt: skip


def _plain(value: Any) -> Any:
    """Mappings and sequences as dicts and lists (what botocore validates and JSON shows)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def cited_passages(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every reference the answer cites, once each in order, as passages (`cited: true`)."""
    from promptlab.retrieval.kb import location_of

    seen: dict[tuple[str, str | None], dict[str, Any]] = {}
    for citation in citations:
        for ref in citation.get("retrievedReferences") or []:
            text = str((ref.get("content") or {}).get("text") or "")
            source = location_of(ref.get("location"))
            if (text, source) not in seen:
                seen[(text, source)] = {"id": str(len(seen) + 1), "text": text,
                                        "source": source, "score": None,
                                        "metadata": dict(ref.get("metadata") or {}),
                                        "cited": True}  # fmt: skip
    return list(seen.values())


class KnowledgeBaseProvider:
    """RetrieveAndGenerate through one bedrock-agent-runtime client."""

    def __init__(self, config: Config, region: str | None, profile: str | None,
                 pool_size: int | None = None) -> None:  # fmt: skip
        from promptlab.aws import AwsClients

        self.config = config
        self.clients = AwsClients(config, region, profile, pool_size=pool_size)
        self.region = self.clients.region

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> KnowledgeBaseProvider:
        return cls(settings.config, settings.region, settings.profile, settings.pool_size)

    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: OnText | None = None,
        on_reasoning: OnText | None = None,
    ) -> Completion:
        kb = split(ref.model_id)[0]
        try:
            kwargs = rag_request(ref, request, self.config, self.region)
        except UsageError as exc:
            raise ModelCallError("UnknownModel", exc.message, exc.hint) from None
        model_id = kwargs["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"][
            "modelArn"]  # fmt: skip
        started = time.perf_counter()
        try:
            client = self.clients.client("bedrock-agent-runtime")
            response = client.retrieve_and_generate(**kwargs)
        except Exception as exc:
            raise self.map_error(exc, ref, kb) from None
        output = str((response.get("output") or {}).get("text") or "")
        if on_text is not None and output:
            on_text(output)
        citations = list(response.get("citations") or [])
        meta = {"guardrailAction": response["guardrailAction"]} if response.get(
            "guardrailAction") else None  # fmt: skip
        return Completion(
            output=output,
            latency_ms=round((time.perf_counter() - started) * 1000),
            content=({"text": output},) if output else (),
            notices=(f"{ref.alias}: {NO_USAGE}",),
            response_meta=meta,
            served_model_id=model_id,
            passages=tuple(cited_passages(citations)),
        )

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        raise ModelCallError(
            "NotAnEmbeddingModel",
            f"{ref.alias} is a knowledge base's RAG answer, not an embedding model",
            "use an embedding model, e.g. embedding_model: titan-embed",
        )

    def map_error(self, exc: BaseException, ref: ModelRef, kb: str) -> ModelCallError:
        from promptlab.providers.awserrors import map_error

        err = map_error(exc, ref, self.region, self.config, endpoint_env=ENDPOINT_ENV)
        if err.code == "ResourceNotFoundException":
            err.hint = (f"no knowledge base {kb} in {self.region or 'this region'} (or its model "
                        "is not offered there); list them with aws bedrock-agent "
                        "list-knowledge-bases")  # fmt: skip
        elif err.code == "AccessDeniedException":
            err.hint = (
                f"your IAM identity needs bedrock:RetrieveAndGenerate and bedrock:Retrieve "
                f"on knowledge base {kb}, and bedrock:InvokeModel on its model"
            )
        return err
