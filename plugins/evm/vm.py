"""The ``evm`` VM plugin: Ethereum blocks executed by py-evm over a rollupkit state view."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import rlp
from eth.abc import ComputationAPI, ReceiptAPI, SignedTransactionAPI, StateAPI
from eth.chains.base import ChainContext
from eth.consensus.context import ConsensusContext
from eth.db.atomic import AtomicDB
from eth.db.chain import ChainDB
from eth.exceptions import Revert
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.forks.spurious_dragon._utils import collect_touched_accounts
from eth.vm.interrupt import EVMMissingData
from eth.vm.message import Message
from eth_utils import ValidationError
from trie.exceptions import MissingTrieNode

from rollupkit.errors import (
    GasCapExceeded,
    InvalidBlockError,
    InvalidTransactionError,
    MissingWitnessError,
    TraceError,
)
from rollupkit.ethheader import HEADER_CLASS, header_commitment, header_params
from rollupkit.ethstate import HexaryNodeStore
from rollupkit.ethtx import decode_signed_transaction
from rollupkit.interfaces import (
    VM,
    AccessListResult,
    AccountState,
    AncestorHashes,
    BlockExecution,
    CallResult,
    NextBlock,
    StateModel,
    StateView,
)
from rollupkit.metering import DeadlineMeter, ExecutionMeter
from rollupkit.ordered_trie import ordered_trie_root
from rollupkit.pyevm_engine import (
    CallStates,
    CallTransaction,
    access_list_of,
    recorded_accesses,
)
from rollupkit.system import SYSTEM_ADDRESS
from rollupkit.types import BlockInput, BlockResult, GenesisAccount, HeaderInfo, L1Message
from rollupkit.withdrawals import L2_BRIDGE_ADDRESS, withdrawals_from_logs
from rollupkit_evm.engine import FORK_NAME, RollupEVM, ViewDB, ViewRollupEVM
from rollupkit_evm.viewdb import StateViewDB

_MISSING_DATA = (EVMMissingData, MissingTrieNode, MissingWitnessError)
_STOPS = (*_MISSING_DATA, GasCapExceeded)


@functools.lru_cache(maxsize=512)
def _decode_header(raw: bytes) -> Any:
    """A header decoded once (headers are immutable and decoded for every block and call)."""
    try:
        return rlp.decode(raw, sedes=HEADER_CLASS)
    except Exception as exc:
        raise TraceError(f"not a {FORK_NAME} block header: {exc}") from exc


def decode_transaction(raw: bytes, chain_id: int) -> SignedTransactionAPI:
    """Decode a signed transaction for this chain, or raise :class:`InvalidTransactionError`
    (see :func:`rollupkit.ethtx.decode_signed_transaction`)."""
    tx: SignedTransactionAPI = decode_signed_transaction(raw, chain_id)
    return tx


def encode_transaction(tx: SignedTransactionAPI) -> bytes:
    """The network encoding of ``tx``."""
    return tx.encode() if hasattr(tx, "encode") else rlp.encode(tx)


def encode_receipt(receipt: ReceiptAPI) -> bytes:
    """The consensus encoding of ``receipt`` (typed receipts carry their type byte)."""
    return receipt.encode() if hasattr(receipt, "encode") else rlp.encode(receipt)


def _missing(exc: BaseException) -> MissingWitnessError:
    if isinstance(exc, MissingWitnessError):
        return exc
    return MissingWitnessError(f"{type(exc).__name__}: {exc}")


def _cause_behind(exc: BaseException) -> BaseException | None:
    """The missing-witness or gas-cap error that ``exc`` was raised while handling, if any.

    When py-evm is interrupted mid-transaction it may try to revert to a snapshot that is
    already gone, and a ``ValidationError`` ("No checkpoint ... was found") comes out instead.
    A missing witness or an exhausted claim must never pass for an invalid transaction (which
    a forced-inclusion or sequencer path would skip), so look through the exception chain.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _STOPS):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class EvmVM(VM):
    """Ethereum's EVM (py-evm), executing standard signed transactions."""

    description = f"Ethereum EVM on py-evm ({FORK_NAME} rules)"
    client = "py-evm"
    fork = FORK_NAME
    transaction_types = frozenset({0, 1, 2, 4})  # legacy, EIP-2930, EIP-1559, EIP-7702

    #: The py-evm VM classes blocks and calls run on: over Ethereum's trie (a view offering
    #: HexaryNodeStore) and over any other state view. A VM built on this one (``multi``)
    #: swaps in its own.
    evm_class: type[RollupEVM] = RollupEVM
    view_evm_class: type[RollupEVM] = ViewRollupEVM

    def __init__(self) -> None:
        self._call_states = CallStates()

    def supports_state_model(self, model: StateModel) -> bool:
        # py-evm drives Ethereum's trie itself where a view offers it as a node store (mpt),
        # and any other model through the StateView interface (rollupkit_evm.viewdb).
        return True

    def predeploys(self, chain_id: int) -> Mapping[bytes, GenesisAccount]:
        """The L2 bridge contract (``contracts/L2Bridge.sol``): withdrawals are its events."""
        from rollupkit.contracts import artifact

        code = artifact("L2Bridge").deployed_bytecode
        return {L2_BRIDGE_ADDRESS: GenesisAccount(code=code, nonce=1)}

    # --- headers --------------------------------------------------------------------------

    def genesis_header(
        self, *, chain_id: int, state_root: bytes, timestamp: int, gas_limit: int, base_fee: int
    ) -> bytes:
        header = RollupEVM.create_genesis_header(
            state_root=state_root,
            timestamp=timestamp,
            gas_limit=gas_limit,
            base_fee_per_gas=base_fee,
            difficulty=0,
            nonce=b"\x00" * 8,
        )
        return rlp.encode(header)

    def _header(self, raw: bytes):  # type: ignore[no-untyped-def]
        return _decode_header(bytes(raw))

    def decode_header(self, raw: bytes) -> HeaderInfo:
        header = self._header(raw)
        return HeaderInfo(
            number=header.block_number,
            hash=header.hash,
            parent_hash=header.parent_hash,
            state_root=header.state_root,
            timestamp=header.timestamp,
            gas_limit=header.gas_limit,
        )

    def header_commitment(self, header: bytes) -> bytes:
        return header_commitment(self._header(header))

    def next_block(self, parent_header: bytes) -> NextBlock:
        parent = self._header(parent_header)
        return NextBlock(
            number=parent.block_number + 1,
            parent_hash=parent.hash,
            base_fee=calculate_expected_base_fee_per_gas(parent),
        )

    # --- calls ----------------------------------------------------------------------------

    def call(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        sender: bytes,
        to: bytes | None,
        value: int,
        data: bytes,
        gas: int,
        timeout: float | None = None,
    ) -> CallResult:
        # States are reused for calls on the same stores and block (see CallStates). A kept
        # state holds the stores it reads, so their ids name them for as long as it exists.
        key = (_store_key(state), chain_id, parent_header)
        build = functools.partial(self._call_state, state, chain_id, parent_header)
        with self._call_states.state(key, build) as evm_state:
            evm_state.execution_meter = DeadlineMeter(timeout) if timeout is not None else None
            try:
                return self._run_call(evm_state, sender, to, value, data, gas)
            finally:
                evm_state.execution_meter = None

    def access_list(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        sender: bytes,
        to: bytes | None,
        value: int,
        data: bytes,
        gas: int,
        timeout: float | None = None,
    ) -> AccessListResult:
        key = (_store_key(state), chain_id, parent_header)
        build = functools.partial(self._call_state, state, chain_id, parent_header)
        with self._call_states.state(key, build) as evm_state:
            evm_state.execution_meter = DeadlineMeter(timeout) if timeout is not None else None
            try:
                with recorded_accesses(evm_state) as touched:
                    self._run_call(evm_state, sender, to, value, data, gas)
                # Warm from the start (EIP-2929, EIP-3651), as geth leaves them out too.
                precompiles = {*evm_state.computation_class._precompiles, evm_state.coinbase}
            finally:
                evm_state.execution_meter = None
        found = access_list_of(touched, {bytes(sender), bytes(to or b""), *precompiles})
        # The gas with the list: an EIP-2930 transaction pays for the list up front and then
        # finds those accounts and slots warm.
        with self._call_states.state(key, build) as evm_state:
            evm_state.execution_meter = DeadlineMeter(timeout) if timeout is not None else None
            try:
                result = self._run_call(evm_state, sender, to, value, data, gas, found, chain_id)
            finally:
                evm_state.execution_meter = None
        return AccessListResult(found, result.gas_used, "" if result.success else result.error)

    def _call_state(self, state: StateView, chain_id: int, parent_header: bytes) -> StateAPI:
        parent = _decode_header(bytes(parent_header))
        # A child block's context with no base fee: calls are free, as eth_call is.
        header = RollupEVM.create_header_from_parent(
            parent, timestamp=parent.timestamp + 1, gas_limit=parent.gas_limit,
            coinbase=parent.coinbase,
        ).copy(base_fee_per_gas=0)  # fmt: skip
        chaindb = ChainDB(AtomicDB())
        evm_class, state_db, _ = self._engine_for(state)
        vm = evm_class(
            header, chaindb, ChainContext(chain_id), ConsensusContext(chaindb.db),
            state_db=state_db, ancestors=_ParentOnly(parent),
        )  # fmt: skip
        return vm.state

    @staticmethod
    def _run_call(
        evm_state: StateAPI,
        sender: bytes,
        to: bytes | None,
        value: int,
        data: bytes,
        gas: int,
        access_list: Sequence[tuple[bytes, Sequence[int]]] = (),
        chain_id: int = 0,
    ) -> CallResult:
        unsigned: Any
        if access_list:  # an EIP-2930 transaction
            unsigned = RollupEVM.get_transaction_builder().new_unsigned_access_list_transaction(
                chain_id, evm_state.get_nonce(sender), 0, gas, to or b"", value, data,
                access_list,
            )  # fmt: skip
        else:
            unsigned = RollupEVM.create_unsigned_transaction(
                nonce=evm_state.get_nonce(sender), gas_price=0, gas=gas, to=to or b"",
                value=value, data=data,
            )  # fmt: skip
        try:
            computation = evm_state.apply_transaction(CallTransaction(unsigned, from_=sender))
        except ValidationError as exc:
            return CallResult(False, b"", 0, error=str(exc))
        used = gas - computation.get_gas_remaining()
        if computation.is_success:
            return CallResult(True, bytes(computation.output), used)
        error = computation.error
        if isinstance(error, Revert):
            output = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
            return CallResult(False, output, used, reverted=True, error="execution reverted")
        return CallResult(False, b"", used, error=f"{type(error).__name__}: {error}")

    # --- execution ------------------------------------------------------------------------

    def _engine_for(
        self, state: StateView
    ) -> tuple[type[RollupEVM], ViewDB | StateViewDB, Callable[[bytes], None] | None]:
        """How py-evm runs over ``state``: (VM class, its state database, the view's
        ``reset_root`` if py-evm writes the view's trie itself, else None)."""
        store = state.capability(HexaryNodeStore)
        if store is not None:  # Ethereum's trie: py-evm's own trie code drives the node store
            return self.evm_class, ViewDB(store), store.reset_root
        return self.view_evm_class, StateViewDB(state), None

    def open_block(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        block: BlockInput,
        ancestors: AncestorHashes,
        meter: ExecutionMeter,
    ) -> EvmBlockExecution:
        evm_class, state_db, reset_root = self._engine_for(state)
        parent = self._header(parent_header)
        try:
            header = RollupEVM.create_header_from_parent(parent, **header_params(block))
            RollupEVM.validate_header(header, parent)
        except ValidationError as exc:
            raise InvalidBlockError(f"block {block.number}: {exc}") from exc
        if header.base_fee_per_gas != block.base_fee:
            raise InvalidBlockError(
                f"block {block.number}: base fee {block.base_fee}, "
                f"expected {header.base_fee_per_gas}"
            )
        chaindb = ChainDB(AtomicDB())
        vm = evm_class(
            header,
            chaindb,
            ChainContext(chain_id),
            ConsensusContext(chaindb.db),
            state_db=state_db,
            ancestors=ancestors,
        )
        return EvmBlockExecution(vm, reset_root, meter)


