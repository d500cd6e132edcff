"""One way to make the command groups, so every group formats its help alike."""

from __future__ import annotations

from typing import Any

import typer


def new_app(**options: Any) -> typer.Typer:
    """A typer app with click's plain help: typer's rich help shows ``<bool>`` after flags
    (and ``--force true`` is then refused), and importing rich costs every command's start."""
    return typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, **options)


def private_key(value: str, param_hint: str = "--key") -> bytes:
    """A 32-byte private key given in hex (``0x`` optional), or a one-line usage error."""
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise typer.BadParameter("not hex", param_hint=param_hint) from None
    if len(raw) != 32:
        raise typer.BadParameter("a private key is 32 bytes", param_hint=param_hint)
    return raw
