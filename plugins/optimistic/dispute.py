"""Playing an optimistic dispute on ``OptimisticVerifier``: claims, challenges, bisection.

The contract's moves, as functions over a :class:`rollupkit.l1.contracts.RollupContracts`
(web3, the acting account, the verifier contract), and the two parties, each playing with
what its own chain says about the batch (a :class:`rollupkit.steps.BatchSteps`):

* :class:`Watchtower` watches the verifier's ``Proposed`` events and judges each proposal
  once its chain holds the batch: one whose claim is not what its chain computes is
  challenged (or, when every position agrees and only a field no position commits to is
  wrong, refuted at once by ``resolveWhole``); it answers the proposer's bisection with its
  own commitments, proves the last step with ``EXECUTE_STEP``, claims a timeout when the
  proposer stops moving, and after winning proposes the right claim in place of the wrong;
* :class:`Defender` is the proposer's side: it bisects with its own commitments and claims a
  timeout when the challenger stops moving (proving the last step is the challenger's move).

Each move is one L1 transaction: a dispute over a batch of N positions (one per transaction
plus one per block) takes a challenge, ``2 * ceil(log2 N)`` bisection moves at most, and one
resolution.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from rollupkit.l1.contracts import ContractRevert, claim_hash, claim_tuple
from rollupkit.steps import BatchSteps, batch_steps, execute_step
from rollupkit.types import CLAIM_FIELDS, PublicOutputs
from rollupkit_optimistic.committee import Committee

#: OptimisticVerifier.Status
NONE, PENDING, REJECTED, SETTLED = range(4)
#: The most EXECUTE gas a step is checked with here (a block's worth).
STEP_GAS = 60_000_000


#: ``OptimisticVerifier.claimHash``: keccak of the ABI-encoded claim.
claim_id = claim_hash


def proposal_id(outputs: PublicOutputs, layout: bytes) -> bytes:
    """``OptimisticVerifier.proposalId``: a claim over the blocks of ``layout``."""
    return bytes(keccak(abi_encode(["bytes32", "bytes32"], [claim_id(outputs), layout])))


def propose(
    l1: Any, outputs: PublicOutputs, inputs: Sequence[bytes], counts: Sequence[int], bond: int
) -> Any:
    call = l1.verifier.functions.propose(claim_tuple(outputs), list(inputs), list(counts))
    return l1.transact(call, value=bond)


def proposal_of(l1: Any, outputs: PublicOutputs, layout: bytes) -> dict[str, Any]:
    """The proposal of a claim over ``layout`` on L1, and its dispute if one is open."""
    return proposal_by_id(l1, proposal_id(outputs, layout))


def proposal_by_id(l1: Any, proposal: bytes) -> dict[str, Any]:
    p = l1.verifier.functions.proposals(proposal).call()
    game = l1.verifier.functions.games(proposal).call()
    return {
        "proposer": p[0], "deadline": int(p[1]), "status": int(p[2]), "layout": bytes(p[3]),
        "positions": int(p[4]), "final_commitment": bytes(p[6]),
        "disputed": int(game[0], 16) != 0, "challenger": game[0], "lo": int(game[1]),
        "hi": int(game[2]), "mid_posted": bool(game[6]), "mid_commitment": bytes(game[5]),
        "move_deadline": int(game[7]),
    }  # fmt: skip


def l1_time(l1: Any) -> int:
    """The time the next L1 block carries at least: a devnet that mines only when sent a
    transaction keeps its last block's time while idle, but stamps the next with its clock."""
    return max(int(l1.w3.eth.get_block("latest")["timestamp"]), int(time.time()))


def claim_timeout(l1: Any, proposal: bytes) -> bool:
    """Call ``timeout`` on a dispute whose mover is late; False if L1 says not yet (its next
    block is not past the deadline after all): asked again on the next poll."""
    try:
        l1.transact(l1.verifier.functions.timeout(proposal))
    except ContractRevert as exc:
        if "NotYet" in str(exc):
            return False
        raise
    return True


