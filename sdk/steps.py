"""A batch as a sequence of steps, one per transaction: what an optimistic dispute bisects.

Positions, in order, for each block ``b`` of a batch (1-based) with ``n`` sequencer
transactions: ``(b, 1)`` ... ``(b, n)`` (the block's L1 messages, then that many of its
transactions applied), then ``(b, end)`` (the block sealed: system write and header). Position
0 is the batch's start. The state at a position is a :class:`StepState`, and its
:meth:`~StepState.commitment` is the 32 bytes two parties compare on L1:
``keccak(abi.encode(block_pre_state_root, state_root, block_hash, block_input_hash,
transactions, end))``, where ``block_pre_state_root`` is the state the block started from
(so one step can be re-executed from any agreed position; zero at an ``end``, where the next
block starts from ``state_root``), ``block_hash`` is zero except at ``end``, and
``block_input_hash`` is ``keccak`` of the block's trace encoding
(:func:`rollupkit.trace.encode_block`), which pins the step to the batch's posted data.

One step is checked by :func:`execute_step` (on L1: the ``EXECUTE_STEP`` precompile): a
one-block trace whose witness covers the block's first transactions (or the whole block),
executed from the step's ``block_pre_state_root``; it answers the state at the next position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from rollupkit import messages
from rollupkit.ancestors import KnownAncestors, RecordingAncestors, verify_header_chain
from rollupkit.block import execute_block
from rollupkit.errors import (
    ClientUnsupported,
    GasCapExceeded,
    InvalidBlockError,
    MissingWitnessError,
    RollupkitError,
    TraceError,
)
from rollupkit.execution import check_pre_state, read_queue_position, resolve_plugins
from rollupkit.interfaces import VM, BlockExecution, StateModel, StateStore
from rollupkit.metering import ExecutionMeter, witness_gas
from rollupkit.trace import LIMITS, decode_trace, encode_block, encode_trace, input_gas
from rollupkit.types import ZERO_HASH, BlockInput, PublicOutputs, QueuePosition, Trace, Witness


@dataclass(frozen=True)
class Position:
    """``transactions`` applied of block ``block`` (1-based); ``end``: the block sealed."""

    block: int
    transactions: int
    end: bool


def positions(transaction_counts: Sequence[int]) -> list[Position]:
    """Every position of a batch whose blocks hold these many sequencer transactions (the
    start, position 0, is not listed)."""
    found: list[Position] = []
    for b, count in enumerate(transaction_counts, start=1):
        found.extend(Position(b, i, False) for i in range(1, count + 1))
        found.append(Position(b, count, True))
    return found


def block_input_hash(block: BlockInput) -> bytes:
    return bytes(keccak(encode_block(block)))


@dataclass(frozen=True)
class StepState:
    """The state at one position (see the module docstring)."""

    block_pre_state_root: bytes
    state_root: bytes
    block_hash: bytes  # ZERO_HASH unless end
    block_input_hash: bytes
    transactions: int
    end: bool

    def commitment(self) -> bytes:
        # At an end the block's pre-state is not needed to go on (the next block starts from
        # the state root), so it is left out: L1 can then compute a claim's final commitment.
        pre = ZERO_HASH if self.end else self.block_pre_state_root
        return bytes(
            keccak(
                abi_encode(
                    ["bytes32", "bytes32", "bytes32", "bytes32", "uint256", "bool"],
                    [
                        pre,
                        self.state_root,
                        self.block_hash,
                        self.block_input_hash,
                        self.transactions,
                        self.end,
                    ],
                )
            )
        )


def start_state(pre_state_root: bytes, parent_hash: bytes) -> StepState:
    """Position 0: the batch starts where L1's last settled block ended."""
    return StepState(ZERO_HASH, pre_state_root, parent_hash, ZERO_HASH, 0, True)


