"""The L1 → L2 message queue's rolling hash.

The L1 bridge appends every deposit and forced transaction to a queue and keeps
``H[i+1] = keccak256(H[i] ‖ message_hash_i)`` with ``H[0] = 0`` (the message hash is
:meth:`rollupkit.types.L1Message.hash`). A trace names the position it starts from (index
and ``H``); EXECUTE recomputes the hash over the messages the blocks consume, and the
settlement contract checks both ends against its own record. A trace that skips or invents a
message therefore cannot settle.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_hash.auto import keccak

from rollupkit.errors import InvalidMessageError
from rollupkit.types import BlockInput, L1Message, QueuePosition


def roll(rolling_hash: bytes, message: L1Message) -> bytes:
    """The queue's rolling hash after appending ``message``."""
    return keccak(rolling_hash + message.hash())


def consume(start: QueuePosition, messages: Iterable[L1Message]) -> QueuePosition:
    """Consume ``messages`` in order from ``start``; return the position after them.

    Raises :class:`InvalidMessageError` unless the indices are exactly ``start.index``,
    ``start.index + 1``, ... (no gaps, no repeats, no reordering).
    """
    index, rolling_hash = start.index, start.rolling_hash
    for message in messages:
        if message.index != index:
            raise InvalidMessageError(
                f"L1 message out of order: expected queue index {index}, got {message.index}"
            )
        rolling_hash = roll(rolling_hash, message)
        index += 1
    return QueuePosition(index, rolling_hash)


def consumed_by(blocks: Iterable[BlockInput]) -> list[L1Message]:
    """The L1 messages ``blocks`` consume, in queue order (what a settlement that must show
    L1 the consumed messages themselves, as a validity proof's, carries)."""
    return [message for block in blocks for message in block.l1_messages]