class EvmBlockExecution(BlockExecution):
    """One block on py-evm: each step is py-evm's own code, metered and made atomic."""

    def __init__(
        self, vm: RollupEVM, reset_root: Callable[[bytes], None] | None, meter: ExecutionMeter
    ) -> None:
        self.vm = vm
        self.reset_root = reset_root
        self.number = vm.get_header().block_number
        with _engine_errors(self.number):
            self.state = vm.state
            self.state.execution_meter = meter
            self.keys = self.state.record_keys()  # for debug_executionWitness
            # EIP-4788 / EIP-2935 system contracts, if the genesis deployed them (the L1
            # anchor lands in the beacon-roots contract, as in the native-rollup specs).
            vm.block_preprocessing(vm.get_block())
            self.state.lock_changes()
        self.header = vm.get_header().copy(gas_used=0)
        self.included: list[SignedTransactionAPI] = []
        self.receipts: list[ReceiptAPI] = []
        self.logs: list[tuple[bytes, list[bytes], bytes]] = []
        self.deposit_gas = 0
        self._filled: Any = None

    def account_state(self, address: bytes) -> AccountState:
        with _engine_errors(self.number):
            return AccountState(
                self.state.get_nonce(address),
                self.state.get_balance(address),
                self.state.get_code(address),
            )

    def apply_deposit(self, message: L1Message, gas: int) -> int:
        with _engine_errors(self.number):
            used, computation = _apply_deposit(self.state, message, gas)
        if computation is not None and computation.is_success:
            self.logs.extend(_computation_logs(computation))
        self.deposit_gas += used
        return used

    def apply_transaction(self, tx: SignedTransactionAPI) -> int:
        state = self.state
        # py-evm's own VM.apply_transaction locks the journal after a snapshot could be taken,
        # so a transaction it refuses half way (nonce bumped, gas bought) could not be undone.
        # Lock first, then snapshot, so a refusal leaves no trace at all.
        state.lock_changes()
        snapshot = state.snapshot()
        try:
            self.vm.validate_transaction_against_header(self.header, tx)
            computation = state.apply_transaction(tx)
            receipt = self.vm.make_receipt(self.header, tx, computation, state)
            self.vm.validate_receipt(receipt)
        except BaseException as exc:
            _raise_if_fatal(exc)
            # Whatever else py-evm raised, the transaction is refused and leaves nothing.
            state.revert(snapshot)
            raise InvalidTransactionError(f"{type(exc).__name__}: {exc}") from exc
        state.commit(snapshot)
        used = receipt.gas_used - self.header.gas_used
        self.header = self.vm.add_receipt_to_header(self.header, receipt)
        self.included.append(tx)
        self.receipts.append(receipt)
        self.logs.extend(
            (log.address, [t.to_bytes(32, "big") for t in log.topics], log.data)
            for log in receipt.logs
        )
        return int(used)

    def pending_header(self) -> bytes:
        with _engine_errors(self.number):
            # The two roots as py-evm's set_block_transactions_and_withdrawals computes them,
            # built bottom-up (rollupkit.ordered_trie) rather than key by key: a third of a
            # block's time, in the builder and in EXECUTE alike.
            header = self.header.copy(
                transaction_root=ordered_trie_root([tx.encode() for tx in self.included]),
                receipt_root=ordered_trie_root([r.encode() for r in self.receipts]),
            )
            self._filled = self.vm.get_block().copy(transactions=self.included, header=header)
        return rlp.encode(self._filled.header)

    def intermediate_root(self) -> bytes:
        with _engine_errors(self.number):
            self.state.lock_changes()
            return bytes(self.state.make_state_root())

    def seal(self, system_storage: Mapping[int, int]) -> BlockResult:
        state = self.state
        with _engine_errors(self.number):
            for slot, value in system_storage.items():
                state.set_storage(SYSTEM_ADDRESS, slot, value)
            if state.get_nonce(SYSTEM_ADDRESS) == 0:
                state.set_nonce(SYSTEM_ADDRESS, 1)  # never "empty", so never cleaned up
            state.lock_changes()
            sealed = self.vm.finalize_block(self.vm.pack_block(self._filled)).block
        if self.reset_root is not None:  # py-evm wrote the trie itself: tell the view
            self.reset_root(sealed.header.state_root)
        header = sealed.header
        return BlockResult(
            header=rlp.encode(header),
            info=HeaderInfo(
                number=header.block_number,
                hash=header.hash,
                parent_hash=header.parent_hash,
                state_root=header.state_root,
                timestamp=header.timestamp,
                gas_limit=header.gas_limit,
            ),
            gas_used=header.gas_used + self.deposit_gas,
            transactions_root=header.transaction_root,
            receipts_root=header.receipt_root,
            transactions=tuple(encode_transaction(tx) for tx in self.included),
            receipts=tuple(encode_receipt(r) for r in self.receipts),
            withdrawals=withdrawals_from_logs(self.logs),
            keys=tuple(sorted(self.keys)),
        )


