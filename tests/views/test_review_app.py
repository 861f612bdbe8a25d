"""The `review` terminal UI driven by Textual's pilot with real key presses, in 80×24: picks,
ties, scores, notes, scrolling, quitting and resuming, blind labels, untrusted answers."""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.containers import VerticalScroll
from textual.pilot import Pilot

from promptlab.reviewing import ReviewSession
from promptlab.store.db import connect
from promptlab.store.ratings import Rating, load, run_cases
from promptlab.views.reviewapp import ReviewApp
from tests.store.test_ratings import RUN, two_model_run
from tests.store.test_store_api import config_in

LONG = "\n".join(f"line {n} of a long answer" for n in range(1, 81))


def open_store(project: Path, **run: object) -> sqlite3.Connection:
    config = config_in(project)
    two_model_run(config, **run)  # type: ignore[arg-type]
    return connect(config.store_path)


def session(con: sqlite3.Connection, rater: str = "ana", blind: bool = True) -> ReviewSession:
    return ReviewSession.open(con, RUN, run_cases(con, RUN), rater, blind=blind)


def drive(app: ReviewApp, steps: Callable[[Pilot[None]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await steps(pilot)

    asyncio.run(main())


def screen_text(app: ReviewApp) -> str:
    """What the terminal shows, line by line (from Textual's SVG screenshot)."""
    rows: dict[float, list[tuple[float, str]]] = {}
    svg = app.export_screenshot()
    for x, y, text in re.findall(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>',
                                 svg):  # fmt: skip
        rows.setdefault(float(y), []).append((float(x), html.unescape(text)))
    return "\n".join("".join(t for _, t in sorted(parts)).replace("\xa0", " ")
                     for _, parts in sorted(rows.items()))  # fmt: skip


def ratings(con: sqlite3.Connection, rater: str = "ana") -> dict[str, Rating]:
    return {r.case_key: r for r in load(con, [RUN], rater)}


def test_keys_pick_tie_score_and_note_and_each_is_saved_at_once(project: Path) -> None:
    con = open_store(project)
    s = session(con)
    app = ReviewApp(s)
    first = run_cases(con, RUN)[0]
    seen: dict[str, object] = {}

    async def steps(pilot: Pilot[None]) -> None:
        await pilot.press("b")
        seen["after pick"] = ratings(con)[first.key].winner
        await pilot.press("tab", "4", "tab", "2")
        await pilot.press("n", *"too long", "enter")
        await pilot.press("j", "t")
        seen["screen"] = screen_text(app)

    drive(app, steps)
    shown = s.cases[0], [a.call_id for a in s.shown]
    assert shown[0] == first
    saved = ratings(con)
    order = saved[first.key].call_ids
    assert seen["after pick"] == order[1]  # B, saved before the next key
    assert saved[first.key].scores == {order[1]: 4, order[0]: 2}  # tab → B, tab → back to A
    assert saved[first.key].note == "too long"
    second = run_cases(con, RUN)[1]
    assert saved[second.key].tie and saved[second.key].winner is None
    assert "tie" in str(seen["screen"])


def test_pressing_the_same_pick_or_score_again_clears_it(project: Path) -> None:
    con = open_store(project)
    app = ReviewApp(session(con))

    async def steps(pilot: Pilot[None]) -> None:
        await pilot.press("a", "3", "a", "3")

    drive(app, steps)
    assert ratings(con) == {}


def test_quitting_keeps_what_was_rated_and_review_resumes_at_the_first_unrated_case(
    project: Path,
) -> None:
    con = open_store(project)
    app = ReviewApp(session(con))

    async def rate_first(pilot: Pilot[None]) -> None:
        await pilot.press("a", "j", "q")

    drive(app, rate_first)
    assert len(ratings(con)) == 1
    again = session(con)
    assert again.index == 1 and again.rated == 1
    app = ReviewApp(again)
    seen: dict[str, str] = {}

    async def look(pilot: Pilot[None]) -> None:
        seen["screen"] = screen_text(app)
        await pilot.press("k")  # back to the rated case: its pick is shown
        seen["back"] = screen_text(app)

    drive(app, look)
    assert "case 2/3" in seen["screen"] and "1 rated" in seen["screen"]
    assert "A is better" in seen["back"]


def test_blind_columns_show_letters_only_and_no_blind_shows_the_models(project: Path) -> None:
    con = open_store(project, outputs={"nova": "first", "claude": "second"})
    blind = ReviewApp(session(con))
    named = ReviewApp(session(con, blind=False))
    seen: dict[str, str] = {}

    async def look_blind(pilot: Pilot[None]) -> None:
        seen["blind"] = screen_text(blind)

    async def look_named(pilot: Pilot[None]) -> None:
        seen["named"] = screen_text(named)

    drive(blind, look_blind)
    drive(named, look_named)
    assert "─ A ─" in seen["blind"] and "─ B ─" in seen["blind"]
    assert "nova" not in seen["blind"] and "claude" not in seen["blind"]
    assert "A · nova" in seen["named"] and "B · claude" in seen["named"]


def test_an_answer_with_markup_and_escape_codes_is_shown_literally(project: Path) -> None:
    con = open_store(project, outputs={"nova": "[bold red]boom[/] \x1b[31mred\x07", "claude": "ok"})
    app = ReviewApp(session(con))
    seen: dict[str, str] = {}

    async def look(pilot: Pilot[None]) -> None:
        seen["screen"] = screen_text(app)

    drive(app, look)
    assert "[bold red]boom[/] \\x1b[31mred\\x07" in seen["screen"]


def test_arrows_and_page_keys_scroll_the_current_answer_in_80_by_24(project: Path) -> None:
    con = open_store(project, outputs={"nova": LONG, "claude": LONG})
    app = ReviewApp(session(con))
    offsets: list[float] = []

    async def steps(pilot: Pilot[None]) -> None:
        column = app.query_one("#answer-0", VerticalScroll)
        other = app.query_one("#answer-1", VerticalScroll)
        await pilot.press("down", "down")
        await pilot.pause()
        offsets.append(column.scroll_y)
        await pilot.press("pagedown")
        await pilot.pause()
        offsets.append(column.scroll_y)
        await pilot.press("end")
        await pilot.pause()
        offsets.append(column.scroll_y)
        offsets.append(other.scroll_y)
        seen = screen_text(app)
        offsets.append(float("line 80 of a long answer" in seen))

    drive(app, steps)
    assert offsets[0] == 2
    assert offsets[1] > 2
    assert offsets[2] > offsets[1]
    assert offsets[3] == 0  # the other answer stays where it was
    assert offsets[4] == 1.0


def test_keys_typed_into_a_note_are_text_and_escape_cancels_it(project: Path) -> None:
    con = open_store(project)
    app = ReviewApp(session(con))
    running: list[bool] = []

    async def steps(pilot: Pilot[None]) -> None:
        await pilot.press("n", *"a tq 5", "escape")  # would pick, tie, quit and score outside
        await pilot.press("n", *"a tq", "enter")
        running.append(app.is_running)

    drive(app, steps)
    assert running == [True]
    [saved] = ratings(con).values()
    assert (saved.note, saved.winner, saved.tie, saved.scores) == ("a tq", None, False, {})
