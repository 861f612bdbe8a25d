"""The rendering contract: golden cases (template + vars → exact system and user text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from promptlab.prompt import load_prompt, render, resolve_vars
from tests.conftest import write

GOLDEN = Path(__file__).parent.parent / "golden"
CASES = sorted(GOLDEN.glob("*.yaml"))


def _case(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_golden_cases_exist_for_both_layouts() -> None:
    prompts = [yaml.safe_load(_case(c)["prompt"]) for c in CASES]
    layouts = {p.get("layout", "xml") for p in prompts}
    assert layouts == {"xml", "markdown"}
    assert len(CASES) >= 10


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_golden_rendering(case_file: Path, tmp_path: Path) -> None:
    case = _case(case_file)
    root = tmp_path / "prompts"
    for rel, text in (case.get("files") or {}).items():
        write(root / rel, text)
    path = write(root / "case.yaml", case["prompt"])
    prompt = load_prompt(path, prompts_dir=root)
    values = resolve_vars(
        prompt, case.get("vars"), case.get("strings"), use_examples=bool(case.get("examples"))
    )
    rendered = render(prompt, values)
    expect = case["expect"]
    assert rendered.system == expect["system"]
    assert rendered.user == expect["user"]
    if "converse" in expect:
        assert rendered.request(prompt.inference).to_converse() == expect["converse"]
    assert render(prompt, values) == rendered  # deterministic
