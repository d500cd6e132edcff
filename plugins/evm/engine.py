"""py-evm configured for rollupkit: the newest fork py-evm has, over a rollupkit state view.

Three small adaptations, each a subclass overriding only what changes (py-evm's own pattern):

* :class:`ViewDB` puts py-evm's state database on a view's :class:`HexaryNodeStore`, so the
  view's recording (builder) or witness (EXECUTE) store sees every trie read;
* :class:`SplitCodeAccountDB` keeps contract code in the view's separate code store, so a
  witness can list codes apart from trie nodes;
* :class:`RollupEVM` builds its state on that database and answers BLOCKHASH from rollupkit's
  ancestor hashes instead of a chain database; :class:`ViewRollupEVM` is the same VM over any
  other state model, through :class:`rollupkit_evm.viewdb.ViewAccountDB`;
* :class:`RollupComputation` (:mod:`rollupkit.pyevm_engine`) reports every unit of gas py-evm
  burns to the block's :class:`~rollupkit.metering.ExecutionMeter`, so EXECUTE stops a
  transaction mid-flight once the trace has used more gas than it claimed.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from eth.abc import BlockHeaderAPI, ChainDatabaseAPI, SignedTransactionAPI, StateAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.db.account import AccountDB
from eth.db.atomic import AtomicDB
from eth.db.backends.base import BaseDB
from eth.validation import validate_canonical_address, validate_is_bytes
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.state import PragueState
from eth.vm.interrupt import EVMMissingData, MissingBytecode
from eth_hash.auto import keccak
from eth_typing import Address, Hash32
from trie.exceptions import MissingTrieNode

from rollupkit.ethstate import HexaryNodeStore
from rollupkit.interfaces import AncestorHashes
from rollupkit.metering import ExecutionMeter
from rollupkit.pyevm_engine import MeteredComputation
from rollupkit_evm.viewdb import StateViewDB, ViewAccountDB

#: The fork rollupkit's EVM runs: the newest one the installed py-evm supports.
BASE_VM = PragueVM
FORK_NAME = BASE_VM.fork


class _NoDeleteDB(BaseDB):
    """A py-evm database over a plain mapping that never deletes.

    Trie nodes are content-addressed and may be shared; py-evm only deletes to prune, and a
    pruned node may still be needed by a later read in the same trace. Keeping it is safe.
    """

    def __init__(self, mapping: MutableMapping[bytes, bytes]) -> None:
        self._mapping = mapping

    def __getitem__(self, key: bytes) -> bytes:
        return self._mapping[key]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._mapping[key] = value

    def __delitem__(self, key: bytes) -> None:
        pass

    def _exists(self, key: bytes) -> bool:
        return key in self._mapping


class ViewDB(AtomicDB):
    """py-evm's atomic database over a view's node store, carrying the view's code store."""

    def __init__(self, view: HexaryNodeStore) -> None:
        super().__init__(_NoDeleteDB(view.node_store))
        self.code_store = view.code_store


class SplitCodeAccountDB(AccountDB):
    """py-evm's account database with contract code kept in a separate code store."""

    def __init__(self, db: ViewDB, state_root: Hash32 = BLANK_ROOT_HASH) -> None:
        super().__init__(db, state_root)
        self._codes: MutableMapping[bytes, bytes] = db.code_store
        #: When a set: the preimages of every account and storage key read or written.
        self.keys: set[bytes] | None = None

    def _get_encoded_account(self, address: Address, from_journal: bool = True) -> bytes:
        if self.keys is not None:
            self.keys.add(bytes(address))
        return super()._get_encoded_account(address, from_journal)

    def get_storage(self, address: Address, slot: int, from_journal: bool = True) -> int:
        if self.keys is not None:
            self.keys.update((bytes(address), slot.to_bytes(32, "big")))
        return super().get_storage(address, slot, from_journal)

    def set_storage(self, address: Address, slot: int, value: int) -> None:
        if self.keys is not None:
            self.keys.update((bytes(address), slot.to_bytes(32, "big")))
        super().set_storage(address, slot, value)

    def get_code(self, address: Address) -> bytes:
        validate_canonical_address(address, title="Storage Address")
        code_hash = self.get_code_hash(address)
        if code_hash == EMPTY_SHA3:
            return b""
        try:
            return self._codes[code_hash]
        except KeyError:
            raise MissingBytecode(code_hash) from None

    def set_code(self, address: Address, code: bytes) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_is_bytes(code, title="Code")
        account = self._get_account(address)
        code_hash = keccak(code)
        # Not journaled: a reverted CREATE leaves an unreferenced, harmless preimage behind.
        self._codes[code_hash] = code
        self._set_account(address, account.copy(code_hash=code_hash))