@contextmanager
def _engine_errors(number: int) -> Iterator[None]:
    """Turn what py-evm raises into rollupkit's errors: missing witness data (also when py-evm
    hid it behind a failed revert) and the gas cap pass through as themselves; any other
    ValidationError is an invalid block."""
    try:
        yield
    except BaseException as exc:
        _raise_if_fatal(exc)
        if isinstance(exc, ValidationError):
            raise InvalidBlockError(f"block {number}: {exc}") from exc
        raise


def _raise_if_fatal(exc: BaseException) -> None:
    """Re-raise ``exc`` if it must end the whole run, or the error it hides (see _fatal)."""
    fatal = _fatal(exc)
    if fatal is exc:
        raise exc
    if fatal is not None:
        raise fatal from exc


def _fatal(exc: BaseException) -> BaseException | None:
    """The error that must end the whole run if ``exc`` is, or hides, one: missing witness
    data (as :class:`MissingWitnessError`), the gas cap, or an error that is not about this
    transaction at all (out of memory, an interrupt). None for anything else."""
    if not isinstance(exc, Exception) or isinstance(exc, MemoryError | GasCapExceeded):
        return exc
    if isinstance(exc, MissingWitnessError):
        return exc
    behind = _cause_behind(exc)
    if behind is None:
        return None
    if isinstance(behind, GasCapExceeded | MissingWitnessError):
        return behind
    return _missing(behind)


