"""Optimistic settlement on a stock L1 (anvil: no EXECUTE_STEP): a dispute's last step, and a
whole batch, are judged by a step committee of verifier services, each re-executing with its
own client and signing what *it* computes (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace

import pytest
from eth_abi import decode as abi_decode
from eth_hash.auto import keccak
from test_optimistic import BOND, MOVE, Setup, lie, optimistic_rollup, play, token_batch

from rollupkit.errors import ContractRevert, ProofError
from rollupkit.l1.contracts import claim_tuple, sign_attestations, step_digest
from rollupkit.testing.wallets import dev_wallets
from rollupkit.verifier import VerifierSettings
from rollupkit.verifier import serve as serve_verifier
from rollupkit_optimistic import OptimisticBackend
from rollupkit_optimistic.committee import Committee
from rollupkit_optimistic.dispute import (
    PENDING,
    REJECTED,
    Defender,
    Watchtower,
    honest_batch_from_chain,
    proposal_id,
    proposal_of,
    propose,
)

MEMBERS = dev_wallets(3, 1, offset=7000)
COMMITTEE = {"committee": [w.checksum_address for w in MEMBERS], "committee_threshold": 2}

pytestmark = pytest.mark.slow


@contextmanager
def committee_rollup(
    clients: tuple[str | None, ...] = (None, "revm", None),
) -> Iterator[tuple[Setup, Committee]]:
    """A rollup on anvil whose verifier's committee is three verifier services (py-evm,
    revm, py-evm by default), 2 signatures needed."""
    with optimistic_rollup("anvil", **COMMITTEE) as s, ExitStack() as services:
        urls = []
        for member, client in zip(MEMBERS, clients, strict=True):
            server = serve_verifier(VerifierSettings(
                member.private_key, s.l1.url, s.sequencer.deployment.rollup, client=client,
            ))  # fmt: skip
            services.callback(server.stop)
            urls.append(server.url)
        backend = OptimisticBackend.configured({**COMMITTEE, "verifiers": urls, "timeout": 60})
        committee = backend.step_committee()
        assert committee is not None
        yield s, committee


def test_the_backend_needs_a_committee_off_the_embedded_l1() -> None:
    bare = OptimisticBackend.configured({})
    assert "EXECUTE_STEP" in (bare.check_setup(l1="anvil", carrier="calldata") or "")
    assert bare.check_setup(l1="embedded", carrier="calldata") is None
    with_committee = OptimisticBackend.configured(COMMITTEE)
    assert with_committee.check_setup(l1="anvil", carrier="calldata") is None
    for bad in ({"committee_threshold": 2}, {**COMMITTEE, "committee_threshold": 4},
                {"committee": ["0x1234"], "committee_threshold": 1},
                {**COMMITTEE, "committee": COMMITTEE["committee"][:1] * 2}):  # fmt: skip
        with pytest.raises(ProofError):
            OptimisticBackend.configured(bad)
    with pytest.raises(ProofError, match="verifier services"):
        with_committee.step_committee()  # no verifiers to ask


def test_a_wrong_claim_loses_its_last_step_to_the_committee_on_anvil() -> None:
    with committee_rollup() as (s, committee):
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        outputs, commitment = lie(honest, 2)
        propose(s.liar, outputs, honest.inputs, honest.counts, BOND)
        watchtower = Watchtower(s.watcher, lambda *_: honest, BOND, committee=committee)
        defender = Defender(s.liar, proposal_id(outputs, honest.layout), commitment)
        play(watchtower, defender, outputs, honest.layout)
        assert proposal_of(s.liar, outputs, honest.layout)["status"] == REJECTED
        assert "resolved the step 1 -> 2" in watchtower.log, watchtower.log


def test_a_wrong_withdrawals_root_is_refuted_by_the_committee_on_anvil() -> None:
    with committee_rollup() as (s, committee):
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        wrong = replace(honest.outputs, withdrawals_root=keccak(b"a withdrawal to me"))
        propose(s.liar, wrong, honest.inputs, honest.counts, BOND)
        watchtower = Watchtower(s.watcher, lambda *_: honest, BOND, committee=committee)
        watchtower.poll()
        assert proposal_of(s.liar, wrong, honest.layout)["status"] == REJECTED
        assert any(line.startswith("refuted") for line in watchtower.log)


def test_only_k_members_signing_what_the_step_reaches_settle_it() -> None:
    """A step proven with signatures of strangers, of too few members, or over an answer the
    members did not compute, is refused; the challenger cannot get the committee to sign its
    lie (each member signs what it computes)."""
    with committee_rollup() as (s, committee):
        start, built = token_batch(s)
        honest = honest_batch_from_chain(s.l2.chain, start, built)
        propose(s.sequencer, honest.outputs, honest.inputs, honest.counts, BOND)
        proposal = proposal_id(honest.outputs, honest.layout)
        s.liar.transact(s.liar.verifier.functions.challenge(proposal), value=BOND)
        # Bisect down to the first step, the liar disagreeing with everything.
        defender = Defender(s.sequencer, proposal, honest.commitment)
        for _ in range(20):
            defender.poll()
            p = proposal_of(s.liar, honest.outputs, honest.layout)
            if p["hi"] - p["lo"] == 1:
                break
            s.liar.transact(s.liar.verifier.functions.respond(proposal, False))
        assert (p["lo"], p["hi"]) == (0, 1)
        agreed, step = honest.state(0), honest.state(1)
        trace = honest.step_trace(1)
        where = (s.l1.w3.eth.chain_id, s.sequencer.deployment.verifier, "evm", "mpt")
        lie_reached = keccak(b"what the liar says step 1 reaches")
        args = dict(pre=agreed.state_root, input_hash=step.block_input_hash, transactions=1,
                    end=False)  # fmt: skip
        state = (agreed.block_pre_state_root, agreed.state_root, agreed.block_hash)
        resolve = s.liar.verifier.functions.resolveStepSigned

        def attempt(reached: bytes, keys: list[bytes]) -> None:
            signatures = sign_attestations(keys, step_digest(*where, **args, reached=reached))
            (listed,) = abi_decode(["bytes[]"], signatures)
            s.liar.transact(resolve(proposal, honest.inputs, honest.counts, state, reached,
                                    list(listed)))  # fmt: skip

        strangers = [w.private_key for w in dev_wallets(2, 1, offset=7100)]
        with pytest.raises(ContractRevert, match="UnknownSigner"):
            attempt(lie_reached, strangers)
        with pytest.raises(ContractRevert, match="NotEnoughSignatures"):
            attempt(lie_reached, [MEMBERS[0].private_key])
        with pytest.raises(ProofError, match="0 of 2 committee signatures"):
            committee.step_signatures(where, **args, trace=trace, gas=10**7,
                                      reached=lie_reached)  # fmt: skip
        # What the members do sign is the truth, which is the proposer's commitment.
        signatures = committee.step_signatures(
            where, **args, trace=trace, gas=10**7, reached=honest.commitment(1)
        )
        s.liar.transact(resolve(proposal, honest.inputs, honest.counts, state,
                                honest.commitment(1), signatures))  # fmt: skip
        after = proposal_of(s.liar, honest.outputs, honest.layout)
        assert after["status"] == PENDING and not after["disputed"]  # the proposer won
        s.l1.advance(MOVE)  # (and its claim settles after the window as usual)
        with pytest.raises(ContractRevert, match="UseTheCommittee"):
            s.liar.transact(s.liar.verifier.functions.resolveWhole(
                list(claim_tuple(honest.outputs)), honest.layout, built.encoded))  # fmt: skip
