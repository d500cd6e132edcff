"""Optimistic settlement played by running nodes (issue 14): a follower node's watchtower
disputes a stranger's wrong claim on its own and wins; a sequencer defends its own claim
against a challenger that lies, wins, and settles."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account as EthAccount
from eth_hash.auto import keccak
from node_env import ATTESTER_KEYS, Rollup, running_rollup

from rollupkit.errors import ContractRevert
from rollupkit.interfaces import SettlementContext
from rollupkit.l1.contracts import RollupContracts
from rollupkit.l1.devnet import dev_accounts
from rollupkit.steps import BatchSteps
from rollupkit_optimistic import evidence
from rollupkit_optimistic.dispute import (
    PENDING,
    REJECTED,
    SETTLED,
    Defender,
    proposal_id,
    proposal_of,
    propose,
)

BOND = 10**18
#: Long enough for a dispute over a small batch, short enough for a test.
OPTIONS = {"bond": BOND, "window": 16, "move_time": 3}

pytestmark = pytest.mark.slow


def _account(r: Rollup, index: int) -> RollupContracts:
    return RollupContracts(r.l1, r.contracts.deployment, dev_accounts(index + 1)[index])


def _first_posted_batch(r: Rollup) -> BatchSteps:
    """Some L2 activity, then the first batch the sequencer posted, position by position."""
    w = r.wallets
    for i in range(3):
        tx = w[1].transfer(w[2].address, 1 + i, nonce=i)
        r.l2.eth.send_raw_transaction(tx)
    r.wait(lambda: r.sequencer.store.batches(), message="a batch")
    batch = r.sequencer.store.batches()[0]
    r.wait(
        lambda: r.follower is not None and r.follower.store.head_number() >= batch["last_block"],
        message="the follower to derive the batch",
    )
    return r.sequencer.chain.batch_steps(batch["first_block"], batch["last_block"])


def _lying_commitment(k: int) -> bytes:
    return keccak(b"made up %d" % k)


#: On anvil, the three verifier services of node_env are the step committee (2 of 3).
COMMITTEE = {
    "committee": [EthAccount.from_key(k).address for k in ATTESTER_KEYS],
    "committee_threshold": 2,
}


@pytest.mark.parametrize("l1", ["embedded", "anvil"])
def test_a_watchtower_node_disputes_a_wrong_claim_and_wins(tmp_path: Path, l1: str) -> None:
    """On the embedded L1 the last step is settled by EXECUTE_STEP; on anvil by the step
    committee (verifier services running py-evm, revm and py-evm)."""
    committee = l1 == "anvil"
    with running_rollup(
        tmp_path, l1=l1, proof="optimistic", watchtower=True, permissionless=True,
        proof_options={**OPTIONS, **(COMMITTEE if committee else {})},
        verifier_clients=(None, "revm", None) if committee else (),
    ) as r:  # fmt: skip
        honest = _first_posted_batch(r)
        liar = _account(r, 4)
        wrong = replace(honest.outputs, post_state_root=keccak(b"my root"))
        propose(liar, wrong, honest.inputs, honest.counts, BOND)
        before = r.l1.eth.get_balance(liar.account.address)
        # The liar answers with made-up commitments; the follower's watchtower plays alone.
        defender = Defender(liar, proposal_id(wrong, honest.layout), _lying_commitment)

        def decided() -> bool:
            defender.poll()
            return proposal_of(liar, wrong, honest.layout)["status"] != PENDING

        r.wait(decided, timeout=90, message="the dispute to be decided")
        assert proposal_of(liar, wrong, honest.layout)["status"] == REJECTED
        assert r.follower is not None and r.follower.watchtower is not None
        log = r.follower.watchtower.watcher.log
        assert any(line.startswith("challenged") for line in log), log
        assert any(line.startswith("resolved the step") for line in log), log
        r.wait(lambda: any(line.startswith("won") for line in log), message="the win noted")
        assert r.l1.eth.get_balance(liar.account.address) < before  # the bond is gone
        where = SettlementContext(l1_chain_id=r.l1.eth.chain_id, verifier=liar.verifier.address)
        with pytest.raises(ContractRevert, match="NotPending"):  # the wrong claim never settles
            liar.submit_batch(wrong, b"", evidence(honest.layout, where))
        # Meanwhile the sequencer's own (right) claim settles after its window.
        r.wait(lambda: r.settled_block() >= honest.outputs.block_number, timeout=90,
               message="the right claim to settle")  # fmt: skip
        assert r.contracts.state()["state_root"] != wrong.post_state_root


def test_a_sequencer_defends_its_claim_against_a_lying_challenger(tmp_path: Path) -> None:
    with running_rollup(tmp_path, proof="optimistic", proof_options=OPTIONS) as r:
        honest = _first_posted_batch(r)
        proposal = proposal_id(honest.outputs, honest.layout)
        r.wait(lambda: proposal_of(r.contracts, honest.outputs, honest.layout)["status"]
               == PENDING, message="the sequencer's claim")  # fmt: skip
        challenger = _account(r, 5)
        batcher = r.sequencer.l1.batcher.address if r.sequencer.l1 else ""
        before = r.l1.eth.get_balance(batcher)
        challenger.transact(challenger.verifier.functions.challenge(proposal), value=BOND)
        # The challenger disagrees with every commitment the sequencer posts, and then cannot
        # prove the last step (the sequencer's is right): the sequencer times it out.
        moves = 0

        def settled_dispute() -> bool:
            nonlocal moves
            p = proposal_of(challenger, honest.outputs, honest.layout)
            if p["disputed"] and p["mid_posted"]:
                call = challenger.verifier.functions.respond(proposal, False)
                try:
                    challenger.transact(call)
                    moves += 1
                except ContractRevert:
                    pass  # raced the sequencer's next move
            return not p["disputed"]

        r.wait(settled_dispute, timeout=90, message="the dispute to end")
        assert moves >= 1  # the sequencer did bisect
        r.wait(lambda: r.settled_block() >= honest.outputs.block_number, timeout=90,
               message="the defended claim to settle")  # fmt: skip
        assert proposal_of(r.contracts, honest.outputs, honest.layout)["status"] == SETTLED
        assert r.contracts.state()["state_root"] == honest.outputs.post_state_root
        # The challenger's bond went to the sequencer (less what its moves cost in gas).
        assert r.l1.eth.get_balance(batcher) > before + BOND // 2


def _watchtower_config(r: Rollup, tmp_path: Path) -> Path:
    from rollupkit.node.settings import dump, with_role

    path = tmp_path / "rollup.toml"
    dump(with_role(r.sequencer.config, "follower", tmp_path / "unused"), path)
    return path


def test_the_watchtower_is_a_process_started_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    with running_rollup(
        tmp_path, proof="optimistic", proof_options=OPTIONS, follower=False, permissionless=True
    ) as r:
        config = _watchtower_config(r, tmp_path)
        key = "0x" + bytes(dev_accounts(4)[3].key).hex()
        command = [sys.executable, "-m", "rollupkit_cli", "watchtower", "--config", str(config),
                   "--key", key, "--data-dir", str(tmp_path / "watchtower")]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)  # fmt: skip
        try:
            assert process.stdout is not None
            assert "rollupkit watchtower for chain" in process.stdout.readline()
            w = r.wallets
            r.l2.eth.send_raw_transaction(w[1].transfer(w[2].address, 5))
            r.wait(lambda: r.sequencer.store.batches("posted") or r.sequencer.store.batches(
                "submitted"), message="a posted batch")  # fmt: skip
            batch = r.sequencer.store.batches()[0]
            honest = r.sequencer.chain.batch_steps(batch["first_block"], batch["last_block"])
            liar = _account(r, 4)
            wrong = replace(honest.outputs, post_state_root=keccak(b"my root"))
            propose(liar, wrong, honest.inputs, honest.counts, BOND)
            defender = Defender(liar, proposal_id(wrong, honest.layout), _lying_commitment)

            def decided() -> bool:
                defender.poll()
                return proposal_of(liar, wrong, honest.layout)["status"] != PENDING

            r.wait(decided, timeout=90, message="the watchtower process to win the dispute")
            assert proposal_of(liar, wrong, honest.layout)["status"] == REJECTED
        finally:
            process.terminate()
            _, err = process.communicate(timeout=30)
        assert "watchtower: challenged" in err and "watchtower: resolved the step" in err, err


def test_the_watchtower_command_explains_what_it_cannot_watch(tmp_path: Path) -> None:
    from test_cli import assert_one_line_error, cli

    with running_rollup(tmp_path, follower=False) as r:  # re-execution: nothing to dispute
        config = _watchtower_config(r, tmp_path)
        key = "0x" + bytes(dev_accounts(4)[3].key).hex()
        data = str(tmp_path / "watchtower")
        assert_one_line_error(
            cli("watchtower", "--config", str(config), "--key", key, "--data-dir", data),
            "there is no claim to watch",
        )
        assert_one_line_error(
            cli("watchtower", "--config", str(config), "--key", "0x12", "--data-dir", data),
            "a private key is 32 bytes",
        )
