"""L2 → L1 withdrawals: how they are recognised, hashed and committed to.

A withdrawal is a ``WithdrawalInitiated`` log emitted by the L2 bridge predeploy at
:data:`L2_BRIDGE_ADDRESS`. Only code at that address can emit logs from it, and that code is
fixed at genesis, so a trace cannot invent a withdrawal. EXECUTE commits to the withdrawals of
a trace with a binary keccak Merkle root (:func:`withdrawals_root`) that the L1 bridge checks
claims against with :func:`verify_withdrawal_proof`'s rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from rollupkit.types import ZERO_HASH, Withdrawal

#: The L2 bridge predeploy (the 0x42… prefix marks rollup predeploys).
L2_BRIDGE_ADDRESS = bytes.fromhex("4200000000000000000000000000000000000010")

WITHDRAWAL_EVENT_SIGNATURE = "WithdrawalInitiated(uint256,address,address,uint256,bytes)"
#: topic0 of ``WithdrawalInitiated(uint256 indexed nonce, address indexed sender,
#: address indexed target, uint256 value, bytes data)``.
WITHDRAWAL_EVENT_TOPIC = keccak(WITHDRAWAL_EVENT_SIGNATURE.encode())


def withdrawal_leaf(withdrawal: Withdrawal) -> bytes:
    """``keccak256(abi.encode(nonce, sender, target, value, keccak256(data)))``."""
    return keccak(
        abi_encode(
            ["uint256", "address", "address", "uint256", "bytes32"],
            [
                withdrawal.nonce,
                withdrawal.sender,
                withdrawal.target,
                withdrawal.value,
                keccak(withdrawal.data),
            ],
        )
    )


def withdrawals_from_logs(
    logs: Iterable[tuple[bytes, Sequence[bytes], bytes]],
) -> tuple[Withdrawal, ...]:
    """Pick the withdrawals out of ``(address, topics, data)`` logs, in log order.

    Logs from the bridge address that are not well-formed withdrawal events are ignored: the
    bridge may emit other events, and a malformed one cannot come from correct bridge code.
    """
    found = []
    for address, topics, data in logs:
        if address != L2_BRIDGE_ADDRESS or len(topics) != 4:
            continue
        if topics[0] != WITHDRAWAL_EVENT_TOPIC:
            continue
        try:
            value, payload = abi_decode(["uint256", "bytes"], data)
        except Exception:  # noqa: BLE001 - not a withdrawal event after all
            continue
        found.append(
            Withdrawal(
                nonce=int.from_bytes(topics[1], "big"),
                sender=topics[2][12:],
                target=topics[3][12:],
                value=value,
                data=payload,
            )
        )
    return tuple(found)


def _levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    width = 1
    while width < len(leaves):
        width *= 2
    level = list(leaves) + [ZERO_HASH] * (width - len(leaves))
    levels = [level]
    while len(level) > 1:
        level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        levels.append(level)
    return levels


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Binary keccak Merkle root, leaves padded with zero hashes to a power of two.

    The root of no leaves is the zero hash; of one leaf, the leaf itself.
    """
    if not leaves:
        return ZERO_HASH
    return _levels(leaves)[-1][0]


def merkle_proof(leaves: Sequence[bytes], index: int) -> tuple[bytes, ...]:
    """The sibling hashes from leaf ``index`` up to the root."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf index {index} out of range for {len(leaves)} leaves")
    proof = []
    for level in _levels(leaves)[:-1]:
        proof.append(level[index ^ 1])
        index //= 2
    return tuple(proof)


def verify_merkle_proof(root: bytes, leaf: bytes, index: int, proof: Sequence[bytes]) -> bool:
    """True if ``leaf`` sits at ``index`` under ``root`` (the rule the L1 bridge applies)."""
    node = leaf
    for sibling in proof:
        node = keccak(node + sibling) if index % 2 == 0 else keccak(sibling + node)
        index //= 2
    return index == 0 and node == root


def withdrawals_root(withdrawals: Sequence[Withdrawal]) -> bytes:
    """The root EXECUTE outputs for a trace's withdrawals, in execution order."""
    return merkle_root([withdrawal_leaf(w) for w in withdrawals])
