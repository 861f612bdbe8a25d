"""The Typer app, shared options and the one place user errors are printed."""

from __future__ import annotations

import errno
import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperCommand

from promptlab.errors import PromptFileError, PromptlabError

HELP = """A prompt lab for Amazon Bedrock: versioned YAML prompts, side-by-side model runs,
regression checks for CI.

\b
Examples:
  promptlab init                              # scaffold a project
  promptlab render support-reply --examples   # the exact messages to be sent
  promptlab lint                              # check prompts and test suites
  promptlab run support-reply --examples -m echo
  promptlab run support-reply --examples -m claude-haiku,nova-lite --format json
  promptlab test --junit junit.xml --markdown report.md
  promptlab log --errors --since 1d
  promptlab diff support-reply@v1.0.0 support-reply --examples

Each command has its own --help with examples.
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion: free at start-up
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    """`--version`: the installed package's version (importlib.metadata is loaded only here)."""
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("promptlab")
    except PackageNotFoundError:  # run from a source tree that is not installed
        from promptlab import __version__ as number
    typer.echo(f"promptlab {number}")
    raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    pass


F = TypeVar("F", bound=Callable[..., Any])


def report_error(exc: PromptlabError) -> None:
    """One clear message on stderr (several lines only when a file has several problems)."""
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, highlight=False)
    if isinstance(exc, PromptFileError):  # "file:line: error: message — hint", like lint
        for problem in exc.problems:
            console.print(Text(str(problem)), soft_wrap=True)
        return
    console.print(
        Text(f"error: {exc}"), style="red" if console.is_terminal else None, soft_wrap=True
    )


def handle_errors(func: F) -> F:
    """Decorator for command bodies: PromptlabError → message + exit code, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PromptlabError as exc:
            report_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:  # `promptlab run ... | head`
            sys.stderr.close()
            raise typer.Exit(0) from None
        except OSError as exc:  # a path no file system takes, wherever a path is taken
            if exc.errno not in (errno.ENAMETOOLONG, errno.ELOOP) or exc.filename is None:
                raise
            from promptlab.yamlfile import unreadable

            report_error(PromptFileError([unreadable(str(exc.filename), exc)]))
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


# Options whose value may be left out: a bare `--batch` means `--batch=on` (`--batch=auto`
# gives one). Click's optional option values are not reachable through Typer.
OPTIONAL_VALUES = {"--batch": "on"}


class OptionalValues(TyperCommand):
    """A command whose OPTIONAL_VALUES options may be given bare."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        end = args.index("--") if "--" in args else len(args)
        given = [f"{a}={OPTIONAL_VALUES[a]}" if a in OPTIONAL_VALUES else a for a in args[:end]]
        return super().parse_args(ctx, [*given, *args[end:]])


def command(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """`@command(...)` = `@app.command(...)` + `@handle_errors`."""

    def decorate(func: F) -> F:
        app.command(*args, cls=OptionalValues, **kwargs)(handle_errors(func))
        return func

    return decorate
