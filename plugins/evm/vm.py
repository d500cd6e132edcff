"""The ``evm`` VM plugin: Ethereum blocks executed by py-evm over a rollupkit state view."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from eth.vm.spoof import SpoofTransaction
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
from rollupkit.ethtx import decode_signed_transaction
from rollupkit.interfaces import (
    VM,
    AncestorHashes,
    CallResult,
    NextBlock,
    NodeStoreView,
    StateModel,
    StateView,
)
from rollupkit.system import SYSTEM_ADDRESS
from rollupkit.types import BlockInput, BlockResult, HeaderInfo, L1Message, MessageKind
from rollupkit.withdrawals import withdrawals_from_logs
from rollupkit_evm.engine import FORK_NAME, RollupEVM, ViewDB

_MISSING_DATA = (EVMMissingData, MissingTrieNode, MissingWitnessError)


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


def _missing_data_behind(exc: BaseException) -> BaseException | None:
    """The missing-witness error that ``exc`` was raised while handling, if any.

    When py-evm hits missing data mid-transaction it tries to revert to a snapshot that its own
    ``lock_changes`` already dropped, and a ``ValidationError`` ("No checkpoint ... was found")
    comes out instead. A missing witness must never pass for an invalid transaction (which a
    forced-inclusion or sequencer path would skip), so look through the exception chain.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _MISSING_DATA):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class EvmVM(VM):
    """Ethereum's EVM (py-evm), executing standard signed transactions."""

    description = f"Ethereum EVM on py-evm ({FORK_NAME} rules)"
    fork = FORK_NAME

    def supports_state_model(self, model: StateModel) -> bool:
        # py-evm brings its own hexary-trie state code; it runs over any model whose views
        # expose a hash-keyed node store (the Ethereum trie), i.e. ``mpt``.
        from rollupkit_mpt.model import MptStateModel

        return isinstance(model, MptStateModel)

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
        try:
            return rlp.decode(raw, sedes=HEADER_CLASS)
        except Exception as exc:
            raise TraceError(f"not a {FORK_NAME} block header: {exc}") from exc

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
    ) -> CallResult:
        if not isinstance(state, NodeStoreView):
            raise TypeError("the evm VM needs a state view with a node store (state model mpt)")
        parent = self._header(parent_header)
        # A child block's context with no base fee: calls are free, as eth_call is.
        header = RollupEVM.create_header_from_parent(
            parent, timestamp=parent.timestamp + 1, gas_limit=parent.gas_limit,
            coinbase=parent.coinbase,
        ).copy(base_fee_per_gas=0)  # fmt: skip
        chaindb = ChainDB(AtomicDB())
        vm = RollupEVM(
            header, chaindb, ChainContext(chain_id), ConsensusContext(chaindb.db),
            state_db=ViewDB(state), ancestors=_ParentOnly(parent),
        )  # fmt: skip
        evm_state = vm.state
        unsigned = RollupEVM.create_unsigned_transaction(
            nonce=evm_state.get_nonce(sender), gas_price=0, gas=gas, to=to or b"", value=value,
            data=data,
        )  # fmt: skip
        try:
            computation = evm_state.apply_transaction(SpoofTransaction(unsigned, from_=sender))
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

    def execute_block(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        block: BlockInput,
        ancestors: AncestorHashes,
        system_storage: Callable[[tuple[int, ...], bytes], Mapping[int, int]],
        drop_invalid: bool = False,
        gas_budget: int | None = None,
    ) -> tuple[BlockResult, tuple[int, ...]]:
        if not isinstance(state, NodeStoreView):
            raise TypeError("the evm VM needs a state view with a node store (state model mpt)")
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
        vm = RollupEVM(
            header,
            chaindb,
            ChainContext(chain_id),
            ConsensusContext(chaindb.db),
            state_db=ViewDB(state),
            ancestors=ancestors,
        )
        try:
            return self._run(vm, block, chain_id, system_storage, drop_invalid, gas_budget, state)
        except _MISSING_DATA as exc:
            raise _missing(exc) from exc
        except ValidationError as exc:
            missing = _missing_data_behind(exc)
            if missing is not None:
                raise _missing(missing) from exc
            raise InvalidBlockError(f"block {block.number}: {exc}") from exc

    def _run(
        self,
        vm: RollupEVM,
        block: BlockInput,
        chain_id: int,
        system_storage: Callable[[tuple[int, ...], bytes], Mapping[int, int]],
        drop_invalid: bool,
        gas_budget: int | None,
        view: NodeStoreView,
    ) -> tuple[BlockResult, tuple[int, ...]]:
        empty_block = vm.get_block()
        # EIP-4788 / EIP-2935 system contracts, if the genesis deployed them (the L1 anchor
        # lands in the beacon-roots contract, as in the native-rollup specs).
        vm.block_preprocessing(empty_block)
        evm_state = vm.state

        logs: list[tuple[bytes, list[bytes], bytes]] = []
        message_gas = 0
        candidates: list[tuple[SignedTransactionAPI | None, bytes, bool]] = []
        for message in block.l1_messages:
            if message.kind == MessageKind.DEPOSIT:
                # Deposit calls share one budget of the block gas limit (apart from the
                # transactions' own), so a queue of big deposits cannot make a block unbounded.
                budget = block.gas_limit - message_gas
                gas, computation = _apply_deposit(evm_state, message, budget)
                message_gas += gas
                _check_budget(message_gas, gas_budget, block.number)
                if computation is not None and computation.is_success:
                    logs.extend(_computation_logs(computation))
            else:
                try:
                    candidates.append(
                        (decode_transaction(message.data, chain_id), message.data, True)
                    )
                except InvalidTransactionError:
                    continue  # a forced transaction that does not decode is consumed as a no-op
        for raw in block.transactions:
            try:
                candidates.append((decode_transaction(raw, chain_id), raw, False))
            except InvalidTransactionError as exc:
                if not drop_invalid:
                    raise InvalidTransactionError(
                        f"block {block.number}, transaction {len(candidates)}: {exc}"
                    ) from exc
                candidates.append((None, raw, False))

        running_header = vm.get_header().copy(gas_used=0)
        included: list[SignedTransactionAPI] = []
        receipts: list[ReceiptAPI] = []
        dropped: list[int] = []
        sequencer_index = -1
        for tx, _raw, forced in candidates:
            if not forced:
                sequencer_index += 1
            if tx is None:
                dropped.append(sequencer_index)
                continue
            try:
                running_header, (receipt,), _ = vm.apply_all_transactions([tx], running_header)
            except ValidationError as exc:
                missing = _missing_data_behind(exc)
                if missing is not None:
                    raise _missing(missing) from exc
                if forced:
                    continue  # consumed as a no-op: forcing garbage cannot stall the chain
                if drop_invalid:
                    dropped.append(sequencer_index)
                    continue
                raise InvalidTransactionError(
                    f"block {block.number}, transaction 0x{tx.hash.hex()}: {exc}"
                ) from exc
            _check_budget(message_gas + running_header.gas_used, gas_budget, block.number)
            included.append(tx)
            receipts.append(receipt)
            logs.extend(
                (log.address, [t.to_bytes(32, "big") for t in log.topics], log.data)
                for log in receipt.logs
            )

        # Every header field but the state root is final once the transactions ran.
        filled = vm.set_block_transactions_and_withdrawals(
            vm.get_block(), running_header, included, receipts
        )
        commitment = header_commitment(filled.header)
        for slot, value in system_storage(tuple(dropped), commitment).items():
            evm_state.set_storage(SYSTEM_ADDRESS, slot, value)
        if evm_state.get_nonce(SYSTEM_ADDRESS) == 0:
            evm_state.set_nonce(SYSTEM_ADDRESS, 1)  # never "empty", so never cleaned up
        evm_state.lock_changes()

        sealed = vm.finalize_block(vm.pack_block(filled)).block
        view.reset_root(sealed.header.state_root)
        header = sealed.header
        result = BlockResult(
            header=rlp.encode(header),
            info=HeaderInfo(
                number=header.block_number,
                hash=header.hash,
                parent_hash=header.parent_hash,
                state_root=header.state_root,
                timestamp=header.timestamp,
                gas_limit=header.gas_limit,
            ),
            gas_used=header.gas_used + message_gas,
            transactions_root=header.transaction_root,
            receipts_root=header.receipt_root,
            transactions=tuple(encode_transaction(tx) for tx in included),
            receipts=tuple(encode_receipt(r) for r in receipts),
            withdrawals=withdrawals_from_logs(logs),
        )
        return result, tuple(dropped)


