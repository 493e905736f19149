"""What every command shares: error-to-exit-code mapping, option parsing, progress."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor.errors import (
    EXIT_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INTERNAL,
    EXIT_PASSED,
    AuditorError,
    UsageError,
)

F = TypeVar("F", bound=Callable[..., Any])
# The same names as auditor.report.SUPPORTED_FORMATS (a test keeps them equal); written here so
# that `auditor --help` does not import the renderers.
REPORT_FORMATS = ("html", "pdf", "json", "junit", "md")
VERDICT_EXIT = {"passed": EXIT_PASSED, "failed": EXIT_FAILED, "inconclusive": EXIT_INCONCLUSIVE}


def exits_cleanly(command: F) -> F:
    """Turn AuditorError into its exit code and any other exception into exit 70."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AuditorError as exc:
            click.echo(f"{type(exc).__name__}: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:  # `auditor policy list | head`: the reader left, not a bug
            silence_stdout()
            sys.exit(EXIT_PASSED)
        except Exception:
            traceback.print_exc()
            click.echo(
                "InternalError: auditor failed unexpectedly (a bug; please report it).", err=True
            )
            sys.exit(EXIT_INTERNAL)

    return run  # type: ignore[return-value]


@contextmanager
def progress_spinner(*, enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the current step, only when a person is watching."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda _: None
        return
    with console.status("Starting") as status:
        yield lambda text: status.update(f"{text}…")


def silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit does not fail flushing a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def parse_formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        raise UsageError(
            f"--format {text!r}: unknown format(s) {unknown}; "
            f"choose from {', '.join(REPORT_FORMATS)}."
        )
    return formats


def parse_references(values: tuple[str, ...]) -> dict[str, str]:
    references = {}
    for item in values:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise UsageError(f"--reference {item!r}: write it as COLUMN=VALUE, e.g. sex=male.")
        references[column] = value
    return references


def read_audit(path: Path) -> Any:
    """An audit.json as an AuditResult; anything else is an InputError (exit 3)."""
    from pydantic import ValidationError

    from auditor.audit_result import AuditResult
    from auditor.errors import InputError
    from auditor.results import SCHEMA_VERSION

    if not path.is_file():
        raise InputError(f"'{path}' does not exist.")
    try:
        return AuditResult.from_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        raise InputError(
            f"'{path}' is not an audit.json of schema {SCHEMA_VERSION}: "
            f"{exc.error_count()} problem(s), first: {first['msg']} at {where}."
        ) from exc
