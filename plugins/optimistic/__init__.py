"""rollupkit's ``optimistic`` proof backend: a bonded claim, a challenge window, and a dispute
bisected down to one transaction settled by ``EXECUTE_STEP`` (``OptimisticVerifier``).

Options (``[l1.proof_options]``)::

    bond = 1000000000000000000   # wei a proposer (and a challenger) puts up
    window = 3600                # seconds a claim may be challenged
    move_time = 600              # seconds each party has for a move in a dispute
    # On a stock L1 (no EXECUTE_STEP), a step committee judges a dispute's last step:
    committee = ["0x…", "0x…", "0x…"]        # its members' addresses (the verifier's)
    committee_threshold = 2                  # signatures a step needs
    verifiers = ["http://…", "http://…"]     # the members' verifier services
    timeout = 120                            # seconds to wait for them

Lifecycle: ``submit`` proposes the claim with its bond and the batch's layout (each block's
input hash and transaction count, from the trace) and is final at the proposal's deadline;
``tend`` (every settler step until then) defends the claim when it is challenged, bisecting
with the node's own commitments; ``finalize`` waits while a dispute is open and fails if the
claim lost one; then NativeRollup settles it (the evidence names the layout), which returns
the bond. A watchtower (``rollupkit watchtower``, :meth:`OptimisticBackend.watchtower`)
challenges claims that are not what its chain computes. Disputes are played by
:mod:`rollupkit_optimistic.dispute`. One step needs ``EXECUTE_STEP`` (and a whole batch
``TRACE_LAYOUT``), which only rollupkit's embedded L1 has; on any other L1 the step committee
(verifier services, :mod:`rollupkit_optimistic.committee`) signs what a step reaches.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rollupkit.errors import ProofError
from rollupkit.execution import execute_detailed
from rollupkit.interfaces import (
    ClaimedBatch,
    ClaimJudge,
    ProofBackend,
    SettlementContext,
    Submission,
    Watcher,
)
from rollupkit.plugins import hookimpl
from rollupkit.steps import batch_layout, layout_hash
from rollupkit_optimistic.committee import Committee
from rollupkit_optimistic.dispute import (
    PENDING,
    REJECTED,
    Defender,
    Watchtower,
    proposal_id,
    proposal_of,
    propose,
)

DEFAULTS = {"bond": 10**18, "window": 3600, "move_time": 600}
COMMITTEE_TIMEOUT = 120.0


class OptimisticBackend(ProofBackend):
    """Bonded claims, a challenge window, bisection to one step (OptimisticVerifier)."""

    description = (
        "bonded claims, challenge window, bisection to one transaction settled by EXECUTE_STEP"
        " (OptimisticVerifier); a step committee on other L1s"
    )
    verifier_contract = "OptimisticVerifier"
    known_options = {
        "bond": "wei a proposer and a challenger put up (default 10**18)",
        "window": "seconds a claim may be challenged (default 3600)",
        "move_time": "seconds each party has for a move in a dispute (default 600)",
        "committee": "addresses of the step committee, for an L1 without EXECUTE_STEP",
        "committee_threshold": "signatures of the committee a step needs",
        "verifiers": "JSON-RPC URLs of the committee's verifier services (rollupkit verifier)",
        "timeout": f"seconds to wait for the committee (default {COMMITTEE_TIMEOUT:g})",
    }

    challenge_window = DEFAULTS["window"]

    def __init__(self) -> None:
        self.bond = DEFAULTS["bond"]
        self.window = DEFAULTS["window"]
        self.move_time = DEFAULTS["move_time"]
        self.committee: list[bytes] = []
        self.committee_threshold = 0
        self.verifiers: list[str] = []
        self.timeout = COMMITTEE_TIMEOUT

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
        self.committee = [_address(a) for a in _listed(options, "committee")]
        self.verifiers = [str(url) for url in _listed(options, "verifiers")]
        threshold = options.get("committee_threshold", 0)
        if not isinstance(threshold, int) or isinstance(threshold, bool):
            raise ProofError(f"committee_threshold must be an integer, not {threshold!r}")
        if self.committee and not 1 <= threshold <= len(self.committee):
            raise ProofError(
                f"committee_threshold must be 1 to {len(self.committee)} (the committee's size)"
            )
        if not self.committee and (threshold or self.verifiers):
            raise ProofError("committee_threshold and verifiers need a committee")
        if len(set(self.committee)) != len(self.committee):
            raise ProofError("a committee member is listed twice")
        self.committee_threshold = threshold
        timeout = options.get("timeout", COMMITTEE_TIMEOUT)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise ProofError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = float(timeout)

    def dev_options(self) -> dict[str, Any]:
        # Short, so a development chain settles in seconds (a real one wants hours).
        return {"bond": 10**18, "window": 20, "move_time": 20}

    def check_setup(self, *, l1: str, carrier: str) -> str | None:
        if carrier == "settlement":
            return super().check_setup(l1=l1, carrier=carrier)
        if l1 != "embedded" and not self.committee:
            return (
                "a dispute's last step needs EXECUTE_STEP, which only the embedded L1 has; "
                "elsewhere configure a step committee (committee, committee_threshold, verifiers)"
            )
        return None

    def verifier_arguments(self, *, vm: str, state: str) -> list[object]:
        from eth_utils import to_checksum_address

        members = [to_checksum_address(m) for m in self.committee]
        return [vm, state, self.bond, self.window, self.move_time, members,
                self.committee_threshold]  # fmt: skip

    def step_committee(self) -> Committee | None:
        """The committee a watchtower proves steps with (None: EXECUTE_STEP on L1)."""
        if not self.committee:
            return None
        if len(self.verifiers) < self.committee_threshold:
            raise ProofError(
                f"a step needs {self.committee_threshold} committee signatures, but only "
                f"{len(self.verifiers)} verifier services are configured (verifiers)"
            )
        return Committee(self.verifiers, self.committee, self.committee_threshold, self.timeout)

    def submit(self, batch: ClaimedBatch, context: SettlementContext) -> Submission:
        if context.l1 is None:
            raise ProofError("the optimistic backend sends its claim itself: it needs L1 access")
        inputs, counts = batch_layout(batch.trace)
        layout = layout_hash(inputs, counts)
        proposal = proposal_of(context.l1, batch.outputs, layout)
        detail = {"proposal": "0x" + proposal_id(batch.outputs, layout).hex()}
        if proposal["status"] == 0:  # not proposed before (by this node before a crash)
            receipt = propose(context.l1, batch.outputs, inputs, counts, self.bond)
            proposal = proposal_of(context.l1, batch.outputs, layout)
            detail["proposed_in"] = receipt["transactionHash"].to_0x_hex()
        return Submission(
            trace=b"", evidence=evidence(layout, context), final_at=int(proposal["deadline"]),
            detail=detail,
        )  # fmt: skip

    def finalize(
        self, batch: ClaimedBatch, submission: Submission, context: SettlementContext
    ) -> Submission | None:
        if context.l1 is None:
            raise ProofError("the optimistic backend needs L1 access to finalize")
        proposal = proposal_of(context.l1, batch.outputs, layout_of(submission))
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

    def tend(self, batch: ClaimedBatch, submission: Submission, context: SettlementContext) -> None:
        """Defend the proposal when it is challenged: bisect with the node's own commitments
        (``context.steps``), and claim the timeout when the challenger stops moving."""
        if context.l1 is None or context.steps is None:
            return
        layout = layout_of(submission)
        proposal = proposal_id(batch.outputs, layout)
        if not proposal_of(context.l1, batch.outputs, layout)["disputed"]:
            return
        steps = context.steps()  # computed once per batch by the node
        Defender(context.l1, proposal, steps.commitment).poll()

    def watchtower(self, context: SettlementContext, judge: ClaimJudge) -> Watcher:
        if context.l1 is None:
            raise ProofError("a watchtower needs L1 access (an account to post bonds from)")
        return Watchtower(context.l1, judge, self.bond, vm=context.vm, state=context.state,
                          committee=self.step_committee())  # fmt: skip

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
        try:
            named = submission.evidence == evidence(
                layout_hash(*batch_layout(batch.trace)), context
            )
        except Exception:  # noqa: BLE001 - verify never raises
            return False
        return named and submission.trace == b"" and result.ok and result.outputs == batch.outputs


def evidence(layout: bytes, context: SettlementContext) -> bytes:
    """What ``verify`` is given: the layout (with the claim it names the proposal), and the
    L1 and verifier it was made for (a submission means nothing elsewhere)."""
    from eth_abi import encode as abi_encode

    return abi_encode(
        ["bytes32", "uint256", "address"], [layout, context.l1_chain_id, context.verifier]
    )


def _listed(options: Mapping[str, Any], name: str) -> list[Any]:
    value = options.get(name, [])
    if not isinstance(value, list | tuple):
        raise ProofError(f"{name} must be a list, not {value!r}")
    return list(value)


def _address(value: Any) -> bytes:
    try:
        raw = bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 20:
        raise ProofError(f"a committee member must be a 20-byte address, not {value!r}")
    return raw


def layout_of(submission: Submission) -> bytes:
    """The layout a submission's evidence names."""
    return submission.evidence[:32]


@hookimpl
def rollupkit_register_proof_backends() -> list[tuple[str, type[ProofBackend]]]:
    return [("optimistic", OptimisticBackend)]
