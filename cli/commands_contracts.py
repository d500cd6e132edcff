"""``rollupkit contracts``: compile Solidity sources into committed artifacts."""

from __future__ import annotations

from pathlib import Path

import typer

from rollupkit_cli._typer import new_app

app = new_app(help="Build and check Solidity artifacts.", no_args_is_help=True)


def _default_dirs() -> list[Path]:
    from rollupkit.contracts import CONTRACTS_DIR
    from rollupkit.examples.contracts import CONTRACTS_DIR as EXAMPLES_DIR

    return [CONTRACTS_DIR, EXAMPLES_DIR]


@app.command("build")
def build(
    directories: list[Path] = typer.Argument(
        None,
        metavar="FOLDER...",
        help="Folders of .sol files (default: rollupkit's own contracts and examples).",
    ),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; fail if any artifact differs from its source."
    ),
) -> None:
    """Compile every .sol file of each folder into <folder>/build/<Contract>.json."""
    from rollupkit.solidity import build_artifacts

    stale: list[str] = []
    for directory in directories or _default_dirs():
        if not directory.is_dir():
            raise typer.BadParameter(f"{directory} is not a folder")
        changed = build_artifacts(directory, check=check)
        stale.extend(changed)
        if not check:
            typer.echo(f"built {directory}/build")
    if check:
        if stale:
            typer.echo(
                "error: artifacts out of date (run `rollupkit contracts build`): "
                + ", ".join(stale),
                err=True,
            )
            raise typer.Exit(1)
        typer.echo("artifacts match their sources")
