"""Local retrieval: files and globs, chunks, BM25 order, PDFs, and one-line problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.retrieval import spec
from promptlab.retrieval.local import Doc, chunks_of
from tests.conftest import Cli
from tests.fakebedrock import FakeBedrock
from tests.retrieval.pdfs import text_pdf

DOCS = {
    "refunds.md": "# Refunds\n\nUnworn items can be returned within 30 days for a refund.",
    "shipping.md": "# Shipping\n\nExpress shipping costs $12 and takes 1 to 2 days.",
    "privacy.md": "# Privacy\n\nWe keep order records for 7 years.",
}


def prompt_file(root: Path, retrieve: str, extra: str = "") -> Path:
    docs = root / "prompts" / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (docs / name).write_text(text, "utf-8")
    path = root / "prompts" / "qa.yaml"
    path.write_text(
        'version: "1.0.0"\n'
        "instructions: Answer from the passages, citing them as [1].\n"
        "input: '{{ question }}'\n"
        "variables:\n  question: {type: string}\n"
        f"{retrieve}{extra}",
        "utf-8",
    )
    return path


LOCAL = "retrieve:\n  files: [docs/*.md]\n  query: '{{ question }}'\n  k: 2\n"


def rendered_json(cli: Cli, *args: str) -> dict:
    result = cli("render", "prompts/qa.yaml", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def user_text(request: dict) -> str:
    return request["messages"][-1]["content"][-1]["text"]


def test_best_passages_by_bm25_join_the_context_numbered_for_citing(
    project: Path, cli: Cli
) -> None:
    prompt_file(project, LOCAL)
    request = rendered_json(cli, "-v", "question=How much does express shipping cost?")
    text = user_text(request)
    assert text.startswith("<context>\n[1] docs/shipping.md\n# Shipping\n\nExpress shipping")
    assert "docs/refunds.md" not in text  # shares no word with the question
    assert text.endswith("<input>\nHow much does express shipping cost?\n</input>")


def test_render_lists_each_passage_with_source_and_score(project: Path, cli: Cli) -> None:
    prompt_file(project, LOCAL)
    result = cli("render", "prompts/qa.yaml", "-v", "question=refund within 30 days")
    assert result.exit_code == 0, result.output
    retrieved = result.stdout.split("━━━ retrieved ━━━\n")[1].splitlines()
    assert retrieved[0].startswith("[1] docs/refunds.md  score ")


def test_without_a_query_every_file_is_included_whole_in_file_order(
    project: Path, cli: Cli
) -> None:
    prompt_file(project, "retrieve:\n  files: [docs/refunds.md, docs/privacy.md]\n")
    text = user_text(rendered_json(cli, "-v", "question=anything"))
    assert text.index("[1] docs/refunds.md") < text.index("[2] docs/privacy.md")


def test_a_template_that_uses_passages_places_them_itself(project: Path, cli: Cli) -> None:
    extra = (
        "context: |\n  {% for p in passages %}<doc id={{ p.id }}>{{ p.source }}</doc>{% endfor %}\n"
    )
    prompt_file(project, LOCAL, extra)
    text = user_text(rendered_json(cli, "-v", "question=express shipping"))
    assert "<context>\n<doc id=1>docs/shipping.md</doc>\n</context>" in text
    assert "[1]" not in text


def test_chunks_break_at_paragraphs_and_stay_under_the_size() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 20 for i in range(6))
    chunks = chunks_of(Doc(Path("a.md"), text, "x"), 250, "a.md")
    assert len(chunks) > 1
    assert all(len(c.text) <= 250 for c in chunks)
    assert chunks[0].text.startswith("Paragraph 0") and chunks[1].text.startswith("Paragraph")
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_retrieve_k_columns_compare_settings_side_by_side(project: Path, cli: Cli) -> None:
    prompt_file(project, LOCAL)
    args = ["-v", "question=refund shipping", "--retrieve", "k=1", "--retrieve", "k=2"]
    result = cli("run", "prompts/qa.yaml", "-m", "echo", *args, "--format", "json", "--no-log")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["retrieval"] for r in rows] == ["k=1", "k=2"]
    assert [len(r["passages"]) for r in rows] == [1, 2]
    first = rows[1]["passages"][0]
    assert set(first) == {"id", "text", "source", "score", "metadata", "cited"}
    assert first["id"] == "1" and first["cited"] is None and first["score"] > 0


def test_named_variants_are_chosen_by_name(project: Path, cli: Cli) -> None:
    variants = ("retrieve:\n  one: {files: [docs/*.md], query: '{{ question }}', k: 1}\n"
                "  all: {files: [docs/*.md]}\n")  # fmt: skip
    prompt_file(project, variants)
    result = cli("run", "prompts/qa.yaml", "-m", "echo", "-v", "question=refund",
                 "--retrieve", "all", "--format", "json", "--no-log")  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["retrieval"] == "all" and len(row["passages"]) == 3
    bad = cli("run", "prompts/qa.yaml", "-m", "echo", "-v", "question=x", "--retrieve", "nope")
    assert bad.exit_code == 2
    assert "no retrieval variant of that name" in bad.output and "one, all" in bad.output


def test_passages_show_under_the_answer_and_in_the_history(project: Path, cli: Cli) -> None:
    prompt_file(project, LOCAL)
    result = cli("run", "prompts/qa.yaml", "-m", "echo", "-v", "question=express shipping")
    assert result.exit_code == 0, result.output
    assert "passages" in result.stdout and "[1] docs/shipping.md  score" in result.stdout
    shown = cli("log", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert "[1] docs/shipping.md  score" in shown.stdout


def test_a_glob_that_matches_nothing_is_one_line_at_the_file_line(project: Path, cli: Cli) -> None:
    prompt_file(project, "retrieve:\n  files: [docs/*.txt]\n")
    result = cli("run", "prompts/qa.yaml", "-m", "echo", "-v", "question=x")
    assert result.exit_code == 2
    assert (
        "prompts/qa.yaml:7" in result.output and "glob matches no file: docs/*.txt" in result.output
    )


def test_a_missing_file_is_named(project: Path, cli: Cli) -> None:
    prompt_file(project, "retrieve:\n  files: [docs/gone.md]\n")
    result = cli("lint", "prompts/qa.yaml")
    assert result.exit_code != 0
    assert "file not found: docs/gone.md" in result.output


def test_knowledge_base_settings_on_files_are_refused(project: Path, cli: Cli) -> None:
    prompt_file(project, "retrieve:\n  files: [docs/*.md]\n  search: hybrid\n")
    result = cli("render", "prompts/qa.yaml", "-v", "question=x")
    assert result.exit_code == 2
    assert "'search' applies to knowledge bases" in result.output


def test_pdf_text_is_retrieved(project: Path, cli: Cli) -> None:
    prompt_file(project, "retrieve:\n  files: [docs/*.pdf]\n  query: '{{ question }}'\n")
    (project / "prompts" / "docs" / "terms.pdf").write_bytes(text_pdf("Warranty lasts 2 years"))
    text = user_text(rendered_json(cli, "-v", "question=how long is the warranty"))
    assert "[1] docs/terms.pdf\nWarranty lasts 2 years" in text


def test_an_unreadable_pdf_is_one_line_exit_2(project: Path, cli: Cli) -> None:
    prompt_file(project, "retrieve:\n  files: [docs/*.pdf]\n")
    (project / "prompts" / "docs" / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    result = cli("run", "prompts/qa.yaml", "-m", "echo", "-v", "question=x")
    assert result.exit_code == 2
    assert "broken.pdf: unreadable PDF" in result.output or "no text layer" in result.output
    assert "Traceback" not in result.output


def test_lint_reports_an_unreadable_pdf_at_the_retrieve_line(project: Path, cli: Cli) -> None:
    # the question has no example, so no trial render: the files are read all the same
    prompt_file(project, "retrieve:\n  files: [docs/*.pdf]\n  query: '{{ question }}'\n")
    (project / "prompts" / "docs" / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    result = cli("lint", "prompts/qa.yaml")
    assert result.exit_code != 0
    assert "prompts/qa.yaml:6" in result.output
    assert "broken.pdf: unreadable PDF" in result.output or "no text layer" in result.output


def test_unranked_retrieval_gives_every_passage_without_scores(project: Path) -> None:
    from promptlab import retrieval
    from promptlab.prompt import load_prompt

    source = load_prompt(prompt_file(project, LOCAL)).retrieval.default  # type: ignore[union-attr]
    with retrieval.unranked():
        passages, _ = retrieval.fetch(source, "refund")
    assert [p["source"] for p in passages] == ["docs/privacy.md", "docs/refunds.md",
                                               "docs/shipping.md"]  # fmt: skip
    assert all(p["score"] is None for p in passages)
    ranked, _ = retrieval.fetch(source, "refund")  # ranking is back outside it
    assert [p["source"] for p in ranked] == ["docs/refunds.md"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("k=0", "must be positive"), ("size=3", "cannot set 'size'"), ("k=x", "must be a number")],
)
def test_bad_retrieve_overrides_are_usage_errors(text: str, message: str) -> None:
    source = spec.Source(None, ("docs/*.md",))
    with pytest.raises(spec.UsageError, match=message):
        spec.override(source, text)


def test_context_larger_than_a_models_window_is_that_cells_error(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    prompt_file(project, "retrieve:\n  files: [docs/*.md]\n  query: '{{ question }}'\n  k: 2\n")
    big = "Refund rules. " + "The refund window is thirty days for unworn items. " * 800
    (project / "prompts" / "docs" / "long.md").write_text(big, "utf-8")
    result = cli("run", "prompts/qa.yaml", "-m", "llama-8b", "-m", "claude-haiku",
                 "-v", "question=refund window", "--format", "json", "--no-log")  # fmt: skip
    assert result.exit_code == 1, result.output
    small, large = json.loads(result.stdout)
    assert small["error"]["code"] == "ContextWindowExceeded"
    assert "more than its context window of 8,192 tokens" in small["error"]["message"]
    assert "2 retrieved passages" in small["error"]["message"]
    assert "--retrieve k=3" in small["error"]["hint"]
    assert large["error"] is None
    assert fake_bedrock.count(model="meta.llama3-8b-instruct-v1:0") == 0


def test_test_runs_each_case_once_per_retrieval_variant(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.conftest import REPO

    monkeypatch.chdir(REPO)
    report = tmp_path / "report.json"
    result = cli("test", "prompts/examples/policy-rag.tests.yaml", "--filter", "render-*",
                 "--retrieve", "k=1", "--retrieve", "k=3", "--no-log", "--no-cache",
                 "--json", str(report))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "[retrieve k=1]" in result.stdout and "4 passed" in result.stdout
    cases = json.loads(report.read_text("utf-8"))["cases"]
    sample = {c["case"]: c["samples"][0]["result"] for c in cases}
    one = sample["render-retrieves-the-refund-policy-first [retrieve k=1]"]
    three = sample["render-retrieves-the-refund-policy-first [retrieve k=3]"]
    assert (one["retrieval"], len(one["passages"])) == ("k=1", 1)
    assert (three["retrieval"], len(three["passages"])) == ("k=3", 3)
    none = cli("test", "prompts/examples/support-reply.tests.yaml", "--retrieve", "k=1")
    assert none.exit_code == 2 and "no selected case's prompt has 'retrieve:'" in none.output
