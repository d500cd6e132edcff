"""Launch anvil (Foundry's L1 node, from the npm package) on a free loopback port.

A stock L1 has no EXECUTE precompile, so rollups settle on it with attestations
(``AttestationVerifier``). The process is stopped when the :class:`Anvil` is closed, when its
``with`` block ends, and at interpreter exit.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from rollupkit.errors import (
    NodeToolMissing,  # re-exported: raised here
    RollupkitError,
)
from rollupkit.solidity import node_modules_candidates

ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64"
CAST_PACKAGE = "@foundry-rs/cast-linux-amd64"


def find_tool(name: str) -> Path:
    """``anvil`` or ``cast``: from ``node_modules`` (the npm packages), else from PATH."""
    package = {"anvil": ANVIL_PACKAGE, "cast": CAST_PACKAGE}[name]
    for folder in node_modules_candidates():
        candidate = folder / package / "bin" / name
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise NodeToolMissing(
        f"{name} is not installed: run `npm install --no-save {package}` here (or `npm install` "
        f"in the rollupkit checkout), or put Foundry's {name} on PATH"
    )


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rpc(url: str, method: str, params: list[object] | None = None, timeout: float = 5) -> object:
    """One JSON-RPC call (no dependencies: used before web3 is involved)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RollupkitError(f"{method}: {answer['error'].get('message')}")
    return answer["result"]


class Anvil:
    """A running anvil process."""

    def __init__(
        self,
        *,
        chain_id: int = 31337,
        block_time: float | None = None,
        hardfork: str | None = None,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 30,
        port: int = 0,
        state_file: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.chain_id = chain_id
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            str(find_tool("anvil")),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(chain_id),
            "--silent",
        ]
        if block_time is not None:
            args += ["--block-time", str(block_time)]
        if hardfork is not None:
            args += ["--hardfork", hardfork]
        if state_file is not None:  # load at start, dump at exit: the chain survives restarts
            args += ["--state", str(state_file), "--state-interval", "5"]
        args += list(extra_args)
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ)
        )
        atexit.register(self.close)
        deadline = time.monotonic() + startup_timeout
        while True:
            if self.process.poll() is not None:
                error = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RollupkitError(f"anvil exited at startup: {error.strip()[:500]}")
            try:
                rpc(self.url, "eth_chainId", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise RollupkitError(f"anvil did not answer on {self.url}") from None
                time.sleep(0.05)

    def close(self) -> None:
        """Stop the process (idempotent)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> Anvil:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
