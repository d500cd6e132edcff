"""The ``binary`` state model: accounts, storage and code in EIP-7864's unified binary tree.

Every VM runs over it, the ``evm`` VM included (py-evm through
:class:`rollupkit_evm.viewdb.ViewAccountDB`). Roots are EIP-7864 roots of the same
contents, with two choices where the draft is silent, both so that a root depends only on
the state, never on its history:

* a storage slot written to zero is removed (an absent leaf), as in Ethereum's trie;
* an empty account (no nonce, balance or code, EIP-161) has no basic-data or code-hash leaf.

Code is committed to in the tree as the EIP's 31-byte chunks, and also kept whole by keccak
hash in the code store, as with ``mpt``: the VMs read code whole and EXECUTE meters codes by
the witness's code list. An account has no storage root of its own here (one tree holds
everything), so :attr:`Account.storage_root` is zero.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from functools import lru_cache

from eth_hash.auto import keccak

from rollupkit.errors import MissingWitnessError
from rollupkit.interfaces import StateModel, StateStore, StateView
from rollupkit.preimages import RecordingStore, RecordingStores, preimage_store
from rollupkit.types import EMPTY_CODE_HASH, ZERO_HASH, Account, AccountProof, StorageProof, Witness
from rollupkit_binary.embedding import (
    BASIC_DATA_LEAF_KEY,
    CODE_HASH_LEAF_KEY,
    chunkify_code,
    code_chunk_position,
    pack_basic_data,
    stem_of,
    storage_position,
    unpack_basic_data,
)
from rollupkit_binary.tree import ZERO, BinaryTree, record_store

EMPTY_ROOT = ZERO


@lru_cache(maxsize=1 << 16)
def _stem(address: bytes, tree_index: int) -> bytes:
    return stem_of(address, tree_index)


def _slot_key(address: bytes, slot: int) -> tuple[bytes, int]:
    tree_index, sub_index = storage_position(slot)
    return _stem(address, tree_index), sub_index


class BinaryStateView(RecordingStores, StateView):
    """Accounts, storage and code over a node store and a code store."""

    def __init__(
        self,
        nodes: MutableMapping[bytes, bytes],
        codes: MutableMapping[bytes, bytes],
        root: bytes,
    ) -> None:
        self._tree = BinaryTree(nodes)
        self._nodes, self._codes = nodes, codes
        self._root = root
        #: Values of stems read at ``_root`` (stays valid across commits for unchanged stems).
        self._read: dict[bytes, dict[int, bytes]] = {}
        self._pending: dict[bytes, dict[int, bytes | None]] = {}

    # --- leaves ----------------------------------------------------------------------------

    def _stem_values(self, stem: bytes) -> dict[int, bytes]:
        values = self._read.get(stem)
        if values is None:
            values = self._read[stem] = self._tree.stem_values(self._root, stem)
        return values

    def _leaf(self, stem: bytes, index: int) -> bytes | None:
        pending = self._pending.get(stem)
        if pending is not None and index in pending:
            return pending[index]
        return self._stem_values(stem).get(index)

    def _write(self, stem: bytes, index: int, value: bytes | None) -> None:
        self._pending.setdefault(stem, {})[index] = value

    # --- reads -----------------------------------------------------------------------------

    @property
    def root(self) -> bytes:
        return self._root

    def get_account(self, address: bytes) -> Account | None:
        stem = _stem(address, 0)
        return _account(self._leaf(stem, BASIC_DATA_LEAF_KEY), self._leaf(stem, CODE_HASH_LEAF_KEY))

    def get_storage(self, address: bytes, slot: int) -> int:
        value = self._leaf(*_slot_key(address, slot))
        return int.from_bytes(value, "big") if value else 0

    def get_code(self, address: bytes) -> bytes:
        code_hash = self._leaf(_stem(address, 0), CODE_HASH_LEAF_KEY)
        if code_hash is None or code_hash == EMPTY_CODE_HASH:
            return b""
        try:
            return self._codes[code_hash]
        except KeyError:
            raise MissingWitnessError(
                f"missing code 0x{code_hash.hex()} of 0x{address.hex()}"
            ) from None

    # --- writes ----------------------------------------------------------------------------

    def _set_header(self, address: bytes, nonce: int, balance: int, code_size: int) -> None:
        stem = _stem(address, 0)
        basic = pack_basic_data(nonce=nonce, balance=balance, code_size=code_size)
        code_hash = self._leaf(stem, CODE_HASH_LEAF_KEY) or EMPTY_CODE_HASH
        if basic == ZERO and code_hash == EMPTY_CODE_HASH:  # empty (EIP-161): not in the tree
            self._write(stem, BASIC_DATA_LEAF_KEY, None)
            self._write(stem, CODE_HASH_LEAF_KEY, None)
        else:
            self._write(stem, BASIC_DATA_LEAF_KEY, basic)
            self._write(stem, CODE_HASH_LEAF_KEY, code_hash)

    def _code_size(self, address: bytes) -> int:
        basic = self._leaf(_stem(address, 0), BASIC_DATA_LEAF_KEY)
        return unpack_basic_data(basic)[2] if basic else 0

    def set_account(self, address: bytes, *, nonce: int, balance: int) -> None:
        self._set_header(address, nonce, balance, self._code_size(address))

    def set_storage(self, address: bytes, slot: int, value: int) -> None:
        stem, index = _slot_key(address, slot)
        self._write(stem, index, value.to_bytes(32, "big") if value else None)

    def set_code(self, address: bytes, code: bytes) -> None:
        account = self.get_account(address) or Account()
        old_chunks = -(-self._code_size(address) // 31)
        chunks = chunkify_code(code)
        for number, chunk in enumerate(chunks):
            tree_index, sub_index = code_chunk_position(number)
            self._write(_stem(address, tree_index), sub_index, chunk)
        for number in range(len(chunks), old_chunks):  # a shorter code leaves no stale chunk
            tree_index, sub_index = code_chunk_position(number)
            self._write(_stem(address, tree_index), sub_index, None)
        code_hash = keccak(code)
        self._codes[code_hash] = code
        self._write(_stem(address, 0), CODE_HASH_LEAF_KEY, code_hash)
        self._set_header(address, account.nonce, account.balance, len(code))

    def commit(self) -> bytes:
        if not self._pending:
            return self._root
        self._root = self._tree.update(self._root, self._pending)
        for stem, changes in self._pending.items():
            values = self._read.get(stem)
            if values is None:
                continue
            for index, value in changes.items():
                if value is None:
                    values.pop(index, None)
                else:
                    values[index] = value
        self._pending = {}
        return self._root


class BinaryStateModel(StateModel):
    """EIP-7864's unified binary tree (BLAKE3, stems of 256 values)."""

    description = "EIP-7864 unified binary tree (BLAKE3; every VM, the evm VM included)"

    def empty_root(self) -> bytes:
        return EMPTY_ROOT

    def open(self, store: StateStore, root: bytes, *, record: bool = False) -> BinaryStateView:
        if record:
            return BinaryStateView(RecordingStore(store.nodes), RecordingStore(store.codes), root)
        return BinaryStateView(store.nodes, store.codes, root)

    def open_witness(self, root: bytes, witness: Witness) -> BinaryStateView:
        return BinaryStateView(
            record_store(witness.state_nodes), preimage_store(witness.codes), root
        )

    def get_proof(
        self, store: StateStore, root: bytes, address: bytes, slots: Sequence[int] = ()
    ) -> AccountProof:
        tree = BinaryTree(store.nodes)
        path, values = tree.walk(root, _stem(address, 0))
        account = _account_in(values)
        storage = []
        for slot in slots:
            stem, index = _slot_key(address, slot)
            slot_path, slot_values = tree.walk(root, stem)
            value = slot_values.get(index)
            storage.append(
                StorageProof(slot, int.from_bytes(value, "big") if value else 0, tuple(slot_path))
            )
        return AccountProof(address, account, tuple(path), tuple(storage))

    def verify_proof(self, root: bytes, proof: AccountProof) -> bool:
        """True if the proof's records lead from ``root`` to exactly the claimed values (an
        absent account or slot included). Never raises on a malformed proof."""
        try:
            if len(proof.address) != 20:
                return False
            values = BinaryTree(record_store(proof.account_proof)).stem_values(
                root, _stem(proof.address, 0)
            )
            if _account_in(values) != proof.account:
                return False
            for item in proof.storage:
                stem, index = _slot_key(proof.address, item.key)
                slot_values = BinaryTree(record_store(item.proof)).stem_values(root, stem)
                value = slot_values.get(index)
                if (int.from_bytes(value, "big") if value else 0) != item.value:
                    return False
        except Exception:  # noqa: BLE001 - any malformed proof is simply not a proof
            return False
        return True


def _account(basic: bytes | None, code_hash: bytes | None) -> Account | None:
    """The account with these basic-data and code-hash leaves (None if it has neither)."""
    if basic is None and code_hash is None:
        return None
    nonce, balance, _ = unpack_basic_data(basic or ZERO)
    return Account(nonce, balance, ZERO_HASH, code_hash or EMPTY_CODE_HASH)


def _account_in(stem_values: dict[int, bytes]) -> Account | None:
    """The account whose first stem holds ``stem_values``."""
    return _account(stem_values.get(BASIC_DATA_LEAF_KEY), stem_values.get(CODE_HASH_LEAF_KEY))