@dataclass
class Watchtower:
    """Challenges proposals whose claim is not what its own chain computes, and plays the
    disputes."""

    l1: Any  # RollupContracts acting as the watchtower
    #: What this party's chain says about the blocks a claim (its fields by name) is about
    #: (how many follow its parent); None while it cannot tell yet (it has not derived them).
    honest: Callable[[dict[str, Any], int], BatchSteps | None]
    bond: int
    replace: bool = True  # propose the right claim after winning
    vm: str = "evm"
    state: str = "mpt"
    #: On a stock L1, the step committee that judges a step or a whole batch.
    committee: Committee | None = None
    transactions: int = 0  # L1 transactions sent
    log: list[str] = field(default_factory=list)
    #: Proposals not judged yet: id -> their claim's fields and how many blocks it names.
    waiting: dict[bytes, tuple[dict[str, Any], int]] = field(default_factory=dict)
    _seen: int = 0
    _disputes: dict[bytes, BatchSteps] = field(default_factory=dict)

    def poll(self) -> None:
        """Look at new proposals, judge the ones its chain can, then make every move that is
        its own."""
        for event in self._new_proposals():
            blocks = self._blocks_named(event)
            if blocks is not None:
                self.waiting[bytes(event["args"]["id"])] = (
                    _claim_fields(event["args"]["claim"]),
                    blocks,
                )
        for proposal, (fields, blocks) in list(self.waiting.items()):
            self._judge(proposal, fields, blocks)
        for proposal, batch in list(self._disputes.items()):
            self._move(proposal, batch)

    def _new_proposals(self) -> list[Any]:
        head = self.l1.w3.eth.block_number
        if head < self._seen:
            return []
        events = self.l1.verifier.events.Proposed().get_logs(from_block=self._seen, to_block=head)
        self._seen = head + 1
        return list(events)

    def _blocks_named(self, event: Any) -> int | None:
        """How many blocks a proposal names: its layout's length, from the ``propose`` call
        that made it (None, and a log line, if it was made by a contract)."""
        tx = self.l1.w3.eth.get_transaction(event["transactionHash"])
        try:
            _, arguments = self.l1.verifier.decode_function_input(tx["input"])
            return len(arguments["inputs"])
        except (ValueError, KeyError):
            self.log.append(f"cannot read the blocks of 0x{bytes(event['args']['id']).hex()[:12]}"
                            " (proposed through a contract)")  # fmt: skip
            return None

    def _judge(self, proposal: bytes, fields: dict[str, Any], blocks: int) -> None:
        found = proposal_by_id(self.l1, proposal)
        if found["status"] != PENDING or l1_time(self.l1) >= found["deadline"]:
            del self.waiting[proposal]  # decided, or past its window
            return
        if found["disputed"]:
            return  # someone else is on it: judged if it survives
        batch = self.honest(fields, blocks)
        if batch is None:
            return  # not derived yet: next poll
        del self.waiting[proposal]
        short = f"0x{proposal.hex()[:12]}"
        if claim_id(batch.outputs) == claim_id_of(fields):
            return  # the right claim (whatever blocks it names, it settles the right state)
        if found["layout"] != batch.layout:
            # Over blocks this chain does not hold: no step of them can be proven here.
            self.log.append(f"cannot dispute {short}: its blocks are not the posted ones")
            return
        if found["final_commitment"] == batch.commitment(len(batch.states)):
            # Every state right, a field no position commits to wrong: one EXECUTE refutes it.
            self._send(self._whole_call(fields, batch))
            self.log.append(f"refuted {short} by EXECUTE over the whole batch")
            self._replace(batch)
            return
        self._send(self.l1.verifier.functions.challenge(proposal), value=self.bond)
        self._disputes[proposal] = batch
        self.log.append(f"challenged {short}")

    def _move(self, proposal: bytes, batch: BatchSteps) -> None:
        p = proposal_by_id(self.l1, proposal)
        short = f"0x{proposal.hex()[:12]}"
        if p["status"] != PENDING or not p["disputed"]:
            # Decided: rejected is a win; still pending with no game, the proposer won it.
            del self._disputes[proposal]
            won = p["status"] == REJECTED
            self.log.append(f"{'won' if won else 'lost'} {short}")
            if won:
                self._replace(batch)
            return
        lo, hi = p["lo"], p["hi"]
        if hi - lo == 1:
            self._resolve(proposal, batch, lo)
        elif p["mid_posted"]:
            agree = p["mid_commitment"] == batch.commitment((lo + hi) // 2)
            self._send(self.l1.verifier.functions.respond(proposal, agree))
        elif l1_time(self.l1) > p["move_deadline"] and claim_timeout(self.l1, proposal):
            self.transactions += 1
            self.log.append(f"timed out the proposer of {short}")

    def _replace(self, batch: BatchSteps) -> None:
        """Put the right claim in the wrong one's place (unless someone has)."""
        right = proposal_of(self.l1, batch.outputs, batch.layout)
        if self.replace and right["status"] == NONE:
            call = self.l1.verifier.functions.propose(
                claim_tuple(batch.outputs), batch.inputs, batch.counts
            )
            self._send(call, value=self.bond)
            self.log.append("proposed the right claim")

    def _resolve(self, proposal: bytes, batch: BatchSteps, lo: int) -> None:
        agreed = batch.state(lo)
        state = (agreed.block_pre_state_root, agreed.state_root, agreed.block_hash)
        trace = batch.step_trace(lo + 1)
        step = batch.state(lo + 1)
        pre = agreed.state_root if agreed.end else agreed.block_pre_state_root
        # What EXECUTE_STEP is paid: what the step takes here (the L1 charges what it is given).
        checked = execute_step(pre, trace, step.transactions, step.end, STEP_GAS,
                               vm=self.vm, state=self.state)  # fmt: skip
        if not checked.ok or checked.state is None:
            raise RuntimeError(f"our own step does not verify: {checked.reason}")
        verifier = self.l1.verifier.functions
        if self.committee is None:
            call = verifier.resolveStep(
                proposal, batch.inputs, batch.counts, state, trace, checked.gas_used
            )
        else:
            signatures = self.committee.step_signatures(
                self._where(), pre=pre, trace=trace, transactions=step.transactions,
                end=step.end, gas=checked.gas_used, input_hash=step.block_input_hash,
                reached=checked.state.commitment(),
            )  # fmt: skip
            call = verifier.resolveStepSigned(
                proposal, batch.inputs, batch.counts, state, checked.state.commitment(),
                signatures,
            )  # fmt: skip
        self._send(call)
        self.log.append(f"resolved the step {lo} -> {lo + 1}")

    def _whole_call(self, fields: dict[str, Any], batch: BatchSteps) -> Any:
        """resolveWhole (EXECUTE on L1) or resolveWholeSigned (the committee's word)."""
        claim = _claim_tuple(fields)
        if self.committee is None:
            return self.l1.verifier.functions.resolveWhole(claim, batch.layout, batch.trace)
        right = claim_hash(batch.outputs)
        o = batch.outputs
        signatures = self.committee.whole_signatures(
            self._where(), pre=o.pre_state_root, post=o.post_state_root, gas=o.gas_used,
            trace=batch.trace, layout=batch.layout, right_claim=right,
        )  # fmt: skip
        return self.l1.verifier.functions.resolveWholeSigned(claim, batch.layout, right, signatures)

    def _where(self) -> tuple[int, str, str, str]:
        """(L1 chain id, verifier, vm, state): what a committee's signatures are bound to."""
        return int(self.l1.w3.eth.chain_id), self.l1.verifier.address, self.vm, self.state

    def _send(self, call: Any, value: int = 0) -> Any:
        self.transactions += 1
        return self.l1.transact(call, value=value)


@dataclass
class Defender:
    """A proposer in a dispute over its proposal: bisects with its own commitments, and
    claims a timeout when the challenger stops moving."""

    l1: Any
    proposal: bytes
    commitment: Callable[[int], bytes]  # its commitment at position k
    transactions: int = 0

    def poll(self) -> None:
        p = proposal_by_id(self.l1, self.proposal)
        if p["status"] != PENDING or not p["disputed"]:
            return
        if p["hi"] - p["lo"] >= 2 and not p["mid_posted"]:
            mid = (p["lo"] + p["hi"]) // 2
            self.transactions += 1
            call = self.l1.verifier.functions.bisect(self.proposal, self.commitment(mid))
            self.l1.transact(call)
        elif l1_time(self.l1) > p["move_deadline"] and claim_timeout(self.l1, self.proposal):
            # The challenger's move (answer the middle, or prove the last step) is late.
            self.transactions += 1


def _claim_fields(claim: Any) -> dict[str, Any]:
    """A claim from an event, by the field names of :data:`rollupkit.types.CLAIM_FIELDS`."""
    fields = list(claim.values()) if hasattr(claim, "values") else list(claim)  # web3: by name
    values = dict(zip([name for name, _ in CLAIM_FIELDS], fields, strict=True))
    return {k: bytes(v) if isinstance(v, bytes) else v for k, v in values.items()}


def _claim_tuple(fields: dict[str, Any]) -> list[Any]:
    return [fields[name] for name, _ in CLAIM_FIELDS]


def claim_id_of(fields: dict[str, Any]) -> bytes:
    """:func:`claim_id` of a claim given by its fields."""
    return bytes(keccak(abi_encode([kind for _, kind in CLAIM_FIELDS], _claim_tuple(fields))))


def honest_batch_from_chain(chain: Any, start: int, built: Any) -> BatchSteps:
    """The :class:`~rollupkit.steps.BatchSteps` of ``built`` (a
    :class:`rollupkit.builder.BuiltTrace` of ``chain``, a :class:`rollupkit.chain.DevChain`,
    whose blocks follow its header ``start``)."""
    return batch_steps(
        chain.vm, chain.model, chain.store, chain_id=chain.chain_id,
        header_by_number=lambda n: chain.headers[n], first_block=start + 1,
        queue_start=built.trace.queue_start, trace=built.encoded, outputs=built.outputs,
    )  # fmt: skip
