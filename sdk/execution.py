"""EXECUTE: verify an L2 state transition by stateless re-execution.

``execute(pre_state_root, post_state_root, trace, gas_used, *, vm="evm", state="mpt")`` is True
if and only if ``trace`` is well formed, executing its blocks with VM plugin ``vm`` over state
model ``state``, starting from ``pre_state_root`` and holding nothing but the trace's witness,
ends at ``post_state_root`` and consumes exactly ``gas_used``. It never raises: anything
malformed, truncated, oversized or adversarial is False. :func:`execute_detailed` says why,
and returns the public outputs an L1 contract binds (queue consumption, withdrawals root,
block hashes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rollupkit.ancestors import KnownAncestors, RecordingAncestors, verify_header_chain
from rollupkit.block import execute_block
from rollupkit.errors import (
    ClientUnsupported,
    GasCapExceeded,
    InvalidBlockError,
    InvalidMessageError,
    InvalidTransactionError,
    MissingWitnessError,
    PluginError,
    TraceError,
    UnknownPluginError,
    UnsupportedCombinationError,
    UnsupportedTraceVersion,
)
from rollupkit.interfaces import VM, StateModel, StateView
from rollupkit.l1updates import batch_l1_outputs
from rollupkit.metering import ExecutionMeter, witness_gas
from rollupkit.plugins import PluginRegistry, get_registry
from rollupkit.system import (
    CHAIN_ID_SLOT,
    HEADER_SLOT,
    QUEUE_HASH_SLOT,
    QUEUE_INDEX_SLOT,
    SYSTEM_ADDRESS,
)
from rollupkit.trace import LIMITS, decode_trace, input_gas
from rollupkit.types import (
    BlockInput,
    BlockResult,
    ExecuteResult,
    PublicOutputs,
    QueuePosition,
    RejectReason,
)
from rollupkit.withdrawals import withdrawals_root


@dataclass
class RunOutcome:
    """What running a sequence of blocks produced."""

    blocks: list[BlockInput]  # as executed (context filled in, dropped transactions removed)
    results: list[BlockResult]
    dropped: list[tuple[int, ...]]  # per block, indices of transactions left out
    queue_end: QueuePosition
    block_gas: list[int] = dataclasses.field(default_factory=list)  # EXECUTE gas per block
    #: The claim's L1 fields (booster blocks; see rollupkit.l1updates), empty if none.
    l1: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def execute_gas(self) -> int:
        """EXECUTE gas of the run (trace bytes not included)."""
        return sum(self.block_gas)

    @property
    def gas_used(self) -> int:
        """L2 gas of all blocks together."""
        return sum(r.gas_used for r in self.results)


def read_queue_position(view: StateView) -> QueuePosition:
    """The L1 queue position recorded in the system account of ``view``'s state."""
    index = view.get_storage(SYSTEM_ADDRESS, QUEUE_INDEX_SLOT)
    rolling = view.get_storage(SYSTEM_ADDRESS, QUEUE_HASH_SLOT)
    return QueuePosition(index, rolling.to_bytes(32, "big"))


def check_pre_state(vm: VM, view: StateView, chain_id: int, parent_header: bytes) -> None:
    """The pre-state must belong to ``chain_id`` and ``parent_header`` must be its block: the
    header commitment stored in the system account fixes every field but the state root."""
    recorded_chain = view.get_storage(SYSTEM_ADDRESS, CHAIN_ID_SLOT)
    if recorded_chain == 0:
        raise InvalidBlockError(
            "the pre-state has no rollupkit system account (genesis must be made with "
            "rollupkit.chain.genesis_alloc)"
        )
    if recorded_chain != chain_id:
        raise InvalidBlockError(
            f"the trace is for chain {chain_id}, but the pre-state is chain {recorded_chain}"
        )
    recorded = view.get_storage(SYSTEM_ADDRESS, HEADER_SLOT).to_bytes(32, "big")
    if vm.header_commitment(parent_header) != recorded:
        raise InvalidBlockError(
            "the parent header in the witness is not the pre-state's block (its header "
            "commitment differs from the one the pre-state records)"
        )


