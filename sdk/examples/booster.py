"""A boosted ballot (seed 000's coprocessor case): ``Ballot`` on L1, ``BoosterVoter`` on a
booster L2 that keeps who voted and counts each vote on L1 through L1CALL. Many L2 votes come
back to L1 as one ``applyStateUpdates`` of a few tally slots, as their batch settles. Used by
the tests and by ``benchmarks/booster.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollupkit.builder import BuiltTrace
from rollupkit.chain import DevChain
from rollupkit.examples.contracts import artifact
from rollupkit.l1.contracts import RollupContracts, deploy_rollup
from rollupkit.l1updates import batch_updates
from rollupkit.types import GenesisAccount
from rollupkit.wallets import Wallet, calldata, dev_wallets

#: BoosterVoter's address on L2: a predeploy's, which no one holds on L1 (so no L1 account can
#: pose as it to the Ballot).
VOTER = bytes.fromhex("000000000000000000000000000000000000b0b0")
CHAIN_ID = 42424
GAS_LIMIT = 100_000_000


def send(w3: Any, account: Any, call: Any) -> Any:
    """Sign and send a contract call (or a deployment) on L1; its receipt."""
    tx = call.build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)}
    )
    raw = account.sign_transaction(tx).raw_transaction
    return w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))


def _deploy_ballot(w3: Any, deployer: Any) -> Any:
    spec = artifact("Ballot")
    receipt = send(w3, deployer, w3.eth.contract(abi=spec.abi, bytecode=spec.bytecode)
                   .constructor())  # fmt: skip
    return w3.eth.contract(address=receipt["contractAddress"], abi=spec.abi)


@dataclass
class BoostedBallot:
    """The ballot on L1, its booster rollup, and ``voters`` funded on L2."""

    w3: Any
    ballot: Any  # web3 contract on L1
    chain: DevChain
    rollup: RollupContracts
    voters: list[Wallet]

    @classmethod
    def create(
        cls, w3: Any, deployer: Any, l1_source: Mapping[bytes, bytes], *, voters: int = 10,
        chain_id: int = CHAIN_ID,
    ) -> BoostedBallot:  # fmt: skip
        """Deploy the ballot and the rollup (re-execution: the L1 must have EXECUTE) on the
        L1 at ``w3``, whose database ``l1_source`` the L2's builder reads L1 state from."""
        boosted = cls._rollup(w3, deployer, _deploy_ballot(w3, deployer), l1_source, voters,
                              chain_id)  # fmt: skip
        boosted.take_updates(deployer)
        return boosted

    @classmethod
    def create_chained(
        cls, w3: Any, deployer: Any, l1_source: Mapping[bytes, bytes], *,
        voters: tuple[int, int] = (10, 10), chain_ids: tuple[int, int] = (CHAIN_ID, CHAIN_ID + 1),
    ) -> tuple[BoostedBallot, BoostedBallot]:  # fmt: skip
        """A ballot and two chained booster rollups on it (seed 000): the first hands the L1
        state its batches leave to the second, whose batches go on from it; the ballot takes
        the second's updates, which carry the first's (see :meth:`chain_downstream`)."""
        upstream = cls._rollup(w3, deployer, _deploy_ballot(w3, deployer), l1_source, voters[0],
                               chain_ids[0])  # fmt: skip
        return upstream, upstream.chain_downstream(deployer, voters=voters[1],
                                                   chain_id=chain_ids[1])  # fmt: skip

    @classmethod
    def _rollup(
        cls, w3: Any, deployer: Any, ballot: Any, l1_source: Mapping[bytes, bytes], voters: int,
        chain_id: int,
    ) -> BoostedBallot:  # fmt: skip
        from rollupkit_booster import BOOSTER_CONFIG_ADDRESS

        wallets = dev_wallets(voters, chain_id)
        alloc = {w.address: GenesisAccount(balance=10**20) for w in wallets}
        alloc[VOTER] = GenesisAccount(
            code=artifact("BoosterVoter").deployed_bytecode, nonce=1,
            storage={0: int(ballot.address, 16)},
        )  # fmt: skip
        alloc[BOOSTER_CONFIG_ADDRESS] = GenesisAccount(nonce=1, storage={0: w3.eth.chain_id})
        # Room for a thousand votes in one block (about 57,000 L2 gas each).
        chain = DevChain(alloc, vm="booster", chain_id=chain_id, l1_source=l1_source,
                         gas_limit=GAS_LIMIT)  # fmt: skip
        genesis = chain.vm.decode_header(chain.headers[0])
        rollup = deploy_rollup(
            w3, deployer, l2_chain_id=chain_id, genesis_state_root=genesis.state_root,
            genesis_block_hash=genesis.hash, vm="booster",
        )  # fmt: skip
        return cls(w3, ballot, chain, rollup, wallets)

    def take_updates(self, deployer: Any) -> None:
        """Make this rollup the one whose L1 updates the ballot takes (once per ballot)."""
        voter = self.w3.to_checksum_address(VOTER)
        send(self.w3, deployer, self.ballot.functions.setBooster(self.rollup.rollup.address, voter))

    def chain_downstream(
        self, deployer: Any, *, voters: int = 10, chain_id: int = CHAIN_ID + 1
    ) -> BoostedBallot:
        """A second booster rollup on the same ballot that goes on from the L1 state this one
        hands off (seed 000's chained rollups); the ballot takes its updates, which include
        this one's. Its builder reads L1 through this chain's store, which holds the L1 nodes
        this chain's batches wrote (a real downstream sequencer re-executes the upstream's
        settled trace to get them)."""
        downstream = self._rollup(
            self.w3, deployer, self.ballot, self.chain.store.nodes, voters, chain_id
        )
        self.rollup.link_l1(downstream.rollup)
        downstream.take_updates(deployer)
        return downstream

    def vote_block(
        self,
        proposals: Sequence[int],
        *,
        first_voter: int = 0,
        anchor: bytes | None = None,
        **build: Any,
    ) -> BuiltTrace:
        """One L2 block in which voter ``first_voter + i`` votes for ``proposals[i]``, anchored
        to ``anchor`` (default: L1's latest block); ``build``: :meth:`DevChain.build`'s options
        (by default the block consumes the pending L1 messages and joins the chain)."""
        anchor = anchor or bytes(self.w3.eth.get_block("latest")["hash"])
        voters = self.voters[first_voter : first_voter + len(proposals)]
        nonces = [voter.nonce for voter in voters]
        txs = [
            voter.sign(to=VOTER, data=calldata("vote(uint256)", proposal), gas=200_000)
            for voter, proposal in zip(voters, proposals, strict=True)
        ]
        kept = False
        try:
            built = self.chain.build([self.chain.template(txs, l1_anchor=anchor)], **build)
            kept = build.get("commit", True)
            return built
        finally:
            if not kept:  # a block the chain did not take leaves the voters' nonces
                for voter, nonce in zip(voters, nonces, strict=True):
                    voter.nonce = nonce

    def settle(self, built: BuiltTrace, *, hand_off: bool = False) -> Any:
        """Settle the batch on L1 (EXECUTE), applying its L1 updates (or, with ``hand_off``,
        handing them to the downstream rollup); the receipt."""
        return self.rollup.submit_batch(
            built.outputs, built.encoded, b"", l1_updates=batch_updates(built.results),
            hand_off=hand_off,
        )  # fmt: skip

    def tally(self, proposal: int) -> int:
        return int(self.ballot.functions.tally(proposal).call())
