"""Jobs: one model call each (prompt × vars × model × repeat), all checked before any call."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from promptlab.catalogue import (
    ModelRef,
    TooLarge,
    Unsupported,
    adapt,
    context_window,
    quirk_for,
    resolve,
    split_models,
    unsupported,
)
from promptlab.config import Config
from promptlab.controls import NO_CONTROLS, Controls
from promptlab.errors import Problem, PromptFileError, PromptlabError, UsageError
from promptlab.guardrails import Guardrail, effective
from promptlab.media import Attachment
from promptlab.profiles import is_application_profile
from promptlab.prompt import Prompt, Rendered
from promptlab.prompt.model import ToolScript
from promptlab.providers.registry import get_kind
from promptlab.reasoning import apply as ask_reasoning
from promptlab.request import InferenceParams, Request, Text
from promptlab.results import PromptId, Result, estimate_tokens, new_result
from promptlab.retrieval.spec import Source
from promptlab.sources import prepare
from promptlab.yamlfile import parse_yaml, read_text

T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """One model call to make: a rendered prompt, the model, its settings, and where it belongs."""

    prompt: Prompt
    rendered: Rendered
    ref: ModelRef
    params: InferenceParams
    vars: dict[str, Any] = field(default_factory=dict)
    case: str | None = None
    repeat_index: int = 0
    cacheable: bool = False  # the response cache may answer it (temperature 0, not a repeat)
    tool_results: tuple[ToolScript, ...] | None = None  # None: the prompt's
    max_turns: int | None = None  # None: the prompt's
    controls: Controls = NO_CONTROLS  # latency mode, service tier, request metadata
    guardrail: Guardrail | None = None  # sent as guardrailConfig (guardrails.effective)
    seed: int | None = None  # image prompts: this call's seed (one job per seed)
    # The command line's settings (--temperature, …): over the prompt's for every model,
    # and for every link of a fallback chain (link_job).
    cli_params: InferenceParams = field(default_factory=InferenceParams)

    def __post_init__(self) -> None:
        # Records hold a media variable as written ("@shots/login.png"), never its content.
        if any(isinstance(v, Attachment) for v in self.vars.values()):
            plain = {k: str(v) if isinstance(v, Attachment) else v for k, v in self.vars.items()}
            object.__setattr__(self, "vars", plain)

    @property
    def scripts(self) -> tuple[ToolScript, ...]:
        """What the tools return when the model calls them (a case's, else the prompt's)."""
        return self.prompt.tool_results if self.tool_results is None else self.tool_results

    @property
    def turn_limit(self) -> int:
        return self.prompt.max_turns if self.max_turns is None else self.max_turns

    def key_extra(self) -> dict[str, Any] | None:
        """What decides the answer besides the request: the scripted tool results."""
        if not self.scripts:
            return None
        return {"tool_results": [s.to_dict() for s in self.scripts], "max_turns": self.turn_limit}

    def request(self) -> tuple[Request, list[str]]:
        """The request this model is sent (its quirks applied), with a notice per change.

        Its shape is the provider kind's `sends` (see REQUEST_SHAPES); an image prompt's is
        always "image" (echo serves both kinds).
        """
        if self.prompt.kind == "image":
            return REQUEST_SHAPES["image"](self)
        request, notices = REQUEST_SHAPES[get_kind(self.ref.provider).sends](self)
        request, adapted = adapt(self.controls.apply(request, self.prompt_id), self.ref)
        return request, [*notices, *adapted]

    @property
    def prompt_id(self) -> PromptId:
        p = self.prompt
        return PromptId(p.name, p.version, p.content_hash, p.path, p.ref)

    def new_result(
        self, request: Request, notices: list[str], region: str | None, run_id: str | None
    ) -> Result:
        """This job's Result, before any answer (see results.new_result)."""
        result = new_result(self.prompt_id, self.ref, request, region=region, run_id=run_id,
                            notices=notices, vars=self.vars, case=self.case,
                            repeat_index=self.repeat_index)  # fmt: skip
        if self.ref.base_id and is_application_profile(self.ref.model_id):
            result.served_model_id = self.ref.base_id  # looked up (profiles.py)
        if get_kind(self.ref.provider).sends != "query":  # else: the service's own passages
            result.passages = [dict(p) for p in self.rendered.passages]
            result.retrieval = self.rendered.retrieval
        result.notices.extend(n for n in self.rendered.notes if n not in result.notices)
        return result


