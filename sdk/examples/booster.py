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
        cls, w3: Any, deployer: Any, l1_source: Mapping[bytes, bytes], *, voters: int = 10
    ) -> BoostedBallot:
        """Deploy the ballot and the rollup (re-execution: the L1 must have EXECUTE) on the
        L1 at ``w3``, whose database ``l1_source`` the L2's builder reads L1 state from."""
        from rollupkit_booster import BOOSTER_CONFIG_ADDRESS

        spec = artifact("Ballot")
        receipt = send(w3, deployer, w3.eth.contract(abi=spec.abi, bytecode=spec.bytecode)
                       .constructor())  # fmt: skip
        ballot = w3.eth.contract(address=receipt["contractAddress"], abi=spec.abi)
        wallets = dev_wallets(voters, CHAIN_ID)
        alloc = {w.address: GenesisAccount(balance=10**20) for w in wallets}
        alloc[VOTER] = GenesisAccount(
            code=artifact("BoosterVoter").deployed_bytecode, nonce=1,
            storage={0: int(ballot.address, 16)},
        )  # fmt: skip
        alloc[BOOSTER_CONFIG_ADDRESS] = GenesisAccount(nonce=1, storage={0: w3.eth.chain_id})
        # Room for a thousand votes in one block (about 57,000 L2 gas each).
        chain = DevChain(alloc, vm="booster", chain_id=CHAIN_ID, l1_source=l1_source,
                         gas_limit=GAS_LIMIT)  # fmt: skip
        genesis = chain.vm.decode_header(chain.headers[0])
        rollup = deploy_rollup(
            w3, deployer, l2_chain_id=CHAIN_ID, genesis_state_root=genesis.state_root,
            genesis_block_hash=genesis.hash, vm="booster",
        )  # fmt: skip
        send(w3, deployer, ballot.functions.setBooster(rollup.rollup.address,
                                                       w3.to_checksum_address(VOTER)))  # fmt: skip
        return cls(w3, ballot, chain, rollup, wallets)

    def vote_block(self, proposals: Sequence[int]) -> BuiltTrace:
        """One L2 block in which voter ``i`` votes for ``proposals[i]``, anchored to L1's
        latest block."""
        anchor = bytes(self.w3.eth.get_block("latest")["hash"])
        txs = [
            voter.sign(to=VOTER, data=calldata("vote(uint256)", proposal), gas=200_000)
            for voter, proposal in zip(self.voters, proposals, strict=False)
        ]
        return self.chain.build([self.chain.template(txs, l1_anchor=anchor)])

    def settle(self, built: BuiltTrace) -> Any:
        """Settle the batch on L1 (EXECUTE), applying its L1 updates; the receipt."""
        return self.rollup.submit_batch(
            built.outputs, built.encoded, b"", l1_updates=batch_updates(built.results)
        )

    def tally(self, proposal: int) -> int:
        return int(self.ballot.functions.tally(proposal).call())
