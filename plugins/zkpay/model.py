"""The ``poseidon`` state model: zkpay's accounts tree and the rollup's system account.

The state root is ``Poseidon(accounts_root, system_digest)``:

* ``accounts_root`` is the root of the :class:`~rollupkit_zkpay.tree.AccountTree` (depth
  :data:`DEPTH`), where an account is its address, balance and nonce and nothing else: zkpay
  accounts have no code and no storage;
* ``system_digest`` commits to the five slots rollupkit's core writes into the system account
  at the end of every block (:mod:`rollupkit.system`: the L1 queue position, the block's input
  and header commitments, the chain id), each split into two 128-bit halves so that they are
  field elements: ``Poseidon(Poseidon(h[0..5]), Poseidon(h[6..9]))``.

So the circuit proves the accounts part and carries the system digest as an opaque value,
while EXECUTE's re-execution checks all of it. Every preimage lives in the node store under its
Poseidon hash: 64 bytes for a pair (the root, an internal node), 96 for a leaf, 160 for the
system slots. A witness is the preimages a block read; :func:`index_nodes` keys an untrusted
one by hashing, so nothing in it can be found under a hash it does not have.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from functools import cache
from typing import Any

from rollupkit.errors import MissingWitnessError
from rollupkit.interfaces import StateModel, StateStore, StateView
from rollupkit.preimages import RecordingStore, RecordingStores
from rollupkit.system import SYSTEM_ADDRESS
from rollupkit.types import (
    EMPTY_CODE_HASH,
    ZERO_HASH,
    Account,
    AccountProof,
    StorageProof,
    Witness,
)
from rollupkit_zkpay.poseidon import FIELD, poseidon
from rollupkit_zkpay.tree import ADDRESS_LIMIT, AMOUNT_LIMIT, AccountTree, Leaf, empty_hashes, key

#: The accounts tree's depth: 2**20 leaves. Every account change costs the circuit 2 * DEPTH
#: Poseidon hashes, and two addresses whose low DEPTH bits agree share a leaf (the second
#: cannot receive: see rollupkit_zkpay.transition), so it is a trade between proving time and
#: how many accounts fit comfortably (about a thousand before a shared leaf is likely).
DEPTH = 20
#: The system account's slots (rollupkit.system), in the order the digest takes them.
SYSTEM_SLOTS = 5
SYSTEM_PREIMAGE = 32 * SYSTEM_SLOTS
#: EXECUTE gas of indexing a witness node by its Poseidon hash, by the node's size (a pair, a
#: leaf, the system slots: one, one and three hashes), beyond its bytes: measured at about
#: 0.26, 0.31 and 1.2 ms (``benchmarks/zkpay_admission.py``), at EXECUTE's 50 ns a gas with a
#: margin. Other sizes are not hashed (index_nodes skips them): their bytes pay.
NODE_INDEX_GAS = {64: 8_000, 96: 9_000, SYSTEM_PREIMAGE: 30_000}


def system_digest(values: Sequence[int]) -> int:
    """The digest of the system account's slots ``values`` (each below 2**256)."""
    limbs: list[int] = []
    for value in values:
        limbs.extend((value >> 128, value & (2**128 - 1)))
    return poseidon([poseidon(limbs[:6]), poseidon(limbs[6:])])


@cache
def empty_root() -> int:
    return poseidon([empty_hashes(DEPTH)[DEPTH], system_digest([0] * SYSTEM_SLOTS)])


def index_nodes(preimages: Sequence[bytes]) -> dict[bytes, bytes]:
    """Untrusted preimages keyed by their Poseidon hash (pairs, leaves, system slots); any
    other, or one holding a value outside the field, is left out (so it is just missing)."""
    nodes: dict[bytes, bytes] = {}
    for preimage in preimages:
        size = len(preimage)
        if size not in (64, 96, SYSTEM_PREIMAGE):
            continue
        values = [int.from_bytes(preimage[i : i + 32], "big") for i in range(0, size, 32)]
        if size == SYSTEM_PREIMAGE:
            digest = system_digest(values)
        elif any(value >= FIELD for value in values):
            continue
        else:
            digest = poseidon(values)
        nodes[key(digest)] = preimage
    return nodes


