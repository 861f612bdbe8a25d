"""`promptlab review`: the terminal UI (Textual). One case at a time, its answers side by side.

Imported only by the `review` command (Textual costs ~0.2 s to import). Everything works from
the keyboard, in an 80×24 terminal and over SSH; the footer lists the keys. Answers are model
output: shown as plain text (`rich.text.Text` of `sanitize.inert`), never as markup.

Keys: a–f pick the better answer (again: undo) · t tie · tab / shift+tab choose the answer that
1–5 score (and the arrows scroll) · n note · j or → next case · k or ← previous · q quit.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, Static

from promptlab.reviewing import LETTERS, ReviewSession
from promptlab.views.sanitize import inert

PICK_KEYS = "abcdef"


def last_lines(text: str, count: int) -> str:
    """The end of the question (where a long prompt puts the request itself)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])


class ReviewApp(App[None]):
    """The review screen for one `ReviewSession`; every change is saved by the session."""

    TITLE = "promptlab review"
    ENABLE_COMMAND_PALETTE = False
    AUTO_FOCUS = None  # keys go to the bindings until `n` opens the note
    CSS = """
    #head { height: 1; background: $boost; }
    #question { height: auto; max-height: 4; color: $text-muted; }
    #answers { height: 1fr; }
    .answer { width: 1fr; border: round $panel; padding: 0 1; }
    .answer.current { border: round $accent; }
    .answer.picked { border: double $success; }
    #status { height: 1; }
    #note { display: none; }
    #note.open { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(k, f"pick({i})", "pick" if i == 0 else "", show=i == 0, key_display="a/b")
          for i, k in enumerate(PICK_KEYS)),
        Binding("t", "tie", "tie"),
        *(Binding(str(n), f"score({n})", "score" if n == 1 else "", show=n == 1,
                  key_display="1-5") for n in range(1, 6)),
        Binding("tab", "focus_answer(1)", "next answer", show=False, priority=True),
        Binding("shift+tab", "focus_answer(-1)", "", show=False, priority=True),
        Binding("n", "note", "note"),
        Binding("j,right", "case(1)", "next", key_display="j/→"),
        Binding("k,left", "case(-1)", "back", key_display="k/←"),
        Binding("up", "scroll(-1)", show=False),
        Binding("down", "scroll(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown,space", "page(1)", show=False),
        Binding("home", "end(-1)", show=False),
        Binding("end", "end(1)", show=False),
        Binding("q", "quit", "quit"),
    ]  # fmt: skip

    def __init__(self, session: ReviewSession) -> None:
        super().__init__()
        self.session = session
        self.current = 0  # the answer that 1–5 score and the arrows scroll

    def compose(self) -> ComposeResult:
        yield Static(id="head")
        yield Static(id="question")
        yield Horizontal(id="answers")
        yield Static(id="status")
        yield Input(placeholder="note (enter saves, escape cancels)", id="note", disabled=True)
        yield Footer()

    async def on_mount(self) -> None:
        await self.show_case()

    # ------------------------------------------------------------ drawing

    async def show_case(self) -> None:
        s = self.session
        self.current = 0
        case = s.case
        head = (f" case {s.index + 1}/{len(s.cases)} · {case.prompt} · {case.title}"
                + (f" · repeat {case.repeat}" if case.repeat else "")
                + f" · {s.rated} rated · {s.rater}" + (" · blind" if s.blind else ""))  # fmt: skip
        self.query_one("#head", Static).update(Text(inert(head), no_wrap=True, overflow="ellipsis"))
        self.query_one("#question", Static).update(Text(inert(last_lines(case.question, 3))))
        answers = self.query_one("#answers", Horizontal)
        await answers.remove_children()
        columns = []
        for position, answer in enumerate(s.shown):
            column = VerticalScroll(
                Static(Text(inert(answer.output)), classes="text"),
                classes="answer", id=f"answer-{position}",
            )  # fmt: skip
            column.can_focus = False
            columns.append(column)
        await answers.mount_all(columns)
        self.refresh_marks()

    def refresh_marks(self) -> None:
        s = self.session
        rating = s.rating
        parts = []
        for position, answer in enumerate(s.shown):
            column = self.query_one(f"#answer-{position}", VerticalScroll)
            picked = rating.winner == answer.call_id
            score = rating.scores.get(answer.call_id)
            column.border_title = inert(s.title(position))
            column.border_subtitle = " ".join(
                x for x in ("better" if picked else "", f"score {score}" if score else "") if x
            )  # fmt: skip
            column.set_class(position == self.current, "current")
            column.set_class(picked, "picked")
            parts.append(f"{LETTERS[position]} {score or '–'}")
        verdict = ("tie" if rating.tie else
                   f"{LETTERS[[a.call_id for a in s.shown].index(rating.winner)]} is better"
                   if rating.winner in [a.call_id for a in s.shown] else "no pick")  # fmt: skip
        status = f" {verdict} · scores {', '.join(parts)}" + (
            f" · note: {rating.note}" if rating.note else ""
        )
        self.query_one("#status", Static).update(
            Text(inert(status), no_wrap=True, overflow="ellipsis")
        )

    # ------------------------------------------------------------ keys

    def _noting(self) -> bool:
        return self.query_one("#note", Input).has_class("open")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the note is open, keys type into it."""
        return not self._noting() or action == "quit"

    def action_pick(self, position: int) -> None:
        if self.session.pick(position):
            self.refresh_marks()
        else:
            self.bell()

    def action_tie(self) -> None:
        if self.session.tie():
            self.refresh_marks()
        else:
            self.bell()

    def action_score(self, value: int) -> None:
        self.session.score(self.current, value)
        self.refresh_marks()

    def action_focus_answer(self, step: int) -> None:
        self.current = (self.current + step) % len(self.session.shown)
        self.refresh_marks()

    def _column(self) -> VerticalScroll:
        return self.query_one(f"#answer-{self.current}", VerticalScroll)

    def action_scroll(self, lines: int) -> None:
        self._column().scroll_relative(y=lines, animate=False)

    def action_page(self, step: int) -> None:
        column = self._column()
        column.scroll_relative(y=step * max(1, column.size.height - 2), animate=False)

    def action_end(self, step: int) -> None:
        column = self._column()
        (column.scroll_end if step > 0 else column.scroll_home)(animate=False)

    async def action_case(self, step: int) -> None:
        if self.session.move(step):
            await self.show_case()
        else:
            self.bell()

    def action_note(self) -> None:
        box = self.query_one("#note", Input)
        box.value = self.session.rating.note
        box.disabled = False
        box.add_class("open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.session.note(event.value)
        self._close_note()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self._noting():
            self._close_note()

    def _close_note(self) -> None:
        box = self.query_one("#note", Input)
        box.remove_class("open")
        box.disabled = True
        self.refresh_marks()
