"""The ``riscv`` VM: RV32IM ELF contracts under Unicorn, on rollupkit's account model.

The example contracts are the committed ELFs of ``plugins/riscv/guest`` (the toolchain is not
needed to run these tests); hostile programs are assembled here (``rollupkit_riscv.testing``).
What every non-EVM VM shares is in ``test_guest_contracts.py``.
"""

from __future__ import annotations

import pytest
import test_guest_contracts as guest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollupkit.chain import DevChain
from rollupkit.execution import execute_detailed
from rollupkit.hostabi import HostFunction
from rollupkit.types import GenesisAccount
from rollupkit.wallets import Wallet, calldata, dev_wallets
from rollupkit_riscv.elf import LOAD_END, ElfError, load
from rollupkit_riscv.examples import example_elf
from rollupkit_riscv.machine import INSTRUCTION_GAS, MachinePool, native_meter
from rollupkit_riscv.testing import (
    A0,
    EBREAK,
    RA,
    T0,
    addi,
    code,
    host,
    jal,
    jalr,
    li,
    lui,
    lw,
    make_elf,
    sw,
)
from rollupkit_riscv.vm import RiscvVM

CHAIN_ID = 42_424


def new_chain() -> tuple[DevChain, list[Wallet]]:
    return guest.new_chain("riscv")


def call(chain: DevChain, to: bytes, data: bytes, gas: int = 1_000_000, vm: RiscvVM | None = None):  # type: ignore[no-untyped-def]
    """A read-only call, on ``vm`` (a RiscvVM with its own machine pool) or the chain's."""
    return (vm or chain.vm).call(
        chain.view(), chain_id=CHAIN_ID, parent_header=chain.headers[-1], sender=b"\x07" * 20,
        to=to, value=0, data=data, gas=gas,
    )  # fmt: skip


deploy, status = guest.deploy, guest.status


@pytest.mark.parametrize("native", [True, False], ids=["C meter", "Python meter"])
def test_gas_is_exact_per_instruction(native: bool) -> None:
    """A call that needs G gas succeeds with G and fails with G - 1, for both meters, and
    both meters count the same G (the Python one is the reference for the C one)."""
    if native and not native_meter():
        pytest.skip("the C meter is not built")
    chain, w = new_chain()
    (spin,) = deploy(chain, w[0], "spin")
    vm = RiscvVM()
    vm.pool = MachinePool(native=native)
    data = calldata("spin(uint256)", 10_000)
    free = call(chain, spin, data, gas=10_000_000, vm=vm)
    assert free.success
    needed = free.gas_used
    # 10,000 rounds of a xorshift are at least 60,000 instructions, and host calls are few.
    assert needed > 60_000 * INSTRUCTION_GAS
    assert call(chain, spin, data, gas=needed, vm=vm).output == free.output
    short = call(chain, spin, data, gas=needed - 1, vm=vm)
    assert not short.success and short.gas_used == needed - 1
    reference = RiscvVM()
    reference.pool = MachinePool(native=False)
    assert call(chain, spin, data, gas=10_000_000, vm=reference).gas_used == needed


def test_deterministic_gas_across_fresh_and_reused_machines() -> None:
    chain, w = new_chain()
    (token,) = deploy(chain, w[0], "token")
    data = calldata("balanceOf(address)", w[0].address)
    first = call(chain, token, data)  # a new machine
    again = call(chain, token, data)  # the same machine, reused
    assert first.gas_used == again.gas_used and first.output == again.output


# --- EXECUTE ----------------------------------------------------------------------------------


# --- hostile programs -------------------------------------------------------------------------

RETURN_NOTHING = host(HostFunction.RETURN, 0, 0)


def run_program(words: list[int], gas: int = 100_000, **elf: object):  # type: ignore[no-untyped-def]
    """Deploy a hand-made program at genesis (no deployment check) and call it."""
    program = make_elf(code(words), **elf)  # type: ignore[arg-type]
    address = b"\x99" * 20
    wallets = dev_wallets(1, CHAIN_ID)
    chain = DevChain(
        {address: GenesisAccount(code=program), wallets[0].address: GenesisAccount(balance=1)},
        chain_id=CHAIN_ID, vm="riscv",
    )  # fmt: skip
    return call(chain, address, b"", gas=gas)


