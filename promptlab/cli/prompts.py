"""Commands that work on prompt files only (no AWS): render, lint, init, schema."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from promptlab.config import Config
    from promptlab.prompt import Prompt, Rendered

from promptlab.cli.app import command
from promptlab.errors import UsageError

VarsOpt = typer.Option(
    [], "--var", "-v", help="Set a variable: -v key=value (repeatable).", metavar="KEY=VALUE"
)
VarsFileOpt = typer.Option(None, "--vars", help="YAML or JSON file of variable values.")
ExamplesOpt = typer.Option(
    False, "--examples", help="Fill variables that have no value with their declared example."
)
LatencyOpt = typer.Option(
    None,
    "--latency",
    help="standard or optimized (latency-optimized inference, where the model offers it). "
    "Default: latency in promptlab.yaml.",
)
TierOpt = typer.Option(
    None,
    "--tier",
    help="Service tier: priority, default, flex or reserved (where the model offers it; "
    "priced per tier). Default: service_tier in promptlab.yaml.",
)


def checked_controls(latency: str | None, tier: str | None) -> dict[str, str | None]:
    """--latency and --tier, checked, as Config overrides (None: not given)."""
    from promptlab.controls import LATENCIES, TIERS, option

    return {"latency": option("--latency", latency, LATENCIES, "optimized"),
            "service_tier": option("--tier", tier, TIERS, "flex")}  # fmt: skip


GuardrailOpt = typer.Option(
    None,
    "--guardrail",
    metavar="ID:VERSION",
    help="Bedrock guardrail for every call (wins over the prompt's and promptlab.yaml's).",
)


def load_inputs(
    prompt_arg: str,
    var: list[str],
    vars_file: Path | None,
    examples: bool = False,
    retrieve: str | None = None,
) -> tuple[Config, Prompt, dict[str, Any], Rendered]:
    """Config, prompt, variable values and rendered messages for a prompt argument.
    `retrieve`: which retrieval variant (a name, or KEY=VALUE overrides; default the first)."""
    from promptlab.config import load_config
    from promptlab.prompt import load_vars_file, parse_assignments
    from promptlab.sources import open_prompt, prepare

    strings = parse_assignments(var)
    config = load_config()
    typed = load_vars_file(vars_file) if vars_file else None
    prompt = open_prompt(prompt_arg, config)
    source = None
    if retrieve:
        if prompt.retrieval is None:
            raise UsageError(
                "--retrieve: the prompt has no 'retrieve:'",
                "add retrieve: {files: [...], query: ...} to the prompt file",
            )
        source = prompt.retrieval.pick([retrieve])[0]
    values, rendered = prepare(prompt, typed, strings, use_examples=examples, source=source)
    return config, prompt, values, rendered


@command(
    epilog="Examples:\n\n"
    "  promptlab render support-reply --examples -v customer_name=Ana\n\n"
    "  promptlab render support-reply --vars prompts/examples/_vars/customer.json --format json\n\n"
    "  promptlab render migration-plan --examples -m titan-express"
)
def render(
    prompt: str = typer.Argument(..., help="Prompt file, or a prompt name under prompts/."),
    var: list[str] = VarsOpt,
    vars_file: Path | None = VarsFileOpt,
    examples: bool = ExamplesOpt,
    model: str | None = typer.Option(
        None, "--model", "-m", help="Apply this model's parameter overrides and quirks."
    ),
    fmt: str = typer.Option(
        "text", "--format", "-f", help="text: marked sections; json: the Converse request body."
    ),
    include_bytes: bool = typer.Option(
        False, "--include-bytes", help="With --format json: attached files as base64, not sha256."
    ),
    guardrail: str | None = GuardrailOpt,
    retrieve: str | None = typer.Option(
        None,
        "--retrieve",
        metavar="NAME|KEY=VALUE",
        help="Which retrieval variant of the prompt's retrieve: (a name, or settings such as "
        "k=3,chunk=400; default the first). Local files are searched offline; a knowledge "
        "base only by run and test.",
    ),
) -> None:
    """Print the rendered request exactly as it would be sent: system, every turn, each
    attachment (kind, format, size, sha256), tools and output schema, and the passages
    retrieved for it."""
    if fmt not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {fmt!r}", "use --format json")
    from promptlab.controls import Controls
    from promptlab.identity import PromptId
    from promptlab.views.rendered import request_json, request_text

    config, p, _values, rendered = load_inputs(prompt, var, vars_file, examples, retrieve)
    if p.kind == "image":
        typer.echo(_render_image(prompt, p, rendered, config, model, fmt, include_bytes))
        return
    guard = None
    if guardrail or p.guardrail or config.guardrail:  # guardrails.py only when one is set
        from promptlab.guardrails import effective, from_option

        config = config.with_overrides(guardrail_flag=from_option(guardrail))
        guard = effective(p.guardrail, config)
    controls = Controls.of(config)  # a run adds promptlab-run: render has no run
    identity = PromptId(p.name, p.version, p.content_hash)
    request = controls.apply(rendered.request(p.inference), identity)
    if guard is not None:
        request = replace(request, guardrail_config=guard.to_converse())
    notices: list[str] = list(rendered.notes)
    model_id = None
    ref = None
    if model:
        from promptlab.catalogue import resolve, unsupported
        from promptlab.jobs import Job, overflow, too_long

        ref = resolve(model, config, config.region)
        model_id = ref.model_id
        for_model = p.params_for(ref.alias, ref.model_id)
        job = Job(p, rendered, ref, for_model, controls=controls, guardrail=guard)
        request, notices = job.request()
        refused = unsupported(request, ref) or overflow(job, request) or too_long(job, request)
        if refused is not None:
            notices.insert(0, f"{refused.message}: a run gives this model's cell that error")
        base = p.inference.to_dict()
        changed = [f"{k}={json.dumps(v)}" for k, v in for_model.to_dict().items()
                   if base.get(k) != v]  # fmt: skip
        if changed:
            notices.insert(0, f"{ref.alias}: inference.overrides applied: {', '.join(changed)}")
    elif p.reasoning or p.reasoning_overrides:
        notices.append("reasoning is asked for the way each model takes it: pass -m MODEL to "
                       "see that model's request")  # fmt: skip
    if fmt == "json" and ref is not None and ref.provider == "kb":
        from promptlab.providers.knowledge_base import rag_request
        from promptlab.views.rendered import rag_json

        typer.echo(rag_json(rag_request(ref, request, config, config.region)))
        return
    if fmt == "json":
        typer.echo(request_json(request, model_id, include_bytes))
        return
    header = f"# {p.name} v{p.version} ({p.short_hash}){_at_ref(prompt, p.ref)}"
    attached = [(v.name, m) for v, m in rendered.attachments]
    text = request_text(request, attached, header, notices)
    if p.retrieval is not None:
        from promptlab.views.rendered import retrieved_text

        text += "\n\n" + retrieved_text(rendered.passages, rendered.retrieval)
    typer.echo(text)


def _render_image(
    arg: str,
    p: Prompt,
    rendered: Rendered,
    config: Config,
    model: str | None,
    fmt: str,
    include_bytes: bool,
) -> str:
    """An image prompt: its texts and settings, or (with -m) the exact InvokeModel request."""
    from promptlab.views.rendered import image_text, invoke_json

    header = f"# {p.name} v{p.version} ({p.short_hash}){_at_ref(arg, p.ref)}"
    attached = [(v.name, m) for v, m in rendered.attachments]
    spec = p.image
    assert spec is not None
    if not model:
        if fmt == "json":
            names = ", ".join(p.models) or "titan-image"
            raise UsageError("an image prompt's request body depends on the model",
                             f"pass -m MODEL, e.g. -m {names.split(', ')[0]} (its models: "
                             f"{names})")  # fmt: skip
        return image_text(dict(rendered.sections), spec.for_model().given(), attached,
                          header, [])  # fmt: skip
    from promptlab.catalogue import resolve
    from promptlab.jobs import Job, image_seeds, kind_problem

    ref = resolve(model, config, config.region)
    wrong = kind_problem(p, ref)
    if wrong is not None:
        raise wrong
    seeds = image_seeds(p, ref)
    request, notices = Job(p, rendered, ref, p.inference, seed=seeds[0]).request()
    if len(seeds) > 1:
        notices.append(f"seeds {', '.join(map(str, seeds))}: one call each; this is the "
                       f"request for seed {seeds[0]}")  # fmt: skip
    if fmt == "json":
        return invoke_json(request.to_converse(), ref.model_id, include_bytes)
    settings = spec.for_model(ref.alias, ref.model_id).given()
    return image_text(dict(rendered.sections), settings, attached,
                      f"{header} for {ref.label}", notices)  # fmt: skip


def _at_ref(arg: str, commit: str | None) -> str:
    """` @REF (commit)` for a prompt read at a git ref (the commit alone when REF is one)."""
    if commit is None:
        return ""
    from promptlab.sources import split_ref

    ref = split_ref(arg)[1] or commit[:7]
    return f" @{ref}" + ("" if commit.startswith(ref) else f" ({commit[:7]})")


@command(
    epilog="Examples:\n\n  promptlab lint\n\n"
    "  promptlab lint prompts/examples prompts/examples/support-reply.yaml"
    "\n\n  promptlab lint --base origin/main      # in pull-request CI"
)
def lint(
    paths: list[Path] = typer.Argument(None, help="Files or directories (default: prompts/)."),
    base: str | None = typer.Option(
        None, "--base", help="Git ref to compare with: changed prompts need a higher version."
    ),
) -> None:
    """Validate prompt files; report every problem with file:line. Exit 1 if any error."""
    from promptlab.ci import github_actions
    from promptlab.config import load_config
    from promptlab.lint import lint_annotations, lint_paths

    config = load_config()
    targets = list(paths) if paths else [config.prompts_dir]
    for t in targets:
        if not t.exists():
            raise UsageError(f"{t}: no such file or directory", "pass a prompt file or directory")
    problems, checked = lint_paths(targets, config)
    if base:
        from promptlab.versioncheck import check_base

        problems.extend(check_base(targets, config, base))
    for problem in problems:
        typer.echo(str(problem))
    if github_actions():
        for line in lint_annotations(problems):
            typer.echo(line)
    files = len({p.file for p in problems})
    if any(p.severity == "error" for p in problems):
        typer.echo(f"\n{len(problems)} problem(s) in {files} of {checked} file(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{checked} file(s) OK (prompts and test suites)", err=True)


@command(epilog="Examples:\n\n  promptlab init\n\n  promptlab init my-prompts && cd my-prompts")
def init(
    directory: Path = typer.Argument(Path("."), help="Project directory (created if missing)."),
) -> None:
    """Scaffold a project: prompts/ with a documented example, promptlab.yaml, .env.example.

    Existing files are never overwritten; .gitignore gains entries for .promptlab/ and .env.
    """
    from promptlab.scaffold import init_project

    actions = init_project(directory)
    width = max(len(a.status) for a in actions)
    for action in actions:
        detail = f"  ({action.detail})" if action.detail else ""
        typer.echo(f"{action.status:<{width}}  {(directory / action.path).as_posix()}{detail}")
    cd = [] if directory.resolve() == Path.cwd().resolve() else [f"cd {directory}"]
    steps = [
        *cd,
        "promptlab lint                                  # check every prompt",
        "promptlab render summarize --examples           # see exactly what would be sent",
        "promptlab run summarize -m echo --examples      # offline run, no AWS needed",
        "promptlab test --filter 'render-*'              # the offline test cases",
        "cp .env.example .env                            # then set AWS_PROFILE / AWS_REGION",
        "promptlab run summarize --examples              # the prompt's models on Bedrock",
    ]
    typer.echo("\nNext:\n" + "\n".join(f"  {s}" for s in steps))


@command(
    epilog="Examples:\n\n"
    "  promptlab schema > prompts/prompt.schema.json\n\n"
    "  Then make this the first line of each prompt file in prompts/:\n\n"
    "  # yaml-language-server: $schema=prompt.schema.json"
)
def schema() -> None:
    """Print the JSON Schema of prompt files, for editor validation and completion."""
    from promptlab.scaffold import schema_text

    typer.echo(schema_text(), nl=False)
