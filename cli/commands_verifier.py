"""``rollupkit verifier``: a k-of-n verifier client as a service (:mod:`rollupkit.verifier`)."""

from __future__ import annotations

import logging
import signal
import threading

import typer

from rollupkit_cli._typer import new_app, private_key

app = new_app(help="Run a verifier client that signs batches it re-executes.", no_args_is_help=True)


@app.command("serve")
def serve(
    key: str = typer.Option(..., help="The verifier's private key (hex): what it signs with."),
    l1: str = typer.Option(..., help="The L1's JSON-RPC URL."),
    rollup: str = typer.Option(..., help="The rollup's NativeRollup contract address."),
    vm: str = typer.Option("evm", help="VM plugin of the rollup."),
    state: str = typer.Option("mpt", help="State model plugin of the rollup."),
    client: str = typer.Option(
        None, help="An independent client of the VM (revm, rv32ref, ...); default: the VM's own."
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8600, min=0, max=65535, help="Port (0 picks a free one)."),
) -> None:
    """Serve verifier_attest and verifier_status until interrupted."""
    from rollupkit.rpc.server import tune_process_for_serving
    from rollupkit.verifier import VerifierSettings
    from rollupkit.verifier import serve as start

    secret = private_key(key)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = VerifierSettings(secret, l1, rollup, vm=vm, state=state, client=client)
    tune_process_for_serving()
    try:
        server = start(settings, host=host, port=port)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot listen on {host}:{port}: {exc}", param_hint="--port"
        ) from None
    service = server.service
    typer.echo(f"rollupkit verifier: {service.client_name} client for {vm} over {state}")
    typer.echo(f"JSON-RPC:  {server.url}")
    typer.echo(f"signer:    {service.account.address}")
    typer.echo(f"rollup:    {rollup} on chain {service.l1_chain_id}")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop()
    typer.echo("stopped", err=True)
