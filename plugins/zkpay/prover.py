"""From a zkpay batch's trace to Groth16 proofs of it, and their evidence for L1.

:func:`batch_witness` re-executes the trace (as EXECUTE does: the same block loop, over the
trace's own witness) and keeps what each operation did: the circuit's slots, and the accounts
root after each. :func:`prove_batch` cuts the slots into proofs of ``slots`` operations each,
chained by state roots: proof ``i`` goes from ``Poseidon(A_i, S_pre)`` to
``Poseidon(A_{i+1}, S)``, where ``A`` are accounts roots at the cuts, ``S_pre`` the pre-state's
system digest and ``S`` the same for every cut but the last, which ends at the post-state's.
So the first proof starts at the batch's pre-state root and the last ends at its post-state
root, and ``ZkPayVerifier`` checks k proofs in one settlement (aggregation by chaining).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode as abi_encode

from rollupkit.ancestors import KnownAncestors, verify_header_chain
from rollupkit.execution import run_blocks
from rollupkit.messages import consumed_by
from rollupkit.metering import ExecutionMeter
from rollupkit.trace import decode_trace
from rollupkit.types import L1Message
from rollupkit_zkpay.circuit import circuit_inputs, effects, expected_public_signals
from rollupkit_zkpay.groth16 import Keys
from rollupkit_zkpay.model import ZkPayStateModel
from rollupkit_zkpay.poseidon import poseidon
from rollupkit_zkpay.transition import Slot
from rollupkit_zkpay.tree import key
from rollupkit_zkpay.vm import ZkPayVM

#: The ABI of ZkPayVerifier's evidence: (roots, proofs, effects, messages).
EVIDENCE_TYPES = [
    "bytes32[]",
    "bytes[]",
    "uint256[]",
    "(uint8,uint64,address,address,uint256,uint64,bytes)[]",
]


@dataclass(frozen=True)
class BatchWitness:
    """What a batch did, operation by operation, as the circuit takes it."""

    chain_id: int
    slots: tuple[Slot, ...]
    #: The accounts root after each slot.
    roots_after: tuple[int, ...]
    accounts_before: int
    system_before: int
    system_after: int
    messages: tuple[L1Message, ...]

    @property
    def accounts_after(self) -> int:
        return self.roots_after[-1] if self.roots_after else self.accounts_before


class _RecordingVM(ZkPayVM):
    """The zkpay VM keeping every block execution it opens (for their slots)."""

    def __init__(self) -> None:
        super().__init__()
        self.executions: list[Any] = []

    def open_block(self, state: Any, **kwargs: Any) -> Any:
        execution = super().open_block(state, **kwargs)
        self.executions.append(execution)
        return execution


def batch_witness(trace_bytes: bytes) -> BatchWitness:
    """Re-execute a zkpay trace and return its slots (raises what EXECUTE would refuse it
    for: the node proves only batches it built)."""
    trace = decode_trace(trace_bytes)
    vm, model = _RecordingVM(), ZkPayStateModel()
    headers = verify_header_chain(vm, trace.witness.headers)
    view = model.open_witness(headers[-1].state_root, trace.witness)
    accounts_before, system_before = view.tree.root, view.system_digest
    run_blocks(
        vm, view, chain_id=trace.chain_id, parent_header=trace.witness.headers[-1],
        queue_start=trace.queue_start, blocks=trace.blocks, ancestors=KnownAncestors(headers),
        meter=ExecutionMeter(2**62),
    )  # fmt: skip
    slots: list[Slot] = []
    roots: list[int] = []
    for execution in vm.executions:
        slots.extend(execution.slots)
        roots.extend(execution.roots_after)
    messages = tuple(consumed_by(trace.blocks))
    return BatchWitness(
        trace.chain_id, tuple(slots), tuple(roots), accounts_before, system_before,
        view.system_digest, messages,
    )  # fmt: skip


@dataclass
class BatchProof:
    """A batch's proofs and what ZkPayVerifier needs with them."""

    roots: list[bytes]  # k + 1 state roots
    proofs: list[bytes]
    effects: list[int]  # 2 * slots per proof
    messages: tuple[L1Message, ...]
    seconds: float = 0.0
    public: list[list[int]] = field(default_factory=list)

    def evidence(self) -> bytes:
        messages = [
            (int(m.kind), m.index, m.sender, m.target, m.value, m.gas_limit, m.data)
            for m in self.messages
        ]
        return abi_encode(EVIDENCE_TYPES, [self.roots, self.proofs, self.effects, messages])


def prove_batch(keys: Keys, witness: BatchWitness) -> BatchProof:
    """Prove ``witness`` in proofs of ``keys``' slot count, chained (see the module)."""
    size = keys.circuit.params.slots
    params = keys.circuit.params
    chunks = [witness.slots[i : i + size] for i in range(0, len(witness.slots), size)] or [()]
    started = time.monotonic()
    state_root = poseidon([witness.accounts_before, witness.system_before])
    out = BatchProof([key(state_root)], [], [], witness.messages)
    accounts = witness.accounts_before
    done = 0
    for number, chunk in enumerate(chunks):
        done += len(chunk)
        after = witness.roots_after[done - 1] if done else witness.accounts_before
        last = number == len(chunks) - 1
        system_after = witness.system_after if last else witness.system_before
        inputs = circuit_inputs(
            chunk, params, chain_id=witness.chain_id, accounts_before=accounts,
            system_before=witness.system_before, system_after=system_after,
        )  # fmt: skip
        expected = expected_public_signals(
            chunk, params, chain_id=witness.chain_id, accounts_before=accounts,
            accounts_after=after, system_before=witness.system_before, system_after=system_after,
        )  # fmt: skip
        proof, public = keys.prove(inputs)
        if public != expected:
            raise RuntimeError("the circuit disagrees with the zkpay VM on a batch it proved")
        out.proofs.append(proof)
        out.public.append(public)
        out.roots.append(key(public[1]))
        out.effects.extend(public[2 : 2 + 2 * size])
        accounts = after
    out.seconds = time.monotonic() - started
    return out


__all__ = ["BatchProof", "BatchWitness", "batch_witness", "effects", "prove_batch"]
