"""``rollupkit scaffold``: create a rollup project or a plugin package, and update a project."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from rollupkit.errors import RollupkitError
from rollupkit_cli._typer import new_app

app = new_app(help="Create rollup projects and plugin packages.", no_args_is_help=True)

_TEMPLATE_HELP = "Render this template folder instead of rollupkit's (for template authors)."


_LABELS = {"l1": "L1 (embedded, anvil, or an http(s):// JSON-RPC URL)", "vm": "VM",
           "state": "state model", "da": "data availability", "compression": "compression",
           "proof": "proof backend"}  # fmt: skip


def _prompt(label: str, default: object, *, kind: type = str) -> object:
    answer = typer.prompt(label, default=default, type=kind)
    if not sys.stdin.isatty():
        typer.echo(answer)  # piped answers: keep one question per line in the transcript
    return answer


def _carrier(derivation: str) -> str:
    """Where derivation ``derivation`` puts a batch's data (calldata, blobs, settlement)."""
    from rollupkit.plugins import get_registry

    try:
        return str(get_registry().get("derivation", derivation).carrier)
    except RollupkitError:
        return "calldata"  # an unknown one: validation names it


def _ask(question: str, decided: dict[str, str], default: str) -> str:
    """Ask one plugin question, offering only answers that can work with the ones before."""
    from rollupkit.project.config import is_l1_url
    from rollupkit.scaffold.options import viable_choices, why_not

    offered = viable_choices(question, decided)
    if not offered:
        raise RollupkitError(f"no installed {_LABELS[question]} works with {decided}")
    if default not in offered:
        default = offered[0]
    label = _LABELS[question] if question == "l1" else f"{_LABELS[question]} ({', '.join(offered)})"
    for _ in range(5):
        answer = str(_prompt(label, default)).strip()
        if answer in offered or (question == "l1" and is_l1_url(answer)):
            return answer
        reason = why_not(question, answer, decided)
        typer.echo(f"  not {answer!r}: {reason}; choose one of: {', '.join(offered)}", err=True)
    raise RollupkitError(f"no valid answer for {_LABELS[question]}; aborted")


@app.command("new")
def new(
    name: str = typer.Argument(
        ..., metavar="NAME", help="Project name: lowercase, digits and hyphens."
    ),
    l1: str = typer.Option(None, help="L1: embedded, anvil, or an http(s):// JSON-RPC URL."),
    vm: str = typer.Option(None, help="VM plugin (evm, or any installed VM plugin)."),
    booster: bool = typer.Option(
        False,
        "--booster",
        help="A booster rollup (seed 000): --vm booster, the EVM with L1CALL, L1SANDBOXCALL "
        "and L1DELEGATECALL, with a ballot on L1 whose L2 votes settle as one "
        "applyStateUpdates.",
    ),
    state: str = typer.Option(None, help="State model plugin (mpt, ...)."),
    da: str = typer.Option(None, help="Data availability: calldata or blobs."),
    compression: str = typer.Option(None, help="Batch compression: none, zlib, zstd."),
    proof: str = typer.Option(
        None, help="Proof backend (reexec on the embedded L1, multiclient anywhere)."
    ),
    chain_id: int = typer.Option(
        None, help="L2 chain id (default: a fresh random one, so no two rollups share it)."
    ),
    block_time: float = typer.Option(None, help="Seconds between L2 blocks."),
    directory: Path = typer.Option(None, "--dir", help="Folder to create (default: ./NAME)."),
    force: bool = typer.Option(False, "--force", help="Render into an existing folder."),
    no_input: bool = typer.Option(
        False, "--no-input", help="Never prompt (the default when not in a terminal)."
    ),
    interactive: bool = typer.Option(
        False,
        "--interactive",
        "-i",
        help="Prompt for the options not given as flags, even outside a terminal.",
    ),
    template: Path = typer.Option(None, "--template", help=_TEMPLATE_HELP, hidden=True),
) -> None:
    """Render a new rollup project: chain config, contracts, hooks, tests, CI.

    In a terminal it asks for each option not given as a flag (--no-input takes the
    defaults); every answer is checked against the ones before it."""
    from rollupkit.scaffold.naming import derive_names
    from rollupkit.scaffold.options import (
        QUESTIONS,
        RollupOptions,
        default_da_for,
        default_proof_for,
        fresh_chain_id,
        viable_choices,
    )
    from rollupkit.scaffold.project import new_rollup, rollupkit_source
    from rollupkit.scaffold.render import check_destination

    if booster:
        if vm not in (None, "booster"):
            raise RollupkitError(f"--booster is --vm booster; it cannot be combined with --vm {vm}")
        vm = "booster"
    if interactive and no_input:
        raise RollupkitError("--interactive and --no-input contradict each other; pass one")
    dest = directory or Path(name)
    derive_names(name, new=True)  # refuse a bad name or folder before asking anything
    check_destination(dest, force=force)
    prompting = interactive or (not no_input and sys.stdin.isatty())
    defaults = RollupOptions(name=name)
    answers = {k: v for k, v in (("l1", l1), ("vm", vm), ("state", state), ("da", da),
               ("compression", compression), ("proof", proof)) if v is not None}  # fmt: skip
    if prompting:
        for question in QUESTIONS:
            if question not in answers:
                default = str(getattr(defaults, question))
                if question == "proof":
                    default = default_proof_for(
                        answers.get("l1", defaults.l1), carrier=_carrier(answers["da"]),
                        vm=answers.get("vm", defaults.vm),
                        state=answers.get("state", defaults.state),
                    )  # fmt: skip
                elif question == "da" and default not in viable_choices("da", answers):
                    default = "calldata"  # no re-execution where this L1 is
                answers[question] = _ask(question, answers, default)
        if chain_id is None:
            chain_id = int(_prompt("chain id", fresh_chain_id(), kind=int))  # type: ignore[call-overload]
        if block_time is None:
            block_time = float(_prompt("block time (s)", defaults.block_time, kind=float))  # type: ignore[arg-type]
    chosen_l1 = answers.get("l1", defaults.l1)
    proof_chosen = answers.get("proof") or default_proof_for(
        chosen_l1, carrier=_carrier(answers.get("da", "calldata")),
        vm=answers.get("vm", defaults.vm), state=answers.get("state", defaults.state),
    )  # fmt: skip
    options = RollupOptions(
        name=name,
        vm=answers.get("vm", defaults.vm),
        state=answers.get("state", defaults.state),
        da=answers.get("da") or default_da_for(proof_chosen, chosen_l1),
        compression=answers.get("compression", defaults.compression),
        proof=proof_chosen,
        l1=chosen_l1,
        chain_id=fresh_chain_id() if chain_id is None else chain_id,
        block_time=defaults.block_time if block_time is None else block_time,
    )
    files = new_rollup(dest, options, force=force, template_dir=template)
    typer.echo(
        f"created {dest}/ ({len(files)} files): vm {options.vm}, state {options.state}, "
        f"da {options.da}/{options.compression}, proof {options.proof}, L1 {options.l1}"
    )
    typer.echo("next:")
    if dest.resolve() != Path.cwd().resolve():
        typer.echo(f"  cd {dest}")
    typer.echo("  python3 -m venv .venv && . .venv/bin/activate")
    source = rollupkit_source()
    if source.kind != "index":
        typer.echo(f'  pip install "{source.requirement}"      # rollupkit, as installed here')
    typer.echo('  pip install -e ".[test]"')
    typer.echo("  pytest          # the rollup end to end")
    typer.echo("  rollupkit up    # run it")


