"""The ``wasm`` VM's own rules: which modules it accepts (with the reason for each refusal),
traps and hostile modules that fail cleanly, exact fuel, deterministic floats, the compile
charge in EXECUTE gas, and the committed example modules. What every non-EVM VM shares is in
``test_guest_contracts.py``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import wasmtime

from rollupkit.chain import DevChain
from rollupkit.execution import execute_detailed
from rollupkit.types import GenesisAccount
from rollupkit.wallets import calldata, dev_wallets
from rollupkit_wasm.examples import EXAMPLES, example_wasm
from rollupkit_wasm.module import MAX_MEMORY_PAGES, WasmError, load
from rollupkit_wasm.vm import COMPILE_GAS_PER_BYTE, WasmVM

CHAIN_ID = 42_424
TARGET = b"\x99" * 20
IMPORT = '(import "rollupkit" "{name}" (func ${name} (param {params}) (result i64)))'


def wat(body: str, *, imports: str = "", memory: str = '(memory (export "memory") 1)') -> bytes:
    return bytes(wasmtime.wat2wasm(f"(module {imports} {memory} {body})"))


RETURN = IMPORT.format(name="return", params="i32 i32")
WASI_IMPORT = (
    '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))'
)

RETURN_NOTHING = wat(
    '(func (export "run") (drop (call $return (i32.const 0) (i32.const 0))))', imports=RETURN
)


def run_module(module: bytes, data: bytes = b"", gas: int = 100_000):  # type: ignore[no-untyped-def]
    """Place ``module`` at genesis (no deployment check) and call it."""
    chain = DevChain({TARGET: GenesisAccount(code=module, nonce=1)}, chain_id=CHAIN_ID, vm="wasm")
    return chain.vm.call(
        chain.view(), chain_id=CHAIN_ID, parent_header=chain.headers[-1], sender=b"\x07" * 20,
        to=TARGET, value=0, data=data, gas=gas,
    )  # fmt: skip


def test_a_hand_written_module_runs() -> None:
    assert run_module(RETURN_NOTHING).success


@pytest.mark.parametrize(
    ("module", "reason"),
    [
        (b"\x00asx" + bytes(8), "bad magic"),
        (b"\x00asm\x01\x00\x00\x00\xff", "not a valid wasm module"),
        (wat('(func (export "run"))', imports=WASI_IMPORT),
         "not a rollupkit host function"),
        (wat('(func (export "run"))', imports='(import "rollupkit" "mint" (func (result i64)))'),
         "not a rollupkit host function"),
        (wat('(func (export "run"))',
             imports='(import "rollupkit" "storage_load" (func (param i32) (result i64)))'),
         "must be a function (i32 x 2) -> i64"),
        (wat('(func (export "start"))'), 'no exported function "run"'),
        (wat('(func (export "run") (param i32))'), 'no exported function "run"'),
        (wat('(func (export "run"))', memory="(memory 1)"), 'no exported "memory"'),
        (wat('(func (export "run"))', memory=f'(memory (export "memory") {MAX_MEMORY_PAGES + 1})'),
         "at most 16"),
        (wat('(func (export "run") (drop (i32x4.splat (i32.const 1))))'), "not a valid wasm"),
        (wat('(func (export "run") (memory.fill (i32.const 0) (i32.const 0) (i32.const 9)))'),
         "not a valid wasm"),
        (wat('(func (export "run") (drop (i32.atomic.load (i32.const 0))))'), "not a valid wasm"),
    ],
    ids=["bad magic", "garbage", "WASI import", "unknown import", "wrong signature", "no run",
         "run with parameters", "memory not exported", "memory too large", "SIMD",
         "bulk memory", "threads"],
)  # fmt: skip
def test_bad_modules_are_refused_with_their_reason(module: bytes, reason: str) -> None:
    with pytest.raises(WasmError) as refused:
        load(module)
    assert reason in str(refused.value)
    assert reason in (WasmVM().check_code(module) or "")
    # Placed at genesis anyway, a call to it fails cleanly, with the reason.
    result = run_module(module)
    assert not result.success and reason in result.error


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("(unreachable)", "unreachable"),
        ("(drop (i32.load (i32.const 70000)))", "memory out of bounds"),
        ("(drop (i32.div_u (i32.const 1) (i32.const 0)))", "integer division by zero"),
        ("(call $deep)", "stack overflow"),
        ("(loop $l (br $l))", "out of gas"),
        ("(drop (call $calldata_copy (i32.const 65530) (i32.const 0) (i32.const 32)))",
         "writes outside memory"),
        ("(drop (call $return (i32.const 65530) (i32.const 32)))", "reads outside memory"),
        ("(drop (memory.grow (i32.const 100)))", "without RETURN"),
    ],
    ids=["unreachable", "load out of bounds", "division by zero", "deep recursion",
         "infinite loop", "host write outside", "host read outside", "memory.grow past 1 MiB"],
)  # fmt: skip
def test_hostile_modules_fail_cleanly(body: str, reason: str) -> None:
    imports = RETURN + IMPORT.format(name="calldata_copy", params="i32 i32 i32")
    module = wat(f'(func $deep (call $deep)) (func (export "run") {body})', imports=imports)
    result = run_module(module)
    if reason == "without RETURN":  # memory.grow answers -1 past the limit; run then returns
        assert result.success and result.output == b""
        return
    assert not result.success and reason in result.error, result.error
    assert result.gas_used == 100_000  # an exceptional halt uses all the gas
    assert run_module(RETURN_NOTHING).success  # and nothing leaks into the next call


def test_a_huge_table_fails_the_call_not_the_host() -> None:
    module = wat('(table 100000 funcref) (func (export "run"))')
    assert load(module)  # valid wasm: the bound is applied when a call instantiates it
    result = run_module(module)
    assert not result.success and "cannot run the module" in result.error


def test_fuel_is_exact() -> None:
    """A loop that needs G gas succeeds with G and fails with G - 1."""
    spin = example_wasm("spin")
    data = calldata("spin(uint256)", 5_000)
    free = run_module(spin, data, gas=10_000_000)
    assert free.success
    assert run_module(spin, data, gas=free.gas_used).output == free.output
    short = run_module(spin, data, gas=free.gas_used - 1)
    assert not short.success and "out of gas" in short.error


def test_floats_are_deterministic() -> None:
    """NaNs are canonicalised: 0/0 stores the canonical NaN's bits, whatever the CPU made."""
    imports = RETURN
    body = """(func (export "run")
        (f32.store (i32.const 0) (f32.div (f32.const 0) (f32.const 0)))
        (f64.store (i32.const 8) (f64.sqrt (f64.const -1)))
        (drop (call $return (i32.const 0) (i32.const 16))))"""
    result = run_module(wat(body, imports=imports))
    assert result.success
    assert result.output[:4] == bytes.fromhex("0000c07f")  # f32 canonical NaN, little-endian
    assert result.output[8:] == bytes.fromhex("000000000000f87f")


