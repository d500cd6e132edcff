"""``rollupkit l1``: run the embedded L1 devnet (py-evm with the EXECUTE precompile)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import typer

from rollupkit.l1 import DEFAULT_L1_CHAIN_ID
from rollupkit_cli._typer import new_app

app = new_app(help="Run rollupkit's embedded L1.", no_args_is_help=True)


@app.command("start")
def start(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8545, min=0, max=65535, help="Port (0 picks a free one)."),
    chain_id: int = typer.Option(DEFAULT_L1_CHAIN_ID, min=1, help="L1 chain id."),
    accounts: int = typer.Option(10, min=1, max=100, help="Funded dev accounts."),
    block_time: float = typer.Option(
        None, min=0.1, help="Mine every N seconds (default: mine each transaction at once)."
    ),
    data_dir: Path = typer.Option(
        None, help="Keep the chain in this folder (SQLite) and resume it on the next start."
    ),
) -> None:
    """Start the embedded L1 and serve Ethereum JSON-RPC until interrupted."""
    from rollupkit.l1.devnet import DevnetConfig
    from rollupkit.l1.node import start_devnet
    from rollupkit.l1.precompile import EXECUTE_ADDRESS
    from rollupkit.rpc.server import tune_process_for_serving

    config = DevnetConfig(chain_id=chain_id, accounts=accounts, block_time=block_time)
    try:
        tune_process_for_serving()
        running = start_devnet(config, host=host, port=port, data_dir=data_dir)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot listen on {host}:{port}: {exc}", param_hint="--port"
        ) from None
    devnet = running.devnet
    typer.echo(f"rollupkit L1 devnet (py-evm, EXECUTE at 0x{EXECUTE_ADDRESS.hex()})")
    typer.echo(f"JSON-RPC:  {running.url}")
    typer.echo(f"chain id:  {chain_id}")
    typer.echo(
        f"block:     {devnet.head.block_number}"
        + (f" (resumed from {data_dir})" if data_dir and devnet.head.block_number else "")
    )
    mining = f"every {block_time}s" if block_time else "each transaction at once"
    typer.echo(f"mining:    {mining}")
    typer.echo(
        "accounts (dev mnemonic 'test test ... junk'; never use these keys on a real chain):"
    )
    for i, account in enumerate(devnet.accounts):
        typer.echo(f"  ({i}) {account.address}  key 0x{bytes(account.key).hex()}")
    typer.echo("Ctrl-C to stop.", err=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    running.stop()
    typer.echo("stopped", err=True)