def link_job(job: Job, link: ModelRef) -> Job:
    """One link of a fallback chain's job: the link's model with the inference settings the
    prompt's `inference: overrides` give it by its own name or id, else the chain's name's,
    else the prompt's; the command line's over them."""
    chain = job.ref
    params = job.prompt.params_for(link.alias, link.model_id, chain.alias)
    return replace(job, ref=link, params=params.merged(job.cli_params))


def chain_override_note(job: Job) -> str | None:
    """When the chain's name has an inference override and some of its links have their
    own, which links the chain's applies to (None when that is not ambiguous)."""
    overrides, chain = job.prompt.overrides, job.ref
    if chain.alias not in overrides:
        return None
    mine = [x.alias for x in chain.links if _override_key(overrides, x.alias, x.model_id)]
    if not mine:
        return None
    rest = [x.alias for x in chain.links if x.alias not in mine]
    if not rest:
        return (f"{chain.alias}: every link has an inference override of its own; the "
                "chain's is not used")  # fmt: skip
    return (f"{chain.alias}: its inference override is used by {', '.join(rest)} (no override "
            f"of their own), not by {', '.join(mine)} (their own is used)")  # fmt: skip


def _override_key(overrides: Any, *names: str) -> str | None:
    """The first of `names` the prompt's `inference: overrides` has a setting for."""
    return next((n for n in names if n in overrides), None)


def refusal(job: Job) -> Unsupported | None:
    """Why the job's model cannot take its request (images, tools, …), or None. A fallback
    chain is refused only when none of its links can take it (the first one's reason)."""
    if job.ref.links:
        reasons = [refusal(link_job(job, link)) for link in job.ref.links]
        return reasons[0] if all(reasons) else None
    request = job.request()[0]
    return unsupported(request, job.ref) or overflow(job, request) or too_long(job, request)


def too_long(job: Job, request: Request) -> Unsupported | None:
    """A kb: request RetrieveAndGenerate would refuse: a prompt template longer than it takes,
    more stop sequences."""
    if get_kind(job.ref.provider).sends != "query":
        return None
    from promptlab.providers.knowledge_base import template_problem

    problem = template_problem(request, job.ref.alias)
    return Unsupported(*problem) if problem else None


def overflow(job: Job, request: Request) -> TooLarge | None:
    """The request's input (about 4 characters a token) is more than the model's context
    window: how many tokens, how much of it retrieved, and what to lower."""
    window = context_window(job.ref)
    if window is None:
        return None
    texts = [b.text for b in request.system_content if isinstance(b, Text)]
    texts += [b.text for m in request.messages for b in m.content if isinstance(b, Text)]
    asked = estimate_tokens("\n".join(texts))
    if asked <= window:
        return None
    passages = job.rendered.passages
    retrieved = estimate_tokens("\n".join(str(p.get("text", "")) for p in passages))
    share = f", ~{retrieved:,} of them {len(passages)} retrieved passages" if passages else ""
    if passages:
        hint = ("retrieve less: lower k or chunk in retrieve: (e.g. --retrieve k=3 or "
                "--retrieve chunk=800), or run it on a model with a larger window")  # fmt: skip
    else:
        hint = "shorten the prompt or its values, or run it on a model with a larger window"
    return TooLarge(f"{job.ref.alias}: the request is ~{asked:,} tokens{share}, more than its "
                    f"context window of {window:,} tokens", hint)  # fmt: skip