def test_execute_charges_compiling_the_witness_modules() -> None:
    """EXECUTE gas counts COMPILE_GAS_PER_BYTE for each module in the witness: the same
    trace claimed without it is refused."""
    wallets = dev_wallets(2, CHAIN_ID)
    token = example_wasm("token")
    alloc = {TARGET: GenesisAccount(code=token, nonce=1),
             wallets[0].address: GenesisAccount(balance=10**24)}  # fmt: skip
    chain = DevChain(alloc, chain_id=CHAIN_ID, vm="wasm")
    built = chain.build(transactions=[
        wallets[0].sign(to=TARGET, data=calldata("initialize(uint256)", 5), gas=300_000)
    ])  # fmt: skip
    pre, post, trace, gas = built.execute_args()
    assert token in built.trace.witness.codes
    assert execute_detailed(pre, post, trace, gas, vm="wasm")
    without = gas - COMPILE_GAS_PER_BYTE * len(token)
    assert not execute_detailed(pre, post, trace, without, vm="wasm")


def test_the_wat_counter_counts_as_the_c_one_does() -> None:
    chain = DevChain({TARGET: GenesisAccount(code=example_wasm("counter_wat"), nonce=1)},
                     chain_id=CHAIN_ID, vm="wasm")  # fmt: skip
    w = dev_wallets(1, CHAIN_ID)
    chain = DevChain({TARGET: GenesisAccount(code=example_wasm("counter_wat"), nonce=1),
                      w[0].address: GenesisAccount(balance=10**24)},
                     chain_id=CHAIN_ID, vm="wasm")  # fmt: skip
    for expected in (1, 2):
        chain.build(transactions=[w[0].sign(to=TARGET, data=calldata("increment()"), gas=90_000)])
        assert chain.storage(TARGET, 0) == expected
    failed = run_module(example_wasm("counter_wat"), calldata("fail()"))
    assert failed.reverted and failed.output == b"nope"


