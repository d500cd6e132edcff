"""EXECUTE on one EVM block of mixed transfers and token calls, against py-evm on full state.

Prints, for one block of N transactions (half ETH transfers, half ERC-20 transfers):

* witness and trace size per transaction;
* EXECUTE (stateless: decode, witness, signatures, execution, roots) time, tx/s and gas/s;
* py-evm's own ``MiningChain.mine_all`` on a full in-memory state, same block, same run;
* the rollupkit builder (full state + witness recording);
* ratios of each to the py-evm baseline.

Runs alternate (baseline, EXECUTE, baseline, ...) and the medians are compared, because this
machine is noisy. Usage: python benchmarks/execute_evm.py [--transactions 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

from rollupkit import execute_detailed
from rollupkit.chain import DEFAULT_BASE_FEE, DEFAULT_GENESIS_TIMESTAMP
from rollupkit.ethtx import clear_decode_cache
from rollupkit.testing.evm import EvmScenario
from rollupkit_evm.reference import ReferenceChain
from rollupkit_evm.vm import decode_transaction

WALLETS = 200


def block_transactions(scenario: EvmScenario, count: int) -> list[bytes]:
    w = scenario.wallets
    txs = []
    for i in range(count):
        sender = w[1 + i % (WALLETS - 1)]
        if i % 2:
            txs.append(sender.transfer(w[1 + (i * 7 + 3) % (WALLETS - 1)].address, 10**15))
        else:
            txs.append(scenario.token_transfer(w[0], sender.address, 10**18 + i))
    return txs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    scenario = EvmScenario.create(wallets=WALLETS, gas_limit=60_000_000)
    txs = block_transactions(scenario, args.transactions)

    reference = ReferenceChain(
        scenario.chain.genesis_alloc,
        chain_id=scenario.chain.chain_id,
        gas_limit=60_000_000,
        timestamp=DEFAULT_GENESIS_TIMESTAMP,
        base_fee=DEFAULT_BASE_FEE,
    )
    setup_block = scenario.setup[0].trace.blocks[0]
    reference.mine(
        setup_block,
        [decode_transaction(raw, reference.chain_id) for raw in setup_block.transactions],
    )

    started = time.perf_counter()
    built = scenario.chain.build(transactions=txs, commit=False)
    build_seconds = time.perf_counter() - started
    assert built.gas_used > 0 and not any(built.dropped[0])
    block = built.trace.blocks[0]

    baseline_times, execute_times = [], []
    for _ in range(args.rounds):
        chain = copy.deepcopy(reference)  # same pre-state every round
        clear_decode_cache()
        started = time.perf_counter()
        decoded = [decode_transaction(raw, chain.chain_id) for raw in block.transactions]
        header = chain.mine(block, decoded)
        baseline_times.append(time.perf_counter() - started)
        assert header.state_root == built.post_state_root, "py-evm and rollupkit disagree"

        clear_decode_cache()  # EXECUTE recovers every signature, as a fresh verifier would
        started = time.perf_counter()
        result = execute_detailed(*built.execute_args())
        execute_times.append(time.perf_counter() - started)
        assert result.ok, result

    baseline = statistics.median(baseline_times)
    executed = statistics.median(execute_times)
    n = len(block.transactions)
    witness = built.trace.witness
    print(
        f"block: {n} transactions ({n // 2} ERC-20 transfers, {n - n // 2} ETH transfers), "
        f"{built.gas_used:,} gas, {args.rounds} rounds (medians)"
    )
    print(
        f"trace: {len(built.encoded):,} bytes ({len(built.encoded) / n:,.0f} per tx); witness "
        f"{witness.size():,} bytes = {len(witness.state_nodes)} trie nodes + "
        f"{len(witness.codes)} codes + {len(witness.headers)} header "
        f"({witness.size() / n:,.0f} bytes per tx)"
    )
    print(f"{'':34}{'seconds':>9}{'tx/s':>9}{'Mgas/s':>9}{'vs py-evm':>11}")
    rows = [
        ("py-evm mine_all, full state", baseline),
        ("EXECUTE, stateless from trace", executed),
        ("builder, full state + witness", build_seconds),
    ]
    for name, seconds in rows:
        print(
            f"{name:34}{seconds:9.3f}{n / seconds:9.0f}{built.gas_used / seconds / 1e6:9.2f}"
            f"{seconds / baseline:10.2f}x"
        )
    print(f"EXECUTE / py-evm full-state ratio: {executed / baseline:.2f} (goal <= 1.25)")


if __name__ == "__main__":
    main()
