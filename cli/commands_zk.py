"""``rollupkit zk``: zkpay's Groth16 circuit, compiled and set up once."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from rollupkit_cli._typer import new_app

app = new_app(help="zkpay's Groth16 circuit: compile it and make its keys.", no_args_is_help=True)


@app.command("setup")
def setup(
    slots: int = typer.Option(
        None, "--slots", help="Operations per proof (default: the project's, else 8)."
    ),
    keys: Path = typer.Option(
        None,
        "--keys",
        help="Folder for the build and keys (default: the project's, else ~/.cache/rollupkit).",
    ),
) -> None:
    """Compile the zkpay circuit (npm circom2) and make its Groth16 keys, once: a later run,
    and the node, load them. In a project whose proof is groth16, its [l1.proof_options]
    give the defaults. The setup is single-party (development only)."""
    from rollupkit.errors import ProjectError
    from rollupkit_zkpay.backend import Groth16Backend

    options: dict[str, object] = {}
    try:
        from rollupkit.project.config import load_project

        project = load_project()
    except ProjectError:
        project = None
    if project is not None and project.l1.proof == "groth16":
        options.update(project.l1.proof_options)
        if "keys" in options and not Path(str(options["keys"])).expanduser().is_absolute():
            options["keys"] = str(project.root / str(options["keys"]))
    if slots is not None:
        options["slots"] = slots
    if keys is not None:
        options["keys"] = str(keys)
    backend = Groth16Backend.configured(options)
    started = time.monotonic()
    made = backend.keys(progress=lambda line: typer.echo(line, err=True))
    params = made.circuit.params
    typer.echo(f"circuit: {params.describe()}, {made.circuit.constraints():,} constraints, "
               f"{params.public_count} public inputs")  # fmt: skip
    typer.echo(f"keys: {made.circuit.folder} (ready in {time.monotonic() - started:.1f} s)")
