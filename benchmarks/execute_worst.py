"""EXECUTE's worst cases: seconds per claimed Mgas of adversarial traces, against the average.

EXECUTE is paid for the gas it claims, so one gas must cost about the same time whatever a
trace does. For each adversarial workload this builds an honest trace (a pre-state holding the
workload, one transaction or a block of L1 messages), then times EXECUTE re-executing it with
its exact claim and prints seconds per claimed Mgas next to the average of an ordinary block
(half ETH, half ERC-20 transfers, as in ``benchmarks/execute_evm.py``), and the ratio. It also
times each trace with a claim of 0 (refused before decoding).

Usage: python benchmarks/execute_worst.py [--mgas 1.0] [--only NAME] [--average-transactions 500]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import rlp
from eth_keys import keys

from rollupkit import DevChain, GenesisAccount, execute_detailed
from rollupkit.builder import BuiltTrace
from rollupkit.ethtx import clear_decode_cache
from rollupkit.metering import SCHEDULE
from rollupkit.testing.evm import EvmScenario
from rollupkit.testing.wallets import dev_wallets

sys.path.insert(0, str(Path(__file__).parent))
import wasmtime
from execute_evm import WALLETS, block_transactions

import rollupkit_riscv.testing as rv
from rollupkit.hostabi import HostFunction
from rollupkit.wallets import calldata
from rollupkit_riscv.examples import example_elf
from rollupkit_wasm.examples import example_wasm

TARGET = b"\x20" * 20
OPS = {
    "STOP": 0x00, "SUB": 0x03, "ISZERO": 0x15, "KECCAK256": 0x20, "CALLDATASIZE": 0x36,
    "CALLDATACOPY": 0x37, "POP": 0x50, "MSTORE": 0x52, "SLOAD": 0x54, "SSTORE": 0x55,
    "JUMP": 0x56, "JUMPI": 0x57, "GAS": 0x5A, "JUMPDEST": 0x5B, "PUSH0": 0x5F, "DUP1": 0x80,
    "SWAP1": 0x90, "CREATE": 0xF0, "CALL": 0xF1, "STATICCALL": 0xFA, "INVALID": 0xFE,
}  # fmt: skip


def asm(*items: object) -> bytes:
    """Opcode names, ints (pushed with the shortest PUSH), ("L", name) labels (a JUMPDEST) and
    ("P", name) label references (PUSH2)."""
    out, labels, fixups = bytearray(), {}, []
    for item in items:
        if isinstance(item, str):
            out.append(OPS[item])
        elif isinstance(item, int):
            size = max(1, (item.bit_length() + 7) // 8)
            out += bytes([0x5F + size]) + item.to_bytes(size, "big")
        elif isinstance(item, tuple) and item[0] == "L":
            labels[item[1]] = len(out)
            out.append(OPS["JUMPDEST"])
        elif isinstance(item, tuple) and item[0] == "P":
            out.append(0x61)
            fixups.append((len(out), item[1]))
            out += b"\0\0"
    for position, name in fixups:
        out[position : position + 2] = labels[name].to_bytes(2, "big")
    return bytes(out)


def loop(*body: object) -> bytes:
    """``body`` forever (until the transaction runs out of gas)."""
    return asm(("L", "top"), *body, ("P", "top"), "JUMP")


def precompile_loop(address: int, output_size: int) -> bytes:
    """Copy the call data to memory, then STATICCALL ``address`` with it forever."""
    return asm(
        "CALLDATASIZE", "PUSH0", "PUSH0", "CALLDATACOPY",
        ("L", "top"),
        output_size, "CALLDATASIZE", "CALLDATASIZE", "PUSH0", address, "GAS", "STATICCALL",
        "ISZERO", ("P", "fail"), "JUMPI", ("P", "top"), "JUMP",
        ("L", "fail"), "INVALID",
    )  # fmt: skip


@dataclass
class Workload:
    name: str
    build: Callable[[int], tuple[BuiltTrace, bool]]  # gas -> (trace, EXECUTE should say True)
    scale: float = 1.0  # fraction of --mgas (slow precompiles get less)
    vm: str = "evm"
    state: str = "mpt"


def chain_with(
    code: bytes, storage: dict[int, int] | None = None, state: str = "mpt"
) -> tuple[DevChain, object]:
    (user,) = dev_wallets(1, 42_424)
    alloc = {
        user.address: GenesisAccount(balance=10**30),
        TARGET: GenesisAccount(code=code, nonce=1, storage=storage or {}),
    }
    return DevChain(alloc, gas_limit=60_000_000, state=state), user


def call_workload(  # type: ignore[no-untyped-def]
    code: bytes, data: bytes = b"", storage: dict[int, int] | None = None, state: str = "mpt"
):
    def build(gas: int) -> tuple[BuiltTrace, bool]:
        chain, user = chain_with(code, storage, state)
        tx = user.sign(to=TARGET, data=data, gas=gas)  # type: ignore[attr-defined]
        return chain.build(transactions=[tx], commit=False), True

    return build


# --- riscv: hand-made RV32 loops (rollupkit_riscv.testing) and the example contracts ---------

RISCV_DATA = 0x11000  # the programs' data segment
RISCV_CALLEE = b"\x21" * 20
RISCV_FAULTY = b"\x22" * 20  # its code stores outside memory at once


# 256 copies of the counter, each different (a byte of a message in its data changed) so each
# is new code, loaded and mapped afresh.
COLD_CALLEES = [b"\x23" * 19 + bytes([i]) for i in range(256)]


def cold_counters() -> dict[bytes, GenesisAccount]:
    counter = example_elf("counter")
    at = counter.index(b"unknown function")
    return {
        address: GenesisAccount(code=counter[:at] + bytes([i]) + counter[at + 1 :], nonce=1)
        for i, address in enumerate(COLD_CALLEES)
    }


FAULTY_ELF = rv.make_elf(rv.code([*rv.li(rv.T0, 0x200000), rv.sw(0, rv.T0, 0)]))


def riscv_loop(*body: int) -> list[int]:
    """``body`` (instruction words) forever: a jump back closes the loop."""
    return [*body, rv.jal(0, -4 * len(body))]


def riscv_workload(words: list[int], data: bytes = b"", data_size: int = 0x1000):  # type: ignore[no-untyped-def]
    """A call to a hand-made RV32 program (its data segment: ``data``, zero-filled to
    ``data_size``) with the example counter deployed at RISCV_CALLEE."""
    elf = rv.make_elf(rv.code(words), data=data, data_memsz=max(data_size, len(data)))

    def build(gas: int) -> tuple[BuiltTrace, bool]:
        (user,) = dev_wallets(1, 42_424)
        alloc = {
            user.address: GenesisAccount(balance=10**30),
            TARGET: GenesisAccount(code=elf, nonce=1),
            RISCV_CALLEE: GenesisAccount(code=example_elf("counter"), nonce=1),
            RISCV_FAULTY: GenesisAccount(code=FAULTY_ELF, nonce=1),
            **cold_counters(),
        }
        chain = DevChain(alloc, gas_limit=60_000_000, vm="riscv")
        tx = user.sign(to=TARGET, gas=gas)
        return chain.build(transactions=[tx], commit=False), True

    return build


def riscv_workloads() -> list[Workload]:
    d = RISCV_DATA
    host = rv.host
    bump_key = [*rv.li(rv.T1, d), rv.lw(rv.T0, rv.T1, 28), rv.addi(rv.T0, rv.T0, 1),
                rv.sw(rv.T0, rv.T1, 28)]  # fmt: skip
    callee = RISCV_CALLEE + bytes(32) + bytes.fromhex("06661abd")  # address, value, selector
    failing = callee + bytes.fromhex("a9cc4718")  # fail() at d + 56
    many = COLD_CALLEES[0] + bytes(32) + bytes.fromhex("06661abd")
    # the callee's last address byte, plus one (mod 256): the loop walks the 256 contracts
    bump_callee = [*rv.li(rv.T1, d), rv.lbu(rv.T0, rv.T1, 19), rv.addi(rv.T0, rv.T0, 1),
                   rv.sb(rv.T0, rv.T1, 19)]  # fmt: skip
    faulty = RISCV_FAULTY + bytes(32)
    spin_forever = calldata("spin(uint256)", 2**256 - 1)
    items = [
        ("tight loop (1-instruction blocks)", [rv.jal(0, 0)], b"", 0x1000),
        ("spin.c loop, out of gas", None, spin_forever, 0),
        ("CALLDATA_SIZE host calls", riscv_loop(*host(HostFunction.CALLDATA_SIZE)), b"", 0x1000),
        ("STORAGE_LOAD of absent slots",
         riscv_loop(*bump_key, *host(HostFunction.STORAGE_LOAD, d, d + 32)), b"", 0x1000),
        ("STORAGE_STORE to new slots",
         riscv_loop(*bump_key, *host(HostFunction.STORAGE_STORE, d, d)), b"", 0x1000),
        ("KECCAK256 of 32 KB",
         riscv_loop(*host(HostFunction.KECCAK256, d, 0x8000, d)), b"", 0x8000),
        ("CALL to an empty account",
         riscv_loop(*host(HostFunction.CALL, d + 64, d + 32, 0, 0, 0xFFFF_FFFF)), b"", 0x1000),
        ("CALL counter.count() (another contract)",
         riscv_loop(*host(HostFunction.CALL, d, d + 20, d + 52, 4, 0xFFFF_FFFF)), callee, 0x1000),
        ("CALL counter.fail() (reverts)",
         riscv_loop(*host(HostFunction.CALL, d, d + 20, d + 56, 4, 0xFFFF_FFFF)), failing, 0x1000),
        ("CALL counter with 50 gas (out of gas)",
         riscv_loop(*host(HostFunction.CALL, d, d + 20, d + 52, 4, 50)), callee, 0x1000),
        ("CALL 256 different contracts (cold code)",
         riscv_loop(*bump_callee, *host(HostFunction.CALL, d, d + 20, d + 52, 4, 0xFFFF_FFFF)),
         many, 0x1000),
        ("CALL a contract that faults at once",
         riscv_loop(*host(HostFunction.CALL, d, d + 20, d + 52, 0, 1000)), faulty, 0x1000),
    ]  # fmt: skip
    found = []
    for name, words, data, size in items:
        if words is None:  # the example spin contract, called forever
            found.append(Workload(f"riscv: {name}", riscv_example("spin", data), vm="riscv"))
        else:
            found.append(Workload(f"riscv: {name}", riscv_workload(words, data, size), vm="riscv"))
    return found


def riscv_example(name: str, data: bytes):  # type: ignore[no-untyped-def]
    def build(gas: int) -> tuple[BuiltTrace, bool]:
        (user,) = dev_wallets(1, 42_424)
        alloc = {user.address: GenesisAccount(balance=10**30),
                 TARGET: GenesisAccount(code=example_elf(name), nonce=1)}  # fmt: skip
        chain = DevChain(alloc, gas_limit=60_000_000, vm="riscv")
        return chain.build(transactions=[user.sign(to=TARGET, data=data, gas=gas)],
                           commit=False), True  # fmt: skip

    return build


# --- wasm: hand-written WAT loops and the example modules -------------------------------------

WASM_IMPORTS = "".join(
    f'(import "rollupkit" "{name}" (func ${name} (param {" ".join(["i32"] * n)}) (result i64)))'
    for name, n in [("gas_left", 0), ("storage_load", 2), ("call", 5), ("keccak256", 3)]
)
COLD_MODULES = [b"\x24" * 19 + bytes([i]) for i in range(256)]


def wat_data(offset: int, data: bytes) -> str:
    escaped = "".join("\\" + format(b, "02x") for b in data)
    return f'(data (i32.const {offset}) "{escaped}")'


def wat_module(body: str, extra: str = "", pages: int = 1) -> bytes:
    return bytes(wasmtime.wat2wasm(
        f'(module {WASM_IMPORTS} (memory (export "memory") {pages}) {extra} '
        f'(func (export "run") {body}))'
    ))  # fmt: skip


def wasm_workload(module: bytes, data: bytes = b""):  # type: ignore[no-untyped-def]
    """A call to ``module`` with the example counter at RISCV_CALLEE and 256 distinct modules
    (the example token, a data byte changed) at COLD_MODULES."""
    token = example_wasm("token")
    at = token.index(b"unknown function")

    def build(gas: int) -> tuple[BuiltTrace, bool]:
        (user,) = dev_wallets(1, 42_424)
        alloc = {
            user.address: GenesisAccount(balance=10**30),
            TARGET: GenesisAccount(code=module, nonce=1),
            RISCV_CALLEE: GenesisAccount(code=example_wasm("counter"), nonce=1),
            **{address: GenesisAccount(code=token[:at] + bytes([i]) + token[at + 1 :], nonce=1)
               for i, address in enumerate(COLD_MODULES)},
        }  # fmt: skip
        chain = DevChain(alloc, gas_limit=60_000_000, vm="wasm")
        tx = user.sign(to=TARGET, data=data, gas=gas)
        return chain.build(transactions=[tx], commit=False), True

    return build


def wasm_workloads() -> list[Workload]:
    loop = "(loop $l {} (br $l))"
    many_locals = "(func $locals (local " + "i64 " * 50_000 + "))"
    callee_data = wat_data(0, RISCV_CALLEE) + wat_data(52, bytes.fromhex("06661abd"))  # count()
    cold = wat_data(0, COLD_MODULES[0])
    items = [
        ("empty loop, out of gas", wat_module(loop.format(""))),
        ("spin.c loop, out of gas", None),
        ("gas_left host calls", wat_module(loop.format("(drop (call $gas_left))"))),
        ("storage_load of absent slots", wat_module(loop.format(
            "(i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))"
            "(drop (call $storage_load (i32.const 0) (i32.const 32)))"))),
        ("keccak256 of 64 KB", wat_module(loop.format(
            "(drop (call $keccak256 (i32.const 0) (i32.const 65536) (i32.const 0)))"), pages=2)),
        ("call a function with 50,000 locals", wat_module(loop.format("(call $locals)"),
                                                           many_locals)),
        ("CALL counter.count() (another contract)", wat_module(loop.format(
            "(drop (call $call (i32.const 0) (i32.const 20) (i32.const 52) (i32.const 4)"
            " (i32.const -1)))"), callee_data)),
        ("CALL 256 different modules (cold compile)", wat_module(loop.format(
            "(i32.store8 (i32.const 19) (i32.add (i32.load8_u (i32.const 19)) (i32.const 1)))"
            "(drop (call $call (i32.const 0) (i32.const 20) (i32.const 52) (i32.const 0)"
            " (i32.const 20000)))"), cold)),
    ]  # fmt: skip
    found = []
    for name, module in items:
        if module is None:
            build = wasm_workload(example_wasm("spin"), calldata("spin(uint256)", 2**256 - 1))
        else:
            build = wasm_workload(module)
        found.append(Workload(f"wasm: {name}", build, vm="wasm"))
    return found


def deposits(gas: int) -> tuple[BuiltTrace, bool]:
    chain, _ = chain_with(b"")
    for i in range(4_096):
        chain.deposit((i + 1).to_bytes(20, "big"), 1)
    return chain.build(commit=False), True


def forced_no_ops(gas: int) -> tuple[BuiltTrace, bool]:
    chain, user = chain_with(b"")
    for i in range(2_048):  # validly signed, wrong nonce: recovered, checked, consumed
        chain.force_transaction(user.transfer(TARGET, 1, nonce=1_000 + i))  # type: ignore[attr-defined]
    return chain.build(commit=False), True


def empty_blocks(gas: int) -> tuple[BuiltTrace, bool]:
    chain, _ = chain_with(b"")
    return chain.build([chain.template() for _ in range(256)], commit=False), True


def rlp_items(gas: int) -> tuple[BuiltTrace, bool]:
    """The most items a trace may hold, as one flat list of one-byte items (not a valid trace:
    the time is decoding until it is refused)."""
    chain, _ = chain_with(b"")
    honest = chain.build(commit=False)
    body = b"\x00" * (1 << 20)
    garbage = rlp.codec.length_prefix(len(body), 0xC0) + body
    claim = SCHEDULE.trace_bytes(len(garbage))
    fake = replace(honest, encoded=garbage, gas_used=claim)
    return fake, False


def rlp_nesting(gas: int) -> tuple[BuiltTrace, bool]:
    """Lists nested as deep as a trace may nest them (16), as many as 2^20 items allow."""
    from rollupkit import rlp_strict

    chain, _ = chain_with(b"")
    honest = chain.build(commit=False)
    nested: object = b"\x00"
    for _ in range(rlp_strict.MAX_DEPTH - 1):
        nested = [nested]
    garbage = rlp.encode([nested] * (rlp_strict.MAX_ITEMS // rlp_strict.MAX_DEPTH))
    claim = SCHEDULE.trace_bytes(len(garbage))
    return replace(honest, encoded=garbage, gas_used=claim), False


def u256(value: object) -> bytes:
    return int(value).to_bytes(32, "big")


def precompile_inputs() -> dict[str, tuple[int, bytes, int, float]]:
    """name -> (address, input, output size, scale): worst inputs per gas found so far."""
    from py_ecc import bn128 as bn
    from py_ecc import optimized_bls12_381 as bls

    def fp64(x: int) -> bytes:
        return x.to_bytes(64, "big")

    def bn_g2(p) -> bytes:  # type: ignore[no-untyped-def]
        x, y = p
        return u256(x.coeffs[1]) + u256(x.coeffs[0]) + u256(y.coeffs[1]) + u256(y.coeffs[0])

    def g1(p) -> bytes:  # type: ignore[no-untyped-def]
        x, y = bls.normalize(p)
        return fp64(x.n) + fp64(y.n)

    def g2(p) -> bytes:  # type: ignore[no-untyped-def]
        x, y = bls.normalize(p)
        return fp64(x.coeffs[0]) + fp64(x.coeffs[1]) + fp64(y.coeffs[0]) + fp64(y.coeffs[1])

    digest = hashlib.sha256(b"x").digest()
    sig = keys.PrivateKey(b"\x01" * 32).sign_msg_hash(digest)
    neg = bn.neg(bn.G1)
    bn_pair = u256(bn.G1[0]) + u256(bn.G1[1]) + bn_g2(bn.G2)
    bn_pair += u256(neg[0]) + u256(neg[1]) + bn_g2(bn.G2)
    bls_pair = g1(bls.G1) + g2(bls.G2) + g1(bls.neg(bls.G1)) + g2(bls.G2)
    modexp_min = u256(1) + u256(1) + u256(1) + b"\x03\x01\x07"
    modexp_big = (
        u256(32) + u256(32) + u256(32) + b"\x5a" * 32 + b"\xff" * 32 + b"\x7f" * 31 + b"\x01"
    )
    blake = (12).to_bytes(4, "big") + bytes(range(64)) + bytes(range(128))
    blake += (128).to_bytes(8, "little") + bytes(8) + b"\x01"
    fp = int.from_bytes(hashlib.sha512(b"fp").digest(), "big") % bls.field_modulus
    g1msm = b"".join(g1(bls.multiply(bls.G1, i + 2)) + u256(2**256 - 1 - i) for i in range(2))
    msm = b"".join(g2(bls.multiply(bls.G2, i + 2)) + u256(2**256 - 1 - i) for i in range(2))
    import ckzg
    from eth.precompiles.point_evaluation import TRUSTED_SETUP_PATH

    setup = ckzg.load_trusted_setup(TRUSTED_SETUP_PATH, 0)
    blob = b"".join(u256(i * 7919 + 3) for i in range(4096))
    commitment = ckzg.blob_to_kzg_commitment(blob, setup)
    proof, y = ckzg.compute_kzg_proof(blob, u256(123456789), setup)
    versioned = b"\x01" + hashlib.sha256(commitment).digest()[1:]
    kzg = versioned + u256(123456789) + y + commitment + proof
    return {
        "kzg point evaluation": (0x0A, kzg, 64, 1.0),
        "ecrecover": (1, digest + u256(sig.v + 27) + u256(sig.r) + u256(sig.s), 32, 1.0),
        "sha256 (empty)": (2, b"", 32, 1.0),
        "ripemd160 (empty)": (3, b"", 32, 1.0),
        "identity (empty)": (4, b"", 1, 1.0),
        "modexp (200-gas minimum)": (5, modexp_min, 1, 1.0),
        "modexp (32 B, 2^256-1 exponent)": (5, modexp_big, 32, 1.0),
        "bn254 add": (6, (u256(bn.G1[0]) + u256(bn.G1[1])) * 2, 64, 1.0),
        "bn254 mul": (7, u256(bn.G1[0]) + u256(bn.G1[1]) + u256(2**256 - 1), 64, 1.0),
        "bn254 pairing (k=2)": (8, bn_pair, 32, 1.0),
        "blake2f (12 rounds)": (9, blake, 64, 1.0),
        "bls12 G1ADD": (0x0B, g1(bls.G1) + g1(bls.multiply(bls.G1, 5)), 128, 1.0),
        "bls12 G1MSM (k=2)": (0x0C, g1msm, 128, 1.0),
        "bls12 G2ADD": (0x0D, g2(bls.G2) + g2(bls.multiply(bls.G2, 3)), 256, 1.0),
        "bls12 G2MSM (k=2)": (0x0E, msm, 256, 1.0),
        "bls12 pairing (k=2)": (0x0F, bls_pair, 32, 1.0),
        "bls12 map fp to G1": (0x10, fp64(fp), 128, 1.0),
        "bls12 map fp2 to G2": (0x11, fp64(fp) + fp64(fp // 3), 256, 1.0),
    }


def workloads() -> list[Workload]:
    found = [
        Workload("JUMPDEST/JUMP loop", call_workload(loop())),
        Workload("PUSH0 PUSH0 MSTORE loop", call_workload(loop("PUSH0", "PUSH0", "MSTORE"))),
        Workload("KECCAK256 of 32 KB", call_workload(loop(0x8000, "PUSH0", "KECCAK256", "POP"))),
        Workload("SSTORE to new slots", call_workload(loop(1, "GAS", "SSTORE"))),
        Workload("SLOAD of absent slots", call_workload(loop("GAS", "SLOAD", "POP"))),
        Workload(
            "SLOAD of 2,000 stored slots (witness-heavy)",
            call_workload(sload_slots(2_000), storage={i: i + 1 for i in range(1, 2_001)}),
        ),
        Workload(
            "CALL to an empty account",
            call_workload(
                loop("PUSH0", "PUSH0", "PUSH0", "PUSH0", "PUSH0", 0x99, "GAS", "CALL", "POP")
            ),
        ),
        Workload(
            "CREATE with empty init code",
            call_workload(loop("PUSH0", "PUSH0", "PUSH0", "CREATE", "POP")),
        ),
    ]
    for name, (address, data, size, scale) in precompile_inputs().items():
        build = call_workload(precompile_loop(address, size), data)
        found.append(Workload(f"precompile {name}", build, scale))
    found += [
        Workload("4,096 deposits", deposits),
        Workload("2,048 forced no-op transactions", forced_no_ops),
        Workload("256 empty blocks", empty_blocks),
        Workload("2^20 RLP items (decode only)", rlp_items),
        Workload("RLP nested 16 deep, 2^16 times (decode only)", rlp_nesting),
    ]
    return found + riscv_workloads() + wasm_workloads() + binary_workloads()


def sload_slots(count: int) -> bytes:
    """SLOAD of slots ``count`` down to 1, once each."""
    return asm(count, ("L", "top"), "DUP1", "SLOAD", "POP", 1, "SWAP1", "SUB", "DUP1",
               ("P", "top"), "JUMPI", "STOP")  # fmt: skip


def binary_workloads() -> list[Workload]:
    """The evm VM over the binary state model (EIP-7864), where the witness is stem and
    internal node records: slots 64 and up each open a stem of their own."""
    return [
        Workload(
            "binary: SLOAD of 2,000 stored slots (witness-heavy)",
            call_workload(
                sload_slots(2_000), storage={i: i + 1 for i in range(1, 2_001)}, state="binary"
            ),
            state="binary",
        ),
        Workload(
            "binary: SSTORE to new slots",
            call_workload(loop(1, "GAS", "SSTORE"), state="binary"),
            state="binary",
        ),
        Workload(
            "binary: SLOAD of absent slots",
            call_workload(loop("GAS", "SLOAD", "POP"), state="binary"),
            state="binary",
        ),
    ]


def timed(
    built: BuiltTrace, claim: int, vm: str = "evm", state: str = "mpt"
) -> tuple[float, object]:
    clear_decode_cache()  # as a verifier that never saw these transactions
    started = time.perf_counter()
    result = execute_detailed(
        built.pre_state_root, built.post_state_root, built.encoded, claim, vm=vm, state=state
    )
    return time.perf_counter() - started, result


def average(transactions: int) -> float:
    scenario = EvmScenario.create(wallets=WALLETS, gas_limit=60_000_000)
    built = scenario.chain.build(
        transactions=block_transactions(scenario, transactions), commit=False
    )
    seconds = min(timed(built, built.gas_used)[0] for _ in range(2))
    return seconds / (built.gas_used / 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mgas", type=float, default=1.0, help="L2 gas per workload, millions")
    parser.add_argument("--only", default="", help="run the workloads whose name contains this")
    parser.add_argument("--average-transactions", type=int, default=500)
    args = parser.parse_args()

    base = average(args.average_transactions)
    print(f"average: {args.average_transactions}-transaction block (ETH + ERC-20 transfers): "
          f"{base:.3f} s per claimed Mgas\n")  # fmt: skip
    print(f"{'workload':48} {'claimed Mgas':>12} {'EXECUTE s':>9} {'s/Mgas':>7} "
          f"{'vs avg':>7} {'claim 0':>8}")  # fmt: skip
    worst, zero_worst = 0.0, 0.0
    for workload in workloads():
        if args.only and args.only not in workload.name:
            continue
        built, should_hold = workload.build(int(args.mgas * workload.scale * 1e6))
        seconds, result = min(
            (timed(built, built.gas_used, workload.vm, workload.state) for _ in range(2)),
            key=lambda r: r[0],
        )
        assert bool(result) == should_hold, (workload.name, result)
        zero, refused = timed(built, 0, workload.vm, workload.state)
        assert not refused
        per = seconds / (built.gas_used / 1e6)
        worst, zero_worst = max(worst, per / base), max(zero_worst, zero)
        print(f"{workload.name:48} {built.gas_used / 1e6:12.2f} {seconds:9.2f} {per:7.3f} "
              f"{per / base:6.1f}x {zero * 1e3:6.2f}ms", flush=True)  # fmt: skip
    print(
        f"\nworst/average: {worst:.1f}x; slowest answer to a 0-gas claim: {zero_worst * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
