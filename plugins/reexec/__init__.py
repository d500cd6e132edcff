"""rollupkit's ``reexec`` proof backend: the L1 re-executes the batch with its EXECUTE
precompile (``ExecuteVerifier``). No evidence; the trace travels in calldata, because the L1's
validators must hold it to re-execute (seed 001: blobs can be pointed at, not read). A batch
is final as soon as it is submitted: there is nothing to challenge."""

from __future__ import annotations

from rollupkit.errors import ProofError, TraceError
from rollupkit.execution import execute_detailed
from rollupkit.interfaces import ClaimedBatch, ProofBackend, SettlementContext, Submission
from rollupkit.plugins import hookimpl
from rollupkit.trace import decode_trace


class ReexecBackend(ProofBackend):
    """Settlement by re-execution: L1's EXECUTE precompile (ExecuteVerifier)."""

    description = "L1 re-executes the trace with EXECUTE (ExecuteVerifier); trace in calldata"
    verifier_contract = "ExecuteVerifier"

    def check_setup(self, *, l1: str, carrier: str) -> str | None:
        # Its settlement carries the whole trace: the settlement derivation is its own.
        if l1 != "embedded":
            return (
                "it needs an L1 with the EXECUTE precompile, which only the embedded L1 has; "
                "use the embedded L1"
            )
        if carrier == "blobs":
            return "the L1 reads the batch from calldata, so blobs cannot carry it; use calldata"
        return None

    def verifier_arguments(self, *, vm: str, state: str) -> list[object]:
        return [vm, state]

    def submit(self, batch: ClaimedBatch, context: SettlementContext) -> Submission:
        """The trace itself, no evidence, final at once. Only a cheap check here: the L1
        re-executes the batch when the settlement's gas is estimated, before anything is sent,
        so running EXECUTE here too would only repeat what the node did building the blocks
        (and what :meth:`verify` does, for whoever wants it)."""
        outputs = batch.outputs
        mismatched = [
            name
            for name, claimed, own in (
                ("pre_state_root", outputs.pre_state_root, batch.pre_state_root),
                ("post_state_root", outputs.post_state_root, batch.post_state_root),
                ("gas_used", outputs.gas_used, batch.gas_used),
            )
            if claimed != own
        ]
        if mismatched:
            raise ProofError(f"the claimed outputs disagree with the batch on {mismatched[0]}")
        try:
            trace = decode_trace(batch.trace)
        except TraceError as exc:
            raise ProofError(f"EXECUTE would not accept this batch: {exc}") from exc
        last = trace.blocks[-1]
        if (trace.chain_id, trace.queue_start.index, trace.queue_start.rolling_hash,
                last.number, len(trace.blocks)) != (
                outputs.chain_id, outputs.queue_start_index, outputs.queue_start_hash,
                outputs.block_number, outputs.block_count):  # fmt: skip
            raise ProofError("the claimed outputs are not those of this trace's blocks")
        return Submission(trace=batch.trace, evidence=b"")

    def verify(
        self, batch: ClaimedBatch, submission: Submission, context: SettlementContext
    ) -> bool:
        """EXECUTE on the trace the settlement carries; its outputs must be the claim's."""
        try:
            result = execute_detailed(
                batch.pre_state_root, batch.post_state_root, submission.trace, batch.gas_used,
                vm=context.vm, state=context.state,
            )  # fmt: skip
            return result.ok and result.outputs == batch.outputs
        except Exception:  # noqa: BLE001 - verify never raises (execute_detailed does not either)
            return False


@hookimpl
def rollupkit_register_proof_backends() -> list[tuple[str, type[ProofBackend]]]:
    return [("reexec", ReexecBackend)]
