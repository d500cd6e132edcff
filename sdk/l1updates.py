"""Booster rollups' effects on L1 (seed 000), over a batch: the one L1 block its L1 calls read
at, the L1 state root they leave, and the L1 storage updates the settlement contract applies.

A batch's updates are every ``(contract, slot)`` its blocks changed, in the order of their
first write, with the value after its last block, left out where that is the value before the
batch (a slot written back changes nothing on L1). The settlement contract gets them grouped by
contract, ``(address[] contracts, StateChange[][] changes)`` with ``StateChange = (bytes32
slot, bytes32 value)``, and calls each contract's ``applyStateUpdates(changes[i])``; the claim
binds ``keccak(abi.encode(contracts, changes))`` (zero when there are none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from rollupkit.errors import InvalidBlockError
from rollupkit.types import ZERO_HASH, BlockResult, L1Effects

UPDATES_TYPES = ["address[]", "(bytes32,bytes32)[][]"]
#: The ``before`` of a slot an upstream rollup changed (chained rollups: an L1 handoff): no
#: uint256, so the slot is always among the updates (the upstream's change is not applied yet).
INHERITED = -1


def merged_updates(effects: Sequence[L1Effects]) -> list[tuple[bytes, int, int]]:
    """``(contract, slot, value)`` for every slot the blocks changed (see the module)."""
    first: dict[tuple[bytes, int], int] = {}
    last: dict[tuple[bytes, int], int] = {}
    for block in effects:
        for contract, slot, before, after in block.updates:
            first.setdefault((contract, slot), before)
            last[(contract, slot)] = after
    return [(c, s, last[(c, s)]) for (c, s), before in first.items() if last[(c, s)] != before]


def grouped(updates: Sequence[tuple[bytes, int, int]]) -> tuple[list[bytes], list[list[Any]]]:
    """The updates as ``(contracts, changes)`` for ``applyStateUpdates``, contracts in the
    order of their first update."""
    by_contract: dict[bytes, list[tuple[bytes, bytes]]] = {}
    for contract, slot, value in updates:
        by_contract.setdefault(contract, []).append(
            (slot.to_bytes(32, "big"), value.to_bytes(32, "big"))
        )
    return list(by_contract), list(by_contract.values())


def updates_hash(updates: Sequence[tuple[bytes, int, int]]) -> bytes:
    """What a claim binds of the updates: ``keccak(abi.encode(contracts, changes))``."""
    if not updates:
        return ZERO_HASH
    contracts, changes = grouped(updates)
    return bytes(keccak(abi_encode(UPDATES_TYPES, [contracts, changes])))


def batch_updates(results: Sequence[BlockResult]) -> list[tuple[bytes, int, int]]:
    """The L1 updates of a batch of blocks, as the settlement contract applies them."""
    return merged_updates([r.l1 for r in results if r.l1 is not None])


def batch_l1_outputs(results: Sequence[BlockResult]) -> dict[str, Any]:
    """The claim's L1 fields of a batch of blocks (see :func:`l1_outputs`)."""
    return l1_outputs([r.l1 for r in results if r.l1 is not None])


def l1_outputs(effects: Sequence[L1Effects]) -> dict[str, Any]:
    """The claim's L1 fields of a batch whose blocks had ``effects`` (empty for one that never
    touched L1); raise :class:`InvalidBlockError` if they read L1 at more than one anchor (the
    claim names one, and the settlement contract checks it)."""
    if not effects:
        return {}
    anchors = {(e.anchor_number, e.anchor_hash) for e in effects}
    if len(anchors) > 1:
        raise InvalidBlockError(
            f"a batch's blocks read L1 at one anchor; these read at {len(anchors)}: "
            + ", ".join(f"{n} (0x{h.hex()[:12]})" for n, h in sorted(anchors))
        )
    return {
        "l1_anchor_number": effects[-1].anchor_number,
        "l1_anchor_hash": effects[-1].anchor_hash,
        "l1_state_root": effects[-1].state_root,
        "l1_updates_hash": updates_hash(merged_updates(effects)),
    }