def test_a_hand_made_program_runs() -> None:
    result = run_program([*host(HostFunction.STORAGE_STORE, 0x11000, 0x11000), *RETURN_NOTHING],
                         data=bytes(32))  # fmt: skip
    assert result.success, result.error


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ([*li(T0, 0x200000), sw(0, T0, 0), *RETURN_NOTHING], "store outside memory"),
        ([*li(T0, 0x200000), lw(A0, T0, 0), *RETURN_NOTHING], "load outside memory"),
        ([lui(T0, 0x10), sw(0, T0, 0), *RETURN_NOTHING], "store to read-only memory"),
        ([*li(T0, 0x10006), jalr(0, T0, 0), *RETURN_NOTHING], "not 4-byte aligned"),
        ([*li(T0, 0x11000), jalr(0, T0, 0), *RETURN_NOTHING], "jump to memory that is not code"),
        ([*host(HostFunction.STORAGE_LOAD, 0x200000, 0x11000)], "reads outside memory"),
        ([*host(HostFunction.STORAGE_LOAD, 0x11000, 0x10000)], "outside writable memory"),
        ([*host(HostFunction.CALLDATA_COPY, 0x11000, 0, 0x7FFF_FFFF)], "at most 1048576 bytes"),
        ([*host(HostFunction.CALLDATA_COPY, 0x11000, 0, 0x10_0000)], "out of gas"),
        ([*host(999)], "unknown host function 999"),
        ([*host(HostFunction.LOG, 0x11000, 5, 0x11000, 0)], "at most 4 topics"),
        ([*host(HostFunction.RETURNDATA_COPY, 0x11000, 0, 1)], "past the end"),
        ([EBREAK], "illegal instruction"),
        ([jalr(0, 0, 0)], "jump outside memory"),
        ([jal(RA, 0)], "out of gas"),  # a one-instruction infinite loop
    ],
    ids=[
        "store unmapped",
        "load unmapped",
        "store to code",
        "misaligned jump",
        "jump to data",
        "host read outside",
        "host write to code",
        "huge copy",
        "a copy past the gas",
        "unknown host function",
        "five topics",
        "return data overrun",
        "ebreak",
        "jump to 0",
        "tight loop",
    ],
)
def test_hostile_programs_fail_cleanly(words: list[int], reason: str) -> None:
    result = run_program(words, data=bytes(64))
    assert not result.success
    assert result.gas_used == 100_000  # an exceptional halt uses all the gas
    assert reason in result.error
    # ...and nothing leaks into the next call: a good program still runs.
    assert run_program(RETURN_NOTHING).success


def test_genesis_code_that_is_not_an_elf_fails_calls() -> None:
    address = b"\x99" * 20
    chain = DevChain({address: GenesisAccount(code=b"\x00" * 64)}, chain_id=CHAIN_ID, vm="riscv")
    result = call(chain, address, b"")
    assert not result.success and "bad magic" in result.error


# --- malformed ELFs ---------------------------------------------------------------------------

GOOD = make_elf(code(RETURN_NOTHING), data=bytes(8))


@pytest.mark.parametrize(
    ("elf", "reason"),
    [
        (b"\x7fEL", "truncated ELF"),
        (make_elf(code(RETURN_NOTHING), magic=b"\x7fELG"), "bad magic"),
        (make_elf(code(RETURN_NOTHING), ident_class=2), "not a 32-bit ELF"),
        (make_elf(code(RETURN_NOTHING), machine=62), "not a RISC-V ELF"),
        (make_elf(code(RETURN_NOTHING), e_type=3), "not a static executable"),
        (make_elf(code(RETURN_NOTHING), data=bytes(8), data_address=0x10010), "overlap"),
        (make_elf(code(RETURN_NOTHING), data_memsz=LOAD_END), "outside the load window"),
        (make_elf(code(RETURN_NOTHING), text_address=0x1000), "outside the load window"),
        (make_elf(code(RETURN_NOTHING), entry=0x11000, data=bytes(8)), "outside every executable"),
        (make_elf(code(RETURN_NOTHING), entry=0x10002), "not 4-byte aligned"),
        (GOOD[: len(GOOD) - 20], "past the end of the file"),
        (GOOD[:60], "program headers past the end"),
        (make_elf(code(RETURN_NOTHING), text_flags=7), "writable and executable"),
        (make_elf(code([*RETURN_NOTHING, 0x0505])), "compressed"),  # c.addi a0,1 + c.nop
        (make_elf(code([*RETURN_NOTHING, 0xC0002573])), "CSR"),  # rdcycle a0
        (make_elf(code([*RETURN_NOTHING, 0x00A57553])), "floating point"),  # fadd.s
        (make_elf(code([*RETURN_NOTHING, 0x0805252F])), "floating point, atomics"),  # amoswap
        (make_elf(code(RETURN_NOTHING) + b"\x13\x00"), "whole number of words"),
    ],
    ids=[
        "truncated header",
        "bad magic",
        "64-bit",
        "x86-64",
        "shared object",
        "overlapping segments",
        "huge segment",
        "below the window",
        "entry in data",
        "misaligned entry",
        "truncated segment",
        "truncated headers",
        "W+X",
        "compressed",
        "rdcycle",
        "float",
        "atomic",
        "ragged text",
    ],
)
def test_malformed_elves_are_refused_with_their_reason(elf: bytes, reason: str) -> None:
    with pytest.raises(ElfError, match=reason):
        load(elf)
    assert reason in (RiscvVM().check_code(elf) or "")


