"""The roots and hashes EXECUTE computes equal what py-evm's own chain computes.

The reference is py-evm's ``MiningChain`` on its own ``AtomicDB`` (full state, its own trie
code path, ``mine_all``); see ``rollupkit_evm.reference``. The only thing it adds to stock
py-evm is rollupkit's documented end-of-block write to the system account.
"""

from __future__ import annotations

from typing import Any

from eth_hash.auto import keccak

from rollupkit import execute_detailed
from rollupkit.chain import DEFAULT_BASE_FEE, DEFAULT_GAS_LIMIT, DEFAULT_GENESIS_TIMESTAMP
from rollupkit.testing.contracts import artifact
from rollupkit.testing.evm import EvmScenario
from rollupkit_evm.reference import ReferenceChain
from rollupkit_evm.vm import decode_transaction


def reference_for(scenario: EvmScenario) -> ReferenceChain:
    # The same genesis (system account included), built by py-evm's own chain code.
    return ReferenceChain(
        scenario.chain.genesis_alloc,
        chain_id=scenario.chain.chain_id,
        gas_limit=DEFAULT_GAS_LIMIT,
        timestamp=DEFAULT_GENESIS_TIMESTAMP,
        base_fee=DEFAULT_BASE_FEE,
    )


def mine_like(reference: ReferenceChain, scenario: EvmScenario, built: Any) -> None:
    for block, result in zip(built.trace.blocks, built.results, strict=True):
        txs = [decode_transaction(raw, scenario.chain.chain_id) for raw in block.transactions]
        header = reference.mine(block, txs)
        ours = scenario.chain.vm.decode_header(result.header)
        assert header.state_root == ours.state_root == result.info.state_root
        assert header.receipt_root == result.receipts_root
        assert header.transaction_root == result.transactions_root
        assert header.gas_used == result.gas_used
        assert header.hash == ours.hash


def test_genesis_and_blocks_match_pyevm_chain() -> None:
    scenario = EvmScenario.create(wallets=6)
    reference = reference_for(scenario)
    genesis = reference.chain.get_canonical_head()
    assert genesis.hash == scenario.chain.vm.decode_header(scenario.chain.headers[0]).hash

    mine_like(reference, scenario, scenario.setup[0])  # contract creations
    w = scenario.wallets
    blocks = [
        scenario.chain.template(
            [
                w[1].transfer(w[2].address, 10, tx_type=0),
                w[2].transfer(w[3].address, 20, tx_type=1),
                scenario.token_transfer(w[0], w[4].address, 5),
            ],
            coinbase=b"\x21" * 20,
            extra_data=b"parity",
        ),
        scenario.chain.template(
            [
                scenario.store_call(
                    w[3], "setMany(uint256,uint256,uint256)", 0, 30, 1, gas=1_500_000
                ),
                scenario.store_call(w[4], "fail(uint256)", 1),
                scenario.withdraw(w[5], w[5].address, 10**17),
            ],
            prev_randao=b"\x07" * 32,
        ),
        scenario.chain.template(
            [
                scenario.store_call(w[3], "clearMany(uint256,uint256)", 2, 27, gas=1_500_000),
                scenario.store_call(w[1], "recordBlockhash(uint256)", 1),
                w[1].sign(to=None, data=artifact("Store").bytecode, gas=1_000_000),
            ]
        ),
    ]
    built = scenario.chain.build(blocks)
    assert execute_detailed(*built.execute_args()).ok
    mine_like(reference, scenario, built)
    assert reference.chain.get_canonical_head().state_root == built.post_state_root
    # The reference chain's own state reads what EXECUTE's chain wrote.
    state = reference.chain.get_vm().state
    slot = int.from_bytes(keccak((5).to_bytes(32, "big") + (0).to_bytes(32, "big")), "big")
    assert (
        state.get_storage(scenario.store, slot) == scenario.chain.storage(scenario.store, slot) == 0
    )
    slot = int.from_bytes(keccak((1).to_bytes(32, "big") + (0).to_bytes(32, "big")), "big")
    assert (
        state.get_storage(scenario.store, slot) == scenario.chain.storage(scenario.store, slot) == 1
    )
