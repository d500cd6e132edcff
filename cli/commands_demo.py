"""``rollupkit demo``: a rollup scaffolded, started and taken from a deposit to a claimed
withdrawal; ``rollupkit demo execute``: EXECUTE alone on an in-memory EVM chain."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rollupkit_cli import COMMAND_STARTED
from rollupkit_cli._typer import new_app


def demo_execute(
    transfers: int = typer.Option(40, min=1, max=5000, help="Transfers in the demo block."),
    out: Path = typer.Option(
        None, help="Also save the trace and the EXECUTE arguments in this folder."
    ),
) -> None:
    """EXECUTE alone: build an L2 block in memory, verify it, show tampered traces rejected."""
    from rollupkit.execute_demo import run_execute_demo

    console = Console(stderr=True)
    with console.status("starting") as status:
        report = run_execute_demo(transfers, progress=lambda text: status.update(text))
    built = report.built
    outputs = built.outputs
    out_console = Console()
    summary = Table(title="L2 block built on the in-memory EVM chain (py-evm, mpt state)")
    summary.add_column("what")
    summary.add_column("value", overflow="fold")
    rows = [
        ("block", f"#{outputs.block_number}, {report.transactions} transactions + 1 deposit"),
        ("pre-state root", f"0x{built.pre_state_root.hex()}"),
        ("post-state root", f"0x{built.post_state_root.hex()}"),
        ("L2 gas used", f"{built.l2_gas_used:,}"),
        ("EXECUTE gas", f"{built.gas_used:,} (L2 gas + trace bytes, block, messages)"),
        (
            "L1 messages consumed",
            f"{outputs.messages_consumed} (queue hash 0x{outputs.queue_end_hash.hex()[:16]}…)",
        ),
        (
            "withdrawals",
            f"{outputs.withdrawal_count} (root 0x{outputs.withdrawals_root.hex()[:16]}…)",
        ),
        ("trace size", f"{len(built.encoded):,} bytes"),
        (
            "witness",
            f"{len(built.trace.witness.state_nodes)} trie nodes, "
            f"{len(built.trace.witness.codes)} codes, {built.trace.witness.size():,} bytes "
            f"({built.trace.witness.size() // report.transactions:,} per transaction)",
        ),
        ("build + record witness", f"{report.build_seconds:.2f} s"),
    ]
    for row in rows:
        summary.add_row(*row)
    out_console.print(summary)
    verdicts = Table(title="EXECUTE(pre_state_root, post_state_root, trace, gas_used)")
    for column in ("input", "verdict", "reason", "time", "as expected"):
        verdicts.add_column(column)
    for check in report.checks:
        verdicts.add_row(
            check.name,
            "true" if check.result.ok else "false",
            check.result.reason.value if check.result.reason else "",
            f"{check.seconds * 1000:.0f} ms",
            "yes" if check.as_expected else "NO",
        )
    out_console.print(verdicts)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "trace.bin").write_bytes(built.encoded)
        (out / "execute.json").write_text(
            json.dumps(
                {
                    "pre_state_root": f"0x{built.pre_state_root.hex()}",
                    "post_state_root": f"0x{built.post_state_root.hex()}",
                    "gas_used": built.gas_used,
                },
                indent=2,
            )
            + "\n"
        )
        out_console.print(
            f"saved {out}/trace.bin; verify it with: rollupkit execute {out}/trace.bin "
            f"--pre 0x{built.pre_state_root.hex()} --post 0x{built.post_state_root.hex()} "
            f"--gas {built.gas_used}"
        )
    if not report.all_as_expected:
        typer.echo("error: an EXECUTE verdict was not the expected one", err=True)
        raise typer.Exit(1)


_DIR_HELP = (
    "Scaffold into (or resume) this folder and keep it (default: a temporary folder, removed "
    "at the end)."
)

_DIR_HELP = (
    "Scaffold into (or resume) this folder and keep it (default: a temporary folder, removed "
    "at the end)."
)

app = new_app(
    help="Run a rollup end to end (or, with `execute`, EXECUTE alone).",
    invoke_without_command=True,
)
app.command("execute")(demo_execute)


@app.callback()
def demo(
    ctx: typer.Context,
    directory: Path = typer.Option(None, "--dir", help=_DIR_HELP),
) -> None:
    """Scaffold a rollup, start it, and take it from deposit to withdrawal claimed.

    On the embedded L1: deposit -> L2 transfer -> batch -> EXECUTE settlement -> withdrawal
    claim, with a summary table of roots, gas, L1 bytes and timings."""
    if ctx.invoked_subcommand is not None:
        return
    from rollupkit.project.demo import run_rollup_demo

    console = Console(stderr=True)
    with console.status("starting", spinner="dots") as status:
        report = run_rollup_demo(directory, progress=lambda text: status.update(text))
    out = Console()
    if not out.is_terminal:  # a log or a pipe: room for whole hashes and addresses
        out = Console(width=140)
    steps = Table(title=f"{report.project}: from scaffold to withdrawal claimed")
    for column in ("step", "time", "what happened"):
        steps.add_column(column)
    for step in report.steps:
        steps.add_row(step.name, f"{step.seconds:.2f} s", step.detail)
    steps.add_row("[bold]total[/bold]", f"[bold]{report.total_seconds:.2f} s[/bold]",
                  "scaffold to withdrawal claimed")  # fmt: skip
    out.print(steps)
    settlement = Table(title="the settled batch")
    settlement.add_column("what")
    settlement.add_column("value", overflow="fold")
    for row in report.settlement_rows():
        settlement.add_row(*row)
    out.print(settlement)
    costs = Table(title="every L1 transaction of the journey")
    for column in ("transaction", "L1 gas", "calldata bytes", "blobs", "bytes / L2 tx",
                   "gas / L2 tx"):  # fmt: skip
        costs.add_column(column, justify="left" if column == "transaction" else "right")
    *rows, total = report.l1_rows()
    for row in rows:
        costs.add_row(*row)
    costs.add_row(*(f"[bold]{cell}[/bold]" for cell in total))
    out.print(costs)
    out.print(
        f"{time.monotonic() - COMMAND_STARTED:.1f} s from the command's start (Python and "
        "library imports included) to the withdrawal claimed"
    )
    out.print(report.where)
