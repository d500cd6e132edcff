"""L1 gas of N votes: cast directly on L1, or through a booster rollup in coprocessor mode.

Direct: N L1 transactions of ``Ballot.vote`` (one per voter: each marks its voter and bumps a
tally). Coprocessor: N L2 transactions to ``BoosterVoter`` (who voted stays on L2, the tally is
bumped on L1 through L1CALL) in one L2 block, settled on L1 by one ``submitBoosterBatch``: the
trace in calldata, EXECUTE re-executing it, then one ``applyStateUpdates`` of the tallies. Both
on the embedded L1, side by side in one run (the EXECUTE price is the market's floor, 1/16 L1
gas per L2 gas; the L1's EXECUTE gas limit is raised so a 1,000-vote block fits one call).

Seed 000's break-even: the coprocessor pays off where ``on-chain work > verification +
calldata + storage``. Usage: python benchmarks/booster.py [--votes 10 100 1000]
"""

from __future__ import annotations

import argparse
import time

from eth_account import Account as EthAccount

from rollupkit.examples.booster import BoostedBallot, send
from rollupkit.gas_market import ExecuteGasConfig
from rollupkit.l1.devnet import DevnetConfig
from rollupkit.l1.node import start_devnet
from rollupkit.metering import CallLimits

PROPOSALS = 3


def direct(w3: object, deployer: object, ballot: object, votes: int) -> int:
    """L1 gas of ``votes`` voters each voting on L1 (funding them is not counted)."""
    voters = [EthAccount.create() for _ in range(votes)]
    nonce = w3.eth.get_transaction_count(deployer.address)  # type: ignore[attr-defined]
    hashes = []
    for i, voter in enumerate(voters):  # fund them: one transfer each, not counted
        tx = {"to": voter.address, "value": 10**17, "gas": 21_000, "nonce": nonce + i,
              "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1, "chainId": w3.eth.chain_id}  # type: ignore[attr-defined]  # fmt: skip
        signed = deployer.sign_transaction(tx)  # type: ignore[attr-defined]
        hashes.append(w3.eth.send_raw_transaction(signed.raw_transaction))  # type: ignore[attr-defined]
    for h in hashes:
        w3.eth.wait_for_transaction_receipt(h)  # type: ignore[attr-defined]
    gas = 0
    for i, voter in enumerate(voters):
        gas += int(send(w3, voter, ballot.functions.vote(i % PROPOSALS))["gasUsed"])  # type: ignore[attr-defined]
    return gas


def boosted(ballot: BoostedBallot, votes: int) -> tuple[int, int, float]:
    """(L1 gas of the settlement, its calldata bytes, seconds to build and settle)."""
    started = time.perf_counter()
    built = ballot.vote_block([i % PROPOSALS for i in range(votes)])
    receipt = ballot.settle(built)
    elapsed = time.perf_counter() - started
    tx = ballot.w3.eth.get_transaction(receipt["transactionHash"])
    for p in range(PROPOSALS):  # what was applied is what was voted
        assert ballot.tally(p) == sum(1 for i in range(votes) if i % PROPOSALS == p)
    return int(receipt["gasUsed"]), len(bytes(tx["input"])), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, nargs="+", default=[10, 100, 1000])
    counts = parser.parse_args().votes
    market = ExecuteGasConfig(target=50_000_000, limit=100_000_000)
    print(f"{'votes':>6} {'direct L1 gas':>14} {'/vote':>8} {'booster L1 gas':>15} {'/vote':>8}"
          f" {'calldata B':>11} {'ratio':>7} {'build+settle s':>15}")  # fmt: skip
    for votes in counts:
        # Estimating a 1,000-vote settlement re-executes it: more than the default 5 s a call
        # may take here.
        config = DevnetConfig(market=market, gas_limit=200_000_000, calls=CallLimits(timeout=60))
        with start_devnet(config) as run:
            from web3 import Web3

            w3 = Web3(Web3.HTTPProvider(run.url))
            deployer = run.devnet.accounts[0]
            ballot = BoostedBallot.create(w3, deployer, run.devnet.chain.chaindb.db, voters=votes)
            gas, size, seconds = boosted(ballot, votes)  # first: it checks the tallies
            l1_gas = direct(w3, run.devnet.accounts[1], ballot.ballot, votes)
        print(f"{votes:>6} {l1_gas:>14,} {l1_gas // votes:>8,} {gas:>15,} {gas // votes:>8,}"
              f" {size:>11,} {l1_gas / gas:>6.2f}x {seconds:>15.1f}")  # fmt: skip
    print("ratio: direct L1 gas / booster L1 gas (above 1x the coprocessor is cheaper)")


if __name__ == "__main__":
    main()
