"""``rollupkit node``: run a rollup node (sequencer or follower) from a configuration file;
``rollupkit watchtower``: a follower that disputes wrong claims."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import typer

from rollupkit_cli._typer import new_app, private_key

app = new_app(help="Run a rollup node.", no_args_is_help=True)

WATCHTOWER_KEY_ENV = "ROLLUPKIT_WATCHTOWER_KEY"


@app.command("start")
def start(
    config: Path = typer.Option(Path("rollup.toml"), "--config", "-c", help="Node configuration."),
    role: str = typer.Option(None, help="sequencer or follower (overrides the file)."),
    data_dir: Path = typer.Option(None, help="Database folder (overrides the file)."),
    rpc_port: int = typer.Option(None, help="L2 JSON-RPC port, 0 for any (overrides the file)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every role's activity."),
) -> None:
    """Start a node and serve the L2 JSON-RPC until interrupted."""
    from rollupkit.node.settings import load

    node_config = load(
        config, role=role, data_dir=str(data_dir) if data_dir else None, rpc_port=rpc_port
    )
    _run(node_config, verbose)


def watchtower(
    config: Path = typer.Option(
        Path("rollup.toml"), "--config", "-c", help="The rollup's node configuration."
    ),
    key: str = typer.Option(
        None, help=f"Private key (hex) that posts the bonds (or set {WATCHTOWER_KEY_ENV})."
    ),
    data_dir: Path = typer.Option(
        None, help="Database folder of its follower (default: .rollupkit/watchtower)."
    ),
    rpc_port: int = typer.Option(0, help="Its follower's L2 JSON-RPC port (0: any)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every role's activity."),
) -> None:
    """Follow the rollup from L1 and dispute every claim on L1 that is not what the chain
    derived from L1's batch data computes (optimistic settlement), until interrupted."""
    from dataclasses import replace

    from rollupkit.node.settings import load

    secret = key or os.environ.get(WATCHTOWER_KEY_ENV)
    if not secret:
        raise typer.BadParameter(f"give the key that posts bonds (or set {WATCHTOWER_KEY_ENV})",
                                 param_hint="--key")  # fmt: skip
    raw = private_key(secret)
    folder = str(data_dir) if data_dir else ".rollupkit/watchtower"
    node_config = load(config, role="follower", data_dir=folder, rpc_port=rpc_port)
    if node_config.l1 is None:
        raise typer.BadParameter("the rollup has no [l1]: there is nothing to watch",
                                 param_hint="--config")  # fmt: skip
    _run(replace(node_config, watchtower_key=raw), verbose)


def _run(node_config: Any, verbose: bool) -> None:
    """Start a node, print where it is, and run it until SIGINT or SIGTERM."""
    from rollupkit.node.node import Node
    from rollupkit.rpc.server import tune_process_for_serving

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
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
    kind = "watchtower" if node.watchtower is not None else node_config.role
    typer.echo(f"rollupkit {kind} for chain {node_config.chain.chain_id}")
    typer.echo(f"L2 JSON-RPC: {node.url}")
    typer.echo(f"head block:  {head}")
    typer.echo(f"database:    {node_config.data_dir}")
    typer.echo(f"L1:          {node_config.l1.url if node_config.l1 else 'none (standalone)'}")
    if node.watchtower is not None:
        typer.echo(f"bonds from:  {node.watchtower.address}")
    typer.echo("Ctrl-C to stop.", err=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    node.stop()
    typer.echo("stopped", err=True)
