"""``rollupkit demo``: EXECUTE end to end on an in-memory EVM chain, with a summary table."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rollupkit.demo import run_execute_demo


def demo(
    transfers: int = typer.Option(40, min=1, max=5000, help="Transfers in the demo block."),
    out: Path = typer.Option(
        None, help="Also save the trace and the EXECUTE arguments in this folder."
    ),
) -> None:
    """Build an L2 block, verify it with EXECUTE and show tampered traces rejected."""
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
        ("gas used", f"{built.gas_used:,}"),
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
