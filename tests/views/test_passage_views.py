"""Retrieved passages under each answer: the table, Markdown, the HTML payload; a passage's
text from a file or a service is made inert (control characters shown, never sent)."""

from __future__ import annotations

import io

from rich.console import Console

from promptlab.results import Result
from promptlab.views.export import to_markdown
from promptlab.views.html.payload import answer_data
from promptlab.views.rendered import passage_line
from promptlab.views.table import render_results

PASSAGES = [
    {"id": "1", "text": "Refunds within 30 days.", "source": "docs/refunds.md",
     "score": 1.2345, "metadata": {"chunk": 2, "chunks": 3}, "cited": None},
    {"id": "2", "text": "Evil \x1b[31mred", "source": "s3://b/\x1b]0;x\x07k.md", "score": None,
     "metadata": {}, "cited": True},
]  # fmt: skip


def result(**kw: object) -> Result:
    r = Result("qa", "1.0.0", "h" * 64, "echo", "echo", None, {}, {}, output="An answer [1].",
               real_model=False, passages=[dict(p) for p in PASSAGES])  # fmt: skip
    for k, v in kw.items():
        setattr(r, k, v)
    return r


def test_a_passage_line_names_id_source_chunk_score_and_citation() -> None:
    assert passage_line(PASSAGES[0]) == "[1] docs/refunds.md (chunk 2/3)  score 1.23"
    line = passage_line(PASSAGES[1])
    assert line.endswith("cited") and "\x1b" not in line and "\x07" not in line


def test_the_table_lists_passages_under_the_answer_with_the_variant_in_the_header() -> None:
    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=False)
    render_results(console, [result(retrieval="k=3")])
    text = out.getvalue()
    assert "retrieve k=3" in text
    assert "[1] docs/refunds.md (chunk 2/3)  score 1.23" in text
    assert "\x1b" not in text


def test_markdown_has_a_passages_row() -> None:
    md = to_markdown([result(retrieval="k=3")])
    assert "echo — not a real model · retrieve k=3" in md
    assert "| **passages** | [1] docs/refunds.md (chunk 2/3) score 1.23; [2]" in md


def test_the_html_payload_carries_each_passage_line_and_text() -> None:
    data = answer_data(result())
    assert data["passages"][0] == {"line": "[1] docs/refunds.md (chunk 2/3)  score 1.23",
                                   "text": "Refunds within 30 days."}  # fmt: skip


def test_results_without_passages_show_no_passages_row() -> None:
    assert "passages" not in to_markdown([result(passages=[])])
    assert "passages" not in answer_data(result(passages=[]))