def skip_unsupported(
    items: Sequence[T],
    job_of: Callable[[T], Job] = lambda j: j,  # type: ignore[assignment,return-value]
    where: Callable[[T], str] = lambda _: "",
) -> tuple[list[T], list[str]]:
    """`--skip-unsupported`: the items (jobs, or planned test pairs through `job_of`) whose model
    can take the request, and a notice for each left out, once per model, place and reason."""
    kept: list[T] = []
    notes: dict[str, None] = {}
    for item in items:
        job = job_of(item)
        why = refusal(job)
        if why is None:
            kept.append(item)
            continue
        reason = why.message.removeprefix(job.ref.alias + " ")
        notes[f"skipped {job.ref.alias}{where(item)}: {reason}"] = None
    return kept, list(notes)


def _messages_request(job: Job) -> tuple[Request, list[str]]:
    """The rendered prompt as system and messages, with reasoning asked for the way the model
    takes it (Job.request applies the model's quirks).

    A model without structured output gets the output schema in the format section."""
    quirk = quirk_for(job.ref)
    native = quirk.structured_output
    reasoning = job.prompt.reasoning_for(job.ref.alias, job.ref.model_id)
    request = job.rendered.request(job.params, native_schema=native)
    request, notices = ask_reasoning(request, job.ref.alias, quirk.reasoning, reasoning)
    if job.guardrail is not None:
        request = replace(request, guardrail_config=job.guardrail.to_converse())
    if job.rendered.output_schema and not native:
        notices.append(f"{job.ref.alias}: no structured output; the schema was sent in the "
                       "format section")  # fmt: skip
    return request, notices


def _variables_request(job: Job) -> tuple[Request, list[str]]:
    """Only the values, as Converse promptVariables: the target holds the template and settings."""
    guardrail = job.guardrail.to_converse() if job.guardrail is not None else None
    variables = {k: {"text": as_text(v)} for k, v in job.vars.items()}
    return Request(prompt_variables=variables, guardrail_config=guardrail), []


