"""Run an embedded L1 devnet behind its JSON-RPC server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rollupkit.l1.devnet import Devnet, DevnetConfig
from rollupkit.rpc.eth import DevnetMethods
from rollupkit.rpc.server import JsonRpcServer


@dataclass
class RunningDevnet:
    """A devnet and the server answering for it."""

    devnet: Devnet
    server: JsonRpcServer

    @property
    def url(self) -> str:
        """The JSON-RPC URL."""
        return self.server.url

    def stop(self) -> None:
        """Stop serving and close the chain."""
        self.server.stop()
        self.devnet.close()

    def __enter__(self) -> RunningDevnet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_devnet(
    config: DevnetConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: Path | None = None,
) -> RunningDevnet:
    """Start an embedded L1 and serve it (port 0 picks a free port)."""
    devnet = Devnet(config, data_dir=data_dir)
    server = JsonRpcServer(
        DevnetMethods(devnet).methods(), host=host, port=port, name="rollupkit-l1"
    )
    try:
        server.start()
    except BaseException:
        devnet.close()
        raise
    return RunningDevnet(devnet, server)