def test_the_committed_wat_module_matches_its_source() -> None:
    source = Path(__file__).resolve().parents[1] / "plugins" / "wasm" / "guest" / "counter_wat.wat"
    assert wasmtime.wat2wasm(source.read_text()) == example_wasm("counter_wat")
    assert set(EXAMPLES) == {"counter", "token", "caller", "spin", "counter_wat"}


def _toolchain() -> str | None:
    if not (shutil.which("clang") and shutil.which("wasm-ld") and shutil.which("make")):
        return "clang, wasm-ld (lld) and make rebuild the examples (apt-get install clang lld)"
    version = subprocess.run(["clang", "--version"], capture_output=True, text=True).stdout
    if "version 14." not in version:
        return "the committed modules were built with clang 14; another clang emits other code"
    return None


@pytest.mark.skipif(_toolchain() is not None, reason=str(_toolchain()))
def test_committed_modules_match_their_sources() -> None:
    import sys

    guest = Path(__file__).resolve().parents[1] / "plugins" / "wasm" / "guest"
    done = subprocess.run(["make", "-s", "-C", str(guest), "check", f"PYTHON={sys.executable}"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the committed modules match their sources" in done.stdout


def test_a_start_function_is_refused() -> None:
    module = wat('(func $init) (start $init) (func (export "run"))')
    assert "a start function" in (WasmVM().check_code(module) or "")
    result = run_module(module)
    assert not result.success and "a start function" in result.error


def test_calls_in_two_threads_keep_their_own_outcomes() -> None:
    """wasmtime's binding keeps a failing host function's exception in one process-wide slot:
    a call returning (through a host function that raises) and a call trapping, run side by
    side in two threads, must each get their own outcome."""
    import threading

    returns = example_wasm("counter")
    traps = wat('(func (export "run") (loop $l (br_if $l (i32.const 1))) )')  # out of gas
    outcomes: dict[str, list[tuple[bool, bytes, str]]] = {"returns": [], "traps": []}

    def calls(name: str, module: bytes, data: bytes, gas: int) -> None:
        for _ in range(150):
            result = run_module(module, data, gas=gas)
            outcomes[name].append((result.success, result.output, result.error))

    threads = [
        threading.Thread(target=calls, args=("returns", returns, calldata("count()"), 100_000)),
        threading.Thread(target=calls, args=("traps", traps, b"", 200_000)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(ok and output == bytes(32) for ok, output, _ in outcomes["returns"]), {
        o for o in outcomes["returns"] if not o[0]
    }
    assert all(not ok and "out of gas" in error for ok, _, error in outcomes["traps"]), {
        o for o in outcomes["traps"] if o[0] or "out of gas" not in o[2]
    }


def test_a_zero_value_call_to_a_new_address_makes_no_account() -> None:
    """As EIP-161: a call or transfer that moves no value creates no empty account."""
    fresh = b"\x42" * 20
    imports = (
        RETURN
        + IMPORT.format(name="call", params="i32 i32 i32 i32 i32")
        + IMPORT.format(name="transfer", params="i32 i32")
    )
    data = "".join("\\" + format(b, "02x") for b in fresh)
    body = f"""(data (i32.const 0) "{data}")
      (func (export "run")
        (drop (call $call (i32.const 0) (i32.const 32) (i32.const 0) (i32.const 0) (i32.const 0)))
        (drop (call $transfer (i32.const 0) (i32.const 32)))
        (drop (call $return (i32.const 0) (i32.const 0))))"""
    module = wat(body, imports=imports)
    w = dev_wallets(1, CHAIN_ID)
    chain = DevChain({TARGET: GenesisAccount(code=module, nonce=1),
                      w[0].address: GenesisAccount(balance=10**24)},
                     chain_id=CHAIN_ID, vm="wasm")  # fmt: skip
    built = chain.build(transactions=[w[0].sign(to=TARGET, gas=200_000)])
    assert built.results[0].receipts
    assert chain.account(fresh) is None
