"""Playing an optimistic dispute on ``OptimisticVerifier``: claims, challenges, bisection.

The contract's moves, as functions over a :class:`rollupkit.l1.contracts.RollupContracts`
(web3, the acting account, the verifier contract), and the two parties:

* :class:`Watchtower` watches the verifier's ``Proposed`` events, compares each claim's final
  commitment with what its own chain computes (:class:`HonestBatch`), challenges a claim that
  differs, answers the proposer's bisection with its own commitments, proves the last step
  with ``EXECUTE_STEP`` (or, if every step agrees, the whole batch with EXECUTE), and after
  winning proposes the right claim in place of the wrong one;
* :class:`Defender` is the proposer's side: it bisects with its own commitments.

Each move is one L1 transaction: a dispute over a batch of N positions (one per transaction
plus one per block) takes a challenge, ``2 * ceil(log2 N)`` bisection moves at most, and one
resolution.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from rollupkit.l1.contracts import claim_tuple
from rollupkit.steps import StepState, block_input_hash, execute_step, start_state
from rollupkit.trace import decode_trace
from rollupkit.types import CLAIM_FIELDS, PublicOutputs

#: OptimisticVerifier.Status
NONE, PENDING, REJECTED, SETTLED = range(4)
#: The most EXECUTE gas a step is checked with here (a block's worth).
STEP_GAS = 60_000_000


def claim_id(outputs: PublicOutputs) -> bytes:
    """``OptimisticVerifier.claimHash``: keccak of the ABI-encoded claim."""
    return bytes(keccak(abi_encode([kind for _, kind in CLAIM_FIELDS], list(claim_tuple(outputs)))))


def batch_layout(trace: bytes) -> tuple[list[bytes], list[int]]:
    """Each block's input hash and transaction count: what a claim pins its batch with."""
    blocks = decode_trace(trace).blocks
    return [block_input_hash(b) for b in blocks], [len(b.transactions) for b in blocks]


def propose(
    l1: Any, outputs: PublicOutputs, inputs: Sequence[bytes], counts: Sequence[int], bond: int
) -> Any:
    call = l1.verifier.functions.propose(claim_tuple(outputs), list(inputs), list(counts))
    return l1.transact(call, value=bond)


def proposal_of(l1: Any, outputs: PublicOutputs) -> dict[str, Any]:
    """The proposal of a claim on L1, and whether a dispute over it is open."""
    return proposal_by_id(l1, claim_id(outputs))


def proposal_by_id(l1: Any, claim: bytes) -> dict[str, Any]:
    p = l1.verifier.functions.proposals(claim).call()
    game = l1.verifier.functions.games(claim).call()
    return {
        "proposer": p[0], "deadline": int(p[1]), "status": int(p[2]), "positions": int(p[4]),
        "disputed": int(game[0], 16) != 0, "challenger": game[0], "lo": int(game[1]),
        "hi": int(game[2]), "mid_posted": bool(game[6]), "mid_commitment": bytes(game[5]),
        "move_deadline": int(game[7]),
    }  # fmt: skip


@dataclass
class HonestBatch:
    """What a party's own chain says about a batch: the claim it would make, the state at
    every position, and a way to build the one-block trace of any step."""

    outputs: PublicOutputs
    inputs: list[bytes]
    counts: list[int]
    states: list[StepState]  # positions 1..N
    step_trace: Callable[[int], bytes]  # position k (1-based) -> the trace proving it
    trace: bytes = b""  # the whole batch's trace (for resolveWhole)

    def commitment(self, k: int) -> bytes:
        if k == 0:
            return start_state(self.outputs.pre_state_root, self.outputs.parent_hash).commitment()
        return self.states[k - 1].commitment()

    def state(self, k: int) -> StepState:
        if k == 0:
            return start_state(self.outputs.pre_state_root, self.outputs.parent_hash)
        return self.states[k - 1]


