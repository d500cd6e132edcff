"""The JSON-RPC server: spec error codes for every kind of bad input, never a 500 or a hang."""

from __future__ import annotations

import json

import pytest
from rpc_env import call, post

from rollupkit.l1.node import start_devnet


@pytest.fixture(scope="module")
def url():  # type: ignore[no-untyped-def]
    with start_devnet() as running:
        yield running.url


def test_errors_use_the_spec_codes(url: str) -> None:
    assert post(url, "{not json")[1]["error"]["code"] == -32700
    assert post(url, json.dumps({"id": 1, "method": "eth_chainId"}))[1]["error"]["code"] == -32600
    assert post(url, json.dumps([]))[1]["error"]["code"] == -32600
    assert call(url, "eth_noSuchMethod")["error"]["code"] == -32601
    assert call(url, "eth_getBalance")["error"]["code"] == -32602  # missing the address
    assert call(url, "eth_getBalance", "0x1234")["error"]["code"] == -32602  # not 20 bytes
    assert call(url, "eth_getBalance", "0x" + "11" * 20, "0xzz")["error"]["code"] == -32602
    assert call(url, "eth_getBlockByNumber", "0x99999")["result"] is None
    assert call(url, "eth_getBalance", "0x" + "11" * 20, "0x99999")["error"]["code"] == -32000
    answer = call(url, "eth_sendRawTransaction", "0x02c0")
    assert answer["error"]["code"] == -32000 and "invalid transaction" in answer["error"]["message"]
    assert call(url, "eth_chainId")["result"] == "0x539"


def test_batches_and_notifications(url: str) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "method": "eth_blockNumber"},  # a notification: no answer
        {"jsonrpc": "2.0", "id": 3, "method": "nope"},
        "garbage",
    ]
    status, answers = post(url, json.dumps(batch))
    assert status == 200
    by_id = {a["id"]: a for a in answers}
    assert by_id[1]["result"] == "0x539"
    assert by_id[3]["error"]["code"] == -32601
    assert by_id[None]["error"]["code"] == -32600
    assert len(answers) == 3
    status, answer = post(url, json.dumps({"jsonrpc": "2.0", "method": "eth_chainId"}))
    assert (status, answer) == (204, None)
    status, answer = post(
        url, json.dumps([{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(1001)])
    )
    assert answer["error"]["code"] == -32600 and "over 1000" in answer["error"]["message"]


def test_huge_body_is_refused_with_a_json_error(url: str) -> None:
    status, answer = post(url, b"[" + b" " * (33 * 1024 * 1024) + b"]")
    assert status == 413 and answer["error"]["code"] == -32600


def test_revert_carries_code_3_and_data(url: str) -> None:
    from rollupkit.testing.contracts import artifact
    from rollupkit.testing.evm import calldata

    # Deploy the Store contract through eth_sendTransaction (dev accounts are unlocked), then
    # call fail(), which reverts with a reason string.
    sender = call(url, "eth_accounts")["result"][0]
    tx_hash = call(
        url,
        "eth_sendTransaction",
        {"from": sender, "data": "0x" + artifact("Store").bytecode.hex(), "gas": hex(1_000_000)},
    )["result"]
    receipt = call(url, "eth_getTransactionReceipt", tx_hash)["result"]
    data = "0x" + calldata("fail(uint256)", 1).hex()
    answer = call(
        url, "eth_call", {"from": sender, "to": receipt["contractAddress"], "data": data}, "latest"
    )
    assert answer["error"]["code"] == 3
    assert answer["error"]["message"] == "execution reverted: Store: failed on purpose"
    assert answer["error"]["data"].startswith("0x08c379a0")


def test_nonce_too_low_and_insufficient_funds(url: str) -> None:
    from eth_account import Account

    from rollupkit.l1.devnet import dev_accounts

    account = dev_accounts(10)[9]
    base = {
        "chainId": 1337,
        "to": account.address,
        "gas": 21000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 1,
    }
    nonce = int(call(url, "eth_getTransactionCount", account.address, "pending")["result"], 16)
    first = account.sign_transaction({**base, "nonce": nonce, "value": 1}).raw_transaction
    assert "result" in call(url, "eth_sendRawTransaction", "0x" + first.hex())
    again = account.sign_transaction({**base, "nonce": nonce, "value": 2}).raw_transaction
    answer = call(url, "eth_sendRawTransaction", "0x" + again.hex())
    assert answer["error"]["code"] == -32000 and "nonce too low" in answer["error"]["message"]
    poor = Account.create()
    broke = poor.sign_transaction({**base, "nonce": 0, "value": 1}).raw_transaction
    answer = call(url, "eth_sendRawTransaction", "0x" + broke.hex())
    assert "insufficient funds" in answer["error"]["message"]
    other_chain = account.sign_transaction(
        {**base, "chainId": 1, "nonce": nonce + 1, "value": 1}
    ).raw_transaction
    assert (
        "invalid chain id"
        in call(url, "eth_sendRawTransaction", "0x" + other_chain.hex())["error"]["message"]
    )
