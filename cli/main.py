"""Entry point of the ``rollupkit`` command."""

from __future__ import annotations

import typer

app = typer.Typer(help="rollupkit: build, run and verify native rollups.", no_args_is_help=True)


def run() -> None:
    """Console-script entry point."""
    app()