def test_a_malformed_elf_cannot_be_deployed() -> None:
    chain, w = new_chain()
    tx, address = w[0].create(make_elf(code(RETURN_NOTHING), machine=62), gas=3_000_000)
    built = chain.build(transactions=[tx])
    assert not status(built.results[0].receipts[0])
    assert chain.code(address) == b""
    assert RiscvVM().check_code(GOOD) is None
    assert addi(A0, A0, 1) == 0x00150513  # the test assembler encodes as the spec does


# --- the committed example builds -------------------------------------------------------------


def _toolchain() -> str | None:
    """Why the example ELFs cannot be rebuilt here (None: they can)."""
    import shutil
    import subprocess

    if not (shutil.which("clang") and shutil.which("ld.lld") and shutil.which("make")):
        return "clang, lld and make rebuild the examples (apt-get install clang lld)"
    version = subprocess.run(["clang", "--version"], capture_output=True, text=True).stdout
    if "version 14." not in version:
        return "the committed ELFs were built with clang 14; another clang emits other code"
    return None


@pytest.mark.skipif(_toolchain() is not None, reason=str(_toolchain()))
def test_committed_elves_match_their_sources() -> None:
    import subprocess
    from pathlib import Path

    guest = Path(__file__).resolve().parents[1] / "plugins" / "riscv" / "guest"
    done = subprocess.run(["make", "-s", "-C", str(guest), "check"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the committed ELFs match their sources" in done.stdout


def test_a_machine_reused_after_a_fault_runs_like_a_new_one() -> None:
    """The pool reuses a machine whose guest faulted: the next calls of the same contract
    behave (and cost) exactly as on a fresh machine."""
    from rollupkit_riscv.testing import beq

    faults_with_calldata = [
        *li(T0, 0x200000),
        *host(HostFunction.CALLDATA_SIZE),
        beq(A0, 0, 8),  # no call data: skip the store
        sw(0, T0, 0),  # a store outside memory
        *RETURN_NOTHING,
    ]
    address = b"\x99" * 20
    program = make_elf(code(faults_with_calldata))
    chain = DevChain({address: GenesisAccount(code=program)}, chain_id=CHAIN_ID, vm="riscv")
    fresh = RiscvVM()
    clean = call(chain, address, b"", vm=fresh)
    assert clean.success
    vm = RiscvVM()
    for _ in range(3):
        failed = call(chain, address, b"x", vm=vm)
        assert not failed.success and "store outside memory" in failed.error
        again = call(chain, address, b"", vm=vm)
        assert (again.success, again.gas_used) == (True, clean.gas_used)
    assert len(vm.pool._idle[load(program)]) == 1  # one machine served every call


# --- the ISA check against LLVM's assembler -------------------------------------------------

RV32IM = """
lui a0, 0x12345; auipc a1, 1; jal ra, 0; jalr zero, 4(ra)
beq a0, a1, 0; bne a0, a1, 0; blt a0, a1, 0; bge a0, a1, 0; bltu a0, a1, 0; bgeu a0, a1, 0
lb a0, -1(sp); lh a0, 2(sp); lw a0, 4(sp); lbu a0, 1(sp); lhu a0, 2(sp)
sb a0, -1(sp); sh a0, 2(sp); sw a0, 2047(sp)
addi a0, a1, -2048; slti a0, a1, 1; sltiu a0, a1, 1; xori a0, a1, -1; ori a0, a1, 1
andi a0, a1, 1; slli a0, a1, 31; srli a0, a1, 31; srai a0, a1, 31
add a0, a1, a2; sub a0, a1, a2; sll a0, a1, a2; slt a0, a1, a2; sltu a0, a1, a2
xor a0, a1, a2; srl a0, a1, a2; sra a0, a1, a2; or a0, a1, a2; and a0, a1, a2
fence rw, rw; fence; ecall; ebreak; unimp
mul a0, a1, a2; mulh a0, a1, a2; mulhsu a0, a1, a2; mulhu a0, a1, a2
div a0, a1, a2; divu a0, a1, a2; rem a0, a1, a2; remu a0, a1, a2
"""
NOT_RV32IM = """
fence.i; rdcycle a0; rdtime a0; rdinstret a0; csrrw a0, mstatus, a1; csrrsi a0, 0x300, 1
wfi; mret; sret; sfence.vma
lr.w a0, (a1); sc.w a0, a2, (a1); amoadd.w a0, a2, (a1); amoswap.w a0, a2, (a1)
flw fa0, 0(a0); fsw fa0, 0(a0); fadd.s fa0, fa1, fa2; fmv.x.w a0, fa0; fcvt.w.s a0, fa0
fld fa0, 0(a0); fadd.d fa0, fa1, fa2
"""


def _assemble(source: str, tmp: object) -> list[int]:
    """Words of ``source`` (``;``-separated, one instruction each) as LLVM encodes them."""
    import subprocess
    from pathlib import Path

    folder = Path(str(tmp))
    lines = [i.strip() for i in source.replace("\n", ";").split(";") if i.strip()]
    (folder / "a.s").write_text(".option norvc\n" + "\n".join(lines) + "\n")
    subprocess.run(["clang", "--target=riscv32-unknown-elf", "-march=rv32imafd",
                    "-c", str(folder / "a.s"), "-o", str(folder / "a.o")], check=True)  # fmt: skip
    subprocess.run(["llvm-objcopy", "-O", "binary", "--only-section=.text",
                    str(folder / "a.o"), str(folder / "a.bin")], check=True)  # fmt: skip
    raw = (folder / "a.bin").read_bytes()
    assert len(raw) == 4 * len(lines), (len(raw), len(lines))
    return [int.from_bytes(raw[i : i + 4], "little") for i in range(0, len(raw), 4)]


@pytest.mark.skipif(_toolchain() is not None, reason=str(_toolchain()))
def test_the_isa_check_agrees_with_llvm(tmp_path: object) -> None:
    """Every RV32IM instruction LLVM encodes passes the deployment check; every instruction of
    the extensions Unicorn would also run (CSR, privileged, fence.i, A, F, D) is refused."""
    from rollupkit_riscv.isa import why_invalid

    for word in _assemble(RV32IM, tmp_path):
        assert why_invalid(word) is None, hex(word)
    refused = _assemble(NOT_RV32IM, tmp_path)
    assert all(why_invalid(word) is not None for word in refused), [
        hex(w) for w in refused if why_invalid(w) is None
    ]


# --- fuzzing the loader -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_loader_refuses_mutated_elves_with_an_elf_error(data: st.DataObject) -> None:
    """Byte flips, truncations and random headers of a real contract: the loader answers with
    a Program or an ElfError, never another exception; check_code never raises."""
    original = example_elf("counter")
    elf = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, 52 + 32 * 4))  # the headers, where meaning is
        elf[position] = data.draw(st.integers(0, 255))
    elf = elf[: data.draw(st.integers(0, len(elf)))]
    try:
        program = load(bytes(elf))
    except ElfError as exc:
        assert str(exc)
    else:
        assert program.segments and all(s.size > 0 for s in program.segments)
    assert RiscvVM().check_code(bytes(elf)) in (None, *[str(e) for e in _refusal(bytes(elf))])


def _refusal(elf: bytes) -> list[ElfError]:
    try:
        load(elf)
    except ElfError as exc:
        return [exc]
    return []


def test_execute_charges_setting_up_each_witness_program() -> None:
    """EXECUTE gas counts MACHINE_GAS for each ELF of the witness (an emulator to set up): the
    same trace claimed without it is refused."""
    from rollupkit_riscv.vm import MACHINE_GAS

    wallets = dev_wallets(1, CHAIN_ID)
    counter = example_elf("counter")
    target = b"\x99" * 20
    chain = DevChain({target: GenesisAccount(code=counter, nonce=1),
                      wallets[0].address: GenesisAccount(balance=10**24)},
                     chain_id=CHAIN_ID, vm="riscv")  # fmt: skip
    built = chain.build(transactions=[
        wallets[0].sign(to=target, data=calldata("increment()"), gas=100_000)
    ])  # fmt: skip
    pre, post, trace, gas = built.execute_args()
    assert built.trace.witness.codes == (counter,)
    assert execute_detailed(pre, post, trace, gas, vm="riscv")
    assert not execute_detailed(pre, post, trace, gas - MACHINE_GAS, vm="riscv")
