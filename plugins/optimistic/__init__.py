"""rollupkit's ``optimistic`` proof backend: a bonded claim, a challenge window, and a dispute
bisected down to one transaction settled by ``EXECUTE_STEP`` (``OptimisticVerifier``).

Options (``[l1.proof_options]``)::

    bond = 1000000000000000000   # wei a proposer (and a challenger) puts up
    window = 3600                # seconds a claim may be challenged
    move_time = 600              # seconds each party has for a move in a dispute

Lifecycle: ``submit`` proposes the claim with its bond and the batch's layout (each block's
input hash and transaction count, from the trace) and is final at the proposal's deadline;
``finalize`` waits while a dispute is open and fails if the claim lost one; then NativeRollup
settles it, which returns the bond. Disputes are played by :mod:`rollupkit_optimistic.dispute`
(the watchtower challenges claims that are not what its chain computes). One step needs
``EXECUTE_STEP``, which only rollupkit's embedded L1 has.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rollupkit.errors import ProofError
from rollupkit.execution import execute_detailed
from rollupkit.interfaces import ClaimedBatch, ProofBackend, SettlementContext, Submission
from rollupkit.plugins import hookimpl
from rollupkit_optimistic.dispute import (
    PENDING,
    REJECTED,
    batch_layout,
    claim_id,
    proposal_of,
    propose,
)

DEFAULTS = {"bond": 10**18, "window": 3600, "move_time": 600}


class OptimisticBackend(ProofBackend):
    """Bonded claims, a challenge window, bisection to one step (OptimisticVerifier)."""

    description = (
        "bonded claims, challenge window, bisection to one transaction settled by EXECUTE_STEP"
        " (OptimisticVerifier); embedded L1"
    )
    verifier_contract = "OptimisticVerifier"
    known_options = {
        "bond": "wei a proposer and a challenger put up (default 10**18)",
        "window": "seconds a claim may be challenged (default 3600)",
        "move_time": "seconds each party has for a move in a dispute (default 600)",
    }

    challenge_window = DEFAULTS["window"]

    def __init__(self) -> None:
        self.bond = DEFAULTS["bond"]
        self.window = DEFAULTS["window"]
        self.move_time = DEFAULTS["move_time"]

    def configure(self, options: Mapping[str, Any]) -> None:
        super().configure(options)
        for name in DEFAULTS:
            value = options.get(name, DEFAULTS[name])
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ProofError(f"{name} must be a non-negative integer, not {value!r}")
            setattr(self, name, value)
        if self.window == 0 or self.move_time == 0:
            raise ProofError("window and move_time must be at least one second")
        self.challenge_window = self.window

    def dev_options(self) -> dict[str, Any]:
        # Short, so a development chain settles in seconds (a real one wants hours).
        return {"bond": 10**18, "window": 20, "move_time": 20}

    def check_setup(self, *, l1: str, carrier: str) -> str | None:
        if l1 != "embedded":
            return "a dispute's last step needs EXECUTE_STEP, which only the embedded L1 has"
        return None

    def verifier_arguments(self, *, vm: str, state: str) -> list[object]:
        return [vm, state, self.bond, self.window, self.move_time]

    def submit(self, batch: ClaimedBatch, context: SettlementContext) -> Submission:
        if context.l1 is None:
            raise ProofError("the optimistic backend sends its claim itself: it needs L1 access")
        inputs, counts = batch_layout(batch.trace)
        receipt = propose(context.l1, batch.outputs, inputs, counts, self.bond)
        proposal = proposal_of(context.l1, batch.outputs)
        # The evidence names the proposal and where it is (the verifier contract looks the
        # proposal up by the claim; the node keeps the evidence to know which it made).
        return Submission(
            trace=b"", evidence=_receipt(batch, context), final_at=int(proposal["deadline"]),
            detail={"claim": "0x" + claim_id(batch.outputs).hex(),
                    "proposed_in": receipt["transactionHash"].to_0x_hex()},
        )  # fmt: skip

    def finalize(
        self, batch: ClaimedBatch, submission: Submission, context: SettlementContext
    ) -> Submission | None:
        if context.l1 is None:
            raise ProofError("the optimistic backend needs L1 access to finalize")
        proposal = proposal_of(context.l1, batch.outputs)
        if proposal["status"] == REJECTED:
            raise ProofError("the claim lost a dispute: its bond is gone; propose it again")
        if proposal["status"] != PENDING or proposal["disputed"]:
            return None  # a dispute is open: wait for it
        # The next L1 block's time (an idle devnet keeps its last block's, but stamps the
        # next one with its clock).
        latest = int(context.l1.w3.eth.get_block("latest")["timestamp"])
        if max(latest, int(time.time())) < proposal["deadline"]:
            return None  # the window is still open
        return submission

    def verify(
        self, batch: ClaimedBatch, submission: Submission, context: SettlementContext
    ) -> bool:
        """Whether the claim would survive a dispute: EXECUTE over the whole batch holds with
        exactly the claimed outputs (what ``resolveWhole`` decides)."""
        try:
            result = execute_detailed(
                batch.pre_state_root, batch.post_state_root, batch.trace, batch.gas_used,
                vm=context.vm, state=context.state,
            )  # fmt: skip
        except Exception:  # noqa: BLE001 - verify never raises
            return False
        named = submission.evidence == _receipt(batch, context) and submission.trace == b""
        return named and result.ok and result.outputs == batch.outputs


def _receipt(batch: ClaimedBatch, context: SettlementContext) -> bytes:
    """keccak(chain id, verifier, claim hash): which proposal, on which L1 and verifier."""
    from eth_abi import encode as abi_encode
    from eth_hash.auto import keccak

    return bytes(keccak(abi_encode(
        ["uint256", "address", "bytes32"],
        [context.l1_chain_id, context.verifier, claim_id(batch.outputs)],
    )))  # fmt: skip


@hookimpl
def rollupkit_register_proof_backends() -> list[tuple[str, type[ProofBackend]]]:
    return [("optimistic", OptimisticBackend)]
