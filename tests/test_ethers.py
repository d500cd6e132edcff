"""ethers v6 (a real dapp library, strict about response formats) against the embedded L1."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from rollupkit.l1.node import start_devnet
from rollupkit.solidity import CompilerError, find_node_modules
from rollupkit.testing.contracts import CONTRACTS_DIR

SCRIPT = Path(__file__).parent / "js" / "ethers_client.mjs"


def _node_modules() -> Path | None:
    try:
        modules = find_node_modules()
    except CompilerError:
        return None
    return modules if (modules / "ethers").is_dir() else None


@pytest.mark.skipif(
    shutil.which("node") is None or _node_modules() is None,
    reason="needs node and `npm install` (ethers)",
)
def test_ethers_deploys_sends_calls_estimates_and_reads(tmp_path: Path) -> None:
    # ESM resolves packages from the script's folder upwards: run a copy beside node_modules.
    script = _node_modules().parent / f".ethers-client-{tmp_path.name}.mjs"  # type: ignore[union-attr]
    script.write_text(SCRIPT.read_text())
    try:
        with start_devnet() as running:
            key = "0x" + bytes(running.devnet.accounts[0].key).hex()
            done = subprocess.run(
                [
                    "node",
                    str(script),
                    running.url,
                    key,
                    str(CONTRACTS_DIR / "build" / "Store.json"),
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
    finally:
        script.unlink()
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["chainId"] == 1337
    assert seen["status"] == 1 and seen["logs"] == 1
    assert seen["value"] == 99 and seen["eventValue"] == 99
    assert 21_000 < seen["estimate"] < 100_000
    assert seen["proofNodes"] >= 1
    assert seen["revert"] == "Store: failed on purpose"
    assert seen["blockAfter"] == seen["blockBefore"] + 2
    assert seen["blockTransactions"] == 1


WS_SCRIPT = Path(__file__).parent / "js" / "ethers_ws.mjs"


@pytest.mark.skipif(
    shutil.which("node") is None or _node_modules() is None,
    reason="needs node and `npm install` (ethers)",
)
def test_ethers_contract_on_receives_l2_events_over_websocket(tmp_path: Path) -> None:
    from node_env import chain_config

    from rollupkit.node.node import Node, NodeConfig
    from rollupkit.node.sequencer import SequencerPolicy
    from rollupkit.testing.wallets import dev_wallets

    chain = chain_config()
    key = "0x" + dev_wallets(1, chain.chain_id)[0].private_key.hex()
    script = _node_modules().parent / f".ethers-ws-{tmp_path.name}.mjs"  # type: ignore[union-attr]
    script.write_text(WS_SCRIPT.read_text())
    try:
        # Blocks keep coming, as on a chain with a fixed block time: ethers, over WebSocket,
        # waits for the block after a transaction's (and caches a receipt lookup for 250 ms).
        policy = SequencerPolicy(empty_blocks=True)
        config = NodeConfig(tmp_path / "node", chain, block_time=0.3, policy=policy)
        with Node(config) as node:
            done = subprocess.run(
                ["node", str(script), node.server.ws_url, key,
                 str(CONTRACTS_DIR / "build" / "Store.json")],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
    finally:
        script.unlink()
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["events"] == [[7, 99]]
    assert seen["blocks"] >= 1 and seen["pending"] >= 1
