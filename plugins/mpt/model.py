"""The ``mpt`` state model: views, roots and proofs over Ethereum's hexary trie."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie
from trie.exceptions import MissingTrieNode

from rollupkit.errors import MissingWitnessError
from rollupkit.ethstate import (
    BLANK_ROOT,
    HexaryNodeStore,
    account_key,
    decode_account,
    encode_account,
    get_proof,
    slot_key,
    verify_proof,
)
from rollupkit.interfaces import StateModel, StateStore, StateView
from rollupkit.preimages import RecordingStore, RecordingStores, preimage_store
from rollupkit.types import EMPTY_CODE_HASH, Account, AccountProof, Witness

__all__ = ["BLANK_ROOT", "MptStateModel", "MptStateView", "account_key", "slot_key"]


class MptStateView(RecordingStores, StateView, HexaryNodeStore):
    """Accounts, storage and code over a node store and a code store."""

    def __init__(
        self,
        nodes: MutableMapping[bytes, bytes],
        codes: MutableMapping[bytes, bytes],
        root: bytes,
    ) -> None:
        self._nodes = nodes
        self._codes = codes
        self._root = root
        self._pending_accounts: dict[bytes, Account] = {}
        self._pending_storage: dict[bytes, dict[int, int]] = {}

    # --- HexaryNodeStore -----------------------------------------------------------------------

    @property
    def node_store(self) -> MutableMapping[bytes, bytes]:
        return self._nodes

    @property
    def code_store(self) -> MutableMapping[bytes, bytes]:
        return self._codes

    def reset_root(self, root: bytes) -> None:
        self._pending_accounts.clear()
        self._pending_storage.clear()
        self._root = root

    # --- reads -------------------------------------------------------------------------------

    @property
    def root(self) -> bytes:
        return self._root

    def _trie_get(self, root: bytes, key: bytes) -> bytes:
        try:
            value: bytes = HexaryTrie(self._nodes, root).get(key)
        except MissingTrieNode as exc:
            raise MissingWitnessError(f"missing trie node 0x{exc.missing_node_hash.hex()}") from exc
        return value

    def _stored_account(self, address: bytes) -> Account | None:
        raw = self._trie_get(self._root, account_key(address))
        return decode_account(raw) if raw else None

    def get_account(self, address: bytes) -> Account | None:
        if address in self._pending_accounts:
            return self._pending_accounts[address]
        return self._stored_account(address)

    def get_storage(self, address: bytes, slot: int) -> int:
        pending = self._pending_storage.get(address, {})
        if slot in pending:
            return pending[slot]
        account = self._stored_account(address)
        if account is None or account.storage_root == BLANK_ROOT:
            return 0
        raw = self._trie_get(account.storage_root, slot_key(slot))
        return int.from_bytes(rlp.decode(raw), "big") if raw else 0

    def get_code(self, address: bytes) -> bytes:
        account = self.get_account(address)
        if account is None or account.code_hash == EMPTY_CODE_HASH:
            return b""
        try:
            return self._codes[account.code_hash]
        except KeyError:
            raise MissingWitnessError(
                f"missing code 0x{account.code_hash.hex()} of 0x{address.hex()}"
            ) from None

    # --- writes ------------------------------------------------------------------------------

    def _account_or_empty(self, address: bytes) -> Account:
        return self.get_account(address) or Account(storage_root=BLANK_ROOT)

    def set_account(self, address: bytes, *, nonce: int, balance: int) -> None:
        account = self._account_or_empty(address)
        self._pending_accounts[address] = Account(
            nonce, balance, account.storage_root, account.code_hash
        )

    def set_storage(self, address: bytes, slot: int, value: int) -> None:
        self._pending_accounts.setdefault(address, self._account_or_empty(address))
        self._pending_storage.setdefault(address, {})[slot] = value

    def set_code(self, address: bytes, code: bytes) -> None:
        account = self._account_or_empty(address)
        code_hash = keccak(code)
        self._codes[code_hash] = code
        self._pending_accounts[address] = Account(
            account.nonce, account.balance, account.storage_root, code_hash
        )

    def commit(self) -> bytes:
        try:
            accounts = HexaryTrie(self._nodes, self._root)
            with accounts.squash_changes() as batch:
                for address, account in self._pending_accounts.items():
                    storage_root = account.storage_root
                    slots = self._pending_storage.get(address)
                    if slots:
                        storage = HexaryTrie(self._nodes, storage_root)
                        with storage.squash_changes() as storage_batch:
                            for slot, value in slots.items():
                                if value:
                                    storage_batch[slot_key(slot)] = rlp.encode(value)
                                else:
                                    storage_batch.delete(slot_key(slot))
                        storage_root = storage.root_hash
                    batch[account_key(address)] = encode_account(
                        Account(account.nonce, account.balance, storage_root, account.code_hash)
                    )
        except MissingTrieNode as exc:
            raise MissingWitnessError(f"missing trie node 0x{exc.missing_node_hash.hex()}") from exc
        self.reset_root(accounts.root_hash)
        return self._root


class MptStateModel(StateModel):
    """Ethereum's hexary Merkle-Patricia trie (byte-compatible state roots, EIP-1186 proofs)."""

    description = "Ethereum hexary Merkle-Patricia trie (Ethereum state roots, eth_getProof)"
    capabilities = (HexaryNodeStore,)

    def empty_root(self) -> bytes:
        return BLANK_ROOT

    def open(self, store: StateStore, root: bytes, *, record: bool = False) -> MptStateView:
        if record:
            return MptStateView(RecordingStore(store.nodes), RecordingStore(store.codes), root)
        return MptStateView(store.nodes, store.codes, root)

    def open_witness(self, root: bytes, witness: Witness) -> MptStateView:
        return MptStateView(
            preimage_store(witness.state_nodes), preimage_store(witness.codes), root
        )

    def get_proof(
        self, store: StateStore, root: bytes, address: bytes, slots: Sequence[int] = ()
    ) -> AccountProof:
        return get_proof(store.nodes, root, address, slots)

    def verify_proof(self, root: bytes, proof: AccountProof) -> bool:
        return verify_proof(root, proof)
