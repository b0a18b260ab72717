"""Terminal output shared by every command: tables or JSON, progress bars, and errors."""

from __future__ import annotations

import enum
import functools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from common.errors import DrtError

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


class Format(enum.StrEnum):
    table = "table"
    json = "json"


FORMAT_OPTION = typer.Option(Format.table, "--format", "-f", help="table (for people) or json")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a DrtError as code + Japanese + English (JSON on stdout with --format json)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DrtError as exc:
            if kwargs.get("fmt") == Format.json:
                print_json({"error": exc.to_dict()})
            # escaped: Rich would take "[meeting_point_not_found]" for markup and drop it
            err_console.print(f"[bold red]エラー[/] {escape(f'[{exc.code}] {exc.message_ja}')}")
            err_console.print(f"[red]Error[/] {escape(exc.message_en)}")
            raise typer.Exit(code=2) from None

    return wrapper


@contextmanager
def steps(total: int, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """A Rich progress bar advanced once per named step (on stderr, so JSON stays clean)."""
    if quiet:
        yield lambda _message: None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    with progress:
        task = progress.add_task("準備中 / starting", total=total)
        started = False

        def step(message: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=message)

        yield step
        progress.update(task, completed=total, description="完了 / done")
