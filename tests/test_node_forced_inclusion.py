"""A sequencer told to censor an address: the user forces the transaction through L1; it is
included once due, and a batch that still leaves it out is rejected by L1."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from node_env import running_rollup

from rollupkit.l1.contracts import ContractRevert, RollupContracts
from rollupkit.l1.devnet import dev_accounts


def test_censored_transaction_is_forced_in_through_l1(tmp_path: Path) -> None:
    from rollupkit.testing.wallets import dev_wallets

    victim = dev_wallets(6, 42_424)[5]
    receiver = b"\x66" * 20
    with running_rollup(
        tmp_path, censor=frozenset({victim.address}), background=False, follower=False
    ) as r:
        node = r.sequencer
        other = r.wallets[1]

        def tick() -> None:
            node.l1_step()
            node.produce_block()
            time.sleep(0.35)  # the batcher waits this long for more blocks
            for _ in range(3):  # make a batch, post it, settle it
                node.l1_step()

        # The victim's transaction is accepted by the RPC but never included.
        raw = victim.transfer(receiver, 12345)
        r.l2.eth.send_raw_transaction(raw)
        r.l2.eth.send_raw_transaction(other.transfer(other.address, 1))
        for _ in range(3):
            tick()
        assert r.l2.eth.get_balance("0x" + receiver.hex()) == 0

        # The victim forces it through L1: the censoring sequencer holds the queue for as long
        # as the contract allows, and its batches settle meanwhile.
        r.contracts.force_transaction(raw)
        r.l2.eth.send_raw_transaction(other.transfer(other.address, 2))
        for _ in range(3):
            tick()
        assert r.l2.eth.get_balance("0x" + receiver.hex()) == 0
        assert r.contracts.state()["consumed"] == 0
        settled_before = r.settled_block()
        assert settled_before == node.store.head_number()

        # The deadline passes on L1. A block made before the sequencer noticed leaves the
        # forced transaction out, and a batch of it is rejected by L1.
        r.advance_l1(3600 + 120)
        r.l2.eth.send_raw_transaction(other.transfer(other.address, 3))
        node.produce_block()
        censoring = node.chain.assemble_batch(settled_before + 1, node.store.head_number())
        # Submitted by the batcher itself (settlement is gated to it).
        batcher = RollupContracts(r.contracts.w3, r.contracts.deployment, dev_accounts(2)[1])
        with pytest.raises(ContractRevert, match="OverdueMessageNotConsumed"):
            batcher.submit_batch(censoring.outputs, censoring.trace, b"")

        # Once the sequencer sees the L1 time, it includes the forced transaction, extends the
        # pending batch to it, and settles.
        for _ in range(4):
            tick()
        assert r.l2.eth.get_balance("0x" + receiver.hex()) == 12345
        assert r.contracts.state()["consumed"] == 1
        assert r.settled_block() == node.store.head_number()
        assert not node.errors, node.errors
