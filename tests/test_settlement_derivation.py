"""The settlement derivation (issue 16): with re-execution nothing is posted but the
settlement, whose trace a follower derives the chain from; an L1 reorg that drops a settlement
makes the sequencer settle again, and the follower follows what L1 settles."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from node_env import running_rollup

from rollupkit.errors import ProjectError
from rollupkit.project.config import check_combination, proofs_for


def test_only_a_backend_whose_settlement_carries_the_trace_derives_from_it() -> None:
    assert proofs_for("embedded", "settlement") == ["reexec"]
    for proof, l1 in (("multiclient", "anvil"), ("optimistic", "embedded")):
        try:
            check_combination(vm="evm", state="mpt", derivation="settlement", proof=proof, l1=l1,
                              compression="zstd")  # fmt: skip
        except ProjectError as exc:
            assert "does not carry the batch's trace" in str(exc)
        else:
            raise AssertionError(f"{proof} accepted the settlement derivation")


def test_a_reorg_dropping_a_settlement_settles_again_and_the_follower_follows(
    tmp_path: Path,
) -> None:
    with running_rollup(tmp_path, derivation="settlement", compression="zstd") as r:
        assert r.follower is not None
        wallet = r.wallets[1]
        receipt = r.l2.eth.wait_for_transaction_receipt(
            r.l2.eth.send_raw_transaction(wallet.transfer(b"\x11" * 20, 5)), poll_latency=0.1
        )
        block = int(receipt["blockNumber"])
        r.wait(lambda: r.sequencer.chain.settled_block() >= block, message="the settlement")
        batch = r.sequencer.store.batch_of_block(block)
        assert batch is not None and "post_tx" not in batch["detail"]  # nothing posted apart
        settled_in = int(batch["detail"]["settle_l1_block"])
        old_hash = r.l1.eth.get_block(settled_in)["hash"]
        # Drop every L1 block from the settlement's on (the depth comes from where it landed,
        # not from a head read earlier: the settlement may land before any such read).
        dropped = r.l1.eth.block_number - settled_in + 1
        answer = r.l1.provider.make_request("anvil_reorg", [dropped, []])  # type: ignore[arg-type]
        assert "error" not in answer, answer
        assert r.l1.eth.get_block(settled_in)["hash"] != old_hash  # the settlement's block is gone
        r.wait(lambda: r.contracts.state()["block_number"] >= block, message="settling again")
        settled = r.contracts.state()["block_number"]
        r.wait(lambda: _settled_on_l1(r, block), message="the batch marked settled again")
        root = bytes(r.contracts.state()["state_root"])
        assert root == r.sequencer.chain.header_info(settled).state_root
        r.wait(lambda: r.follower.store.head_number() >= settled, message="the follower")
        assert r.follower.chain.header_info(settled).state_root == root
        time.sleep(0.5)
        assert not r.sequencer.errors and not r.follower.errors, (
            r.sequencer.errors, r.follower.errors)  # fmt: skip


def _settled_on_l1(r: Any, block: int) -> bool:
    """The batch holding ``block`` names a settlement transaction that L1 holds now."""
    from web3.exceptions import TransactionNotFound

    batch = r.sequencer.store.batch_of_block(block)
    settle_tx = batch and batch["detail"].get("settle_tx")
    if not settle_tx:
        return False
    try:
        return int(r.l1.eth.get_transaction_receipt(settle_tx)["status"]) == 1
    except TransactionNotFound:
        return False


def test_the_derivation_takes_a_settled_trace_whose_messages_are_the_queues() -> None:
    from dataclasses import replace

    import pytest

    from rollupkit.errors import TraceError
    from rollupkit.examples.evm import EvmScenario
    from rollupkit_settlement import SettlementDerivation

    scenario = EvmScenario.create(wallets=2)
    chain = scenario.chain
    deposit = chain.deposit(b"\x22" * 20, 10**18)
    built = chain.build(transactions=[scenario.wallets[1].transfer(b"\x33" * 20, 5)],
                        compress=True)  # fmt: skip
    queue = {deposit.index: deposit}
    derivation = SettlementDerivation()
    assert derivation.encode_batch(chain.chain_id, built.trace.blocks) == []  # nothing posted
    blocks = derivation.decode_batch(chain.chain_id, [built.encoded], queue.__getitem__)
    assert blocks == list(built.trace.blocks)
    forged = {deposit.index: replace(deposit, value=deposit.value + 1)}
    with pytest.raises(TraceError, match="is not the queue's"):
        derivation.decode_batch(chain.chain_id, [built.encoded], forged.__getitem__)
    with pytest.raises(TraceError, match="is not queued"):
        derivation.decode_batch(chain.chain_id, [built.encoded], {}.__getitem__)
    with pytest.raises(TraceError, match="another chain"):
        derivation.decode_batch(chain.chain_id + 1, [built.encoded], queue.__getitem__)
