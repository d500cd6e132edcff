"""Ethereum block headers as every rollupkit L2 keeps them (py-evm's newest fork's header),
and rollupkit's header commitment over them."""

from __future__ import annotations

from typing import Any

import rlp
from eth.abc import BlockHeaderAPI
from eth.vm.forks.prague.blocks import PragueBlockHeader
from eth_hash.auto import keccak

from rollupkit.types import ZERO_HASH, BlockInput

#: The header class of the fork rollupkit's blocks follow.
HEADER_CLASS = PragueBlockHeader


def header_params(block: BlockInput) -> dict[str, Any]:
    """The header fields a rollupkit block sets (number, parent hash and base fee follow
    from the parent)."""
    return {
        "coinbase": block.coinbase,
        "timestamp": block.timestamp,
        "gas_limit": block.gas_limit,
        "mix_hash": block.prev_randao,
        "extra_data": block.extra_data,
        "parent_beacon_block_root": block.l1_anchor,
    }


def header_commitment(header: BlockHeaderAPI) -> bytes:
    """rollupkit's header commitment: keccak of the RLP header with a zero state root."""
    return bytes(keccak(rlp.encode(header.copy(state_root=ZERO_HASH))))
