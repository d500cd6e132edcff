"""EXECUTE of the same riscv traces under the riscv VM's two clients, side by side: Unicorn
(``rollupkit_riscv``, the C meter) and the pure-Python reference interpreter
(``rollupkit_rv32ref``).

Three blocks, each EXECUTEd by both clients, interleaved, ``--repeat`` times (medians):
``--transactions`` example-token transfers; as many calls that store and call other contracts
(counter increments, calls through the caller contract, a callee's revert); and ``--spins``
calls of ``spin(--rounds)``, a compute loop, where the interpreters alone set the pace. Each
EXECUTE starts as a verifier that has seen neither the transactions nor the contracts (the
decode caches are cleared). Prints milliseconds per block and per transaction, and the ratio.

Usage: python benchmarks/riscv_clients.py [--transactions 100] [--spins 10] [--rounds 20000]
[--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from rollupkit import DevChain, GenesisAccount, execute_detailed
from rollupkit.ethtx import clear_decode_cache
from rollupkit.wallets import calldata, dev_wallets
from rollupkit_riscv.elf import load
from rollupkit_riscv.examples import example_elf
from rollupkit_rv32ref.elf import parse
from rollupkit_rv32ref.interpreter import compile_code

CHAIN_ID = 42_424
CLIENTS = {"unicorn": None, "rv32ref": "rv32ref"}
ADDRESS = {name: bytes([0xC0 + i]) * 20 for i, name in enumerate(("counter", "token", "caller",
                                                                   "spin"))}  # fmt: skip


def chain_and_wallets() -> tuple[DevChain, list[Any]]:
    """A riscv chain with the example contracts at genesis, the token already handed out."""
    w = dev_wallets(9, CHAIN_ID)
    alloc = {x.address: GenesisAccount(balance=10**24) for x in w}
    for name, address in ADDRESS.items():
        alloc[address] = GenesisAccount(code=example_elf(name), nonce=1)
    chain = DevChain(alloc, chain_id=CHAIN_ID, vm="riscv", gas_limit=100_000_000)
    token = ADDRESS["token"]
    setup = [w[0].sign(to=token, data=calldata("initialize(uint256)", 10**30), gas=300_000)]
    setup += [w[0].sign(to=token, data=calldata("transfer(address,uint256)", x.address, 10**24),
                        gas=300_000) for x in w[1:]]  # fmt: skip
    chain.build(transactions=setup)
    return chain, w


def blocks(args: argparse.Namespace) -> dict[str, tuple[Any, int]]:
    """The benchmark's blocks, by name: (built trace, its transactions). Each is built on a
    chain of its own (an uncommitted block would leave the wallets' nonces ahead)."""
    n = args.transactions
    chain, w = chain_and_wallets()
    transfers = [w[1 + i % 8].sign(to=ADDRESS["token"], gas=300_000, data=calldata(
                     "transfer(address,uint256)", w[1 + (i + 3) % 8].address, i))
                 for i in range(n)]  # fmt: skip
    built = {f"{n} token transfers": (chain.build(transactions=transfers), n)}
    chain, w = chain_and_wallets()
    kinds = [(ADDRESS["counter"], calldata("increment()")),
             (ADDRESS["caller"], calldata("callIncrement(address)", ADDRESS["counter"])),
             (ADDRESS["caller"], calldata("tryFail(address)", ADDRESS["counter"]))]  # fmt: skip
    calls = [w[1 + i % 8].sign(to=kinds[i % 3][0], data=kinds[i % 3][1], gas=500_000)
             for i in range(n)]  # fmt: skip
    built[f"{n} calls (store, call, revert)"] = (chain.build(transactions=calls), n)
    chain, w = chain_and_wallets()
    spins = [w[1 + i % 8].sign(to=ADDRESS["spin"], gas=10_000_000,
                               data=calldata("spin(uint256)", args.rounds + i))
             for i in range(args.spins)]  # fmt: skip
    built[f"{args.spins} x spin({args.rounds:,})"] = (chain.build(transactions=spins), args.spins)
    return built


def timed_execute(built: Any, client: str | None) -> float:
    """Seconds for EXECUTE of ``built`` by a verifier that has decoded nothing yet."""
    clear_decode_cache()
    load.cache_clear()
    parse.cache_clear()
    compile_code.cache_clear()
    started = time.perf_counter()
    result = execute_detailed(*built.execute_args(), vm="riscv", client=client)
    seconds = time.perf_counter() - started
    assert result, result.detail
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100)
    parser.add_argument("--spins", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"EXECUTE of the same trace by each riscv client (medians of {args.repeat})")
    print(f"  {'block':34} {'client':8} {'ms/block':>10} {'ms/tx':>8} {'L2 gas/tx':>10}")
    for name, (built, count) in blocks(args).items():
        times: dict[str, list[float]] = {client: [] for client in CLIENTS}
        for _ in range(args.repeat):
            for client, option in CLIENTS.items():  # interleaved: drift hits both alike
                times[client].append(timed_execute(built, option))
        median = {client: statistics.median(t) for client, t in times.items()}
        gas = built.l2_gas_used / count
        for client in CLIENTS:
            seconds = median[client]
            print(f"  {name:34} {client:8} {seconds * 1e3:10.1f} {seconds * 1e3 / count:8.2f} "
                  f"{gas:10,.0f}")  # fmt: skip
        print(f"  {'':34} {'ratio':8} {median['rv32ref'] / median['unicorn']:9.1f}x "
              "(rv32ref / unicorn)")  # fmt: skip


if __name__ == "__main__":
    main()