def step_states(
    vm: VM,
    model: StateModel,
    store: StateStore,
    *,
    chain_id: int,
    parent_header: bytes,
    header_by_number: Callable[[int], bytes],
    queue_start: QueuePosition,
    blocks: Sequence[BlockInput],
) -> list[StepState]:
    """The state at every position of ``blocks`` (as a batch's trace holds them), executed on
    ``store`` (left unchanged): what an honest party compares a claim with."""
    parent = vm.decode_header(parent_header)
    view = model.open(store, parent.state_root)
    ancestors = RecordingAncestors(lambda n: vm.decode_header(header_by_number(n)).hash)
    states: list[StepState] = []
    position, header = queue_start, parent_header
    for block in blocks:
        pre_root, input_hash = vm.decode_header(header).state_root, block_input_hash(block)

        def record(count: int, execution: BlockExecution) -> None:
            root = execution.intermediate_root()
            states.append(StepState(pre_root, root, ZERO_HASH, input_hash, count, False))  # noqa: B023

        executed = execute_block(
            vm, view, chain_id=chain_id, parent_header=header, block=block, ancestors=ancestors,
            queue_before=position, meter=ExecutionMeter(None), after_transaction=record,
        )  # fmt: skip
        info = executed.result.info
        states.append(StepState(pre_root, info.state_root, info.hash, input_hash,
                                len(block.transactions), True))  # fmt: skip
        ancestors.push(info)
        position, header = executed.queue_after, executed.result.header
    return states


def build_step_trace(
    vm: VM,
    model: StateModel,
    store: StateStore,
    *,
    chain_id: int,
    parent_header: bytes,
    header_by_number: Callable[[int], bytes],
    queue_start: QueuePosition,
    block: BlockInput,
    transactions: int,
    end: bool,
) -> bytes:
    """A one-block trace proving the step to ``(block, transactions, end)``: ``block`` on top
    of ``parent_header`` (the state in ``store``), witness recorded for the first
    ``transactions`` of it and the intermediate root, or for the whole block if ``end``."""
    parent = vm.decode_header(parent_header)
    view = model.open(store, parent.state_root, record=True)
    ancestors = RecordingAncestors(lambda n: vm.decode_header(header_by_number(n)).hash)
    check_pre_state(vm, view, chain_id, parent_header)  # what execute_step reads first
    read_queue_position(view)
    execute_block(
        vm, view, chain_id=chain_id, parent_header=parent_header, block=block,
        ancestors=ancestors, queue_before=queue_start, meter=ExecutionMeter(None),
        stop_after=None if end else transactions,
    )  # fmt: skip
    oldest = parent.number if ancestors.oldest_read is None else ancestors.oldest_read
    recorded = view.witness()
    witness = Witness(
        recorded.state_nodes, recorded.codes,
        tuple(header_by_number(n) for n in range(min(oldest, parent.number), parent.number + 1)),
    )  # fmt: skip
    return encode_trace(Trace(chain_id, queue_start, (block,), witness))


@dataclass(frozen=True)
class StepResult:
    """What one step leads to, or why it could not be checked."""

    ok: bool
    state: StepState | None = None
    reason: str = ""
    gas_used: int = 0


def execute_step(
    block_pre_state_root: bytes,
    trace: bytes,
    transactions: int,
    end: bool,
    gas: int,
    *,
    vm: str = "evm",
    state: str = "mpt",
    client: str | None = None,
) -> StepResult:
    """The state a one-block ``trace`` reaches from ``block_pre_state_root`` after its L1
    messages and ``transactions`` of its transactions (the whole block sealed if ``end``),
    doing at most ``gas`` EXECUTE gas of work, with the VM's own client or ``client``.
    Never raises."""
    try:
        return _execute_step(block_pre_state_root, trace, transactions, end, gas, vm, state,
                             client)  # fmt: skip
    except (RecursionError, MemoryError) as exc:
        return StepResult(False, reason=f"{type(exc).__name__}")
    except Exception as exc:  # noqa: BLE001 - a step check never raises
        return StepResult(False, reason=f"internal error: {type(exc).__name__}: {exc}")