def run_blocks(
    vm: VM,
    view: StateView,
    *,
    chain_id: int,
    parent_header: bytes,
    queue_start: QueuePosition,
    blocks: Sequence[BlockInput],
    ancestors: KnownAncestors | RecordingAncestors,
    meter: ExecutionMeter,
    fill_context: bool = False,
    drop_invalid: bool = False,
) -> RunOutcome:
    """Execute ``blocks`` in order on ``view``: the one loop EXECUTE and the builder share.

    With ``fill_context`` the number, parent hash and base fee of each block are taken from
    its parent (the builder's mode); otherwise they must already agree with it. Every block
    runs through :func:`rollupkit.block.execute_block`, paid for on ``meter``: with a budget,
    the run stops (:class:`GasCapExceeded`) as soon as it has used more EXECUTE gas.
    """
    check_pre_state(vm, view, chain_id, parent_header)
    recorded = read_queue_position(view)
    if recorded != queue_start:
        raise InvalidMessageError(
            f"the trace starts the L1 queue at index {queue_start.index}, but the pre-state "
            f"has consumed up to index {recorded.index}"
            + ("" if recorded.index != queue_start.index else " (with a different rolling hash)")
        )
    outcome = RunOutcome([], [], [], queue_start)
    position = queue_start
    for block in blocks:
        expected = vm.next_block(parent_header)
        if fill_context:
            block = dataclasses.replace(
                block,
                number=expected.number,
                parent_hash=expected.parent_hash,
                base_fee=expected.base_fee,
            )
        elif (block.number, block.parent_hash, block.base_fee) != (
            expected.number,
            expected.parent_hash,
            expected.base_fee,
        ):
            raise InvalidBlockError(
                f"block {block.number} does not follow its parent (expected number "
                f"{expected.number}, parent 0x{expected.parent_hash.hex()}, base fee "
                f"{expected.base_fee})"
            )
        before = meter.used
        executed = execute_block(
            vm,
            view,
            chain_id=chain_id,
            parent_header=parent_header,
            block=block,
            ancestors=ancestors,
            queue_before=position,
            meter=meter,
            drop_invalid=drop_invalid,
        )
        outcome.blocks.append(executed.block)
        outcome.results.append(executed.result)
        outcome.dropped.append(executed.dropped)
        outcome.block_gas.append(meter.used - before)
        ancestors.push(executed.result.info)
        parent_header = executed.result.header
        position = executed.queue_after
    outcome.queue_end = position
    outcome.l1 = batch_l1_outputs(outcome.results)  # one L1 anchor per batch, or invalid
    return outcome


def public_outputs(
    *,
    chain_id: int,
    pre_state_root: bytes,
    parent_hash: bytes,
    queue_start: QueuePosition,
    outcome: RunOutcome,
    input_gas: int,
    readying_gas: int = 0,
) -> PublicOutputs:
    """The public outputs of a run (what the settlement contract binds); ``gas_used`` is the
    run's EXECUTE gas, the ``input_gas`` of reading its trace
    (:func:`~rollupkit.trace.input_gas`) and the ``readying_gas`` of its witness
    (:func:`~rollupkit.metering.witness_gas`: codes and state nodes) included."""
    last = outcome.results[-1]
    withdrawals = [w for r in outcome.results for w in r.withdrawals]
    return PublicOutputs(
        chain_id=chain_id,
        pre_state_root=pre_state_root,
        post_state_root=last.info.state_root,
        gas_used=input_gas + readying_gas + outcome.execute_gas,
        l2_gas_used=outcome.gas_used,
        parent_hash=parent_hash,
        block_hash=last.info.hash,
        block_number=last.info.number,
        block_count=len(outcome.results),
        receipts_root=last.receipts_root,
        queue_start_index=queue_start.index,
        queue_start_hash=queue_start.rolling_hash,
        messages_consumed=outcome.queue_end.index - queue_start.index,
        queue_end_hash=outcome.queue_end.rolling_hash,
        withdrawals_root=withdrawals_root(withdrawals),
        withdrawal_count=len(withdrawals),
        **outcome.l1,
    )


def _reject(
    reason: RejectReason, detail: str, outputs: PublicOutputs | None = None
) -> ExecuteResult:
    return ExecuteResult(False, reason, detail, outputs)