class _ParentOnly(AncestorHashes):
    """BLOCKHASH for a call: the parent is known, older blocks answer zero (no witness)."""

    def __init__(self, parent: Any) -> None:
        self._parent = parent

    def hashes_back_from(self, number: int) -> Any:
        yield self._parent.hash


def _check_budget(used: int, budget: int | None, number: int) -> None:
    if budget is not None and used > budget:
        raise GasCapExceeded(f"block {number} used more than the claimed gas ({budget} left)")


def _computation_logs(computation: ComputationAPI) -> list[tuple[bytes, list[bytes], bytes]]:
    return [
        (address, [t.to_bytes(32, "big") for t in topics], data)
        for _, address, topics, data in computation.get_raw_log_entries()
    ]


def _apply_deposit(
    state: StateAPI, message: L1Message, budget: int
) -> tuple[int, ComputationAPI | None]:
    """Credit a deposit, then run its call if it has data. Returns (gas used, computation).

    The call gets ``min(message.gas_limit, budget)`` gas, where the budget is what the block's
    earlier deposit calls left of one block gas limit, at gas price 0 (the sender paid on L1).
    A failed call keeps the credit. The gas it burns counts towards the block's gas.
    """
    if message.value:
        state.delta_balance(message.target, message.value)
    computation = None
    gas_used = 0
    gas = min(message.gas_limit, budget)
    if message.data and gas > 0:
        call = Message(
            gas=gas,
            to=message.target,
            sender=message.sender,
            value=0,
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
