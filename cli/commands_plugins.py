"""``rollupkit plugins``: what is installed, and where it came from."""

from __future__ import annotations

import json

import typer

from rollupkit_cli._typer import new_app

app = new_app(help="Inspect installed plugins.", no_args_is_help=True)


@app.command("list")
def list_plugins(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List every plugin: name, kind, version, origin and description."""
    from rich.console import Console
    from rich.table import Table

    from rollupkit.plugins import get_registry

    infos = get_registry().all()
    if as_json:
        rows = [
            {
                "name": i.name,
                "kind": i.kind,
                "version": i.version,
                "origin": i.origin,
                "module": i.plugin,
                "class": f"{i.cls.__module__}.{i.cls.__qualname__}",
                "description": i.description,
            }
            for i in infos
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="rollupkit plugins")
    for column in ("name", "kind", "version", "origin", "description"):
        table.add_column(column)
    for info in infos:
        table.add_row(info.name, info.kind, info.version, info.origin, info.description)
    Console(width=max(100, Console().width)).print(table)
