"""`rollupkit l1 start` as people use it: cast talks to it, and a data dir survives restarts."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rollupkit.l1.anvil import NodeToolMissing, find_tool
from rollupkit.l1.devnet import dev_accounts
from rollupkit.testing.contracts import artifact

try:
    CAST = str(find_tool("cast"))
except NodeToolMissing:  # pragma: no cover - npm install provides it
    CAST = ""


class L1Process:
    def __init__(self, *args: str) -> None:
        env = dict(os.environ, ROLLUPKIT_PLUGINS="builtin")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rollupkit_cli", "l1", "start", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.banner = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.banner.append(line)
            if line.startswith("JSON-RPC:"):
                self.url = line.split()[1]
            if "never use these keys" in line:
                break
        assert hasattr(self, "url"), "".join(self.banner) + (
            self.process.stderr.read() if self.process.stderr else ""
        )

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        self.process.communicate(timeout=30)  # drains and closes the pipes
        return self.process.returncode


def cast(*args: str) -> str:
    done = subprocess.run([CAST, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(not CAST, reason="npm install provides cast")
def test_cast_block_number_send_and_call() -> None:
    node = L1Process()
    try:
        key = "0x" + bytes(dev_accounts(1)[0].key).hex()
        assert cast("block-number", "--rpc-url", node.url) == "0"
        assert cast("chain-id", "--rpc-url", node.url) == "1337"
        deployed = cast(
            "send",
            "--rpc-url",
            node.url,
            "--private-key",
            key,
            "--create",
            "0x" + artifact("Store").bytecode.hex(),
            "--json",
        )
        address = re.search(r'"contractAddress":"(0x[0-9a-fA-F]{40})"', deployed).group(1)  # type: ignore[union-attr]
        cast(
            "send",
            "--rpc-url",
            node.url,
            "--private-key",
            key,
            address,
            "set(uint256,uint256)",
            "7",
            "42",
        )
        assert cast("call", "--rpc-url", node.url, address, "values(uint256)(uint256)", "7") == "42"
        assert int(cast("block-number", "--rpc-url", node.url)) == 2
    finally:
        assert node.stop() == 0


def test_data_dir_survives_a_restart(tmp_path: Path) -> None:
    from web3 import Web3

    node = L1Process("--data-dir", str(tmp_path))
    w3 = Web3(Web3.HTTPProvider(node.url))
    sender, receiver = dev_accounts(2)
    tx = sender.sign_transaction(
        {
            "chainId": 1337,
            "nonce": 0,
            "to": receiver.address,
            "value": 12345,
            "gas": 21000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        }
    )
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(tx.raw_transaction))
    balance = w3.eth.get_balance(receiver.address)
    head = w3.eth.get_block("latest")
    assert node.stop() == 0

    again = L1Process("--data-dir", str(tmp_path))
    try:
        w3 = Web3(Web3.HTTPProvider(again.url))
        assert w3.eth.block_number == head["number"] == 1
        assert w3.eth.get_block("latest")["hash"] == head["hash"]
        assert w3.eth.get_balance(receiver.address) == balance
        assert w3.eth.get_transaction_count(sender.address) == 1
        assert any("resumed" in line for line in again.banner)
    finally:
        assert again.stop() == 0


def test_anvil_is_found_in_a_projects_own_node_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated anvil project installs only the anvil npm package (no solc) in its folder:
    that copy is the one used."""
    try:
        installed = find_tool("anvil")
    except NodeToolMissing:
        pytest.skip("anvil is not installed")
    package = tmp_path / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin"
    package.mkdir(parents=True)
    (package / "anvil").symlink_to(installed)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROLLUPKIT_NODE_MODULES", raising=False)
    assert find_tool("anvil") == package / "anvil"
