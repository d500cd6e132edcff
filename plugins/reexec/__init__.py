"""rollupkit's ``reexec`` proof backend: the L1 re-executes the batch with its EXECUTE
precompile (``ExecuteVerifier``). No evidence; the trace travels in calldata, because the L1's
validators must hold it to re-execute (seed 001: blobs can be pointed at, not read)."""

from __future__ import annotations

from collections.abc import Sequence

from rollupkit.errors import ProofError
from rollupkit.execution import execute_detailed
from rollupkit.interfaces import ProofBackend, SettlementContext
from rollupkit.plugins import hookimpl
from rollupkit.types import PublicOutputs


class ReexecBackend(ProofBackend):
    """Settlement by re-execution: L1's EXECUTE precompile (ExecuteVerifier)."""

    description = "L1 re-executes the trace with EXECUTE (ExecuteVerifier); trace in calldata"
    verifier_contract = "ExecuteVerifier"
    requires_execute = True
    trace_in_calldata = True

    def verifier_arguments(
        self, *, vm: str, state: str, attesters: Sequence[str], threshold: int
    ) -> list[object]:
        return [vm, state]

    def onchain_trace(self, trace: bytes) -> bytes:
        return trace

    def prove(
        self, *, pre_state_root: bytes, post_state_root: bytes, trace: bytes, gas_used: int,
        outputs: PublicOutputs, context: SettlementContext,
    ) -> bytes:  # fmt: skip
        if not self.verify(
            pre_state_root=pre_state_root,
            post_state_root=post_state_root,
            trace=trace,
            gas_used=gas_used,
            outputs=outputs,
            evidence=b"",
            context=context,
        ):
            raise ProofError("EXECUTE would not accept this batch with these outputs")
        return b""

    def verify(
        self, *, pre_state_root: bytes, post_state_root: bytes, trace: bytes, gas_used: int,
        outputs: PublicOutputs, evidence: bytes, context: SettlementContext,
    ) -> bool:  # fmt: skip
        result = execute_detailed(
            pre_state_root, post_state_root, trace, gas_used, vm=context.vm, state=context.state
        )
        return result.ok and result.outputs == outputs


@hookimpl
def rollupkit_register_proof_backends() -> list[tuple[str, type[ProofBackend]]]:
    return [("reexec", ReexecBackend)]
