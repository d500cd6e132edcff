"""py-evm configured for rollupkit: the newest fork py-evm has, over a rollupkit state view.

Three small adaptations, each a subclass overriding only what changes (py-evm's own pattern):

* :class:`ViewDB` puts py-evm's state database on a view's :class:`HexaryNodeStore`, so the
  view's recording (builder) or witness (EXECUTE) store sees every trie read;
* :class:`SplitCodeAccountDB` keeps contract code in the view's separate code store, so a
  witness can list codes apart from trie nodes;
* :class:`RollupEVM` builds its state on that database and answers BLOCKHASH from rollupkit's
  ancestor hashes instead of a chain database;
* :class:`MeteredGasMeter` reports every unit of gas py-evm burns to the block's
  :class:`~rollupkit.metering.ExecutionMeter`, so EXECUTE stops a transaction mid-flight once
  the trace has used more gas than it claimed.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from eth.abc import BlockHeaderAPI, ChainDatabaseAPI, SignedTransactionAPI, StateAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.db.account import AccountDB
from eth.db.atomic import AtomicDB
from eth.db.backends.base import BaseDB
from eth.exceptions import OutOfGas
from eth.validation import validate_canonical_address, validate_is_bytes
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth.vm.gas_meter import GasMeter, allow_negative_refund_strategy
from eth.vm.interrupt import EVMMissingData, MissingBytecode
from eth_hash.auto import keccak
from eth_typing import Address, Hash32
from eth_utils import ValidationError
from trie.exceptions import MissingTrieNode

from rollupkit.ethprecompiles import PRECOMPILE_OVERRIDES
from rollupkit.ethstate import HexaryNodeStore
from rollupkit.interfaces import AncestorHashes
from rollupkit.metering import ExecutionMeter

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


class MeteredGasMeter(GasMeter):
    """py-evm's gas meter, also counting what it burns on an :class:`ExecutionMeter`.

    The running count is always the gross gas the transaction has used so far. A child frame
    is handed gas its parent has already burnt (the CALL or CREATE allotment), so creating one
    takes its gas back off the count, and only what the child itself burns counts again; gas a
    parent gets back (a call that could not start, or a child's leftover) comes off the count,
    and :meth:`RollupComputation.apply_child_computation` puts a child's leftover on it first,
    since the child's own count already excluded it. Refunds are settled when the transaction
    ends.
    """

    def __init__(self, start_gas: int, meter: ExecutionMeter, *, child: bool) -> None:
        super().__init__(start_gas, allow_negative_refund_strategy)
        self.meter = meter
        if child:  # a new call frame: its gas was counted by its caller, its set-up was not
            meter.running -= start_gas
            meter.recheck()
            meter.frame()

    def consume_gas(self, amount: int, reason: str) -> None:
        # Called for every opcode: keep it short (py-evm's debug logging is left out).
        if amount < 0:
            raise ValidationError("Gas consumption amount must be positive")
        if amount > self.gas_remaining:
            raise OutOfGas(
                f"Out of gas: Needed {amount} - Remaining {self.gas_remaining} - Reason: {reason}"
            )
        self.gas_remaining -= amount
        meter = self.meter
        meter.running += amount
        if meter.running > meter.running_limit:
            meter.over()

    def return_gas(self, amount: int) -> None:
        super().return_gas(amount)
        self.meter.running -= amount
        self.meter.recheck()


class RollupComputation(PragueComputation):
    """Prague's computation with its gas metered on the state's :class:`ExecutionMeter`, and
    py-evm's slow precompiles replaced (:mod:`rollupkit.ethprecompiles`)."""

    _precompiles = {**PragueComputation._precompiles, **PRECOMPILE_OVERRIDES}

    def _configure_gas_meter(self) -> GasMeter:
        meter = getattr(self.state, "execution_meter", None)
        if meter is None:
            return super()._configure_gas_meter()
        return MeteredGasMeter(self.msg.gas, meter, child=self.msg.depth > 0)

    def extend_memory(self, start_position: int, size: int) -> None:
        # The common case, memory already large enough, costs nothing and changes nothing:
        # skip py-evm's validations and cost arithmetic for it (memory-heavy loops spent most
        # of their time there). Anything else goes through py-evm unchanged.
        if size > 0 and start_position + size <= len(self._memory):
            return
        super().extend_memory(start_position, size)

    def memory_write(self, start_position: int, size: int, value: bytes) -> None:
        # py-evm validates every write against invariants its opcodes already keep (the
        # memory was extended first, the value has the size); keep only the size check.
        memory = self._memory
        if type(value) is bytes and len(value) == size and start_position + size <= len(memory):
            memory._bytes[start_position : start_position + size] = value
            return
        super().memory_write(start_position, size, value)

    def apply_child_computation(self, child_msg: Any) -> Any:
        meter = getattr(self.state, "execution_meter", None)
        child = super().apply_child_computation(child_msg)
        if meter is not None:
            # The parent returns this to itself next (return_gas takes it off the count).
            meter.running += child.get_gas_remaining()
        return child


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
        state_db: ViewDB,
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
