"""``rollupkit node``: run a rollup node (sequencer or follower) from a configuration file."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import typer

from rollupkit_cli._typer import new_app

app = new_app(help="Run a rollup node.", no_args_is_help=True)


@app.command("start")
def start(
    config: Path = typer.Option(Path("rollup.toml"), "--config", "-c", help="Node configuration."),
    role: str = typer.Option(None, help="sequencer or follower (overrides the file)."),
    data_dir: Path = typer.Option(None, help="Database folder (overrides the file)."),
    rpc_port: int = typer.Option(None, help="L2 JSON-RPC port, 0 for any (overrides the file)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every role's activity."),
) -> None:
    """Start a node and serve the L2 JSON-RPC until interrupted."""
    from rollupkit.node.node import Node
    from rollupkit.node.settings import load
    from rollupkit.rpc.server import tune_process_for_serving

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    node_config = load(
        config, role=role, data_dir=str(data_dir) if data_dir else None, rpc_port=rpc_port
    )
    tune_process_for_serving()
    node = Node(node_config)
    try:
        node.start()
    except OSError as exc:
        node.store.close()
        raise typer.BadParameter(
            f"cannot serve the L2 JSON-RPC: {exc}", param_hint="--rpc-port"
        ) from None
    head = node.store.head_number()
    typer.echo(f"rollupkit {node_config.role} for chain {node_config.chain.chain_id}")
    typer.echo(f"L2 JSON-RPC: {node.url}")
    typer.echo(f"head block:  {head}")
    typer.echo(f"database:    {node_config.data_dir}")
    typer.echo(f"L1:          {node_config.l1.url if node_config.l1 else 'none (standalone)'}")
    typer.echo("Ctrl-C to stop.", err=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    node.stop()
    typer.echo("stopped", err=True)
