"""`drt town slip ...`: payment slips (納付書): being written (issue 20)."""

from __future__ import annotations

import typer

app = typer.Typer(help="納付書 / payment slips", no_args_is_help=True)