def _execute_step(
    pre_root: bytes, trace_bytes: bytes, transactions: int, end: bool, gas: int, vm_name: str,
    state_name: str, client: str | None,
) -> StepResult:  # fmt: skip
    if len(trace_bytes) > LIMITS.max_bytes or len(pre_root) != 32 or gas < 0:
        return StepResult(False, reason="bad arguments")
    meter = ExecutionMeter(gas)
    try:
        meter.charge(input_gas(trace_bytes), "the step's trace")
        trace = decode_trace(trace_bytes)
        if len(trace.blocks) != 1:
            return StepResult(False, reason="a step's trace holds one block")
        vm, model = resolve_plugins(vm_name, state_name, client=client)
        # As EXECUTE: the witness's codes and costly-to-hash state nodes, before either is used.
        meter.charge(witness_gas(vm, model, trace.witness), "readying the step's witness")
        headers = verify_header_chain(vm, trace.witness.headers)
        parent = headers[-1]
        if parent.state_root != pre_root:
            return StepResult(False, reason="the trace's parent is not at the step's pre-state")
        view = model.open_witness(pre_root, trace.witness)
        parent_header = trace.witness.headers[-1]
        check_pre_state(vm, view, trace.chain_id, parent_header)
        if read_queue_position(view) != trace.queue_start:
            return StepResult(False, reason="the trace's L1 queue position is not the state's")
        block = trace.blocks[0]
        expected = vm.next_block(parent_header)
        if (block.number, block.parent_hash) != (expected.number, expected.parent_hash):
            return StepResult(False, reason="the block does not follow the trace's parent")
        executed = execute_block(
            vm, view, chain_id=trace.chain_id, parent_header=parent_header, block=block,
            ancestors=KnownAncestors(headers), queue_before=trace.queue_start, meter=meter,
            stop_after=None if end else transactions,
        )  # fmt: skip
    except (TraceError, MissingWitnessError, GasCapExceeded, InvalidBlockError,
            ClientUnsupported, RollupkitError) as exc:  # fmt: skip
        return StepResult(False, reason=f"{type(exc).__name__}: {exc}")
    input_hash = block_input_hash(block)
    if end:
        info = executed.result.info
        reached = StepState(pre_root, info.state_root, info.hash, input_hash,
                            len(block.transactions), True)  # fmt: skip
    else:
        reached = StepState(pre_root, bytes(executed), ZERO_HASH, input_hash, transactions, False)
    return StepResult(True, reached, gas_used=meter.used)


def batch_layout(trace: bytes) -> tuple[list[bytes], list[int]]:
    """Each block's input hash and transaction count: what a claim pins its batch with."""
    blocks = decode_trace(trace).blocks
    return [block_input_hash(b) for b in blocks], [len(b.transactions) for b in blocks]


def layout_hash(inputs: Sequence[bytes], counts: Sequence[int]) -> bytes:
    """``keccak(abi.encode(inputs, counts))``: a layout as ``OptimisticVerifier`` keeps it."""
    return bytes(keccak(abi_encode(["bytes32[]", "uint256[]"], [list(inputs), list(counts)])))


@dataclass
class BatchSteps:
    """What a party's own chain says about a batch, position by position: the claim it would
    make (its outputs), the batch's layout, the state at every position, and a way to build
    the one-block trace proving any step. What an optimistic dispute is played with, by the
    proposer defending a claim and by a watchtower challenging one."""

    outputs: PublicOutputs
    inputs: list[bytes]
    counts: list[int]
    states: list[StepState]  # positions 1..N
    step_trace: Callable[[int], bytes]  # position k (1-based) -> the trace proving it
    trace: bytes = b""  # the whole batch's trace (for a whole-batch EXECUTE)

    @property
    def layout(self) -> bytes:
        return layout_hash(self.inputs, self.counts)

    def state(self, k: int) -> StepState:
        if k == 0:
            return start_state(self.outputs.pre_state_root, self.outputs.parent_hash)
        return self.states[k - 1]

    def commitment(self, k: int) -> bytes:
        return self.state(k).commitment()


def batch_steps(
    vm: VM,
    model: StateModel,
    store: StateStore,
    *,
    chain_id: int,
    header_by_number: Callable[[int], bytes],
    first_block: int,
    queue_start: QueuePosition,
    trace: bytes,
    outputs: PublicOutputs,
) -> BatchSteps:
    """The :class:`BatchSteps` of a batch of a chain held in ``store`` (its headers by
    number): blocks ``first_block``.. as ``trace`` (their encoded batch trace) holds them,
    claimed as ``outputs``. The states are computed here (one re-execution of the batch);
    step traces when asked for."""
    blocks = decode_trace(trace).blocks
    states = step_states(
        vm, model, store, chain_id=chain_id, header_by_number=header_by_number,
        parent_header=header_by_number(first_block - 1), queue_start=queue_start, blocks=blocks,
    )  # fmt: skip
    queues = [queue_start]
    for block in blocks:
        queues.append(messages.consume(queues[-1], block.l1_messages))
    where = positions([len(b.transactions) for b in blocks])

    def step_trace(k: int) -> bytes:
        p = where[k - 1]
        return build_step_trace(
            vm, model, store, chain_id=chain_id, header_by_number=header_by_number,
            parent_header=header_by_number(first_block + p.block - 2),
            queue_start=queues[p.block - 1], block=blocks[p.block - 1],
            transactions=p.transactions, end=p.end,
        )  # fmt: skip

    inputs, counts = batch_layout(trace)
    return BatchSteps(outputs, inputs, counts, states, step_trace, trace)
