"""py-evm over any rollupkit state view, for state models that are not Ethereum's trie.

py-evm's own :class:`~eth.db.account.AccountDB` *is* a hexary trie: with ``mpt`` the engine
drives it directly on the view's node store (:mod:`rollupkit_evm.engine`). For any other
model (``binary``, or a third party's) :class:`ViewAccountDB` implements py-evm's account
database on the :class:`~rollupkit.interfaces.StateView` interface alone: reads go to the
view, a transaction's changes sit in a journal with an undo log (so py-evm's snapshots and
reverts work as with its own database), and :meth:`ViewAccountDB.lock_changes` hands a
finished transaction's changes to the view, which computes the root at the end of the block.

One difference from the trie database: a view cannot list an account's storage, so deleting
an account (self-destruct in its creating transaction, EIP-161 clean-up) clears the slots
that transaction touched. An account can only hold other slots if a genesis gave storage to
an account without code or nonce, which EIP-7610 already treats as taken.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from eth.abc import AccountDatabaseAPI, MetaWitnessAPI
from eth.constants import EMPTY_SHA3
from eth.db.journal import get_next_checkpoint
from eth.db.witness import MetaWitness
from eth.typing import JournalDBCheckpoint
from eth.validation import validate_canonical_address, validate_uint256
from eth_hash.auto import keccak
from eth_typing import Address, Hash32
from eth_utils import ValidationError

from rollupkit.interfaces import StateView

_MISSING = object()
#: An account in the journal: (nonce, balance, code hash), or None once deleted.
_Account = tuple[int, int, bytes] | None


class StateViewDB:
    """What :class:`ViewAccountDB` is built on: the view (py-evm passes it through)."""

    def __init__(self, view: StateView) -> None:
        self.view = view


class ViewAccountDB(AccountDatabaseAPI):
    """py-evm's account database on a :class:`StateView` (see the module docstring)."""

    def __init__(self, db: StateViewDB, state_root: Hash32 | None = None) -> None:
        self._view = db.view
        self._accounts: dict[Address, _Account] = {}
        self._storage: dict[Address, dict[int, int]] = {}
        self._wiped: dict[Address, bool] = {}
        self._codes: dict[Address, bytes] = {}
        self._warm: dict[bytes, bool] = {}
        #: (container, key, previous value or _MISSING), newest last; a checkpoint is a length.
        self._undo: list[tuple[MutableMapping[Any, Any], Any, Any]] = []
        self._checkpoints: dict[JournalDBCheckpoint, int] = {}
        #: Slots the current transaction read or wrote, by account (cleared on deletion).
        self._touched: dict[Address, set[int]] = {}
        #: When a set: the preimages of every account and storage key read or written.
        self.keys: set[bytes] | None = None

    # --- the journal -----------------------------------------------------------------------

    def _set(self, container: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        self._undo.append((container, key, container.get(key, _MISSING)))
        container[key] = value

    def record(self) -> JournalDBCheckpoint:
        # py-evm records the same checkpoint id in other journals (transient storage), so
        # ids come from its own counter; each names the undo log's length when it was taken.
        checkpoint = get_next_checkpoint()
        self._checkpoints[checkpoint] = len(self._undo)
        return checkpoint

    def _length_at(self, checkpoint: JournalDBCheckpoint) -> int:
        length = self._checkpoints.get(checkpoint)
        if length is None or length > len(self._undo):
            raise ValidationError(f"No checkpoint {checkpoint} was found")
        return length

    def discard(self, checkpoint: JournalDBCheckpoint) -> None:
        length = self._length_at(checkpoint)
        while len(self._undo) > length:
            container, key, previous = self._undo.pop()
            if previous is _MISSING:
                del container[key]
            else:
                container[key] = previous
        self._forget_after(checkpoint)

    def commit(self, checkpoint: JournalDBCheckpoint) -> None:
        self._length_at(checkpoint)
        self._forget_after(checkpoint)

    def _forget_after(self, checkpoint: JournalDBCheckpoint) -> None:
        """Drop ``checkpoint`` and every later one (py-evm closes them innermost first)."""
        for later in [c for c in self._checkpoints if c >= checkpoint]:
            del self._checkpoints[later]

    def lock_changes(self) -> None:
        """The transaction is final: write its changes into the view, start a new journal."""
        view = self._view
        for address in self._wiped:
            kept = self._storage.get(address, {})
            for slot in self._touched.get(address, ()):
                if slot not in kept:
                    view.set_storage(address, slot, 0)
        for address, slots in self._storage.items():
            for slot, value in slots.items():
                view.set_storage(address, slot, value)
        for address, code in self._codes.items():
            stored = view.get_account(address)
            if keccak(code) != (stored.code_hash if stored else EMPTY_SHA3):
                view.set_code(address, code)
        for address, account in self._accounts.items():
            nonce, balance, _ = account or (0, 0, EMPTY_SHA3)
            view.set_account(address, nonce=nonce, balance=balance)
        self._accounts, self._storage, self._wiped, self._codes = {}, {}, {}, {}
        self._warm, self._undo, self._touched, self._checkpoints = {}, [], {}, {}

    # --- accounts --------------------------------------------------------------------------

    def _account(self, address: Address) -> _Account:
        if self.keys is not None:
            self.keys.add(bytes(address))
        if address in self._accounts:
            return self._accounts[address]
        stored = self._view.get_account(address)
        return None if stored is None else (stored.nonce, stored.balance, stored.code_hash)

    def _fields(self, address: Address) -> tuple[int, int, bytes]:
        return self._account(address) or (0, 0, EMPTY_SHA3)

    def get_nonce(self, address: Address) -> int:
        validate_canonical_address(address, title="Storage Address")
        return self._fields(address)[0]

    def set_nonce(self, address: Address, nonce: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint256(nonce, title="Nonce")
        _, balance, code_hash = self._fields(address)
        self._set(self._accounts, address, (nonce, balance, code_hash))

    def increment_nonce(self, address: Address) -> None:
        self.set_nonce(address, self.get_nonce(address) + 1)

    def get_balance(self, address: Address) -> int:
        validate_canonical_address(address, title="Storage Address")
        return self._fields(address)[1]

    def set_balance(self, address: Address, balance: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint256(balance, title="Account Balance")
        nonce, _, code_hash = self._fields(address)
        self._set(self._accounts, address, (nonce, balance, code_hash))

    def get_code_hash(self, address: Address) -> Hash32:
        validate_canonical_address(address, title="Storage Address")
        return Hash32(self._fields(address)[2])

    def get_code(self, address: Address) -> bytes:
        validate_canonical_address(address, title="Storage Address")
        if address in self._codes:
            return self._codes[address]
        if self._fields(address)[2] == EMPTY_SHA3:
            return b""
        return self._view.get_code(address)

    def set_code(self, address: Address, code: bytes) -> None:
        validate_canonical_address(address, title="Storage Address")
        nonce, balance, _ = self._fields(address)
        self._set(self._codes, address, code)
        self._set(self._accounts, address, (nonce, balance, keccak(code)))

    def delete_code(self, address: Address) -> None:
        self.set_code(address, b"")

    def account_exists(self, address: Address) -> bool:
        validate_canonical_address(address, title="Storage Address")
        return self._account(address) is not None

    def account_has_code_or_nonce(self, address: Address) -> bool:
        nonce, _, code_hash = self._fields(address)
        return nonce != 0 or code_hash != EMPTY_SHA3

    def account_is_empty(self, address: Address) -> bool:
        return not self.account_has_code_or_nonce(address) and self.get_balance(address) == 0

    def touch_account(self, address: Address) -> None:
        validate_canonical_address(address, title="Storage Address")
        self._set(self._accounts, address, self._fields(address))

    def delete_account(self, address: Address) -> None:
        validate_canonical_address(address, title="Storage Address")
        self.delete_storage(address)
        if self._fields(address)[2] != EMPTY_SHA3:
            self._set(self._codes, address, b"")
        self._set(self._accounts, address, None)

    # --- storage ---------------------------------------------------------------------------

    def get_storage(self, address: Address, slot: int, from_journal: bool = True) -> int:
        validate_canonical_address(address, title="Storage Address")
        validate_uint256(slot, title="Storage Slot")
        if self.keys is not None:
            self.keys.update((bytes(address), slot.to_bytes(32, "big")))
        self._touched.setdefault(address, set()).add(slot)
        if from_journal:
            slots = self._storage.get(address)
            if slots is not None and slot in slots:
                return slots[slot]
            if address in self._wiped:
                return 0
        # The value when the transaction started (EIP-2200's "original value").
        return self._view.get_storage(address, slot)

    def set_storage(self, address: Address, slot: int, value: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint256(slot, title="Storage Slot")
        validate_uint256(value, title="Storage Value")
        if self.keys is not None:
            self.keys.update((bytes(address), slot.to_bytes(32, "big")))
        self._touched.setdefault(address, set()).add(slot)
        if address not in self._storage:
            self._set(self._storage, address, {})
        self._set(self._storage[address], slot, value)

    def delete_storage(self, address: Address) -> None:
        validate_canonical_address(address, title="Storage Address")
        self._set(self._storage, address, {})
        self._set(self._wiped, address, True)

    # --- EIP-2929 warm sets ----------------------------------------------------------------

    def is_address_warm(self, address: Address) -> bool:
        return address in self._warm

    def mark_address_warm(self, address: Address) -> None:
        if address not in self._warm:
            self._set(self._warm, address, True)

    def is_storage_warm(self, address: Address, slot: int) -> bool:
        return address + slot.to_bytes(32, "big") in self._warm

    def mark_storage_warm(self, address: Address, slot: int) -> None:
        key = address + slot.to_bytes(32, "big")
        if key not in self._warm:
            self._set(self._warm, key, True)

    # --- roots -----------------------------------------------------------------------------

    @property
    def state_root(self) -> Hash32:
        return Hash32(self._view.root)

    @state_root.setter
    def state_root(self, value: Hash32) -> None:
        # py-evm sets the root back when it reverts a snapshot; the root only moves at
        # make_state_root, so a snapshot's root is always the current one.
        if value != self._view.root:
            raise ValidationError(f"cannot move a view's state root to 0x{value.hex()}")

    def has_root(self, state_root: bytes) -> bool:
        return state_root == self._view.root

    def make_state_root(self) -> Hash32:
        self.lock_changes()
        return Hash32(self._view.commit())

    def persist(self) -> MetaWitnessAPI:
        self.make_state_root()
        return MetaWitness(set(), {})
