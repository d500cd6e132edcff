"""Calls between VMs on a ``multi`` chain: for each of the 9 caller/callee pairs (EVM, RISC-V,
wasm), a block of transactions each calling ``caller.callIncrement(counter)``, where the caller
calls ``counter.increment()`` in the callee's VM. Every VM's caller and counter have the same
ABI (the C examples ``caller`` and ``counter``, and the Solidity ``MultiHub``).

It prints, per pair, the L2 gas of one such transaction and the EXECUTE time of one (the
median over runs, pairs interleaved so machine noise hits all alike), and each against the
same-VM call of the same caller (the diagonal). A transaction's figures include the caller's
own work and the transaction around the call; the differences along a row are what the callee's
VM adds.

Run: ``python benchmarks/multivm.py [--transactions 100] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import rlp

from rollupkit.chain import DevChain
from rollupkit.ethtx import clear_decode_cache
from rollupkit.examples.contracts import artifact
from rollupkit.execution import execute_detailed
from rollupkit.types import GenesisAccount
from rollupkit.wallets import calldata, dev_wallets
from rollupkit_multi import riscv_code, wasm_code
from rollupkit_riscv.examples import example_elf
from rollupkit_wasm.examples import example_wasm

CHAIN_ID = 42_424
VMS = ("evm", "riscv", "wasm")


def _fields(receipt: bytes) -> list:  # type: ignore[type-arg]
    return rlp.decode(receipt[1:] if receipt[0] < 0x7F else receipt)


def receipt_gas(receipts: tuple[bytes, ...], index: int) -> int:
    """The gas transaction ``index`` used (receipts hold cumulative gas)."""
    cumulative = [int.from_bytes(_fields(r)[1], "big") for r in receipts[: index + 1]]
    return cumulative[-1] - (cumulative[-2] if index else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    w = dev_wallets(2, CHAIN_ID)
    chain = DevChain({x.address: GenesisAccount(balance=10**24) for x in w}, chain_id=CHAIN_ID,
                     vm="multi", gas_limit=200_000_000)  # fmt: skip
    codes = {
        "evm": (artifact("MultiHub").bytecode, artifact("MultiHub").bytecode),
        "riscv": (riscv_code(example_elf("caller")), riscv_code(example_elf("counter"))),
        "wasm": (wasm_code(example_wasm("caller")), wasm_code(example_wasm("counter"))),
    }
    callers, counters, txs = {}, {}, []
    for vm, (caller_code, counter_code) in codes.items():
        (tx, callers[vm]), (tx2, counters[vm]) = (
            w[0].create(caller_code, gas=5_000_000),
            w[0].create(counter_code, gas=5_000_000),
        )
        txs += [tx, tx2]
    chain.build(transactions=txs)

    blocks, gas = {}, {}
    for caller in VMS:
        for callee in VMS:
            # Each block is built on the same state (not committed): nonces from 0 each time.
            batch = [w[1].sign(to=callers[caller], gas=1_000_000, nonce=i,
                               data=calldata("callIncrement(address)", counters[callee]))
                     for i in range(args.transactions)]  # fmt: skip
            built = chain.build(transactions=batch, commit=False)
            receipts = built.results[0].receipts
            assert all(_fields(r)[0] == b"\x01" for r in receipts), (caller, callee)
            blocks[caller, callee] = built
            gas[caller, callee] = receipt_gas(receipts, len(receipts) - 1)
    seconds: dict[tuple[str, str], list[float]] = {pair: [] for pair in blocks}
    for _ in range(args.runs):
        for pair, built in blocks.items():
            clear_decode_cache()
            started = time.perf_counter()
            result = execute_detailed(*built.execute_args(), vm="multi")
            seconds[pair].append(time.perf_counter() - started)
            assert result, result
    micros = {p: statistics.median(s) / args.transactions * 1e6 for p, s in seconds.items()}

    print(f"one transaction calling caller.callIncrement(counter): L2 gas, EXECUTE µs "
          f"(median of {args.runs}, {args.transactions} a block)\n")  # fmt: skip
    print(f"{'caller -> callee':18} {'gas':>8} {'vs same':>8} {'µs':>8} {'vs same':>8}")
    for caller in VMS:
        same = (caller, caller)
        for callee in VMS:
            pair = (caller, callee)
            print(f"{caller + ' -> ' + callee:18} {gas[pair]:8,} {gas[pair] / gas[same]:7.2f}x "
                  f"{micros[pair]:8.0f} {micros[pair] / micros[same]:7.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
