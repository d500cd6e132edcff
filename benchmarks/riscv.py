"""The riscv VM's speed: guest instructions per second, metered and not, and token transfers
per second through EXECUTE.

1. The example ``spin`` contract (a xorshift loop, ``sdk/guest/examples/spin.c``) runs
   ``--rounds`` rounds through the VM's call path three ways, interleaved, ``--repeat`` times
   each: with the C instruction meter (how rollupkit runs contracts), with the block hook
   removed (Unicorn unmetered: the ceiling), and with the Python meter (the fallback without a
   C compiler, on fewer rounds). Prints instructions per second (the median) and the ratios.
2. A block of ``--transfers`` token transfers (``sdk/guest/examples/token.c``) is executed by
   EXECUTE, and a block of as many ERC-20 transfers on the EVM (the Solidity token of
   ``benchmarks/execute_evm.py``) likewise, interleaved: transfers per second and the ratio.

Usage: python benchmarks/riscv.py [--rounds 5000000] [--transfers 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from token_transfers import compare
from unicorn.unicorn_py3 import unicorn as binding

from rollupkit import DevChain, GenesisAccount
from rollupkit.wallets import calldata
from rollupkit_riscv.elf import load
from rollupkit_riscv.examples import example_elf
from rollupkit_riscv.machine import MachinePool, native_meter
from rollupkit_riscv.vm import RiscvVM

CHAIN_ID = 42_424
SPIN = b"\x51" * 20
GAS = 10**12  # no limit in practice: the loop's length is the rounds


def spin_chain() -> DevChain:
    return DevChain({SPIN: GenesisAccount(code=example_elf("spin"), nonce=1)},
                    chain_id=CHAIN_ID, vm="riscv")  # fmt: skip


def run_spin(chain: DevChain, vm: RiscvVM, rounds: int) -> tuple[float, int]:
    """Seconds for one call of spin(rounds), and the instructions it executed."""
    data = calldata("spin(uint256)", rounds)
    started = time.perf_counter()
    result = vm.call(chain.view(), chain_id=CHAIN_ID, parent_header=chain.headers[-1],
                     sender=b"\x07" * 20, to=SPIN, value=0, data=data, gas=GAS)  # fmt: skip
    seconds = time.perf_counter() - started
    assert result.success, result.error
    (machine,) = vm.pool._idle[load(example_elf("spin"))]
    return seconds, int(machine.meter.executed)


def instructions(args: argparse.Namespace) -> None:
    chain = spin_chain()
    metered, unmetered, python = RiscvVM(), RiscvVM(), RiscvVM()
    python.pool = MachinePool(native=False)
    python_rounds = max(args.rounds // 20, 1)
    for vm, rounds in ((metered, 1_000), (unmetered, 1_000), (python, 1_000)):
        run_spin(chain, vm, rounds)  # translate the code; the pool keeps the machine
    (machine,) = unmetered.pool._idle[load(example_elf("spin"))]
    # Remove the meter through the C API (the binding only knows the hooks it made itself).
    binding.uclib.uc_hook_del(machine.uc._uch, machine.block_hook)
    _, count = run_spin(chain, metered, args.rounds)  # the exact count, from the meter
    _, python_count = run_spin(chain, python, python_rounds)
    rates: dict[str, list[float]] = {"metered": [], "unmetered": [], "python": []}
    for _ in range(args.repeat):
        rates["metered"].append(count / run_spin(chain, metered, args.rounds)[0])
        rates["unmetered"].append(count / run_spin(chain, unmetered, args.rounds)[0])
        rates["python"].append(python_count / run_spin(chain, python, python_rounds)[0])
    m, u, p = (statistics.median(rates[k]) for k in ("metered", "unmetered", "python"))
    meter = "C block hook" if native_meter() else "Python block hook (the C meter is not built)"
    print(f"spin({args.rounds:,}): {count:,} guest instructions; medians of {args.repeat} runs")
    print(f"  metered ({meter}):  {m / 1e6:8.1f} M instructions/s")
    print(f"  unicorn unmetered:           {u / 1e6:8.1f} M instructions/s")
    print(f"  metered / unmetered:         {m / u:8.1%}")
    print(f"  Python meter (fallback):     {p / 1e6:8.1f} M instructions/s  "
          f"({p / u:.1%} of unmetered; spin({python_rounds:,}))")  # fmt: skip
    print(f"  vs a zkVM executor's ~33.5 M cycles/s: metered is {m / 33.5e6:.1f}x\n")


def transfers(args: argparse.Namespace) -> None:
    compare("riscv", example_elf("token"), args.transfers, args.repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5_000_000)
    parser.add_argument("--transfers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    instructions(args)
    transfers(args)


if __name__ == "__main__":
    main()
