"""rollupkit's ``binary`` state model: EIP-7864's unified binary tree.

One tree of 32-byte keys holds accounts, storage and code chunks, in stems of 256 values;
nodes hash with BLAKE3 as the EIP draft does. Proofs are shorter than the hexary trie's (one
sibling per level) and the tree is the one Ethereum means to move to for stateless clients.
See :mod:`rollupkit_binary.embedding` for which version of the draft is followed.
"""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_binary.model import BinaryStateModel

__all__ = ["BinaryStateModel"]


@hookimpl
def rollupkit_register_state_models() -> list[tuple[str, type[BinaryStateModel]]]:
    return [("binary", BinaryStateModel)]