class RollupComputation(MeteredComputation):
    """The L2's computation: Prague, metered on the state's
    :class:`~rollupkit.metering.ExecutionMeter` (see :mod:`rollupkit.pyevm_engine`)."""


_MISSING_DATA = (EVMMissingData, MissingTrieNode)
_AUTHORIZATION_STATE_READS = (
    "get_code", "account_exists", "get_nonce", "set_code", "delete_code", "increment_nonce",
)  # fmt: skip


class RollupState(PragueState):
    """Prague state over :class:`SplitCodeAccountDB`, where a missing witness can never be
    mistaken for an invalid EIP-7702 authorization, and EIP-7610 holds."""

    account_db_class = SplitCodeAccountDB
    computation_class = RollupComputation
    #: Set by the block execution: every computation on this state reports its gas here.
    execution_meter: ExecutionMeter | None = None

    def record_keys(self) -> set[bytes]:
        """From now on, collect the preimages of the state keys read or written."""
        # Both account databases (SplitCodeAccountDB, ViewAccountDB) collect into ``keys``.
        account_db: SplitCodeAccountDB | ViewAccountDB = self._account_db  # type: ignore[assignment]
        account_db.keys = set()
        return account_db.keys

    def has_code_or_nonce(self, address: Address) -> bool:
        # EIP-7610: an address that has storage is taken as well, so a creation there fails
        # (py-evm looks at code and nonce only). Only a pre-state can hold such an account.
        if super().has_code_or_nonce(address):
            return True
        return bool(self._account_db._get_storage_root(address) != BLANK_ROOT_HASH)

    def process_set_code_authorizations(self, transaction: SignedTransactionAPI) -> int:
        # py-evm skips an authorization on *any* exception, a missing trie node included. In
        # stateless execution that would let a prover drop the authority's nodes from the
        # witness and get a different, "valid" execution in which the authorization was
        # skipped. Note every missing-data error raised under it, and raise it afterwards.
        missing: list[BaseException] = []
        for name in _AUTHORIZATION_STATE_READS:
            original = getattr(self, name)

            def guarded(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                try:
                    return _original(*args, **kwargs)
                except _MISSING_DATA as exc:
                    missing.append(exc)
                    raise

            setattr(self, name, guarded)
        try:
            refund: int = super().process_set_code_authorizations(transaction)
        finally:
            for name in _AUTHORIZATION_STATE_READS:
                delattr(self, name)
        if missing:
            raise missing[0]
        return refund


class ViewRollupState(RollupState):
    """:class:`RollupState` over any state view (:class:`ViewAccountDB`)."""

    account_db_class = ViewAccountDB  # type: ignore[assignment]

    def has_code_or_nonce(self, address: Address) -> bool:
        # EIP-7610's "or storage" needs a storage root, which a unified tree has not; see
        # rollupkit_evm.viewdb for why no account reaches here with storage alone.
        return bool(PragueState.has_code_or_nonce(self, address))


class RollupEVM(BASE_VM):
    """The fork's VM, with state on a rollupkit view and BLOCKHASH from rollupkit."""

    _state_class = RollupState

    def __init__(
        self,
        header: BlockHeaderAPI,
        chaindb: ChainDatabaseAPI,
        chain_context: object,
        consensus_context: object,
        *,
        state_db: ViewDB | StateViewDB,
        ancestors: AncestorHashes,
    ) -> None:
        super().__init__(header, chaindb, chain_context, consensus_context)  # type: ignore[arg-type]
        self._state_db = state_db
        self._ancestors = ancestors

    @property
    def previous_hashes(self) -> Iterable[Hash32]:
        number = self.get_header().block_number
        return self._ancestors.hashes_back_from(number - 1)  # type: ignore[return-value]

    @property
    def state(self) -> StateAPI:
        if self._state is None:
            self._state = self.build_state(
                self._state_db, self.get_header(), self.chain_context, self.previous_hashes
            )
        return self._state


class ViewRollupEVM(RollupEVM):
    """:class:`RollupEVM` over any state view (built with a :class:`StateViewDB`)."""

    _state_class = ViewRollupState
