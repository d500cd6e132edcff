"""The trace builder: execute blocks on a full state and record the witness they need.

The builder runs the very loop EXECUTE runs (:func:`rollupkit.execution.run_blocks`), over a
*recording* view of the full state: every trie node and code read from the pre-state is kept,
including the siblings touched when a deletion collapses a branch and the nodes read while
computing the new root. That record, plus the ancestor headers BLOCKHASH reached, is the
witness. Nodes the blocks create themselves are not recorded: a re-executor recreates them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rollupkit.ancestors import RecordingAncestors
from rollupkit.errors import InvalidTransactionError, TraceError
from rollupkit.execution import public_outputs, run_blocks
from rollupkit.interfaces import VM, StateModel, StateStore
from rollupkit.metering import ExecutionMeter, witness_gas
from rollupkit.trace import LIMITS, compress_trace, encode_trace, input_gas
from rollupkit.types import (
    BlockInput,
    BlockResult,
    PublicOutputs,
    QueuePosition,
    Trace,
    Witness,
)


@dataclass(frozen=True)
class BuiltTrace:
    """A trace and everything needed to settle it with EXECUTE."""

    trace: Trace
    encoded: bytes
    pre_state_root: bytes
    post_state_root: bytes
    gas_used: int
    outputs: PublicOutputs
    results: tuple[BlockResult, ...]
    dropped: tuple[tuple[int, ...], ...]  # per block: sequencer transactions left out
    created: tuple[bytes, ...] = ()  # hashes of the nodes and codes the blocks created
    block_gas: tuple[int, ...] = ()  # EXECUTE gas of each block (trace bytes not included)
    # Built with commit=False: writes the new state into the store when called.
    flush: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    @property
    def l2_gas_used(self) -> int:
        """The blocks' own L2 gas (``gas_used`` is EXECUTE gas, which adds the trace's bytes,
        blocks and L1 messages: see :mod:`rollupkit.metering`)."""
        return self.outputs.l2_gas_used

    def execute_args(self) -> tuple[bytes, bytes, bytes, int]:
        """``(pre_state_root, post_state_root, trace, gas_used)``, ready for EXECUTE."""
        return self.pre_state_root, self.post_state_root, self.encoded, self.gas_used


def build_trace(
    vm: VM,
    model: StateModel,
    store: StateStore,
    *,
    chain_id: int,
    parent_header: bytes,
    header_by_number: Callable[[int], bytes],
    queue_start: QueuePosition,
    blocks: Sequence[BlockInput],
    drop_invalid: bool = False,
    commit: bool = True,
    compress: bool = False,
) -> BuiltTrace:
    """Execute ``blocks`` on top of ``parent_header`` and return their trace (compressed with
    ``compress``: :func:`rollupkit.trace.compress_trace`).

    Block numbers, parent hashes and base fees are filled in from the parents. With
    ``drop_invalid`` invalid transactions are left out (the sequencer's mode); otherwise one
    raises :class:`rollupkit.errors.InvalidTransactionError`. With ``commit`` the new state is
    written into ``store``; without, ``BuiltTrace.flush`` writes it (the caller's choice of
    when: the node writes it in the same database transaction as the block).
    """
    if len(blocks) > LIMITS.max_blocks:
        raise TraceError(f"{len(blocks)} blocks is more than a trace holds ({LIMITS.max_blocks})")
    counts = [len(b.transactions) for b in blocks]
    blocks, kept = _drop_oversized(blocks, drop_invalid)
    parent = vm.decode_header(parent_header)
    view = model.open(store, parent.state_root, record=True)
    ancestors = RecordingAncestors(lambda n: vm.decode_header(header_by_number(n)).hash)
    outcome = run_blocks(
        vm,
        view,
        chain_id=chain_id,
        parent_header=parent_header,
        queue_start=queue_start,
        blocks=blocks,
        ancestors=ancestors,
        meter=ExecutionMeter(None),
        fill_context=True,
        drop_invalid=drop_invalid,
    )
    oldest = (
        parent.number
        if ancestors.oldest_read is None
        else min(ancestors.oldest_read, parent.number)
    )
    recorded = view.witness()
    created = view.created_preimages()
    witness = Witness(
        state_nodes=recorded.state_nodes,
        codes=recorded.codes,
        headers=tuple(header_by_number(n) for n in range(oldest, parent.number + 1)),
    )
    if commit:
        view.flush()
    dropped = [
        _original_dropped(k, n, d) for k, n, d in zip(kept, counts, outcome.dropped, strict=True)
    ]
    trace = Trace(
        chain_id=chain_id, queue_start=queue_start, blocks=tuple(outcome.blocks), witness=witness
    )
    encoded = encode_trace(trace)
    if len(encoded) > LIMITS.max_bytes:
        raise TraceError(
            f"the trace is {len(encoded)} bytes, more than EXECUTE takes ({LIMITS.max_bytes}): "
            "put fewer blocks or transactions in one batch"
        )
    if compress:
        encoded = compress_trace(encoded)
    outputs = public_outputs(
        chain_id=chain_id,
        pre_state_root=parent.state_root,
        parent_hash=parent.hash,
        queue_start=queue_start,
        outcome=outcome,
        input_gas=input_gas(encoded),
        readying_gas=witness_gas(vm, model, witness),
    )
    return BuiltTrace(
        trace=trace,
        encoded=encoded,
        pre_state_root=parent.state_root,
        post_state_root=outputs.post_state_root,
        gas_used=outputs.gas_used,
        outputs=outputs,
        results=tuple(outcome.results),
        dropped=tuple(dropped),
        created=created,
        block_gas=tuple(outcome.block_gas),
        flush=None if commit else view.flush,
    )


def _drop_oversized(
    blocks: Sequence[BlockInput], drop_invalid: bool
) -> tuple[list[BlockInput], list[list[int]]]:
    """Leave out (or refuse) transactions too big for a trace, so the builder never makes a
    trace EXECUTE would refuse to decode. Returns the blocks and, per block, the original
    index of each transaction kept."""
    kept_blocks, kept_indices = [], []
    limit = LIMITS.max_transaction_bytes
    for block in blocks:
        keep = [i for i, tx in enumerate(block.transactions) if len(tx) <= limit]
        if len(keep) != len(block.transactions) and not drop_invalid:
            first = next(i for i, tx in enumerate(block.transactions) if len(tx) > limit)
            raise InvalidTransactionError(
                f"transaction {first} is {len(block.transactions[first])} bytes, more than a "
                f"trace carries ({limit})"
            )
        kept_blocks.append(
            dataclasses.replace(block, transactions=tuple(block.transactions[i] for i in keep))
        )
        kept_indices.append(keep)
    return kept_blocks, kept_indices


def _original_dropped(
    kept: list[int], original_count: int, dropped: tuple[int, ...]
) -> tuple[int, ...]:
    """Indices into the original transactions of all that were left out: too big, or
    dropped by the VM (whose indices count among the kept)."""
    gone = set(range(original_count)) - set(kept)
    gone |= {kept[j] for j in dropped}
    return tuple(sorted(gone))
