"""zkpay's accounts tree: a Poseidon Merkle tree of fixed depth, its nodes keyed by hash.

Account ``address`` (160 bits) sits at leaf ``address mod 2**depth`` as
``Poseidon(address, balance, nonce)``; an empty leaf is 0, and an internal node is
``Poseidon(left, right)``. A fixed depth is what makes the circuit's cost fixed: each account
change is ``depth`` hashes whichever leaf it is. Two addresses can share a leaf (their low
``depth`` bits agree); the first one to get there keeps it, a deposit to the other bounces back
to L1 and a transfer to it is invalid (see :mod:`rollupkit_zkpay.transition`).

Nodes are stored by their hash (32 bytes, big-endian) with their preimage: 64 bytes (two
children) for an internal node, 96 bytes (address, balance, nonce) for a leaf. Empty subtrees
are never stored: their hashes are the constants :func:`empty_hashes`. So a witness is just the
nodes a reader touched, and a node that does not hash to what its parent names is missing.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from functools import cache

from rollupkit.errors import MissingWitnessError
from rollupkit_zkpay.poseidon import poseidon

#: An account's balance and every amount stay below 2**93 wei, more than all the ether there
#: is, so an address and an amount pack into one field element (what the circuit shows L1).
AMOUNT_LIMIT = 2**93
#: Nonces stay below 2**64 - 1 (EIP-2681's rule).
NONCE_LIMIT = 2**64 - 1
ADDRESS_LIMIT = 2**160


@cache
def empty_hashes(depth: int) -> tuple[int, ...]:
    """The hash of an empty subtree of height 0 (a leaf: 0), 1, ..., ``depth``."""
    hashes = [0]
    for _ in range(depth):
        hashes.append(poseidon([hashes[-1], hashes[-1]]))
    return tuple(hashes)


def key(value: int) -> bytes:
    return value.to_bytes(32, "big")


@dataclass(frozen=True)
class Leaf:
    address: int
    balance: int
    nonce: int

    def hash(self) -> int:
        return poseidon([self.address, self.balance, self.nonce])

    def encode(self) -> bytes:
        return key(self.address) + key(self.balance) + key(self.nonce)


@dataclass(frozen=True)
class LeafProof:
    """What the circuit needs of one leaf: its content (None: empty) and its siblings, from
    the leaf up."""

    leaf: Leaf | None
    siblings: tuple[int, ...]


class AccountTree:
    """The tree at ``root`` over ``nodes`` (hash -> preimage); writes add nodes to it.

    ``nodes`` is trusted to map each hash to a preimage of it: a full store built by this
    class, or a witness :func:`rollupkit_zkpay.model.index_nodes` keyed by hashing."""

    def __init__(self, nodes: MutableMapping[bytes, bytes], root: int, depth: int) -> None:
        self.nodes = nodes
        self.root = root
        self.depth = depth
        self.empty = empty_hashes(depth)

    def _children(self, node: int, height: int) -> tuple[int, int]:
        if node == self.empty[height]:
            below = self.empty[height - 1]
            return below, below
        preimage = self.nodes.get(key(node))
        if preimage is None or len(preimage) != 64:
            raise MissingWitnessError(f"zkpay tree node {key(node).hex()} is not in the witness")
        return int.from_bytes(preimage[:32], "big"), int.from_bytes(preimage[32:], "big")

    def _path(self, position: int) -> tuple[int, list[int]]:
        """The leaf hash at ``position`` and its siblings from the leaf up."""
        node, siblings = self.root, []
        for height in range(self.depth, 0, -1):
            left, right = self._children(node, height)
            if (position >> (height - 1)) & 1:
                node, sibling = right, left
            else:
                node, sibling = left, right
            siblings.append(sibling)
        siblings.reverse()
        return node, siblings

    def position(self, address: int) -> int:
        return address % (1 << self.depth)

    def proof(self, address: int) -> LeafProof:
        """The leaf ``address`` maps to (whoever holds it) and its siblings."""
        leaf_hash, siblings = self._path(self.position(address))
        return LeafProof(self._leaf(leaf_hash), tuple(siblings))

    def _leaf(self, leaf_hash: int) -> Leaf | None:
        if leaf_hash == 0:
            return None
        preimage = self.nodes.get(key(leaf_hash))
        if preimage is None or len(preimage) != 96:
            raise MissingWitnessError(f"zkpay leaf {key(leaf_hash).hex()} is not in the witness")
        return Leaf(*(int.from_bytes(preimage[i : i + 32], "big") for i in (0, 32, 64)))

    def leaf(self, address: int) -> Leaf | None:
        """The leaf at ``address``'s position, which may belong to another address."""
        return self.proof(address).leaf

    def account(self, address: int) -> Leaf | None:
        """``address``'s own account, or None."""
        leaf = self.leaf(address)
        return leaf if leaf is not None and leaf.address == address else None

    def set_leaf(self, address: int, leaf: Leaf | None) -> int:
        """Put ``leaf`` (None: empty) at ``address``'s position; return the new root."""
        position = self.position(address)
        _, siblings = self._path(position)
        if leaf is None:
            node = 0
        else:
            node = leaf.hash()
            self.nodes[key(node)] = leaf.encode()
        for height, sibling in enumerate(siblings):
            if (position >> height) & 1:
                left, right = sibling, node
            else:
                left, right = node, sibling
            node = poseidon([left, right])
            if node != self.empty[height + 1]:
                self.nodes[key(node)] = key(left) + key(right)
        self.root = node
        return node
