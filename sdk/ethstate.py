"""Ethereum's state format: accounts in a secure hexary Merkle-Patricia trie, and EIP-1186
(``eth_getProof``) proofs over it. The ``mpt`` state model and the L1 devnet both use it, and
:class:`HexaryNodeStore` is the capability through which an engine with its own Ethereum trie
code (py-evm, for the ``evm`` VM) drives a state view directly."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, MutableMapping, Sequence

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie
from trie.exceptions import BadTrieProof, MissingTrieNode

from rollupkit.errors import MissingWitnessError
from rollupkit.types import Account, AccountProof, StorageProof

#: Root of the empty hexary trie: keccak256(rlp(b"")).
BLANK_ROOT = keccak(rlp.encode(b""))


def account_key(address: bytes) -> bytes:
    """The account trie is keyed by keccak256(address) ("secure trie")."""
    return keccak(address)


def slot_key(slot: int) -> bytes:
    """A storage trie is keyed by keccak256 of the 32-byte big-endian slot."""
    return keccak(slot.to_bytes(32, "big"))


def encode_account(account: Account) -> bytes:
    """RLP([nonce, balance, storage_root, code_hash]), as in Ethereum."""
    return rlp.encode([account.nonce, account.balance, account.storage_root, account.code_hash])


def decode_account(raw: bytes) -> Account:
    """Inverse of :func:`encode_account`."""
    nonce, balance, storage_root, code_hash = rlp.decode(raw)
    return Account(
        nonce=int.from_bytes(nonce, "big"),
        balance=int.from_bytes(balance, "big"),
        storage_root=storage_root,
        code_hash=code_hash,
    )


class HexaryNodeStore(ABC):
    """A state view capability: the state is Ethereum's secure hexary trie, its nodes in a
    store keyed by hash that an engine can read and write itself.

    The engine writes nodes into :attr:`node_store` and codes into :attr:`code_store`, then
    tells the view its new root with :meth:`reset_root`. Reads through both stores are what a
    recording view records and what a witness view answers (a missing entry is a missing
    witness).
    """

    @property
    @abstractmethod
    def node_store(self) -> MutableMapping[bytes, bytes]:
        """Trie nodes by keccak hash."""

    @property
    @abstractmethod
    def code_store(self) -> MutableMapping[bytes, bytes]:
        """Contract codes by keccak hash."""

    @abstractmethod
    def reset_root(self, root: bytes) -> None:
        """Adopt ``root`` (written by an engine through :attr:`node_store`) as current."""


def get_proof(
    nodes: Mapping[bytes, bytes], root: bytes, address: bytes, slots: Sequence[int] = ()
) -> AccountProof:
    """An EIP-1186 proof of ``address`` and ``slots`` in the state trie at ``root``, whose
    nodes are in ``nodes`` (by hash); raise :class:`MissingWitnessError` if one is missing."""
    try:
        trie = HexaryTrie(nodes, root)
        raw = trie.get(account_key(address))
        account_proof = tuple(rlp.encode(node) for node in trie.get_proof(account_key(address)))
        account = decode_account(raw) if raw else None
        storage_root = account.storage_root if account else BLANK_ROOT
        storage_trie = HexaryTrie(nodes, storage_root)
        storage = []
        for slot in slots:
            value_raw = storage_trie.get(slot_key(slot))
            value = int.from_bytes(rlp.decode(value_raw), "big") if value_raw else 0
            proof = tuple(rlp.encode(n) for n in storage_trie.get_proof(slot_key(slot)))
            storage.append(StorageProof(slot, value, proof))
    except MissingTrieNode as exc:
        raise MissingWitnessError(
            f"the store lacks trie node 0x{exc.missing_node_hash.hex()} at root 0x{root.hex()}"
        ) from exc
    return AccountProof(address, account, account_proof, tuple(storage))


def verify_proof(root: bytes, proof: AccountProof) -> bool:
    """True if every value in ``proof`` (account and slots) is proven against ``root``.
    Never raises on a malformed proof."""
    try:
        raw = _proven_value(root, account_key(proof.address), proof.account_proof)
        expected = encode_account(proof.account) if proof.account is not None else b""
        if raw != expected:
            return False
        storage_root = proof.account.storage_root if proof.account else BLANK_ROOT
        for item in proof.storage:
            value_raw = _proven_value(storage_root, slot_key(item.key), item.proof)
            value = int.from_bytes(rlp.decode(value_raw), "big") if value_raw else 0
            if value != item.value:
                return False
    except Exception:  # noqa: BLE001 - any malformed proof is simply not a proof
        return False
    return True


def _proven_value(root: bytes, key: bytes, proof: Sequence[bytes]) -> bytes:
    nodes = [rlp.decode(node) for node in proof]
    try:
        value: bytes = HexaryTrie.get_from_proof(root, key, nodes)
    except BadTrieProof:
        raise
    return value
