"""One way to make the command groups, so every group formats its help alike."""

from __future__ import annotations

from typing import Any

import typer


def new_app(**options: Any) -> typer.Typer:
    """A typer app with click's plain help: typer's rich help shows ``<bool>`` after flags
    (and ``--force true`` is then refused), and importing rich costs every command's start."""
    return typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, **options)
