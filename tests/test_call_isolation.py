"""Calls run on pooled, reused py-evm states (rollupkit.pyevm_engine.CallStates): whatever
one call writes (storage, transient storage, nonces via CREATE, balances via value, warm
slots) must be gone for the next, on the L1 and on the L2 alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import rlp
from eth_hash.auto import keccak
from node_env import chain_config
from rpc_env import call

from rollupkit.l1.node import start_devnet
from rollupkit.node.node import Node, NodeConfig
from rollupkit.testing.wallets import dev_wallets
from rollupkit.types import GenesisAccount

# Returns five words, then changes what each of them reads:
#   slot 0 | gas of a SLOAD of slot 0 (cold: 2104, warm: 104) | transient slot 0 |
#   SELFBALANCE | the address of an empty contract it CREATEs (from its own nonce)
# and then sets slot 0 and transient slot 0 to 1.
PROBE = bytes.fromhex(
    "5a5f545a82036020525f52505f5c60405247606052"  # read slot 0 and its gas, tload, balance
    "5f5f5ff0608052"  # CREATE an empty contract
    "60015f5560015f5d"  # sstore(0, 1), tstore(0, 1)
    "60a05ff3"  # return 160 bytes
)
PROBE_ADDRESS = b"\x44" * 20


def _expected(probe_address: bytes, value: int) -> str:
    created = keccak(rlp.encode([probe_address, 1]))[12:]  # the probe's nonce is 1
    words = [0, 2104, 0, value, int.from_bytes(created, "big")]
    return "0x" + b"".join(w.to_bytes(32, "big") for w in words).hex()


@pytest.fixture(params=["l1", "l2"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(RPC URL, probe address, a funded sender)."""
    if request.param == "l2":
        chain = chain_config()
        alloc = {**chain.alloc, PROBE_ADDRESS: GenesisAccount(code=PROBE, nonce=1)}
        sender = "0x" + dev_wallets(1, chain.chain_id)[0].address.hex()
        with Node(NodeConfig(tmp_path, replace(chain, alloc=alloc))) as node:
            yield node.url, "0x" + PROBE_ADDRESS.hex(), sender
        return
    with start_devnet() as running:
        sender = running.devnet.accounts[0].address
        init = bytes.fromhex("60") + bytes([len(PROBE)]) + bytes.fromhex("600c60003960") + bytes(
            [len(PROBE)]
        ) + bytes.fromhex("6000f3")  # fmt: skip
        tx_hash = call(
            running.url,
            "eth_sendTransaction",
            {"from": sender, "data": "0x" + (init + PROBE).hex()},
        )
        receipt = call(running.url, "eth_getTransactionReceipt", tx_hash["result"])["result"]
        yield running.url, receipt["contractAddress"], sender


def test_a_call_sees_nothing_an_earlier_call_did(target: tuple[str, str, str]) -> None:
    url, probe, sender = target
    expected = _expected(bytes.fromhex(probe[2:]), 5)
    for attempt in range(6):  # more calls than the pool keeps states per block
        answer = call(url, "eth_call", {"from": sender, "to": probe, "value": "0x5"}, "latest")
        assert answer.get("result") == expected, (attempt, answer)
    # Nothing leaked into the chain either.
    assert call(url, "eth_getStorageAt", probe, "0x0", "latest")["result"] in (
        "0x0",
        "0x" + "00" * 32,
    )
    assert call(url, "eth_getBalance", probe, "latest")["result"] == "0x0"