def _is_root(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == 32


def resolve_plugins(
    vm: str, state: str, registry: PluginRegistry | None = None, *, client: str | None = None
) -> tuple[VM, StateModel]:
    """Instances of the named VM (or of its independent ``client``) and state model, checked
    to work together."""
    registry = registry or get_registry()
    vm_plugin: VM
    if client is None:
        vm_plugin = registry.create("vm", vm)
    else:
        vm_plugin = registry.create("client", client)
        if vm_plugin.implements != vm:
            raise UnsupportedCombinationError(
                f"client {client!r} implements VM {vm_plugin.implements!r}, not {vm!r}"
            )
    state_model: StateModel = registry.create("state", state)
    if not (vm_plugin.supports_state_model(state_model) and state_model.supports_vm(vm_plugin)):
        raise UnsupportedCombinationError(f"VM {vm!r} cannot execute over state model {state!r}")
    return vm_plugin, state_model


def execute_detailed(
    pre_state_root: bytes,
    post_state_root: bytes,
    trace: bytes,
    gas_used: int,
    *,
    vm: str = "evm",
    state: str = "mpt",
    registry: PluginRegistry | None = None,
    client: str | None = None,
) -> ExecuteResult:
    """EXECUTE with its reasons: an :class:`ExecuteResult` that is truthy iff the transition
    holds. Never raises; a failure inside a plugin is reported as ``internal-error``."""
    try:
        return _execute(
            pre_state_root, post_state_root, trace, gas_used, vm, state, registry, client
        )
    except RecursionError:
        return _reject(RejectReason.MALFORMED_TRACE, "the trace nests too deeply")
    except MemoryError:
        return _reject(RejectReason.OVERSIZED, "the trace needs more memory than is available")
    except Exception as exc:  # noqa: BLE001 - EXECUTE must never raise
        return _reject(RejectReason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")


def execute(
    pre_state_root: bytes,
    post_state_root: bytes,
    trace: bytes,
    gas_used: int,
    *,
    vm: str = "evm",
    state: str = "mpt",
    registry: PluginRegistry | None = None,
    client: str | None = None,
) -> bool:
    """True iff ``trace`` takes ``pre_state_root`` to ``post_state_root`` using exactly
    ``gas_used`` gas (see the module docstring). Never raises."""
    return execute_detailed(
        pre_state_root, post_state_root, trace, gas_used, vm=vm, state=state,
        registry=registry, client=client,
    ).ok  # fmt: skip


def _execute(
    pre_state_root: bytes,
    post_state_root: bytes,
    trace_bytes: bytes,
    gas_used: int,
    vm_name: str,
    state_name: str,
    registry: PluginRegistry | None,
    client: str | None = None,
) -> ExecuteResult:
    if not _is_root(pre_state_root) or not _is_root(post_state_root):
        return _reject(RejectReason.BAD_ARGUMENT, "state roots must be 32-byte strings")
    if isinstance(gas_used, bool) or not isinstance(gas_used, int) or gas_used < 0:
        return _reject(RejectReason.BAD_ARGUMENT, "gas_used must be a non-negative integer")
    if not isinstance(trace_bytes, bytes | bytearray | memoryview):
        return _reject(
            RejectReason.MALFORMED_TRACE, f"a trace is bytes, not {type(trace_bytes).__name__}"
        )
    if len(trace_bytes) > LIMITS.max_bytes:
        return _reject(RejectReason.OVERSIZED, f"the trace is larger than {LIMITS.max_bytes} bytes")
    # Decoding is work too: it is paid for before it starts, so a claim too small for the
    # trace's bytes is refused at once.
    meter = ExecutionMeter(gas_used)
    try:
        reading = input_gas(trace_bytes)
        meter.charge(reading, f"a trace of {len(trace_bytes)} bytes")
    except TraceError as exc:
        return _reject(RejectReason.MALFORMED_TRACE, str(exc))
    except GasCapExceeded as exc:
        return _reject(RejectReason.GAS_MISMATCH, str(exc))
    try:
        trace = decode_trace(trace_bytes)
    except UnsupportedTraceVersion as exc:
        return _reject(RejectReason.UNSUPPORTED_VERSION, str(exc))
    except TraceError as exc:
        return _reject(RejectReason.MALFORMED_TRACE, str(exc))

    try:
        vm, model = resolve_plugins(vm_name, state_name, registry, client=client)
    except UnknownPluginError as exc:
        return _reject(RejectReason.UNKNOWN_PLUGIN, str(exc))
    except UnsupportedCombinationError as exc:
        return _reject(RejectReason.UNSUPPORTED_COMBINATION, str(exc))
    except PluginError as exc:
        return _reject(RejectReason.UNKNOWN_PLUGIN, str(exc))

    # A VM that compiles code does so once per code of the witness, and a model whose hash
    # is costly indexes every state node: paid before either starts.
    readying_gas = witness_gas(vm, model, trace.witness)
    try:
        meter.charge(
            readying_gas,
            f"readying the witness's {len(trace.witness.codes)} codes and "
            f"{len(trace.witness.state_nodes)} state nodes",
        )
    except GasCapExceeded as exc:
        return _reject(RejectReason.GAS_MISMATCH, str(exc))
    try:
        headers = verify_header_chain(vm, trace.witness.headers)
    except TraceError as exc:
        return _reject(RejectReason.BAD_ANCESTORS, str(exc))
    parent = headers[-1]
    if parent.state_root != pre_state_root:
        return _reject(
            RejectReason.PRE_STATE_MISMATCH,
            f"the parent header's state root 0x{parent.state_root.hex()} is not the pre-state "
            f"root 0x{pre_state_root.hex()}",
        )

    try:
        view = model.open_witness(pre_state_root, trace.witness)
        outcome = run_blocks(
            vm,
            view,
            chain_id=trace.chain_id,
            parent_header=trace.witness.headers[-1],
            queue_start=trace.queue_start,
            blocks=trace.blocks,
            ancestors=KnownAncestors(headers),
            meter=meter,
        )
    except MissingWitnessError as exc:
        return _reject(RejectReason.MISSING_WITNESS, str(exc))
    except GasCapExceeded as exc:
        return _reject(RejectReason.GAS_MISMATCH, str(exc))
    except ClientUnsupported as exc:
        return _reject(RejectReason.UNSUPPORTED_BY_CLIENT, str(exc))
    except InvalidMessageError as exc:
        return _reject(RejectReason.INVALID_MESSAGES, str(exc))
    except InvalidTransactionError as exc:
        return _reject(RejectReason.INVALID_TRANSACTION, str(exc))
    except InvalidBlockError as exc:
        return _reject(RejectReason.INVALID_BLOCK, str(exc))
    except TraceError as exc:
        return _reject(RejectReason.MALFORMED_TRACE, str(exc))

    outputs = public_outputs(
        chain_id=trace.chain_id,
        pre_state_root=pre_state_root,
        parent_hash=parent.hash,
        queue_start=trace.queue_start,
        outcome=outcome,
        input_gas=reading,
        readying_gas=readying_gas,
    )
    if outputs.post_state_root != post_state_root:
        return _reject(
            RejectReason.POST_STATE_MISMATCH,
            f"execution ends at 0x{outputs.post_state_root.hex()}, not at the claimed "
            f"0x{post_state_root.hex()}",
            outputs,
        )
    if meter.unseen_frames and _within_unseen_frames(gas_used - outputs.gas_used, meter):
        # A client that cannot count call frames (rollupkit_revm) checks the claim up to
        # the frames it could not see, and reports the claimed figure.
        outputs = dataclasses.replace(outputs, gas_used=gas_used)
    if outputs.gas_used != gas_used:
        return _reject(
            RejectReason.GAS_MISMATCH,
            f"execution used {outputs.gas_used} EXECUTE gas, not the claimed {gas_used}",
            outputs,
        )
    return ExecuteResult(True, None, "", outputs)


def _within_unseen_frames(difference: int, meter: ExecutionMeter) -> bool:
    """Whether ``difference`` EXECUTE gas is what up to ``meter.unseen_frames`` call frames
    cost."""
    frame = meter.schedule.call_frame
    return 0 <= difference <= frame * meter.unseen_frames and difference % frame == 0


#: Signature of a function that checks a transition (``execute`` and its wrappers).
Verifier = Callable[[bytes, bytes, bytes, int], bool]
