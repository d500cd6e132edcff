"""rollupkit's ``mpt`` state model: Ethereum's hexary Merkle-Patricia trie.

Roots are byte-for-byte Ethereum state roots, so an EVM chain over ``mpt`` has the same state
roots as any Ethereum client would compute, and proofs are eth_getProof (EIP-1186) proofs.
"""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_mpt.model import MptStateModel

__all__ = ["MptStateModel"]


@hookimpl
def rollupkit_register_state_models() -> list[tuple[str, type[MptStateModel]]]:
    return [("mpt", MptStateModel)]
