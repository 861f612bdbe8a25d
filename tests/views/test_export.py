"""Exports of run results: the Markdown view."""

from __future__ import annotations

from promptlab.results import Result
from promptlab.views.export import to_markdown


def test_markdown_vars_line_is_literal_code_not_escaped_table_text() -> None:
    result = Result(prompt_name="p", prompt_version="1.0.0", prompt_hash="h", model_alias="echo",
                    model_id="echo", region=None, params={}, request={}, output="hi",
                    vars={"who": "a|b<c>`d`"}, real_model=False)  # fmt: skip
    md = to_markdown([result])
    line = next(x for x in md.splitlines() if x.startswith("**vars:**"))
    assert line == "**vars:** ``who='a|b<c>`d`'``"
