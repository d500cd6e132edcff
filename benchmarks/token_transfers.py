"""EXECUTE of a block of example-token transfers on a non-EVM VM, next to as many ERC-20
transfers on the EVM, interleaved: what ``benchmarks/riscv.py`` and ``benchmarks/wasm.py``
both print. Run on its own: ``python benchmarks/token_transfers.py [--vm riscv|wasm]``."""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from rollupkit import DevChain, GenesisAccount, execute_detailed
from rollupkit.ethtx import clear_decode_cache
from rollupkit.testing.evm import EvmScenario
from rollupkit.wallets import calldata, dev_wallets

CHAIN_ID = 42_424


def guest_token_block(vm: str, token_code: bytes, count: int) -> Any:
    """A block of ``count`` transfers of the example token among 8 holders, not committed."""
    w = dev_wallets(9, CHAIN_ID)
    chain = DevChain({x.address: GenesisAccount(balance=10**24) for x in w}, chain_id=CHAIN_ID,
                     vm=vm, gas_limit=60_000_000)  # fmt: skip
    tx, token = w[0].create(token_code)
    setup = [tx, w[0].sign(to=token, data=calldata("initialize(uint256)", 10**30), gas=300_000)]
    setup += [w[0].sign(to=token, data=calldata("transfer(address,uint256)", x.address, 10**24),
                        gas=300_000) for x in w[1:]]  # fmt: skip
    chain.build(transactions=setup)
    txs = [w[1 + i % 8].sign(to=token, gas=300_000, data=calldata(
               "transfer(address,uint256)", w[1 + (i + 3) % 8].address, i))
           for i in range(count)]  # fmt: skip
    return chain.build(transactions=txs, commit=False)


def evm_token_block(count: int) -> Any:
    scenario = EvmScenario.create(wallets=9, gas_limit=60_000_000)
    w = scenario.wallets
    txs = [scenario.token_transfer(w[0], w[1 + i % 8].address, 10**18 + i) for i in range(count)]
    return scenario.chain.build(transactions=txs, commit=False)


def timed_execute(built: Any, vm: str) -> float:
    clear_decode_cache()  # a verifier that never saw these transactions
    started = time.perf_counter()
    result = execute_detailed(*built.execute_args(), vm=vm)
    seconds = time.perf_counter() - started
    assert result, result
    return seconds


def compare(vm: str, token_code: bytes, count: int, repeat: int) -> None:
    """Print transfers/s through EXECUTE on ``vm`` and on the EVM, and their ratio."""
    blocks = {vm: guest_token_block(vm, token_code, count), "evm": evm_token_block(count)}
    times: dict[str, list[float]] = {name: [] for name in blocks}
    for _ in range(repeat):
        for name, built in blocks.items():
            times[name].append(timed_execute(built, name))
    rate = {name: count / statistics.median(seconds) for name, seconds in times.items()}
    print(f"EXECUTE of one block of {count} token transfers (medians of {repeat})")
    for name, label in ((vm, f"{vm} (token.c)"), ("evm", "evm (Solidity ERC-20)")):
        gas = blocks[name].l2_gas_used / count
        print(f"  {label:23} {rate[name]:8.0f} transfers/s   {gas:8,.0f} L2 gas each")
    print(f"  {vm} / evm:{'':14}{rate[vm] / rate['evm']:8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vm", choices=("riscv", "wasm"), default="riscv")
    parser.add_argument("--transfers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.vm == "riscv":
        from rollupkit_riscv.examples import example_elf as example
    else:
        from rollupkit_wasm.examples import example_wasm as example
    compare(args.vm, example("token"), args.transfers, args.repeat)


if __name__ == "__main__":
    main()