class ZkPayStateView(RecordingStores, StateView):
    """Accounts and system slots at a root, over a node store."""

    def __init__(self, nodes: MutableMapping[bytes, bytes], root: bytes) -> None:
        self._nodes = nodes
        self._codes: MutableMapping[bytes, bytes] = {}
        self._root = root
        number = int.from_bytes(root, "big")
        if number == empty_root():
            accounts, system = empty_hashes(DEPTH)[DEPTH], [0] * SYSTEM_SLOTS
        else:
            pair = self._preimage(number, 64, "state root")
            accounts = int.from_bytes(pair[:32], "big")
            digest = int.from_bytes(pair[32:], "big")
            slots = self._preimage(digest, SYSTEM_PREIMAGE, "system slots")
            system = [int.from_bytes(slots[i : i + 32], "big") for i in range(0, len(slots), 32)]
        #: The accounts, as zkpay's rules and the prover work on them (see ZkPayVM).
        self.tree = AccountTree(nodes, accounts, DEPTH)
        self.system = system

    def _preimage(self, value: int, size: int, what: str) -> bytes:
        found = self._nodes.get(key(value))
        if found is None or len(found) != size:
            raise MissingWitnessError(f"zkpay {what} {key(value).hex()} is not in the witness")
        return found

    @property
    def root(self) -> bytes:
        return self._root

    def get_account(self, address: bytes) -> Account | None:
        if address == SYSTEM_ADDRESS:
            return Account(nonce=1) if any(self.system) else None
        leaf = self.tree.account(int.from_bytes(address, "big"))
        if leaf is None:
            return None
        return Account(leaf.nonce, leaf.balance, ZERO_HASH, EMPTY_CODE_HASH)

    def get_storage(self, address: bytes, slot: int) -> int:
        if address == SYSTEM_ADDRESS and 0 <= slot < SYSTEM_SLOTS:
            return self.system[slot]
        return 0

    def get_code(self, address: bytes) -> bytes:
        return b""

    def set_account(self, address: bytes, *, nonce: int, balance: int) -> None:
        if address == SYSTEM_ADDRESS:
            if balance:
                raise ValueError("the system account holds no balance on a zkpay chain")
            return  # it exists once its slots are written
        if not (0 <= balance < AMOUNT_LIMIT and 0 <= nonce < 2**64):
            raise ValueError(f"a zkpay balance stays below 2**93 wei, not {balance}")
        number = int.from_bytes(address, "big")
        holder = self.tree.leaf(number)
        if holder is not None and holder.address != number:
            raise ValueError(
                f"0x{address.hex()}'s leaf is held by 0x{holder.address:040x} (tree depth {DEPTH})"
            )
        self.tree.set_leaf(number, Leaf(number, balance, nonce))

    def set_storage(self, address: bytes, slot: int, value: int) -> None:
        if address != SYSTEM_ADDRESS or not 0 <= slot < SYSTEM_SLOTS:
            raise ValueError("zkpay accounts have no storage (only the system account's slots)")
        self.system[slot] = value

    def set_code(self, address: bytes, code: bytes) -> None:
        raise ValueError("zkpay accounts have no code")

    def commit(self) -> bytes:
        digest = system_digest(self.system)
        self._nodes[key(digest)] = b"".join(value.to_bytes(32, "big") for value in self.system)
        root = poseidon([self.tree.root, digest])
        self._nodes[key(root)] = key(self.tree.root) + key(digest)
        self._root = key(root)
        return self._root

    @property
    def system_digest(self) -> int:
        return system_digest(self.system)


class ZkPayStateModel(StateModel):
    """zkpay's Poseidon accounts tree (depth 20) and the system slots."""

    description = "zkpay's Poseidon Merkle tree of accounts (depth 20; the zkpay VM only)"

    def supports_vm(self, vm: Any) -> bool:
        from rollupkit_zkpay.vm import ZkPayVM

        return isinstance(vm, ZkPayVM)

    def empty_root(self) -> bytes:
        return key(empty_root())

    def open(self, store: StateStore, root: bytes, *, record: bool = False) -> ZkPayStateView:
        return ZkPayStateView(RecordingStore(store.nodes) if record else store.nodes, root)

    def open_witness(self, root: bytes, witness: Witness) -> ZkPayStateView:
        return ZkPayStateView(index_nodes(witness.state_nodes), root)

    def witness_node_gas(self, node: bytes) -> int:
        # index_nodes hashes every node the trace carries, read or not: a junk node must
        # cost its Poseidon hashing, which the per-byte charge covers a tenth of.
        return NODE_INDEX_GAS.get(len(node), 0)

    def get_proof(
        self, store: StateStore, root: bytes, address: bytes, slots: Sequence[int] = ()
    ) -> AccountProof:
        view = self.open(store, root, record=True)
        account = view.get_account(address)
        for slot in slots:
            view.get_storage(address, slot)
        proof = tuple(view.witness().state_nodes)
        storage = tuple(StorageProof(s, view.get_storage(address, s), proof) for s in slots)
        return AccountProof(address, account, proof, storage)

    def verify_proof(self, root: bytes, proof: AccountProof) -> bool:
        try:
            if len(proof.address) != 20 or int.from_bytes(proof.address, "big") >= ADDRESS_LIMIT:
                return False
            view = ZkPayStateView(index_nodes(proof.account_proof), root)
            if view.get_account(proof.address) != proof.account:
                return False
            return all(view.get_storage(proof.address, s.key) == s.value for s in proof.storage)
        except Exception:  # noqa: BLE001 - any malformed proof is simply not a proof
            return False
