"""Optimistic settlement on the embedded L1 (issue 14): a wrong claim is challenged by the
watchtower, bisected to one transaction, settled by EXECUTE_STEP, slashed and replaced by the
right claim; an honest claim finalises after the window; a dispute takes O(log n) L1
transactions."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_hash.auto import keccak
from l1_env import L1, running_l1

from rollupkit.errors import ContractRevert, ProofError
from rollupkit.examples.evm import EvmScenario
from rollupkit.interfaces import ClaimedBatch, SettlementContext
from rollupkit.l1.contracts import RollupContracts, claim_tuple, deploy_rollup
from rollupkit.steps import BatchSteps, StepState, layout_hash
from rollupkit.types import ZERO_HASH
from rollupkit_optimistic import OptimisticBackend, evidence
from rollupkit_optimistic.dispute import (
    PENDING,
    REJECTED,
    SETTLED,
    Defender,
    Watchtower,
    honest_batch_from_chain,
    proposal_id,
    proposal_of,
    propose,
)

BOND = 10**18
WINDOW, MOVE = 600, 300


@dataclass
class Setup:
    l1: L1
    l2: EvmScenario
    sequencer: RollupContracts
    watcher: RollupContracts
    liar: RollupContracts
    backend: OptimisticBackend


@contextmanager
def optimistic_rollup(kind: str = "embedded", **more: Any) -> Iterator[Setup]:
    """A rollup settling optimistically on the L1 ``kind``, its genesis batch settled;
    ``more``: more proof options (a step committee)."""
    with running_l1(kind) as l1:
        scenario = EvmScenario.create(wallets=6)
        genesis = scenario.chain.vm.decode_header(scenario.chain.headers[0])
        options = {"bond": BOND, "window": WINDOW, "move_time": MOVE, **more}
        contracts = deploy_rollup(
            l1.w3, l1.accounts[0], l2_chain_id=scenario.chain.chain_id,
            genesis_state_root=genesis.state_root, genesis_block_hash=genesis.hash,
            proof="optimistic", proof_options=options,
        )  # fmt: skip
        d = contracts.deployment
        setup = Setup(
            l1, scenario, contracts, RollupContracts(l1.w3, d, l1.accounts[1]),
            RollupContracts(l1.w3, d, l1.accounts[2]), OptimisticBackend.configured(options),
        )  # fmt: skip
        settle_honestly(setup, scenario.setup[0])
        yield setup


def context(s: Setup) -> SettlementContext:
    return SettlementContext(
        l1_chain_id=s.l1.w3.eth.chain_id, verifier=s.sequencer.deployment.verifier,
        l1=s.sequencer,
    )  # fmt: skip


def claimed(built: Any) -> ClaimedBatch:
    return ClaimedBatch(
        built.pre_state_root, built.post_state_root, built.encoded, built.gas_used, built.outputs
    )


def settle_honestly(s: Setup, built: Any) -> None:
    """Through the backend's lifecycle, as the node's settler does: submit, wait, finalize."""
    submission = s.backend.submit(claimed(built), context(s))
    assert s.backend.finalize(claimed(built), submission, context(s)) is None  # the window
    with pytest.raises(ContractRevert, match="NotYet"):
        s.sequencer.submit_batch(built.outputs, b"", submission.evidence)
    s.l1.advance(WINDOW + 120)  # blocks run ahead of the clock
    s.backend.tend(claimed(built), submission, context(s))  # nothing to defend
    final = s.backend.finalize(claimed(built), submission, context(s))
    assert final is not None
    s.sequencer.submit_batch(built.outputs, final.trace, final.evidence)
    assert s.sequencer.state()["state_root"] == built.post_state_root


def lie(honest: BatchSteps, first_wrong: int) -> tuple[Any, Any]:
    """A liar's claim (another post-state root and block hash) and its commitment at every
    position: the honest ones before ``first_wrong``, made-up ones from there."""
    fake_root, fake_hash = keccak(b"fake root"), keccak(b"fake block")
    outputs = replace(honest.outputs, post_state_root=fake_root, block_hash=fake_hash)
    n = len(honest.states)

    def commitment(k: int) -> bytes:
        if k < first_wrong:
            return honest.commitment(k)
        if k == n:
            real = honest.states[-1]
            return StepState(ZERO_HASH, fake_root, fake_hash, real.block_input_hash,
                             real.transactions, True).commitment()  # fmt: skip
        return keccak(b"made up %d" % k)

    return outputs, commitment


def play(
    watchtower: Watchtower, defender: Defender, outputs: Any, layout: bytes,
    between: Callable[[], object] = lambda: None,
) -> None:  # fmt: skip
    """Both parties move (``between`` their moves) until the proposal is decided."""
    for _ in range(200):
        watchtower.poll()
        if proposal_of(watchtower.l1, outputs, layout)["status"] != PENDING:
            return
        between()
        defender.poll()
    raise AssertionError("the dispute did not end in 200 rounds")


def dispute(s: Setup, honest: BatchSteps, first_wrong: int) -> tuple[Watchtower, Defender]:
    """The liar claims, the watchtower challenges, both play until it is decided."""
    outputs, commitment = lie(honest, first_wrong)
    propose(s.liar, outputs, honest.inputs, honest.counts, BOND)
    watchtower = Watchtower(
        s.watcher, lambda claim, _: honest if claim["parent_hash"] == honest.outputs.parent_hash
        else None, BOND,
    )  # fmt: skip
    defender = Defender(s.liar, proposal_id(outputs, honest.layout), commitment)
    play(watchtower, defender, outputs, honest.layout)
    watchtower.poll()  # sees the result, and proposes the right claim
    return watchtower, defender


def token_batch(s: Setup, count: int = 4) -> tuple[int, Any]:
    start = len(s.l2.chain.headers) - 1
    w = s.l2.wallets
    txs = [s.l2.token_transfer(w[0], w[1 + i % 5].address, 1 + i) for i in range(count - 1)]
    txs.append(w[2].transfer(w[3].address, 5))
    return start, s.l2.chain.build(transactions=txs)


def test_an_honest_claim_finalises_after_the_window() -> None:
    with optimistic_rollup() as s:
        _, built = token_batch(s)
        before = s.l1.w3.eth.get_balance(s.sequencer.account.address)
        settle_honestly(s, built)
        layout = honest_batch_from_chain(s.l2.chain, len(s.l2.chain.headers) - 2, built).layout
        assert proposal_of(s.sequencer, built.outputs, layout)["status"] == SETTLED
        spent = before - s.l1.w3.eth.get_balance(s.sequencer.account.address)
        assert spent < BOND // 10  # the bond came back; only gas was spent


def test_a_wrong_claim_is_challenged_bisected_slashed_and_replaced() -> None:
    with optimistic_rollup() as s:
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        liar_before = s.l1.w3.eth.get_balance(s.liar.account.address)
        watcher_before = s.l1.w3.eth.get_balance(s.watcher.account.address)
        watchtower, _ = dispute(s, honest, first_wrong=3)
        wrong, _ = lie(honest, 3)
        assert proposal_of(s.liar, wrong, honest.layout)["status"] == REJECTED
        assert "resolved the step 2 -> 3" in watchtower.log and "proposed the right claim" in (
            watchtower.log
        )
        assert s.l1.w3.eth.get_balance(s.liar.account.address) < liar_before - BOND + BOND // 10
        # the watchtower has the liar's bond, less gas, and its own is in the new claim
        gained = s.l1.w3.eth.get_balance(s.watcher.account.address) - watcher_before
        assert gained > -BOND // 10
        with pytest.raises(ContractRevert, match="NotPending"):  # the wrong claim never settles
            s.sequencer.submit_batch(wrong, b"", evidence(honest.layout, context(s)))
        s.l1.advance(WINDOW + 120)  # blocks run ahead of the clock
        with pytest.raises(ContractRevert, match="BadEvidence"):  # for this L1 and verifier only
            s.sequencer.submit_batch(built.outputs, b"", honest.layout)
        # the watchtower's claim
        s.sequencer.submit_batch(built.outputs, b"", evidence(honest.layout, context(s)))
        assert s.sequencer.state()["state_root"] == built.post_state_root


def test_a_lie_at_the_first_step_and_at_a_block_end_are_caught_too() -> None:
    with optimistic_rollup() as s:
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        for first_wrong in (1, len(honest.states)):  # the first transaction; the block's end
            outputs, _ = lie(honest, first_wrong)
            outputs = replace(outputs, withdrawal_count=first_wrong)  # a distinct claim each
            propose(s.liar, outputs, honest.inputs, honest.counts, BOND)
            watchtower = Watchtower(s.watcher, lambda *_: honest, BOND, replace=False)
            _, commitment = lie(honest, first_wrong)
            defender = Defender(s.liar, proposal_id(outputs, honest.layout), commitment)
            play(watchtower, defender, outputs, honest.layout)
            assert proposal_of(s.liar, outputs, honest.layout)["status"] == REJECTED


def test_a_proposer_that_stops_answering_loses_by_timeout() -> None:
    with optimistic_rollup() as s:
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        outputs, _ = lie(honest, 2)
        propose(s.liar, outputs, honest.inputs, honest.counts, BOND)
        watchtower = Watchtower(s.watcher, lambda *_: honest, BOND, replace=False)
        watchtower.poll()  # challenges; the liar never bisects
        watchtower.poll()  # the liar's move: not late yet
        assert proposal_of(s.liar, outputs, honest.layout)["status"] == PENDING
        with pytest.raises(ContractRevert, match="NotYet"):
            s.watcher.transact(
                s.watcher.verifier.functions.timeout(proposal_id(outputs, honest.layout))
            )
        s.l1.advance(MOVE + 120)
        watchtower.poll()  # claims the timeout
        assert proposal_of(s.liar, outputs, honest.layout)["status"] == REJECTED
        assert any(line.startswith("timed out the proposer") for line in watchtower.log)


def test_the_backend_refuses_to_finalise_a_claim_that_lost() -> None:
    with optimistic_rollup() as s:
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        wrong_outputs, commitment = lie(honest, 2)
        wrong = ClaimedBatch(built.pre_state_root, wrong_outputs.post_state_root, built.encoded,
                             built.gas_used, wrong_outputs)  # fmt: skip
        submission = s.backend.submit(wrong, context(s))
        assert not s.backend.verify(wrong, submission, context(s))
        # The evidence names the blocks: the right claim over them holds, over others not.
        assert s.backend.verify(claimed(built), submission, context(s))
        other = replace(submission, evidence=evidence(keccak(b"other blocks"), context(s)))
        assert not s.backend.verify(claimed(built), other, context(s))
        watchtower = Watchtower(s.watcher, lambda *_: honest, BOND, replace=False)
        defender = Defender(s.sequencer, proposal_id(wrong_outputs, honest.layout), commitment)

        def still_disputed() -> None:
            assert s.backend.finalize(wrong, submission, context(s)) is None

        play(watchtower, defender, wrong_outputs, honest.layout, still_disputed)
        with pytest.raises(ProofError, match="lost a dispute"):
            s.backend.finalize(wrong, submission, context(s))


@pytest.mark.slow
@pytest.mark.parametrize("transactions", [1, 16, 256])
def test_bisection_takes_logarithmically_many_l1_transactions(transactions: int) -> None:
    with optimistic_rollup() as s:
        start = len(s.l2.chain.headers) - 1
        w = s.l2.wallets
        txs = [w[1 + i % 5].transfer(w[0].address, 1 + i) for i in range(transactions)]
        built = s.l2.chain.build(transactions=txs)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        positions = len(honest.states)  # the transactions and the block's end
        watchtower, defender = dispute(s, honest, first_wrong=positions)
        moves = watchtower.transactions + defender.transactions - 1  # less the replacement
        print(f"\n{transactions} transactions, {positions} positions: {moves} L1 transactions "
              f"to settle the dispute (challenge, bisection, step)")  # fmt: skip
        assert moves <= 2 + 2 * math.ceil(math.log2(positions))


def test_a_wrong_field_no_position_commits_to_is_refuted_by_one_execute() -> None:
    with optimistic_rollup() as s:
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        # Every state right, the withdrawals wrong: bisection could not find a step.
        wrong = replace(honest.outputs, withdrawals_root=keccak(b"a withdrawal to me"))
        propose(s.liar, wrong, honest.inputs, honest.counts, BOND)
        watchtower = Watchtower(s.watcher, lambda *_: honest, BOND)
        watchtower.poll()
        assert proposal_of(s.liar, wrong, honest.layout)["status"] == REJECTED
        assert watchtower.transactions == 2  # resolveWhole, and the right claim
        assert any(line.startswith("refuted") for line in watchtower.log)
        assert proposal_of(s.watcher, honest.outputs, honest.layout)["status"] == PENDING


def test_a_whole_batch_check_must_be_given_the_proposed_blocks() -> None:
    with optimistic_rollup() as s:
        w = s.l2.wallets
        # Other valid blocks from the same state (not committed): a trace EXECUTE accepts,
        # whose outputs are not the honest claim's.
        other = s.l2.chain.build(transactions=[w[4].transfer(w[5].address, 7)], commit=False)
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        propose(s.sequencer, honest.outputs, honest.inputs, honest.counts, BOND)
        resolve = s.liar.verifier.functions.resolveWhole
        with pytest.raises(ContractRevert, match="NotTheProposedBlocks"):
            s.liar.transact(
                resolve(list(claim_tuple(honest.outputs)), honest.layout, other.encoded)
            )
        with pytest.raises(ContractRevert, match="NotTheProposedBlocks"):
            s.liar.transact(resolve(list(claim_tuple(honest.outputs)), honest.layout, b"\x01junk"))
        assert proposal_of(s.sequencer, honest.outputs, honest.layout)["status"] == PENDING


def test_a_right_claim_lost_over_other_blocks_does_not_bar_it_over_the_posted_ones() -> None:
    with optimistic_rollup() as s:
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        fake_inputs = [keccak(b"blocks no one posted")]
        propose(s.liar, honest.outputs, fake_inputs, honest.counts, BOND)
        fake = proposal_id(honest.outputs, layout_hash(fake_inputs, honest.counts))
        # A watchtower leaves it: the claim is right (and no step of those blocks is provable).
        watchtower = Watchtower(s.watcher, lambda *_: honest, BOND)
        watchtower.poll()
        assert watchtower.transactions == 0
        # The liar loses it on purpose (a challenge it does not answer) ...
        s.watcher.transact(s.watcher.verifier.functions.challenge(fake), value=BOND)
        s.l1.advance(MOVE + 120)
        s.watcher.transact(s.watcher.verifier.functions.timeout(fake))
        # ... and the node's own proposal of that claim, over the posted blocks, still settles.
        settle_honestly(s, built)
        assert s.sequencer.state()["state_root"] == built.post_state_root
