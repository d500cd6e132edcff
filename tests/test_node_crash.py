"""Crash safety: a node killed with SIGKILL at random moments, over and over, loses no
acknowledged transaction or deposit and applies none twice; settlement resumes; a follower
agrees with it."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from node_env import chain_config
from web3 import Web3

from rollupkit.l1.anvil import free_port
from rollupkit.l1.contracts import RollupContracts
from rollupkit.l1.devnet import dev_accounts
from rollupkit.l1.node import start_devnet
from rollupkit.node.deploy import deploy_for_chain
from rollupkit.node.node import Node, NodeConfig
from rollupkit.node.settings import dump
from rollupkit.testing.wallets import dev_wallets

KILLS = int(os.environ.get("ROLLUPKIT_CRASH_KILLS", "20"))


def rpc(url: str, method: str, *params: Any, timeout: float = 5) -> dict[str, Any]:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


class NodeProcess:
    def __init__(self, config_path: Path, url: str) -> None:
        self.config_path, self.url = config_path, url
        self.process: subprocess.Popen[bytes] | None = None
        self.log = open(config_path.parent / "node.log", "ab")  # noqa: SIM115 - kept open across restarts

    def start(self) -> None:
        env = dict(os.environ, ROLLUPKIT_PLUGINS="builtin")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rollupkit_cli", "node", "start", "-c", str(self.config_path)],
            stdout=self.log,
            stderr=self.log,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                rpc(self.url, "eth_blockNumber", timeout=1)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise AssertionError("the node exited at start; see node.log") from None
                time.sleep(0.05)
        raise AssertionError("the node did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


class Sender(threading.Thread):
    """Sends transfers continuously; remembers each one the node acknowledged."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.wallets = dev_wallets(6, 42_424)[1:5]
        self.acknowledged: dict[bytes, tuple[bytes, int]] = {}
        self.stop_flag = threading.Event()

    def run(self) -> None:
        rng = random.Random(5)
        while not self.stop_flag.is_set():
            wallet = rng.choice(self.wallets)
            raw = wallet.transfer(b"\x55" * 20, 1, nonce=wallet.nonce)
            tx_hash = Web3.keccak(raw)
            while not self.stop_flag.is_set():
                try:
                    answer = rpc(self.url, "eth_sendRawTransaction", "0x" + raw.hex())
                except (OSError, urllib.error.URLError):
                    time.sleep(0.05)  # the node is down: send the same bytes again later
                    continue
                message = answer.get("error", {}).get("message", "")
                if "result" in answer or "already known" in message or "nonce too low" in message:
                    # Acknowledged now, or before a crash cut the answer off.
                    self.acknowledged[bytes(tx_hash)] = (wallet.address, wallet.nonce)
                    wallet.nonce += 1
                    break
                raise AssertionError(f"unexpected refusal: {message}")
            time.sleep(0.01)


@pytest.mark.slow
def test_sigkill_loses_nothing_acknowledged(tmp_path: Path) -> None:
    chain = chain_config()
    with start_devnet() as l1:
        accounts = dev_accounts(4)
        settings = deploy_for_chain(
            chain, l1.url, accounts[0], batcher_key=bytes(accounts[1].key), batch_interval=0.5
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        config = NodeConfig(
            tmp_path / "sequencer", chain, block_time=0.2, rpc_port=port, l1=settings
        )
        config_path = tmp_path / "rollup.toml"
        dump(config, config_path)
        node = NodeProcess(config_path, url)
        try:
            head = _kill_repeatedly_and_check(node, url, l1.url, settings, accounts[2])
        finally:
            node.stop()
        _follower_agrees(tmp_path, chain, settings, head)


def _kill_repeatedly_and_check(
    node: NodeProcess, url: str, l1_url: str, settings: Any, l1_user: Any
) -> int:
    node.start()
    sender = Sender(url)
    sender.start()
    contracts = RollupContracts(Web3(Web3.HTTPProvider(l1_url)), settings.deployment, l1_user)
    deposit_target = b"\x66" * 20
    deposits: list[int] = []
    rng = random.Random(11)
    try:
        for kill in range(KILLS):
            time.sleep(rng.uniform(0.1, 1.2))
            amount = 10**15 + kill
            contracts.deposit(deposit_target, amount)  # acknowledged by L1
            deposits.append(amount)
            node.kill()
            node.start()
    finally:
        sender.stop_flag.set()
        sender.join(timeout=30)
    acknowledged = dict(sender.acknowledged)
    assert len(acknowledged) > 50, "the sender should have got many transactions through"

    # Let the node drain its mempool and the queue, and settle everything.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = rpc(url, "rollup_status")["result"]
        head = int(status["head"], 16)
        if (
            int(status["pendingTransactions"], 16) == 0
            and int(status["queueIndex"], 16) == len(deposits)
            and int(status["settledBlock"], 16) == head
        ):
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"the node did not catch up: {status}")

    # Every acknowledged transaction is in the chain exactly once, in nonce order.
    w3 = Web3(Web3.HTTPProvider(url))
    seen: dict[bytes, int] = {}
    per_sender: dict[bytes, list[int]] = {}
    for number in range(1, head + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            seen[bytes(tx["hash"])] = seen.get(bytes(tx["hash"]), 0) + 1
            per_sender.setdefault(bytes.fromhex(tx["from"][2:]), []).append(tx["nonce"])
    missing = [h.hex() for h in acknowledged if h not in seen]
    assert not missing, f"{len(missing)} acknowledged transactions were lost"
    assert all(count == 1 for count in seen.values())
    for nonces in per_sender.values():
        assert nonces == list(range(len(nonces)))
    # Every deposit was credited exactly once, and L1 settled the node's head.
    assert w3.eth.get_balance("0x" + deposit_target.hex()) == sum(deposits)
    assert contracts.state()["consumed"] == len(deposits)
    assert bytes(contracts.state()["state_root"]) == bytes(w3.eth.get_block(head)["stateRoot"])
    return head


def _follower_agrees(tmp_path: Path, chain: Any, settings: Any, head: int) -> None:
    """A follower, from L1 alone, reaches the same blocks as the crashed sequencer."""
    with Node(
        NodeConfig(tmp_path / "follower", chain, role="follower", l1=settings, l1_poll=0.2)
    ) as follower:
        deadline = time.monotonic() + 120
        while follower.store.head_number() < head and time.monotonic() < deadline:
            time.sleep(0.2)
        assert follower.store.head_number() == head, follower.errors
        sequencer_view = Node(NodeConfig(tmp_path / "sequencer", chain, role="follower"))
        try:
            for number in range(head + 1):
                assert follower.chain.header_info(number) == sequencer_view.chain.header_info(
                    number
                )
        finally:
            sequencer_view.server.stop()
            sequencer_view.store.close()
