"""The wasm VM's speed: fuel metering's overhead, a host call's cost, compiling, and token
transfers per second through EXECUTE.

1. The example ``spin`` contract (``sdk/guest/examples/spin.c``) runs ``--rounds`` rounds on
   the consensus engine (fuel on) and on the same engine without fuel, interleaved,
   ``--repeat`` times: wasm instructions (fuel units) per second and the ratio.
2. Guest loops of ``--calls`` host calls through the VM (``gas_left``: the crossing alone;
   ``storage_load`` of one slot), against the same loop without them: microseconds a call.
3. Compiling the token module and a ~20 KB one: microseconds per byte, next to the EXECUTE gas
   charged per byte of a witness module.
4. A block of ``--transfers`` token transfers executed by EXECUTE on wasm and, interleaved, as
   many ERC-20 transfers on the EVM: transfers per second and the ratio.

Usage: python benchmarks/wasm.py [--rounds 20000000] [--calls 20000] [--transfers 300]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import wasmtime
from token_transfers import compare

from rollupkit import DevChain, GenesisAccount
from rollupkit.wallets import calldata
from rollupkit_wasm import module as consensus
from rollupkit_wasm.examples import example_wasm
from rollupkit_wasm.vm import COMPILE_GAS_PER_BYTE

CHAIN_ID = 42_424
TARGET = b"\x51" * 20


def engines() -> tuple[wasmtime.Engine, wasmtime.Engine]:
    """The consensus engine, and the same settings without fuel (nor epochs)."""
    config = wasmtime.Config()
    config.cranelift_nan_canonicalization = True
    for proposal in ("wasm_simd", "wasm_relaxed_simd", "wasm_threads", "wasm_bulk_memory"):
        setattr(config, proposal, False)
    return consensus.ENGINE, wasmtime.Engine(config)


class Exit(Exception):
    pass


def spin_runner(engine: wasmtime.Engine, rounds: int):  # type: ignore[no-untyped-def]
    """spin(rounds) on ``engine`` with minimal host functions (call data, return)."""
    data = calldata("spin(uint256)", rounds)
    i32, i64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()
    linker = wasmtime.Linker(engine)

    def copy(caller, dst, offset, length):  # type: ignore[no-untyped-def]
        chunk = data[offset : offset + length].ljust(length, b"\0")
        caller.get("memory").write(caller, chunk, dst)
        return 0

    def finish(caller, *_):  # type: ignore[no-untyped-def]
        raise Exit

    functions = {"calldata_size": ([], lambda caller: len(data)),
                 "calldata_copy": ([i32] * 3, copy), "return": ([i32] * 2, finish),
                 "revert": ([i32] * 2, finish)}  # fmt: skip
    for name, (params, function) in functions.items():
        linker.define_func("rollupkit", name, wasmtime.FuncType(params, [i64]), function,
                           access_caller=True)  # fmt: skip
    module = wasmtime.Module(engine, example_wasm("spin"))

    def run() -> tuple[float, int]:
        store = wasmtime.Store(engine)
        fueled = engine is consensus.ENGINE
        if fueled:
            store.set_fuel(1 << 62)
            store.set_epoch_deadline(1 << 62)
        instance = linker.instantiate(store, module)
        started = time.perf_counter()
        with contextlib.suppress(Exit):
            instance.exports(store)["run"](store)
        seconds = time.perf_counter() - started
        return seconds, ((1 << 62) - store.get_fuel()) if fueled else 0

    return run


def fuel_overhead(args: argparse.Namespace) -> None:
    fueled, plain = engines()
    run_fueled, run_plain = spin_runner(fueled, args.rounds), spin_runner(plain, args.rounds)
    _, fuel = run_fueled()
    times: dict[str, list[float]] = {"fuel": [], "plain": []}
    for _ in range(args.repeat):
        times["fuel"].append(run_fueled()[0])
        times["plain"].append(run_plain()[0])
    f, p = (statistics.median(times[k]) for k in ("fuel", "plain"))
    print(f"spin({args.rounds:,}): {fuel:,} fuel (wasm instructions); medians of {args.repeat}")
    print(f"  fuel metered:    {fuel / f / 1e6:8.0f} M instructions/s")
    print(f"  unmetered:       {fuel / p / 1e6:8.0f} M instructions/s")
    print(f"  metered / unmetered: {p / f:.2f} (the issue's goal: >= 0.7)\n")


HOST_CALLS = {
    "gas_left": "(drop (call $gas_left))",
    "storage_load": "(drop (call $load (i32.const 0) (i32.const 32)))",
    "none": "(nop)",
}


def loop_module(calls: int, body: str) -> bytes:
    return bytes(
        wasmtime.wat2wasm(f"""(module
      (import "rollupkit" "storage_load" (func $load (param i32 i32) (result i64)))
      (import "rollupkit" "gas_left" (func $gas_left (result i64)))
      (import "rollupkit" "return" (func $return (param i32 i32) (result i64)))
      (memory (export "memory") 1)
      (func (export "run") (local $i i32)
        (loop $next {body}
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $next (i32.lt_u (local.get $i) (i32.const {calls}))))
        (drop (call $return (i32.const 0) (i32.const 0)))))""")
    )


def host_call_cost(args: argparse.Namespace) -> None:
    times: dict[str, list[float]] = {name: [] for name in HOST_CALLS}
    chains = {}
    for name, body in HOST_CALLS.items():
        alloc = {TARGET: GenesisAccount(code=loop_module(args.calls, body), nonce=1,
                                        storage={0: 7})}  # fmt: skip
        chains[name] = DevChain(alloc, chain_id=CHAIN_ID, vm="wasm")
    for _ in range(args.repeat):
        for name, chain in chains.items():
            started = time.perf_counter()
            result = chain.vm.call(chain.view(), chain_id=CHAIN_ID,
                                   parent_header=chain.headers[-1], sender=b"\x07" * 20,
                                   to=TARGET, value=0, data=b"", gas=10**9)  # fmt: skip
            times[name].append(time.perf_counter() - started)
            assert result.success, result.error
    base = statistics.median(times["none"])
    print(f"host calls ({args.calls:,} in a loop, less the same loop without them):")
    for name in ("gas_left", "storage_load"):
        per_call = (statistics.median(times[name]) - base) / args.calls
        print(f"  {name:13} {per_call * 1e6:6.1f} µs a call")
    print()


def compile_cost() -> None:
    big = "".join(
        f"(func (param i32) (result i32) local.get 0 i32.const {i} i32.add i32.const 3 "
        f"i32.mul i32.const 7 i32.xor i32.const {i + 1} i32.rotl)"
        for i in range(800)
    )
    many = f'(module (memory (export "memory") 1) {big} (func (export "run")))'
    modules = {"token.wasm": example_wasm("token"),
               "800 small functions": bytes(wasmtime.wat2wasm(many))}  # fmt: skip
    print("compiling (fresh each time; EXECUTE charges "
          f"{COMPILE_GAS_PER_BYTE} gas a byte of a witness module):")  # fmt: skip
    for name, code in modules.items():
        seconds = []
        for _ in range(3):
            started = time.perf_counter()
            wasmtime.Module(consensus.ENGINE, code)
            seconds.append(time.perf_counter() - started)
        per_byte = statistics.median(seconds) / len(code)
        print(f"  {name:22} {len(code):7,} bytes  {statistics.median(seconds) * 1e3:6.1f} ms  "
              f"{per_byte * 1e6:5.2f} µs a byte")  # fmt: skip
    print()


def transfers(args: argparse.Namespace) -> None:
    compare("wasm", example_wasm("token"), args.transfers, args.repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--transfers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    fuel_overhead(args)
    host_call_cost(args)
    compile_cost()
    transfers(args)


if __name__ == "__main__":
    main()
