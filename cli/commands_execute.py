"""``rollupkit execute`` and ``rollupkit trace``: verify and inspect trace files."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rollupkit_cli._typer import new_app

trace_app = new_app(help="Inspect trace files.", no_args_is_help=True)


def read_trace_file(path: Path) -> bytes:
    """A trace file's bytes: raw binary, or hex text (with or without 0x)."""
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {path}")
    data = path.read_bytes()
    text = data.strip()
    if text[:2] in (b"0x", b"0X"):
        text = text[2:]
    try:
        if text and all(c in b"0123456789abcdefABCDEF" for c in text):
            return bytes.fromhex(text.decode())
    except ValueError:
        pass
    return data


def parse_root(value: str, what: str) -> bytes:
    """A 32-byte root from hex text."""
    text = value[2:] if value.lower().startswith("0x") else value
    try:
        root = bytes.fromhex(text)
    except ValueError:
        raise typer.BadParameter(f"{what} must be 32 bytes of hex, got {value!r}") from None
    if len(root) != 32:
        raise typer.BadParameter(f"{what} must be 32 bytes, got {len(root)}")
    return root


def execute_command(
    trace_file: Path = typer.Argument(
        ..., metavar="TRACE_FILE", help="Trace file (binary, or hex text)."
    ),
    pre: str = typer.Option(..., "--pre", help="Pre-state root (hex)."),
    post: str = typer.Option(..., "--post", help="Claimed post-state root (hex)."),
    gas: int = typer.Option(..., "--gas", help="Claimed gas used.", min=0),
    vm: str = typer.Option("evm", help="VM plugin."),
    state: str = typer.Option("mpt", help="State model plugin."),
    client: str = typer.Option(
        None, help="An independent client of the VM (e.g. revm for evm, rv32ref for riscv)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
) -> None:
    """Run EXECUTE on a trace file. Exit status 0 if it verifies, 1 if not."""
    from rollupkit.execution import execute_detailed, resolve_plugins

    # An unknown plugin or client name is a usage error, not a verdict.
    resolve_plugins(vm, state, client=client)
    result = execute_detailed(
        parse_root(pre, "--pre"),
        parse_root(post, "--post"),
        read_trace_file(trace_file),
        gas,
        vm=vm,
        state=state,
        client=client,
    )
    if as_json:
        outputs = None
        if result.outputs is not None:
            outputs = {
                k: (f"0x{v.hex()}" if isinstance(v, bytes) else v)
                for k, v in vars(result.outputs).items()
            }
        typer.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "reason": result.reason and result.reason.value,
                    "detail": result.detail,
                    "outputs": outputs,
                },
                indent=2,
            )
        )
    elif result.ok:
        typer.echo("EXECUTE: true")
    else:
        typer.echo(
            f"EXECUTE: false ({result.reason.value if result.reason else '?'}): {result.detail}"
        )
    raise typer.Exit(0 if result.ok else 1)


@trace_app.command("inspect")
def inspect_trace(
    trace_file: Path = typer.Argument(..., metavar="TRACE_FILE", help="Trace file."),
) -> None:
    """Print what a trace holds: blocks, transactions, messages, witness sizes."""
    from rollupkit.trace import decode_trace, trace_summary

    trace = decode_trace(read_trace_file(trace_file))
    typer.echo(
        f"trace version {trace.version}, chain id {trace.chain_id}, L1 queue from index "
        f"{trace.queue_start.index}"
    )
    for key, value in trace_summary(trace).items():
        typer.echo(f"  {key:>13}: {value}")
    for block in trace.blocks:
        typer.echo(
            f"  block {block.number}: {len(block.transactions)} transactions, "
            f"{len(block.l1_messages)} L1 messages, timestamp {block.timestamp}"
        )
