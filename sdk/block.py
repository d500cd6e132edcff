"""What a block does: the one block loop every VM runs on, for EXECUTE and the builder alike.

For each block, in this order:

1. the block's fields are checked against its parent (:meth:`rollupkit.interfaces.VM.open_block`),
   and its gas limit is at least :data:`MIN_BLOCK_GAS_LIMIT`;
2. the L1 messages, in queue order. A **deposit** without data credits its value to its
   target. A deposit with data mints its value to its (aliased) sender and calls its target
   with that value and its own gas limit; if the call fails (or gets no gas), the value stays
   with the sender, as on OP Stack. All deposit calls of a block share one budget of the block
   gas limit. A **forced transaction** is applied if it is valid and consumed as a no-op (no
   state change at all) if it is not, so forcing garbage cannot stall the chain;
3. the sequencer's transactions, each valid by Ethereum's rules (:func:`transaction_problem`)
   or the block is invalid; the builder (``drop_invalid``) leaves invalid ones out instead;
4. the gas-free write to the system account (:mod:`rollupkit.system`), then the seal.

Every step is paid for in EXECUTE gas (:mod:`rollupkit.metering`) and metered while it runs,
so a trace that claims little gas stops early. A VM plugin supplies only the steps
(:class:`rollupkit.interfaces.BlockExecution`); it never re-implements this order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rollupkit import messages as queue
from rollupkit.errors import InvalidBlockError, InvalidTransactionError
from rollupkit.interfaces import VM, AccountState, AncestorHashes, BlockExecution, StateView
from rollupkit.metering import ExecutionMeter
from rollupkit.system import system_writes
from rollupkit.types import BlockInput, BlockResult, MessageKind, QueuePosition

#: The least gas limit an L2 block may have. Ethereum lets a block's limit drift by 1/1024 a
#: block, so a sequencer could walk it down until no forced transaction fits (a transfer needs
#: 21,000) and every forced transaction is consumed as a no-op; with this floor, any forced
#: transaction asking for up to this much gas always fits in the block that must include it.
MIN_BLOCK_GAS_LIMIT = 5_000_000

#: EIP-2681: a nonce is below 2**64 - 1.
MAX_NONCE = 2**64 - 1
#: EIP-3860: a contract creation's init code is at most twice the code size limit.
MAX_INITCODE_SIZE = 2 * 24_576
#: EIP-7702: code that delegates an account to another one (0xef0100 || address).
DELEGATION_PREFIX = b"\xef\x01\x00"
#: EIP-7623: the calldata floor's cost per token, and its base.
FLOOR_TOKEN_COST = 10
FLOOR_BASE = 21_000


def calldata_floor(tx: Any) -> int:
    """EIP-7623 (Prague): a transaction pays at least 10 gas per calldata token (a zero byte
    is 1 token, any other 4) over the base 21,000, whatever its execution used. py-evm's
    ``intrinsic_gas`` leaves it out (py-evm applies it after execution), so the core checks
    that a transaction's gas covers it."""
    data = bytes(tx.data)
    zeros = data.count(0)
    return FLOOR_BASE + FLOOR_TOKEN_COST * (zeros + 4 * (len(data) - zeros))


def fees(tx: Any) -> tuple[int, int]:
    """(max fee per gas, max priority fee per gas); a legacy or EIP-2930 transaction's gas
    price is both."""
    if hasattr(tx, "max_fee_per_gas"):
        return int(tx.max_fee_per_gas), int(tx.max_priority_fee_per_gas)
    return int(tx.gas_price), int(tx.gas_price)


def transaction_type(tx: Any) -> int:
    """The EIP-2718 type of ``tx`` (0 for legacy)."""
    type_id = getattr(tx, "type_id", None)
    return 0 if type_id is None else int(type_id)


def transaction_problem(
    tx: Any,
    sender: AccountState,
    block: BlockInput,
    gas_left: int,
    types: frozenset[int],
) -> str:
    """Why ``tx`` cannot be included now ("" if it can): Ethereum's validity rules, including
    those py-evm leaves to its caller. ``gas_left`` is what the block's transactions have left
    of its gas limit; ``sender`` is the signer's account as the block has left it so far."""
    max_fee, tip = fees(tx)
    kind = transaction_type(tx)
    if kind not in types:
        return f"transaction type {kind} is not supported (types {sorted(types)} are)"
    if tx.nonce >= MAX_NONCE:
        return f"nonce {tx.nonce} is at the EIP-2681 limit"
    if tx.nonce != sender.nonce:
        return f"nonce {tx.nonce}, expected {sender.nonce}"
    if sender.code and not _is_delegation(sender.code):
        return "the sender has code (EIP-3607)"
    if not tx.to and len(tx.data) > MAX_INITCODE_SIZE:
        return f"init code of {len(tx.data)} bytes is over the EIP-3860 limit {MAX_INITCODE_SIZE}"
    if tx.gas > gas_left:
        return f"gas {tx.gas} over the block's remaining {gas_left}"
    if tx.gas < tx.intrinsic_gas:
        return f"gas {tx.gas} below the intrinsic {tx.intrinsic_gas}"
    if tx.gas < calldata_floor(tx):
        return f"gas {tx.gas} below the calldata floor {calldata_floor(tx)} (EIP-7623)"
    if tip > max_fee:
        return f"priority fee {tip} above the max fee {max_fee}"
    if max_fee < block.base_fee:
        return f"max fee {max_fee} below the base fee {block.base_fee}"
    if sender.balance < tx.gas * max_fee + tx.value:
        return "insufficient funds for gas * max fee + value"
    return ""


