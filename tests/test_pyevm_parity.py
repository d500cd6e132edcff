"""The roots and hashes EXECUTE computes equal what py-evm's own chain computes.

The reference is py-evm's ``MiningChain`` on its own ``AtomicDB`` (full state, its own trie
code path, ``mine_all``). The only thing the reference VM adds is rollupkit's documented
end-of-block write to the system account (``rollupkit.system``), done with py-evm's own API.
"""

from __future__ import annotations

from typing import Any, ClassVar

from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.vm.forks.prague import PragueVM

from rollupkit import execute_detailed
from rollupkit import messages as queue
from rollupkit.chain import DEFAULT_BASE_FEE, DEFAULT_GAS_LIMIT, DEFAULT_GENESIS_TIMESTAMP
from rollupkit.system import SYSTEM_ADDRESS, system_writes
from rollupkit.testing.contracts import artifact
from rollupkit.testing.evm import EvmScenario
from rollupkit_evm.vm import decode_transaction


class ReferenceVM(PragueVM):
    """Stock py-evm Prague plus rollupkit's system-account write before sealing."""

    pending_writes: ClassVar[dict[int, int]] = {}

    def finalize_block(self, block: Any) -> Any:
        for slot, value in self.pending_writes.items():
            self.state.set_storage(SYSTEM_ADDRESS, slot, value)
        if self.state.get_nonce(SYSTEM_ADDRESS) == 0:
            self.state.set_nonce(SYSTEM_ADDRESS, 1)
        self.state.lock_changes()
        return super().finalize_block(block)


def reference_chain(scenario: EvmScenario) -> MiningChain:
    genesis_state = {}
    genesis_root = scenario.chain.vm.decode_header(scenario.chain.headers[0]).state_root
    view = scenario.chain.model.open(scenario.chain.store, genesis_root)
    for wallet in scenario.wallets:
        genesis_state[wallet.address] = {"balance": 10**24, "nonce": 0, "code": b"", "storage": {}}
    from rollupkit.withdrawals import L2_BRIDGE_ADDRESS

    genesis_state[L2_BRIDGE_ADDRESS] = {"balance": 0, "nonce": 1,
                                        "code": view.get_code(L2_BRIDGE_ADDRESS), "storage": {}}
    chain_class = MiningChain.configure(vm_configuration=((0, ReferenceVM),),
                                        chain_id=scenario.chain.chain_id)
    params = {
        "difficulty": 0, "gas_limit": DEFAULT_GAS_LIMIT, "timestamp": DEFAULT_GENESIS_TIMESTAMP,
        "base_fee_per_gas": DEFAULT_BASE_FEE, "nonce": b"\x00" * 8,
    }
    return chain_class.from_genesis(AtomicDB(), params, genesis_state)


def mine_like(reference: MiningChain, scenario: EvmScenario, built: Any) -> None:
    position = built.trace.queue_start
    for block, result in zip(built.trace.blocks, built.results, strict=True):
        position = queue.consume(position, block.l1_messages)
        ReferenceVM.pending_writes = system_writes(scenario.chain.chain_id, block, position)
        parent = reference.get_canonical_head()
        reference.header = reference.create_header_from_parent(
            parent, timestamp=block.timestamp, gas_limit=block.gas_limit, coinbase=block.coinbase,
            mix_hash=block.prev_randao, extra_data=block.extra_data,
            parent_beacon_block_root=block.l1_anchor,
        )
        txs = [decode_transaction(raw, scenario.chain.chain_id) for raw in block.transactions]
        imported, receipts, _ = reference.mine_all(txs)
        header = imported.imported_block.header
        ours = scenario.chain.vm.decode_header(result.header)
        assert header.state_root == ours.state_root == result.info.state_root
        assert header.receipt_root == result.receipts_root
        assert header.transaction_root == result.transactions_root
        assert header.gas_used == result.gas_used
        assert header.hash == ours.hash


def test_genesis_and_blocks_match_pyevm_chain() -> None:
    scenario = EvmScenario.create(wallets=6)
    reference = reference_chain(scenario)
    genesis = reference.get_canonical_head()
    assert genesis.hash == scenario.chain.vm.decode_header(scenario.chain.headers[0]).hash

    mine_like(reference, scenario, scenario.setup[0])  # contract creations
    w = scenario.wallets
    blocks = [
        scenario.chain.template([w[1].transfer(w[2].address, 10, tx_type=0),
                                 w[2].transfer(w[3].address, 20, tx_type=1),
                                 scenario.token_transfer(w[0], w[4].address, 5)],
                                coinbase=b"\x21" * 20, extra_data=b"parity"),
        scenario.chain.template([scenario.store_call(w[3], "setMany(uint256,uint256,uint256)",
                                                     0, 30, 1, gas=1_500_000),
                                 scenario.store_call(w[4], "fail(uint256)", 1),
                                 scenario.withdraw(w[5], w[5].address, 10**17)],
                                prev_randao=b"\x07" * 32),
        scenario.chain.template([scenario.store_call(w[3], "clearMany(uint256,uint256)", 2, 27,
                                                     gas=1_500_000),
                                 scenario.store_call(w[1], "recordBlockhash(uint256)", 1),
                                 w[1].sign(to=None, data=artifact("Store").bytecode,
                                           gas=1_000_000)]),
    ]
    built = scenario.chain.build(blocks)
    assert execute_detailed(*built.execute_args()).ok
    mine_like(reference, scenario, built)
    assert reference.get_canonical_head().state_root == built.post_state_root
    # And a call through the reference chain's state reads what EXECUTE's chain wrote.
    state = reference.get_vm().state
    assert state.get_storage(scenario.store, _slot(0, 5)) == scenario.chain.storage(scenario.store, _slot(0, 5))


def _slot(index: int, key: int) -> int:
    from eth_hash.auto import keccak

    return int.from_bytes(keccak(key.to_bytes(32, "big") + index.to_bytes(32, "big")), "big")