def _store_key(state: StateView) -> Hashable:
    """What names the data a call state reads, for as long as the state is kept."""
    store = state.capability(HexaryNodeStore)
    if store is not None:
        return (id(store.node_store), id(store.code_store))
    return id(state)


class _ParentOnly(AncestorHashes):
    """BLOCKHASH for a call: the parent is known, older blocks answer zero (no witness)."""

    def __init__(self, parent: Any) -> None:
        self._parent = parent

    def hashes_back_from(self, number: int) -> Any:
        yield self._parent.hash


def _computation_logs(computation: ComputationAPI) -> list[tuple[bytes, list[bytes], bytes]]:
    return [
        (address, [t.to_bytes(32, "big") for t in topics], data)
        for _, address, topics, data in computation.get_raw_log_entries()
    ]


def _apply_deposit(
    state: StateAPI, message: L1Message, gas: int
) -> tuple[int, ComputationAPI | None]:
    """A deposit (see :func:`rollupkit.block.execute_block`): without data, credit the target.
    With data, mint the value to the sender and call the target with it and ``gas`` gas at gas
    price 0 (the sender paid on L1); a call that fails, or gets no gas, leaves the value with
    the sender, as on OP Stack. Returns (gas used, computation)."""
    if not message.data:
        if message.value:
            state.delta_balance(message.target, message.value)
        state.lock_changes()
        return 0, None
    if message.value:
        state.delta_balance(message.sender, message.value)
    computation = None
    gas_used = 0
    if gas > 0:
        call = Message(
            gas=gas,
            to=message.target,
            sender=message.sender,
            value=message.value,
            data=message.data,
            code=state.get_code(message.target),
            code_address=message.target,
        )
        context = state.get_transaction_context_class()(gas_price=0, origin=message.sender)
        computation = state.computation_class.apply_message(state, call, context)
        gas_used = gas - computation.get_gas_remaining()
        # Finish the call as a transaction would: self-destructs, then EIP-161 clean-up.
        for account in computation.get_accounts_for_deletion():
            state.delete_account(account)
        for account in collect_touched_accounts(computation):
            if state.account_exists(account) and state.account_is_empty(account):
                state.delete_account(account)
        state.clear_transient_storage()
    state.lock_changes()
    return gas_used, computation