@dataclass
class Watchtower:
    """Challenges claims that are not what ``honest`` computes, and plays the disputes."""

    l1: Any  # RollupContracts acting as the watchtower
    #: The batch a claim (its fields by name) is about, as this party's chain has it.
    honest: Callable[[dict[str, Any]], HonestBatch | None]
    bond: int
    replace: bool = True  # propose the right claim after winning
    vm: str = "evm"
    state: str = "mpt"
    transactions: int = 0  # L1 transactions sent
    log: list[str] = field(default_factory=list)
    _seen: int = 0
    _disputes: dict[bytes, HonestBatch] = field(default_factory=dict)

    def poll(self) -> None:
        """Look at new claims, then make every move that is ours."""
        for event in self._new_proposals():
            batch = self.honest(_claim_fields(event["args"]["claim"]))
            claim = bytes(event["args"]["claimHash"])
            if batch is None or claim_id(batch.outputs) == claim:
                continue  # not ours to judge, or right
            found = proposal_by_id(self.l1, claim)
            if found["status"] != PENDING or found["disputed"] or claim in self._disputes:
                continue  # decided, or someone is on it
            self._send(self.l1.verifier.functions.challenge(claim), value=self.bond)
            self._disputes[claim] = batch
            self.log.append(f"challenged 0x{claim.hex()[:12]}")
        for claim, batch in list(self._disputes.items()):
            self._move(claim, batch)

    def _new_proposals(self) -> list[Any]:
        head = self.l1.w3.eth.block_number
        if head < self._seen:
            return []
        events = self.l1.verifier.events.Proposed().get_logs(from_block=self._seen, to_block=head)
        self._seen = head + 1
        return list(events)

    def _move(self, claim: bytes, batch: HonestBatch) -> None:
        p = proposal_by_id(self.l1, claim)
        if p["status"] != PENDING:  # decided: after a win, put the right claim in its place
            del self._disputes[claim]
            won = p["status"] == REJECTED
            self.log.append(f"{'won' if won else 'lost'} 0x{claim.hex()[:12]}")
            if won and self.replace and proposal_of(self.l1, batch.outputs)["status"] == NONE:
                call = self.l1.verifier.functions.propose(
                    claim_tuple(batch.outputs), batch.inputs, batch.counts
                )
                self._send(call, value=self.bond)
                self.log.append("proposed the right claim")
            return
        if not p["disputed"]:
            return
        lo, hi = p["lo"], p["hi"]
        if hi - lo == 1:
            self._resolve(claim, batch, lo)
        elif p["mid_posted"]:
            mid = (lo + hi) // 2
            agree = p["mid_commitment"] == batch.commitment(mid)
            self._send(self.l1.verifier.functions.respond(claim, agree))

    def _resolve(self, claim: bytes, batch: HonestBatch, lo: int) -> None:
        agreed = batch.state(lo)
        state = (agreed.block_pre_state_root, agreed.state_root, agreed.block_hash)
        trace = batch.step_trace(lo + 1)
        step = batch.state(lo + 1)
        pre = agreed.state_root if agreed.end else agreed.block_pre_state_root
        # What EXECUTE_STEP is paid: what the step takes here (the L1 charges what it is given).
        checked = execute_step(pre, trace, step.transactions, step.end, STEP_GAS,
                               vm=self.vm, state=self.state)  # fmt: skip
        if not checked.ok:
            raise RuntimeError(f"our own step does not verify: {checked.reason}")
        call = self.l1.verifier.functions.resolveStep(
            claim, batch.inputs, batch.counts, state, trace, checked.gas_used
        )
        self._send(call)
        self.log.append(f"resolved the step {lo} -> {lo + 1}")

    def _send(self, call: Any, value: int = 0) -> Any:
        self.transactions += 1
        return self.l1.transact(call, value=value)


@dataclass
class Defender:
    """A proposer in a dispute: bisects with the commitments of ``states`` (its own)."""

    l1: Any
    claim: bytes
    commitment: Callable[[int], bytes]  # its commitment at position k
    transactions: int = 0

    def poll(self) -> None:
        p = proposal_by_id(self.l1, self.claim)
        if p["status"] != PENDING or not p["disputed"] or p["mid_posted"]:
            return
        if p["hi"] - p["lo"] >= 2:
            mid = (p["lo"] + p["hi"]) // 2
            self.transactions += 1
            self.l1.transact(self.l1.verifier.functions.bisect(self.claim, self.commitment(mid)))


def _claim_fields(claim: Any) -> dict[str, Any]:
    """A claim from an event, by the field names of :data:`rollupkit.types.CLAIM_FIELDS`."""
    fields = list(claim.values()) if hasattr(claim, "values") else list(claim)  # web3: by name
    values = dict(zip([name for name, _ in CLAIM_FIELDS], fields, strict=True))
    return {k: bytes(v) if isinstance(v, bytes) else v for k, v in values.items()}


def honest_batch_from_chain(chain: Any, start: int, built: Any) -> HonestBatch:
    """A :class:`HonestBatch` for ``built`` (a :class:`rollupkit.builder.BuiltTrace` of
    ``chain``, a :class:`rollupkit.chain.DevChain`, whose blocks follow its header ``start``):
    the state at every position, and step traces built from the chain's store."""
    from rollupkit import messages
    from rollupkit.steps import build_step_trace, positions, step_states

    blocks = built.trace.blocks
    kwargs = dict(chain_id=chain.chain_id, header_by_number=lambda n: chain.headers[n])
    states = step_states(
        chain.vm, chain.model, chain.store, parent_header=chain.headers[start],
        queue_start=built.trace.queue_start, blocks=blocks, **kwargs,
    )  # fmt: skip
    queues = [built.trace.queue_start]
    for block in blocks:
        queues.append(messages.consume(queues[-1], block.l1_messages))
    where = positions([len(b.transactions) for b in blocks])

    def step_trace(k: int) -> bytes:
        p = where[k - 1]
        return build_step_trace(
            chain.vm, chain.model, chain.store, parent_header=chain.headers[start + p.block - 1],
            queue_start=queues[p.block - 1], block=blocks[p.block - 1],
            transactions=p.transactions, end=p.end, **kwargs,
        )  # fmt: skip

    inputs, counts = batch_layout(built.encoded)
    return HonestBatch(built.outputs, inputs, counts, states, step_trace, built.encoded)
