"""`review --export` / `--import`: ratings as a JSON file, so several people can rate one run.

The file (format "promptlab-ratings", version 1)::

    {"format": "promptlab-ratings", "version": 1, "run": "<run id>", "exported_at": "<ISO>",
     "ratings": [{"case": "<case key>", "prompt": "support-reply", "title": "refund-late",
                  "repeat": 0, "rater": "ana", "blind": true,
                  "answers": [{"model": "amazon.nova-lite-v1:0", "alias": "nova-lite",
                               "prompt_version": "1.0.0", "output_sha256": "<hex>"}, ...],
                  "winner": 1, "tie": false, "scores": [3, 5], "note": "B cites the policy"}]}

`answers` are in the order the rater saw them; `winner` indexes them (null: no pick), `scores`
lines up with them (null: not scored). Importing into a run matches each rating to the run's
case with the same key and each answer to the call of the same model and prompt version whose
answer text has the same sha256; a rating that does not match is left out with its reason.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from promptlab.errors import UsageError
from promptlab.store.ratings import Case, Rating, check_score, load, run_cases, save

FORMAT = "promptlab-ratings"
VERSION = 1


def export(con: Any, run_id: str) -> dict[str, Any]:
    cases = {c.key: c for c in run_cases(con, run_id)}
    out = []
    for r in load(con, [run_id]):
        case = cases.get(r.case_key)
        if case is None:
            continue
        by_call = {a.call_id: a for a in case.answers}
        shown = [by_call[i] for i in r.call_ids if i in by_call]
        if len(shown) != len(r.call_ids):
            continue
        out.append({
            "case": case.key, "prompt": case.prompt, "title": case.title,
            "repeat": case.repeat, "rater": r.rater, "blind": r.blind,
            "answers": [{"model": a.model_id, "alias": a.model_alias,
                         "prompt_version": a.prompt_version, "output_sha256": a.digest}
                        for a in shown],
            "winner": r.call_ids.index(r.winner) if r.winner in r.call_ids else None,
            "tie": r.tie, "scores": [r.scores.get(i) for i in r.call_ids], "note": r.note,
        })  # fmt: skip
    return {
        "format": FORMAT, "version": VERSION, "run": run_id,
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "ratings": out,
    }  # fmt: skip


@dataclass
class Imported:
    imported: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    raters: set[str] = field(default_factory=set)


def read(path: Path) -> list[dict[str, Any]]:
    """The file's ratings, checked for shape. UsageError naming the file and what is wrong."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise UsageError(f"--import {path}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        raise UsageError(f"--import {path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(
            f"--import {path}: not a ratings file", f'write one with `promptlab review RUN '
            f'--export FILE` (it starts with {{"format": "{FORMAT}"}})',
        )  # fmt: skip
    if data.get("version") != VERSION:
        raise UsageError(f"--import {path}: ratings file version {data.get('version')!r}, "
                         f"this promptlab reads version {VERSION}")  # fmt: skip
    ratings = data.get("ratings")
    if not isinstance(ratings, list):
        raise UsageError(f"--import {path}: `ratings` must be a list")
    for n, item in enumerate(ratings, 1):
        where = f"--import {path}: rating {n}"
        if not isinstance(item, dict):
            raise UsageError(f"{where} is not an object")
        answers = item.get("answers")
        if not isinstance(answers, list) or not answers:
            raise UsageError(f"{where}: `answers` must be a non-empty list")
        if not isinstance(item.get("rater"), str) or not item["rater"].strip():
            raise UsageError(f"{where}: `rater` must name who rated")
        winner = item.get("winner")
        if winner is not None and (
            isinstance(winner, bool) or not isinstance(winner, int)
            or not 0 <= winner < len(answers)
        ):  # fmt: skip
            raise UsageError(f"{where}: `winner` must index `answers` (0..{len(answers) - 1})")
        scores = item.get("scores") or [None] * len(answers)
        if not isinstance(scores, list) or len(scores) != len(answers):
            raise UsageError(f"{where}: `scores` must have one entry per answer")
        for s in scores:
            if s is not None:
                check_score(s, where)
    return ratings


def import_into(con: Any, run_id: str, path: Path) -> Imported:
    """Add the file's ratings to the run (replacing the same rater's rating of a case)."""
    items = read(path)
    cases = {c.key: c for c in run_cases(con, run_id)}
    result = Imported()
    for item in items:
        case = cases.get(item.get("case", ""))
        if case is None:
            result.left_out["its case is not in this run"] += 1
            continue
        calls = _match(case, item["answers"])
        if calls is None:
            result.left_out["an answer differs from this run's"] += 1
            continue
        winner = item.get("winner")
        scores = item.get("scores") or [None] * len(calls)
        rating = Rating(
            run_id, case.key, item["rater"].strip(), calls,
            calls[winner] if winner is not None else None, bool(item.get("tie")),
            {c: s for c, s in zip(calls, scores, strict=True) if s is not None},
            str(item.get("note") or ""), bool(item.get("blind", True)), path.name,
        )  # fmt: skip
        if rating.empty:
            result.left_out["nothing rated"] += 1
            continue
        save(con, rating)
        result.imported += 1
        result.raters.add(rating.rater)
    return result


def _match(case: Case, answers: list[Any]) -> list[int] | None:
    left = list(case.answers)
    calls = []
    for a in answers:
        if not isinstance(a, dict):
            return None
        found = next(
            (x for x in left if x.model_id == a.get("model")
             and x.prompt_version == a.get("prompt_version")
             and x.digest == a.get("output_sha256")),
            None,
        )  # fmt: skip
        if found is None:
            return None
        left.remove(found)
        calls.append(found.call_id)
    return calls