@app.command("plugin")
def plugin(
    name: str = typer.Argument(
        ..., metavar="NAME", help="Plugin name (its registered name and package)."
    ),
    kind: str = typer.Option(..., "--kind", help="vm, state, derivation or proof."),
    directory: Path = typer.Option(None, "--dir", help="Folder to create (default: ./NAME)."),
    force: bool = typer.Option(False, "--force", help="Render into an existing folder."),
    template: Path = typer.Option(None, "--template", help=_TEMPLATE_HELP, hidden=True),
) -> None:
    """Create a plugin package: a working implementation, its registration and its tests.

    The tests subclass rollupkit's conformance suite for the kind. `pip install -e` the
    package and `rollupkit plugins list` shows it."""
    from rollupkit.scaffold.plugin import KINDS, PluginOptions, new_plugin
    from rollupkit.scaffold.project import rollupkit_source

    dest = directory or Path(name)
    files = new_plugin(dest, PluginOptions(name, kind), force=force, template_dir=template)
    typer.echo(f"created {dest}/ ({len(files)} files): {KINDS[kind][0]} plugin {name!r}")
    typer.echo("next:")
    source = rollupkit_source()
    if source.kind != "index":
        typer.echo(f'  pip install "{source.requirement}"      # rollupkit, as installed here')
    typer.echo(f'  cd {dest} && pip install -e ".[test]"')
    typer.echo(f"  rollupkit plugins list     # shows {name}")
    typer.echo("  pytest                     # rollupkit's conformance suite, and more")
    use = {"vm": f"--vm {name}", "state": f"--vm <a VM built on AccountVM> --state {name}",
           "derivation": f"--da {name}", "proof": f"--proof {name}"}[kind]  # fmt: skip
    typer.echo(f"  rollupkit scaffold new my-rollup {use}")


@app.command("update")
def update(
    directory: Path = typer.Option(
        None, "--dir", help="The project to update (default: the one around this folder)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would change; write nothing."),
    template: Path = typer.Option(None, "--template", help=_TEMPLATE_HELP, hidden=True),
) -> None:
    """Re-render the project with this rollupkit's template and merge, keeping your edits."""
    from rollupkit.scaffold.render import find_rendered
    from rollupkit.scaffold.update import update_project

    directory = find_rendered(directory or Path.cwd())
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
            typer.echo(f"  {'WOULD CONFLICT' if dry_run else 'CONFLICT'}: {path}", err=True)
        if dry_run:
            raise RollupkitError(
                f"{len(report.conflicts)} file(s) would conflict between your edits and the "
                "template: " + ", ".join(report.conflicts) + " (nothing was written)"
            )
        raise RollupkitError(
            f"{len(report.conflicts)} file(s) have conflicts between your edits and the "
            "template: resolve the <<<<<<< / >>>>>>> markers in " + ", ".join(report.conflicts)
        )