def _is_delegation(code: bytes) -> bool:
    return len(code) == 23 and code.startswith(DELEGATION_PREFIX)


@dataclass(frozen=True)
class ExecutedBlock:
    """A block as executed: its input without the transactions left out, the sealed result,
    the indices of the transactions left out, and the L1 queue position after it."""

    block: BlockInput
    result: BlockResult
    dropped: tuple[int, ...]
    queue_after: QueuePosition


def execute_block(
    vm: VM,
    state: StateView,
    *,
    chain_id: int,
    parent_header: bytes,
    block: BlockInput,
    ancestors: AncestorHashes,
    queue_before: QueuePosition,
    meter: ExecutionMeter,
    drop_invalid: bool = False,
    after_transaction: Callable[[int, BlockExecution], None] | None = None,
    stop_after: int | None = None,
) -> Any:
    """Execute ``block`` on ``state`` with ``vm`` and seal it (see the module docstring): an
    :class:`ExecutedBlock`.

    ``queue_before`` is the L1 queue position before the block; its messages must continue
    it (:class:`~rollupkit.errors.InvalidMessageError` otherwise). Sequencer transactions that
    are invalid raise :class:`InvalidTransactionError`, or with ``drop_invalid`` are left out.
    For disputes (:mod:`rollupkit.steps`): ``after_transaction(count, execution)`` is called
    after each of the first ``count`` sequencer transactions; with ``stop_after`` the block
    stops after that many (its L1 messages first) and the intermediate state root is
    returned instead.
    """
    if block.gas_limit < MIN_BLOCK_GAS_LIMIT:
        raise InvalidBlockError(
            f"block {block.number}: gas limit {block.gas_limit} is below the floor "
            f"{MIN_BLOCK_GAS_LIMIT} (forced transactions must always fit)"
        )
    schedule = meter.schedule
    # The block's fixed work is paid before any of it is done (hashing the queue included).
    meter.charge(
        schedule.block + schedule.l1_message * len(block.l1_messages), f"block {block.number}"
    )
    queue_after = queue.consume(queue_before, block.l1_messages)
    execution = vm.open_block(
        state,
        chain_id=chain_id,
        parent_header=parent_header,
        block=block,
        ancestors=ancestors,
        meter=meter,
    )
    deposit_gas = 0
    transaction_gas = 0
    for message in block.l1_messages:
        if message.kind == MessageKind.DEPOSIT:
            # Deposit calls share one budget of the block gas limit (apart from the
            # transactions' own), so a queue of big deposits cannot make a block unbounded.
            gas = max(0, min(message.gas_limit, block.gas_limit - deposit_gas))
            meter.start()
            used = execution.apply_deposit(message, gas)
            meter.finish(used, f"deposit {message.index}")
            deposit_gas += used
            continue
        if not vm.applies_forced_transactions:
            continue  # consumed as a no-op (see VM.applies_forced_transactions)
        try:
            tx = vm.decode_transaction(message.data, chain_id)
            transaction_gas += _apply(vm, execution, tx, block, transaction_gas, meter)
        except InvalidTransactionError:
            continue  # consumed as a no-op: forcing garbage cannot stall the chain
    dropped: list[int] = []
    for index, raw in enumerate(block.transactions):
        if stop_after is not None and index - len(dropped) >= stop_after:
            return execution.intermediate_root()
        try:
            tx = vm.decode_transaction(raw, chain_id)
            transaction_gas += _apply(vm, execution, tx, block, transaction_gas, meter)
        except InvalidTransactionError as exc:
            if not drop_invalid:
                raise InvalidTransactionError(
                    f"block {block.number}, transaction {index}: {exc}"
                ) from exc
            dropped.append(index)
            continue
        if after_transaction is not None:
            after_transaction(index + 1 - len(dropped), execution)
    if stop_after is not None:
        if stop_after > len(block.transactions) - len(dropped):
            raise InvalidBlockError(
                f"block {block.number} has {len(block.transactions)} transactions, not {stop_after}"
            )
        return execution.intermediate_root()
    commitment = vm.header_commitment(execution.pending_header())
    kept = without_transactions(block, tuple(dropped))
    result = execution.seal(system_writes(chain_id, kept, queue_after, commitment))
    return ExecutedBlock(kept, result, tuple(dropped), queue_after)


def _apply(
    vm: VM,
    execution: BlockExecution,
    tx: Any,
    block: BlockInput,
    gas_so_far: int,
    meter: ExecutionMeter,
) -> int:
    problem = transaction_problem(
        tx,
        execution.account_state(bytes(tx.sender)),
        block,
        block.gas_limit - gas_so_far,
        vm.transaction_types,
    )
    if problem:
        raise InvalidTransactionError(f"0x{bytes(tx.hash).hex()}: {problem}")
    meter.start(upfront=tx.intrinsic_gas)
    used = execution.apply_transaction(tx)
    meter.finish(used, f"transaction 0x{bytes(tx.hash).hex()}")
    return used


def without_transactions(block: BlockInput, dropped: tuple[int, ...]) -> BlockInput:
    """``block`` without the sequencer transactions at the ``dropped`` indices."""
    if not dropped:
        return block
    gone = set(dropped)
    kept = tuple(tx for i, tx in enumerate(block.transactions) if i not in gone)
    return dataclasses.replace(block, transactions=kept)
