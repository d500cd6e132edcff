"""Withdrawal recognition and Merkle commitments; the L1 queue's rolling hash."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_hash.auto import keccak

from rollupkit import messages as queue
from rollupkit.errors import InvalidMessageError
from rollupkit.types import L1Message, MessageKind, QueuePosition, Withdrawal
from rollupkit.withdrawals import (
    L2_BRIDGE_ADDRESS,
    WITHDRAWAL_EVENT_TOPIC,
    merkle_proof,
    merkle_root,
    verify_merkle_proof,
    withdrawal_leaf,
    withdrawals_from_logs,
)


def _log(
    nonce: int,
    sender: bytes,
    target: bytes,
    value: int,
    data: bytes,
    address: bytes = L2_BRIDGE_ADDRESS,
):  # type: ignore[no-untyped-def]
    topics = [
        WITHDRAWAL_EVENT_TOPIC,
        nonce.to_bytes(32, "big"),
        sender.rjust(32, b"\0"),
        target.rjust(32, b"\0"),
    ]
    return address, topics, encode(["uint256", "bytes"], [value, data])


def test_only_bridge_withdrawal_events_count() -> None:
    logs = [
        _log(0, b"\x01" * 20, b"\x02" * 20, 5, b"hi"),
        _log(1, b"\x01" * 20, b"\x02" * 20, 5, b"", address=b"\x99" * 20),  # another contract
        (L2_BRIDGE_ADDRESS, [keccak(b"Other()")], b""),  # another event of the bridge
        (L2_BRIDGE_ADDRESS, [WITHDRAWAL_EVENT_TOPIC, b"\0" * 32, b"\0" * 32, b"\0" * 32], b"\x01"),
        _log(1, b"\x03" * 20, b"\x04" * 20, 7, b""),
    ]
    found = withdrawals_from_logs(logs)
    assert found == (
        Withdrawal(0, b"\x01" * 20, b"\x02" * 20, 5, b"hi"),
        Withdrawal(1, b"\x03" * 20, b"\x04" * 20, 7, b""),
    )


def test_leaf_matches_the_solidity_encoding() -> None:
    w = Withdrawal(3, b"\x01" * 20, b"\x02" * 20, 10**18, b"payload")
    expected = keccak(
        encode(
            ["uint256", "address", "address", "uint256", "bytes32"],
            [3, w.sender, w.target, 10**18, keccak(b"payload")],
        )
    )
    assert withdrawal_leaf(w) == expected == w.leaf()


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13])
def test_every_leaf_proves_and_nothing_else_does(count: int) -> None:
    leaves = [keccak(bytes([i])) for i in range(count)]
    root = merkle_root(leaves)
    for index, leaf in enumerate(leaves):
        proof = merkle_proof(leaves, index)
        assert verify_merkle_proof(root, leaf, index, proof)
        assert not verify_merkle_proof(root, keccak(b"forged"), index, proof)
        if count > 1:
            assert not verify_merkle_proof(root, leaf, (index + 1) % count, proof)
    assert merkle_root([]) == b"\0" * 32
    with pytest.raises(IndexError):
        merkle_proof(leaves, count)


def test_rolling_hash_and_contiguity() -> None:
    msgs = [
        L1Message(MessageKind.DEPOSIT, i, b"\x01" * 20, b"\x02" * 20, i, 0, b"") for i in range(3)
    ]
    end = queue.consume(QueuePosition(), msgs)
    expected = b"\0" * 32
    for m in msgs:
        leaf = encode(
            ["uint8", "uint64", "address", "address", "uint256", "uint64", "bytes32"],
            [0, m.index, m.sender, m.target, m.value, 0, keccak(b"")],
        )
        expected = keccak(expected + keccak(leaf))
    assert end == QueuePosition(3, expected)
    assert queue.consume(queue.consume(QueuePosition(), msgs[:1]), msgs[1:]) == end
    with pytest.raises(InvalidMessageError, match="expected queue index 1, got 2"):
        queue.consume(QueuePosition(), [msgs[0], msgs[2]])
