"""``rollupkit scaffold``: create a rollup project or a plugin package, and update a project."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from rollupkit.errors import RollupkitError
from rollupkit.scaffold.options import RollupOptions, choices, default_proof_for

app = typer.Typer(help="Create rollup projects and plugin packages.", no_args_is_help=True)

_TEMPLATE_HELP = "Render this template folder instead of rollupkit's (for template authors)."


def _ask(label: str, options: list[str], default: str) -> str:
    while True:
        answer = str(typer.prompt(f"{label} ({', '.join(options)})", default=default)).strip()
        if answer in options:
            return answer
        typer.echo(f"  choose one of: {', '.join(options)}", err=True)


@app.command("new")
def new(
    name: str = typer.Argument(..., help="Project name: lowercase, digits and hyphens."),
    vm: str = typer.Option(None, help="VM plugin (evm, or any installed VM plugin)."),
    state: str = typer.Option(None, help="State model plugin (mpt, ...)."),
    da: str = typer.Option(None, help="Data availability: calldata or blobs."),
    compression: str = typer.Option(None, help="Batch compression: none, zlib, zstd."),
    proof: str = typer.Option(
        None, help="Proof backend (reexec on the embedded L1, multiclient anywhere)."
    ),
    l1: str = typer.Option(None, help="L1: embedded, anvil, or an http(s):// JSON-RPC URL."),
    chain_id: int = typer.Option(None, help="L2 chain id."),
    block_time: float = typer.Option(None, help="Seconds between L2 blocks."),
    directory: Path = typer.Option(None, "--dir", help="Folder to create (default: ./NAME)."),
    force: bool = typer.Option(False, "--force", help="Render into an existing folder."),
    no_input: bool = typer.Option(
        False, "--no-input", help="Never prompt (the default when not in a terminal)."
    ),
    interactive: bool = typer.Option(
        False, "--interactive", "-i", help="Prompt for every option, even outside a terminal."
    ),
    template: Path = typer.Option(None, "--template", help=_TEMPLATE_HELP, hidden=True),
) -> None:
    """Render a new rollup project: chain config, contracts, hooks, tests, CI."""
    from rollupkit.scaffold.naming import derive_names
    from rollupkit.scaffold.project import new_rollup

    derive_names(name)  # refuse a bad name before asking anything
    given = (vm, state, da, compression, proof, l1, chain_id, block_time)
    prompting = interactive or (
        not no_input and sys.stdin.isatty() and all(v is None for v in given)
    )
    defaults = RollupOptions(name=name)
    if prompting:
        available = choices()
        l1 = str(typer.prompt("L1 (embedded, anvil or an http(s):// URL)", default="embedded"))
        vm = _ask("VM", available["vm"], defaults.vm)
        state = _ask("state model", available["state"], defaults.state)
        da = _ask("data availability", available["da"], "calldata")
        compression = _ask("compression", available["compression"], defaults.compression)
        proof = _ask("proof backend", available["proof"], default_proof_for(l1))
        chain_id = int(typer.prompt("chain id", default=defaults.chain_id, type=int))
        block_time = float(typer.prompt("block time (s)", default=defaults.block_time))
    l1 = l1 or defaults.l1
    options = RollupOptions(
        name=name,
        vm=vm or defaults.vm,
        state=state or defaults.state,
        da=da or defaults.da,
        compression=compression or defaults.compression,
        proof=proof or default_proof_for(l1),
        l1=l1,
        chain_id=defaults.chain_id if chain_id is None else chain_id,
        block_time=defaults.block_time if block_time is None else block_time,
    )
    dest = directory or Path(name)
    files = new_rollup(dest, options, force=force, template_dir=template)
    typer.echo(
        f"created {dest}/ ({len(files)} files): vm {options.vm}, state {options.state}, "
        f"da {options.da}/{options.compression}, proof {options.proof}, L1 {options.l1}"
    )
    typer.echo("next:")
    typer.echo(f"  cd {dest}")
    typer.echo('  python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]"')
    typer.echo("  pytest          # the rollup end to end")
    typer.echo("  rollupkit up    # run it")


@app.command("plugin")
def plugin(
    name: str = typer.Argument(..., help="Plugin name (its registered name and package)."),
    kind: str = typer.Option(..., "--kind", help="vm, state, derivation or proof."),
    directory: Path = typer.Option(None, "--dir", help="Folder to create (default: ./NAME)."),
    force: bool = typer.Option(False, "--force", help="Render into an existing folder."),
    template: Path = typer.Option(None, "--template", help=_TEMPLATE_HELP, hidden=True),
) -> None:
    """Create a plugin package: a working implementation, its registration and its tests.

    The tests subclass rollupkit's conformance suite for the kind. `pip install -e` the
    package and `rollupkit plugins list` shows it."""
    from rollupkit.scaffold.plugin import KINDS, PluginOptions, new_plugin

    dest = directory or Path(name)
    files = new_plugin(dest, PluginOptions(name, kind), force=force, template_dir=template)
    typer.echo(f"created {dest}/ ({len(files)} files): {KINDS[kind][0]} plugin {name!r}")
    typer.echo("next:")
    typer.echo(f'  cd {dest} && pip install -e ".[test]"')
    typer.echo(f"  rollupkit plugins list     # shows {name}")
    typer.echo("  pytest                     # rollupkit's conformance suite")
    if kind == "vm":
        typer.echo(f"  rollupkit scaffold new my-rollup --vm {name}")


@app.command("update")
def update(
    directory: Path = typer.Option(Path("."), "--dir", help="The project to update."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would change; write nothing."),
    template: Path = typer.Option(None, "--template", help=_TEMPLATE_HELP, hidden=True),
) -> None:
    """Re-render the project with this rollupkit's template and merge, keeping your edits."""
    from rollupkit.scaffold.update import update_project

    report = update_project(directory, template_dir=template, dry_run=dry_run)
    verb = "would " if dry_run else ""
    if report.up_to_date:
        typer.echo(f"{directory} is up to date with template version {report.new_version}")
        return
    typer.echo(
        f"{'checking' if dry_run else 'updated'} {directory}: template version "
        f"{report.old_version} -> {report.new_version}"
    )
    for label, paths in (
        (f"{verb}add", report.added),
        (f"{verb}update", report.updated),
        (f"{verb}merge (your edits kept)", report.merged),
        (f"{verb}remove", report.removed),
        ("kept as you have it", report.kept),
    ):
        for path in paths:
            typer.echo(f"  {label}: {path}")
    if report.conflicts:
        for path in report.conflicts:
            typer.echo(f"  CONFLICT: {path}", err=True)
        raise RollupkitError(
            f"{len(report.conflicts)} file(s) have conflicts between your edits and the "
            "template: resolve the <<<<<<< / >>>>>>> markers in " + ", ".join(report.conflicts)
        )
