"""A booster chain run by rollupkit's node (issue 15): the sequencer anchors its blocks to L1,
reads the L1 state its L1 calls need from the L1 node (eth_getProof), and settles batches that
apply their L1 updates; a follower derives the same chain from L1."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from node_env import running_rollup
from web3 import Web3

from rollupkit.examples.booster import send
from rollupkit.examples.contracts import artifact
from rollupkit.wallets import calldata
from rollupkit_booster import L1CALL_ADDRESS, L1SANDBOXCALL_ADDRESS

ZERO = "0x0000000000000000000000000000000000000000"
VOTES = [0, 2, 2, 1, 2]


@pytest.mark.parametrize("l1", ["embedded", "anvil"])
def test_a_node_runs_a_booster_chain_whose_votes_settle_on_l1(tmp_path: Path, l1: str) -> None:
    with running_rollup(tmp_path, l1=l1, vm="booster") as rollup:
        w3, voter = rollup.l1, rollup.contracts.account
        spec = artifact("Ballot")
        receipt = send(w3, voter, w3.eth.contract(abi=spec.abi, bytecode=spec.bytecode)
                       .constructor())  # fmt: skip
        ballot = w3.eth.contract(address=receipt["contractAddress"], abi=spec.abi)
        send(w3, voter, ballot.functions.setBooster(rollup.contracts.rollup.address, ZERO))
        deployed = send(w3, voter, ballot.functions.vote(0))  # one vote directly on L1 first
        # L2 blocks read L1 at the newest block the sequencer has seen: once it has seen these.
        seen = lambda: rollup.sequencer.l1_view.number >= deployed["blockNumber"]  # noqa: E731
        rollup.wait(seen, message="the sequencer saw the ballot")

        # Calls run L1 calls too, on the L1 as the chain sees it: an estimate, and a read of
        # the tally through L1SANDBOXCALL.
        probe = abi_encode(["address", "bytes"], [ballot.address, calldata("vote(uint256)", 1)])
        sender = rollup.wallets[0].checksum_address
        to = Web3.to_checksum_address(L1CALL_ADDRESS)
        estimate = rollup.l2.eth.estimate_gas({"from": sender, "to": to, "data": probe})
        assert 21_000 + 2_600 < estimate < 300_000
        read = abi_encode(["address", "bytes"], [ballot.address, calldata("tally(uint256)", 0)])
        sandbox = Web3.to_checksum_address(L1SANDBOXCALL_ADDRESS)
        answer = rollup.l2.eth.call({"to": sandbox, "data": read})
        assert int.from_bytes(answer[-32:], "big") == 1  # the direct L1 vote

        # Each L2 account votes once on L1 state through L1CALL (its own address voting).
        hashes = []
        for wallet, proposal in zip(rollup.wallets, VOTES, strict=False):
            vote = calldata("vote(uint256)", proposal)
            data = abi_encode(["address", "bytes"], [ballot.address, vote])
            raw = wallet.sign(to=L1CALL_ADDRESS, data=data, gas=300_000)
            hashes.append(rollup.l2.eth.send_raw_transaction(raw))
        receipts = [rollup.l2.eth.wait_for_transaction_receipt(h, timeout=60) for h in hashes]
        assert all(r["status"] == 1 for r in receipts), receipts
        last = max(int(r["blockNumber"]) for r in receipts)
        rollup.wait(lambda: rollup.settled_block() >= last, message="the votes settled")

        # Proposal 0 has the direct vote too: L2 blocks read L1 after it.
        assert [int(ballot.functions.tally(p).call()) for p in range(3)] == [2, 1, 3]
        assert all(ballot.functions.voted(w.checksum_address).call() for w in rollup.wallets[:5])
        # The L1 writes came through settlement (applyStateUpdates), once per batch at most.
        applied = rollup.contracts.rollup.events.L1UpdatesApplied().get_logs(from_block=0)
        assert 1 <= len(applied) <= len({int(r["blockNumber"]) for r in receipts})

        assert rollup.follower is not None
        follower = Web3(Web3.HTTPProvider(rollup.follower.url))
        rollup.wait(lambda: follower.eth.block_number >= last, message="the follower derived")
        assert follower.eth.get_block(last)["hash"] == rollup.l2.eth.get_block(last)["hash"]
