"""The L2 JSON-RPC: every bad transaction gets a spec error and message; malformed JSON, huge
bodies and batch requests are handled; replacement by fee; web3.py and cast work."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from node_env import chain_config
from rpc_env import post as post_to
from web3 import Web3

from rollupkit.l1.anvil import NodeToolMissing, find_tool
from rollupkit.node.node import Node, NodeConfig
from rollupkit.testing.wallets import dev_wallets


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with Node(NodeConfig(tmp_path_factory.mktemp("l2"), chain_config(), block_time=0.1)) as running:
        yield running


def rpc(url: str, method: str, *params: Any) -> dict[str, Any]:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def send(url: str, raw: bytes) -> dict[str, Any]:
    return rpc(url, "eth_sendRawTransaction", "0x" + raw.hex())


def test_bad_transactions_are_refused_with_reasons(node: Node) -> None:
    w = dev_wallets(6, 42_424)
    good = w[1].transfer(w[2].address, 1, nonce=100)
    fields = rlp.decode(good[1:])
    fields[-1] = b"\xff" * 32
    cases = {
        "invalid transaction": good[:1] + rlp.encode(fields),  # bad signature
        "invalid chain id": w[1].transfer(w[2].address, 1, nonce=0, chain_id=1),
        "insufficient funds": bytes(
            Account.create()
            .sign_transaction(
                {
                    "chainId": 42_424,
                    "nonce": 0,
                    "to": w[2].checksum_address,
                    "value": 1,
                    "gas": 21_000,
                    "maxFeePerGas": 10**10,
                    "maxPriorityFeePerGas": 1,
                }
            )
            .raw_transaction
        ),
        "oversized transaction": w[1].sign(
            to=w[2].address, data=b"\x01" * (128 * 1024 + 1), gas=29_000_000, nonce=0
        ),
        "intrinsic gas too low": w[1].sign(to=w[2].address, gas=20_000, nonce=0),
        "exceeds block gas limit": w[1].sign(to=w[2].address, gas=31_000_000, nonce=0),
        "less than block base fee": w[1].sign(to=w[2].address, max_fee=1, tip=1, nonce=0),
        "nonce too high": w[1].transfer(w[2].address, 1, nonce=10_000),
    }
    for expected, raw in cases.items():
        answer = send(node.url, raw)
        assert answer["error"]["code"] == -32000, (expected, answer)
        assert expected in answer["error"]["message"], (expected, answer)
    first = w[3].transfer(w[4].address, 1)
    assert "result" in send(node.url, first)
    node_w3 = Web3(Web3.HTTPProvider(node.url))
    assert node_w3.eth.wait_for_transaction_receipt(Web3.keccak(first), poll_latency=0.05)["status"]
    answer = send(node.url, w[3].transfer(w[4].address, 2, nonce=0))
    assert "nonce too low" in answer["error"]["message"]
    assert "already known" in send(node.url, first)["error"]["message"]


def test_replacement_needs_a_higher_tip(tmp_path: Path) -> None:
    # A node that does not produce blocks, so both versions meet in the mempool.
    with Node(NodeConfig(tmp_path, chain_config(), block_time=3600)) as quiet:
        w = dev_wallets(6, 42_424)
        assert "result" in send(quiet.url, w[5].transfer(w[1].address, 1, tip=10**9, nonce=0))
        low = send(quiet.url, w[5].transfer(w[1].address, 2, tip=10**9 + 1, nonce=0))
        assert "replacement transaction underpriced" in low["error"]["message"]
        high = send(quiet.url, w[5].transfer(w[1].address, 3, tip=2 * 10**9, nonce=0))
        assert "result" in high
        assert len(quiet.mempool) == 1  # type: ignore[arg-type]
        quiet.produce_block()
        receipt = rpc(quiet.url, "eth_getTransactionReceipt", high["result"])["result"]
        assert receipt["status"] == "0x1"
        assert rpc(quiet.url, "eth_getBalance", w[1].checksum_address, "latest")["result"] == hex(
            10**24 + 3
        )


def test_a_sender_may_queue_a_run_of_nonces_but_not_a_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """benchmarks/node.py lost a sender thread to "gap over 64": 65 transactions in a row, no
    nonce missing, were refused as if there were a gap."""
    from rollupkit.node import mempool

    monkeypatch.setattr(mempool, "MAX_PENDING_PER_SENDER", 100)
    with Node(NodeConfig(tmp_path, chain_config(), block_time=3600)) as quiet:
        w = dev_wallets(6, 42_424)
        for nonce in range(100):  # a run, far past the gap limit of 64
            assert "result" in send(quiet.url, w[1].transfer(w[2].address, 1, nonce=nonce))
        over = send(quiet.url, w[1].transfer(w[2].address, 1, nonce=100))
        assert "over 100 pending for one sender" in over["error"]["message"]
        gap = send(quiet.url, w[3].transfer(w[2].address, 1, nonce=70))  # nonces 0-69 missing
        assert "nonce 0 is missing" in gap["error"]["message"]
        assert "result" in send(quiet.url, w[3].transfer(w[2].address, 1, nonce=64))  # a gap ≤ 64
        monkeypatch.setattr(mempool, "MAX_PENDING", len(quiet.mempool))  # type: ignore[arg-type]
        full = send(quiet.url, w[4].transfer(w[2].address, 1, nonce=0))
        assert "txpool is full" in full["error"]["message"]
        quiet.produce_block()  # the run is included in nonce order
        assert rpc(quiet.url, "eth_getTransactionCount", w[1].checksum_address, "latest")[
            "result"
        ] == hex(100)


def test_malformed_json_huge_bodies_and_batches(node: Node) -> None:
    def post(body: bytes) -> tuple[int, Any]:
        return post_to(node.url, body)

    assert post(b"{]")[1]["error"]["code"] == -32700
    status, answer = post(b'"' + b"a" * (33 * 1024 * 1024) + b'"')
    assert status == 413 and answer["error"]["code"] == -32600
    status, answers = post(
        json.dumps(
            [
                {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"},
                {"jsonrpc": "2.0", "id": 2, "method": "eth_getBalance", "params": ["0x12"]},
                {"jsonrpc": "2.0", "id": 3, "method": "rollup_status"},
            ]
        ).encode()
    )
    by_id = {a["id"]: a for a in answers}
    assert by_id[1]["result"].startswith("0x") and by_id[2]["error"]["code"] == -32602
    assert by_id[3]["result"]["role"] == "sequencer"


def test_cast_reads_and_sends(node: Node) -> None:
    try:
        cast = str(find_tool("cast"))
    except NodeToolMissing:
        pytest.skip("npm install provides cast")
    w = dev_wallets(6, 42_424)

    def run(*args: str) -> str:
        done = subprocess.run(
            [cast, *args, "--rpc-url", node.url],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run("chain-id") == "42424"
    run("send", "--private-key", "0x" + w[2].private_key.hex(), "0x" + "77" * 20, "--value", "5")
    assert run("balance", "0x" + "77" * 20) == "5"
    assert int(run("block-number")) >= 1