def as_text(value: Any) -> str:
    """A variable's value as prompt text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _image_request(job: Job) -> tuple[Request, list[str]]:
    """An image prompt's InvokeModel body for this model (see imagegen); what the model
    cannot take raises PromptFileError at the prompt file's lines (checked before any call
    by `image_problems`)."""
    request, notices, violations = image_plan(job)
    if violations:
        raise PromptFileError(_violation_problems(job, violations))
    return request, notices


def image_plan(job: Job) -> tuple[Request, list[str], list[Any]]:
    """The image request, its notices and its violations (imagegen.Violation)."""
    from promptlab import imagegen

    spec = job.prompt.image
    if spec is None or job.prompt.kind != "image":
        raise UsageError(f"{job.ref.alias} makes images; {job.prompt.path} is a text prompt",
                         "run it on a text model")  # fmt: skip
    settings = replace(spec.for_model(job.ref.alias, job.ref.model_id), seed=job.seed)
    family = imagegen.ECHO if not job.ref.real else imagegen.family_of(job.ref.base_id)
    if family is None:
        raise UsageError(_not_image_model(job.ref))
    text = job.rendered.sections
    sources = {v.name: m for v, m in job.rendered.attachments}
    request, notices, violations = imagegen.build(
        job.ref.alias,
        family,
        settings,
        text.get("prompt", ""),
        text.get("negative_prompt"),
        sources,
    )
    return request, notices, violations


def _violation_problems(job: Job, violations: Sequence[Any]) -> list[Problem]:
    """Each violation at the line that sets it (the override when it comes from one)."""
    doc = job.prompt.doc
    names = (job.ref.alias, job.ref.model_id)
    out: list[Problem] = []
    for v in violations:
        if v.setting in ("prompt", "negative_prompt"):
            path: tuple[Any, ...] = (v.setting,)
        else:
            path = job.prompt.image.where(v.setting, *names) if job.prompt.image else ()
        out.append(Problem(job.prompt.path, v.message, doc.line(path) if doc else None, v.hint))
    return out


def image_problems(jobs: Sequence[Job]) -> list[Problem]:
    """What the image models cannot take, one problem per violation, before any call."""
    out: dict[Problem, None] = {}
    for job in jobs:
        if job.prompt.kind != "image":
            continue
        _, _, violations = image_plan(job)
        out.update(dict.fromkeys(_violation_problems(job, violations)))
    return list(out)


def _not_image_model(ref: ModelRef) -> str:
    return f"{ref.alias} is not an image model"


def kind_problem(prompt: Prompt, ref: ModelRef) -> UsageError | None:
    """An image prompt on a text model, or a text prompt on an image model (echo runs both)."""
    if not ref.real and ref.provider == "echo":
        return None
    from promptlab import imagegen

    makes_images = imagegen.family_of(ref.base_id) is not None
    if prompt.kind == "image" and not makes_images:
        names = ", ".join(imagegen.image_model_names())
        return UsageError(f"{ref.alias} does not make images, and {prompt.name} is an image "
                          "prompt (kind: image)", f"run it on an image model: {names} "
                          "(or -m echo offline)")  # fmt: skip
    if prompt.kind != "image" and (makes_images or ref.provider == "bedrock-image"):
        return UsageError(f"{ref.alias} is an image model and {prompt.name} is a text prompt",
                          "run text prompts on text models; image models run prompts with "
                          "kind: image")  # fmt: skip
    return None


def image_seeds(prompt: Prompt, ref: ModelRef) -> tuple[int | None, ...]:
    """The seeds an image prompt runs with on one model: one call each (None: the model's)."""
    if prompt.kind != "image" or prompt.image is None:
        return (None,)
    return prompt.image.for_model(ref.alias, ref.model_id).seeds or (None,)


def _query_request(job: Job) -> tuple[Request, list[str]]:
    """A knowledge base's RetrieveAndGenerate (kb:KBID/MODEL): the question (the `input`
    section, else the user text) and, as the generation prompt template, the instructions,
    context and format with `$search_results$` where the prompt's own passages would go; the
    prompt's `retrieve:` settings when it searches the same knowledge base. A notice for each
    part of the prompt not sent."""
    from promptlab.prompt.render import schema_instructions
    from promptlab.providers.knowledge_base import prompt_template, split

    r, alias = job.rendered, job.ref.alias
    sections = dict(r.bare_sections if r.bare_sections is not None else r.sections)
    if r.output_schema:  # no structured output here: the schema is written into the format
        sections["format"] = "\n\n".join(
            filter(None, [sections.get("format", ""), schema_instructions(r.output_schema)])
        )
    notices = []
    template = None
    if any(sections.get(k) for k in ("instructions", "context", "format")):
        template = prompt_template(sections, r.layout)
    question = sections.get("input") or r.user
    search = None
    kb = split(job.ref.model_id)[0]
    source = _retrieval_source(job)
    if source is not None and source.knowledge_base == kb:
        from promptlab.retrieval.kb import retrieve_kwargs

        search = retrieve_kwargs(source, question)["retrievalConfiguration"]
    elif source is not None:
        notices.append(f"{alias}: the prompt's retrieve: ({source.label}) is not used: "
                       f"knowledge base {kb} searches with its own settings")  # fmt: skip
    if r.turns:
        notices.append(f"{alias}: examples and earlier turns not sent: RetrieveAndGenerate "
                       "takes one question")  # fmt: skip
    if r.attachments or r.tools:
        notices.append(f"{alias}: attachments and tools not sent: RetrieveAndGenerate takes "
                       "text")  # fmt: skip
    guardrail = job.guardrail.to_converse() if job.guardrail is not None else None
    request = replace(Request.of(template, question, job.params), guardrail_config=guardrail,
                      retrieval_config=search)  # fmt: skip
    return request, notices


def _retrieval_source(job: Job) -> Source | None:
    """The `retrieve:` variant the job was rendered with (None: the prompt retrieves nothing)."""
    retrieval = job.prompt.retrieval
    if retrieval is None:
        return None
    label = job.rendered.retrieval
    return retrieval.pick([label])[0] if label else retrieval.default


# ProviderKind.sends → how a Job becomes that kind's request.
REQUEST_SHAPES: dict[str, Callable[[Job], tuple[Request, list[str]]]] = {
    "messages": _messages_request,
    "query": _query_request,
    "variables": _variables_request,
    "image": _image_request,
}


def load_var_file(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The vars sets of a file and where each one starts (`file:line`, for error messages)."""
    doc = parse_yaml(read_text(path, what="vars file"), str(path))
    data = doc.data
    if isinstance(data, dict):
        return [data], [str(path)]
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        lines = [doc.line((i,)) for i in range(len(data))]
        return list(data), [f"{path}:{n}" if n else str(path) for n in lines]
    raise UsageError(
        f"{path}: a vars file must be a mapping of name: value, or a list of such mappings",
        "e.g. 'customer_name: Ana' on its own line",
    )


def models_for(prompt: Prompt, explicit: Sequence[str], config: Config) -> list[str]:
    names = split_models(list(explicit))
    if explicit and not names:  # `-m "$MODELS"` with an empty variable: don't fall back silently
        raise UsageError(
            f"-m {explicit[0]!r} names no model", "pass -m MODEL (e.g. -m echo), or leave -m out"
        )
    names = names or list(prompt.models) or list(config.models)
    if not names:
        raise UsageError(
            f"{prompt.path}: no models to run",
            "pass -m MODEL (e.g. -m echo, -m claude-haiku), or set 'models:' in the prompt "
            "or promptlab.yaml",
        )
    return names


def build_jobs(
    prompts: Sequence[Prompt],
    var_sets: Sequence[dict[str, Any]],
    strings: dict[str, str],
    models: Sequence[str],
    cli_params: InferenceParams,
    config: Config,
    *,
    use_examples: bool = False,
    cacheable: bool = False,
    origins: Sequence[str] | None = None,
    controls: Controls | None = None,
    retrieve: Sequence[str] = (),
) -> list[Job]:
    """Jobs ordered by vars set, then prompt, then retrieval variant, then model (the columns
    of each comparison). `retrieve`: `--retrieve` (variant names or KEY=VALUE overrides).

    `origins`: where each vars set comes from (`file:line`), named when one of them is wrong.
    `controls`: latency, tier and metadata for every call (default: the config's).
    """
    controls = controls if controls is not None else Controls.of(config)
    refs: dict[str, ModelRef] = {}
    jobs: list[Job] = []
    rendered_by: dict[tuple[int, int], list[tuple[dict[str, Any], Rendered]]] = {}
    sets = var_sets or [{}]
    variants = [p.retrieval.pick(list(retrieve)) if p.retrieval else [None] for p in prompts]
    if retrieve and not any(p.retrieval for p in prompts):
        raise UsageError("--retrieve: the prompt has no 'retrieve:'",
                         "add retrieve: {files: [...], query: ...} to the prompt file")  # fmt: skip
    prefetch(prompts, variants, sets, strings, config, use_examples=use_examples)
    for vi, typed in enumerate(sets):
        for pi, prompt in enumerate(prompts):
            mine = _only_mine(prompt, prompts)
            try:
                rendered_by[(vi, pi)] = [
                    prepare(prompt, mine(typed), mine(strings), use_examples=use_examples,
                            source=source)
                    for source in variants[pi]
                ]  # fmt: skip
            except PromptlabError as exc:
                if len(sets) < 2 or isinstance(exc, PromptFileError):
                    raise
                where = origins[vi] if origins and vi < len(origins) else None
                item = f"vars #{vi + 1}" + (f" ({where})" if where else "")
                text = f"{exc.location}: {exc.message}" if exc.location else exc.message
                hint = "fix that item of the vars file"
                if exc.hint and "missing required" in exc.message:
                    hint += f", or {exc.hint} for every item"
                raise UsageError(f"{item}: {text}", hint) from None
    for vi, _ in enumerate(sets):
        case = f"vars #{vi + 1}" if len(sets) > 1 else None
        for pi, prompt in enumerate(prompts):
            for values, rendered in rendered_by[(vi, pi)]:
                for name in models_for(prompt, models, config):
                    if name not in refs:
                        refs[name] = resolve(name, config, config.region)
                    ref = refs[name]
                    wrong = kind_problem(prompt, ref)
                    if wrong is not None:
                        raise wrong
                    params = prompt.params_for(ref.alias, ref.model_id).merged(cli_params)
                    guardrail = effective(prompt.guardrail, config)
                    for n, seed in enumerate(image_seeds(prompt, ref)):
                        keep = cacheable and (prompt.kind != "image" or seed is not None)
                        jobs.append(Job(prompt, rendered, ref, params, vars=values, case=case,
                                        repeat_index=n, cacheable=keep, controls=controls,
                                        guardrail=guardrail, seed=seed,
                                        cli_params=cli_params))  # fmt: skip
    problems = image_problems(jobs)
    if problems:
        raise PromptFileError(problems)
    return jobs


def prefetch(
    prompts: Sequence[Prompt],
    variants: Sequence[Sequence[Source | None]],
    sets: Sequence[dict[str, Any]],
    strings: dict[str, str],
    config: Config,
    *,
    use_examples: bool = False,
) -> None:
    """Search every knowledge base the jobs need at once (retrieval.prefetch, up to
    `concurrency` searches), so rendering finds the passages remembered. Values or queries
    that fail here are skipped: rendering reports them where they belong."""
    from promptlab import retrieval
    from promptlab.prompt import resolve_vars
    from promptlab.prompt.render import retrieval_query

    asked: list[tuple[Source, str]] = []
    for typed in sets:
        for prompt, sources in zip(prompts, variants, strict=True):
            kbs = [s for s in sources if s is not None and s.knowledge_base]
            if not kbs:
                continue
            mine = _only_mine(prompt, prompts)
            try:
                values = resolve_vars(prompt, mine(typed), mine(strings),
                                      use_examples=use_examples)  # fmt: skip
                for source in kbs:
                    query = retrieval_query(prompt, values, source)
                    if query:
                        asked.append((source, query))
            except PromptlabError:
                continue
    retrieval.prefetch(asked, config.concurrency)


def guardrails_used(jobs: Sequence[Job]) -> list[Guardrail]:
    """The guardrails real models will be sent with (offline models apply none)."""
    return list(dict.fromkeys(j.guardrail for j in jobs if j.guardrail and j.ref.real))


def _only_mine(prompt: Prompt, prompts: Sequence[Prompt]) -> Any:
    """When comparing versions, a variable only another version declares is not an error here."""
    others = {n for p in prompts if p is not prompt for n in p.variables}

    def pick(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k in prompt.variables or k not in others}

    return pick


def cli_params(
    temperature: float | None, top_p: float | None, max_tokens: int | None, stop: list[str]
) -> InferenceParams:
    for name, value in (("--temperature", temperature), ("--top-p", top_p)):
        if value is not None and not 0 <= value <= 1:
            raise UsageError(f"{name} must be between 0 and 1, got {value}")
    if max_tokens is not None and max_tokens < 1:
        raise UsageError(f"--max-tokens must be a positive integer, got {max_tokens}")
    return InferenceParams(temperature, top_p, max_tokens, tuple(stop))
