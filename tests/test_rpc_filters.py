"""Filters (eth_newFilter, eth_newBlockFilter, eth_getFilterChanges, eth_getFilterLogs,
eth_uninstallFilter) and eth_getBlockReceipts through web3.py, on the L1 and on the L2; the
small answers geth gives that libraries rely on (block size, eth_getProof keys as sent)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from node_env import chain_config
from rpc_env import call
from web3 import Web3

from rollupkit.l1.node import start_devnet
from rollupkit.node.node import Node, NodeConfig
from rollupkit.testing.wallets import dev_wallets
from rollupkit.types import GenesisAccount

TOPIC = bytes.fromhex("ab" * 32)
# LOG1(memory[0:32] = 42, topic TOPIC), then stop.
EMITTER = bytes.fromhex("602a5f527f" + TOPIC.hex() + "60205fa100")
EMITTER_ADDRESS = b"\x45" * 20


@pytest.fixture(params=["l1", "l2"])
def chain(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Web3, str, Any]]:
    """(web3, the emitter's address, a function sending a call to it and returning the hash)."""
    if request.param == "l2":
        config = chain_config()
        alloc = {**config.alloc, EMITTER_ADDRESS: GenesisAccount(code=EMITTER, nonce=1)}
        wallet = dev_wallets(1, config.chain_id)[0]
        with Node(NodeConfig(tmp_path, replace(config, alloc=alloc), block_time=0.1)) as node:
            w3 = Web3(Web3.HTTPProvider(node.url))
            nonce = iter(range(100))

            def send() -> Any:
                raw = wallet.sign(to=EMITTER_ADDRESS, gas=50_000, nonce=next(nonce))
                return w3.eth.send_raw_transaction(raw)

            yield w3, Web3.to_checksum_address(EMITTER_ADDRESS), send
        return
    with start_devnet() as running:
        w3 = Web3(Web3.HTTPProvider(running.url))
        sender = running.devnet.accounts[0].address
        init = bytes.fromhex(f"60{len(EMITTER):02x}600c60003960{len(EMITTER):02x}6000f3")
        deployed = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": sender, "data": init + EMITTER})
        )
        address = deployed["contractAddress"]
        yield w3, address, lambda: w3.eth.send_transaction({"from": sender, "to": address})


def test_log_and_block_filters_report_what_is_new(chain: tuple[Web3, str, Any]) -> None:
    w3, emitter, send = chain
    # From block 0: eth_getFilterLogs answers for the whole range; changes start at install.
    logs = w3.eth.filter({"address": emitter, "fromBlock": 0, "topics": ["0x" + TOPIC.hex()]})
    other = w3.eth.filter({"address": "0x" + "99" * 20})
    blocks = w3.eth.filter("latest")
    assert logs.get_new_entries() == [] and blocks.get_new_entries() == []

    receipt = w3.eth.wait_for_transaction_receipt(send(), poll_latency=0.05)
    new = logs.get_new_entries()
    assert [(e["transactionHash"], e["topics"][0]) for e in new] == [
        (receipt["transactionHash"], TOPIC)
    ]
    assert int.from_bytes(new[0]["data"], "big") == 42
    assert logs.get_new_entries() == []  # reported once
    assert other.get_new_entries() == []
    assert receipt["blockHash"] in blocks.get_new_entries()
    assert len(logs.get_all_entries()) == 1

    second = w3.eth.wait_for_transaction_receipt(send(), poll_latency=0.05)
    assert [e["transactionHash"] for e in logs.get_new_entries()] == [second["transactionHash"]]
    assert len(logs.get_all_entries()) == 2

    assert w3.eth.uninstall_filter(logs.filter_id) is True
    assert w3.eth.uninstall_filter(logs.filter_id) is False
    answer = w3.provider.make_request("eth_getFilterChanges", [logs.filter_id])  # type: ignore[arg-type]
    assert answer["error"]["message"] == "filter not found"


def test_block_receipts_are_the_transactions_receipts(chain: tuple[Web3, str, Any]) -> None:
    w3, _, send = chain
    hashes = [send(), send()]
    receipts = [w3.eth.wait_for_transaction_receipt(h, poll_latency=0.05) for h in hashes]
    for receipt in receipts:
        url = w3.provider.endpoint_uri  # type: ignore[attr-defined]
        block = call(url, "eth_getBlockReceipts", hex(receipt["blockNumber"]))["result"]
        single = call(url, "eth_getTransactionReceipt", receipt["transactionHash"].to_0x_hex())
        assert single["result"] in block
        assert len(block) == len(w3.eth.get_block(receipt["blockNumber"])["transactions"])
        assert int(w3.eth.get_block(receipt["blockNumber"])["size"]) > 500  # header + txs


def test_filters_are_capped_and_expire() -> None:
    from rollupkit.errors import RpcError
    from rollupkit.rpc.filters import Filters

    filters = Filters(timeout=0.05, limit=3)
    ids = [filters.install("blocks", 1) for _ in range(3)]
    with pytest.raises(RpcError, match="too many filters"):
        filters.install("blocks", 1)
    time.sleep(0.1)  # none polled: all expire
    filters.install("blocks", 1)
    with pytest.raises(RpcError, match="filter not found"):
        filters.get(ids[0])


def test_get_proof_echoes_the_storage_keys_as_sent() -> None:
    with start_devnet() as running:
        address = running.devnet.accounts[0].address
        keys = ["0x" + "00" * 32, "0x1", "0x" + "00" * 31 + "05"]
        proof = call(running.url, "eth_getProof", address, keys, "latest")["result"]
        assert [item["key"] for item in proof["storageProof"]] == keys


def test_receipts_in_a_full_block_have_their_gas_and_log_indexes(tmp_path: Path) -> None:
    """A receipt is answered from its own row (the block's gas and logs before it are kept
    with it); rows from before those were kept are counted from the block."""
    config = chain_config()
    alloc = {**config.alloc, EMITTER_ADDRESS: GenesisAccount(code=EMITTER, nonce=1)}
    wallet = dev_wallets(1, config.chain_id)[0]
    node = Node(NodeConfig(tmp_path, replace(config, alloc=alloc))).start(background=False)
    try:
        hashes = [
            call(node.url, "eth_sendRawTransaction",
                 "0x" + wallet.sign(to=EMITTER_ADDRESS, gas=50_000, nonce=n).hex())["result"]
            for n in range(5)
        ]  # fmt: skip
        node.produce_block()
        block = call(node.url, "eth_getBlockReceipts", "0x1")["result"]
        assert [r["logs"][0]["logIndex"] for r in block] == [hex(i) for i in range(5)]
        assert len({r["gasUsed"] for r in block}) == 1  # each its own gas, not cumulative
        singles = [call(node.url, "eth_getTransactionReceipt", h)["result"] for h in hashes]
        assert singles == block
        node.store.db.execute("UPDATE txs SET gas_before = -1, first_log = -1")
        node.store.db.commit()
        assert [call(node.url, "eth_getTransactionReceipt", h)["result"] for h in hashes] == block
    finally:
        node.stop()
