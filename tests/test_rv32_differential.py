"""The riscv VM's two clients, Unicorn (``rollupkit_riscv``) and the pure-Python reference
interpreter (``rollupkit_rv32ref``), must compute the same chain.

Three layers: the contract format and the instruction set (every word, every malformed ELF the
loader fuzz makes); single instructions on hand-assembled programs, with the RISC-V spec's
answers for the edge cases (division by zero, overflow, the high halves of products, shift
amounts, sign extension, misaligned and unmapped memory, odd jump targets) and random
straight-line programs; and random blocks of transactions on a chain (creates, calls that
revert or run out of gas, storage writes of zero, value transfers, deposits), built by each
client and verified by EXECUTE under each. Whenever they disagree, one client is wrong.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from eth_hash.auto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollupkit.accountvm import BlockContext, Frame, Outcome, StateOverlay, call_intrinsic_gas
from rollupkit.block import calldata_floor
from rollupkit.chain import DevChain
from rollupkit.execution import execute_detailed
from rollupkit.hostabi import HostFunction
from rollupkit.types import GenesisAccount
from rollupkit.wallets import Wallet, calldata, contract_address, dev_wallets
from rollupkit_riscv import elf as unicorn_elf
from rollupkit_riscv import isa as unicorn_isa
from rollupkit_riscv import machine as unicorn_machine
from rollupkit_riscv import vm as unicorn_vm
from rollupkit_riscv.examples import EXAMPLES, example_elf
from rollupkit_riscv.testing import (
    A0,
    A1,
    EBREAK,
    ECALL,
    RA,
    SP,
    T0,
    T1,
    code,
    host,
    i_type,
    jal,
    jalr,
    li,
    lui,
    make_elf,
    sw,
)
from rollupkit_riscv.vm import RiscvVM
from rollupkit_rv32ref import elf as reference_elf
from rollupkit_rv32ref import interpreter as reference_interpreter
from rollupkit_rv32ref import isa as reference_isa
from rollupkit_rv32ref.vm import MACHINE_GAS, Rv32RefVM

CHAIN_ID = 42_424
UNICORN, REFERENCE = RiscvVM(), Rv32RefVM()
T6 = 31
INT_MIN, INT_MAX, MASK = 0x8000_0000, 0x7FFF_FFFF, 0xFFFF_FFFF


# --- an assembler for the instructions rollupkit_riscv.testing has no encoder for ------------


def r_type(funct7: int, funct3: int, rd: int, rs1: int, rs2: int) -> int:
    return (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | 0x33


def op_imm(funct3: int, rd: int, rs1: int, imm: int) -> int:
    return i_type(0x13, funct3, rd, rs1, imm)


def load(funct3: int, rd: int, rs1: int, imm: int) -> int:
    return i_type(0x03, funct3, rd, rs1, imm)


def store(funct3: int, rs2: int, rs1: int, imm: int) -> int:
    imm &= 0xFFF
    fields = (rs2 << 20) | (rs1 << 15) | (funct3 << 12)
    return ((imm >> 5) << 25) | fields | ((imm & 31) << 7) | 0x23


def branch(funct3: int, rs1: int, rs2: int, offset: int) -> int:
    o = offset & 0x1FFF
    imm = (((o >> 12) & 1) << 31) | (((o >> 5) & 0x3F) << 25) | (((o >> 1) & 0xF) << 8)
    return imm | (((o >> 11) & 1) << 7) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | 0x63


def auipc(rd: int, upper: int) -> int:
    return (upper << 12) | (rd << 7) | 0x17


REGISTER_OPS = {
    "add": (0, 0), "sub": (0x20, 0), "sll": (0, 1), "slt": (0, 2), "sltu": (0, 3),
    "xor": (0, 4), "srl": (0, 5), "sra": (0x20, 5), "or": (0, 6), "and": (0, 7),
    "mul": (1, 0), "mulh": (1, 1), "mulhsu": (1, 2), "mulhu": (1, 3),
    "div": (1, 4), "divu": (1, 5), "rem": (1, 6), "remu": (1, 7),
}  # fmt: skip
IMMEDIATE_OPS = {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}
SHIFT_IMMEDIATE = {"slli": (1, 0), "srli": (5, 0), "srai": (5, 0x400)}
LOADS = {"lb": 0, "lh": 1, "lw": 2, "lbu": 4, "lhu": 5}
STORES = {"sb": 0, "sh": 1, "sw": 2}
BRANCHES = {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}


# --- running a program on both clients --------------------------------------------------------


class _NoAccounts:
    """A state with nothing in it: a program that only computes needs no chain."""

    def get_account(self, address: bytes) -> None:
        return None

    def get_storage(self, address: bytes, slot: int) -> int:
        return 0

    def get_code(self, address: bytes) -> bytes:
        return b""


BLOCK = BlockContext(CHAIN_ID, 7, 1_700_000_000, b"\x0c" * 20, 30_000_000, 0, bytes(32))


def run_on(vm: RiscvVM | Rv32RefVM, elf: bytes, data: bytes, gas: int) -> Outcome:
    frame = Frame(vm, StateOverlay(_NoAccounts()), BLOCK, b"\x01" * 20, b"\x02" * 20,  # type: ignore[arg-type]
                  b"\x03" * 20, 0, data, elf, gas)  # fmt: skip
    return vm.run_code(frame)


def consensus(outcome: Outcome) -> tuple[object, ...]:
    """What a chain keeps of an outcome (the error's wording is the client's own)."""
    return outcome.success, outcome.gas_used, outcome.output, outcome.logs, outcome.reverted


def both(elf: bytes, data: bytes = b"", gas: int = 1_000_000) -> Outcome:
    """Run ``elf`` on both clients; they must agree. Returns the reference's outcome."""
    unicorn, reference = run_on(UNICORN, elf, data, gas), run_on(REFERENCE, elf, data, gas)
    assert consensus(unicorn) == consensus(reference), (unicorn.error, reference.error)
    return reference


DUMP = 0x11000  # the registers land here (x1 at DUMP + 4 ...); DUMP + 128... is scratch memory
SCRATCH = DUMP + 128
DUMPED = range(1, 31)  # t6 (x31) addresses the dump


def with_dump(words: Sequence[int]) -> bytes:
    """An ELF that runs ``words``, then returns its registers x1..x30 and scratch memory."""
    dump = [lui(T6, DUMP >> 12), *(sw(x, T6, 4 * x) for x in DUMPED)]
    text = code([*words, *dump, *host(HostFunction.RETURN, DUMP, 256)])
    return make_elf(text, data_address=DUMP, data=bytes(8), data_memsz=0x2000)


def registers(words: Sequence[int], gas: int = 1_000_000) -> dict[int, int]:
    """x1..x30 after ``words``, on both clients (which must agree, and succeed)."""
    outcome = both(with_dump(words), gas=gas)
    assert outcome.success, outcome.error
    return {x: int.from_bytes(outcome.output[4 * x : 4 * x + 4], "little") for x in DUMPED}


def scratch(words: Sequence[int]) -> bytes:
    """The 128 bytes of scratch memory after ``words``, on both clients."""
    outcome = both(with_dump(words))
    assert outcome.success, outcome.error
    return outcome.output[128:]


def fails(words: Sequence[int], *, gas: int = 100_000, **elf: object) -> None:
    """``words`` fail on both clients, using all the gas."""
    program = make_elf(code(list(words)), data=bytes(8), **elf)  # type: ignore[arg-type]
    outcome = both(program, gas=gas)
    assert (outcome.success, outcome.gas_used) == (False, gas)


# --- the contract format and the instruction set ----------------------------------------------


def test_the_clients_share_the_chain_constants() -> None:
    assert reference_interpreter.INSTRUCTION_GAS == unicorn_machine.INSTRUCTION_GAS
    assert MACHINE_GAS == unicorn_vm.MACHINE_GAS
    for code_ in (example_elf("token"), b"", b"junk"):
        assert REFERENCE.witness_code_gas(code_) == UNICORN.witness_code_gas(code_)
    for name in ("PAGE", "LOAD_START", "LOAD_END", "STACK_SIZE", "STACK_TOP", "MAX_SEGMENTS"):
        assert getattr(reference_elf, name) == getattr(unicorn_elf, name), name
    assert (REFERENCE.implements, REFERENCE.client, UNICORN.client) == ("riscv", "rv32ref",
                                                                        "unicorn")  # fmt: skip


def test_both_clients_accept_the_same_words() -> None:
    """Every opcode, funct3 and funct7 (with two register patterns), and the system words."""
    words = [ECALL, EBREAK, 0xC000_1073, 0xC000_2573, 0x0000_100F, 0, MASK]
    for opcode in range(128):
        for funct3 in range(8):
            for funct7 in range(128):
                base = (funct7 << 25) | (funct3 << 12) | opcode
                words += [base | (5 << 20) | (6 << 15) | (7 << 7), base | 0x01F0_0F80]
    for word in words:
        assert (reference_isa.why_invalid(word) is None) == (
            unicorn_isa.why_invalid(word) is None
        ), hex(word)


@settings(max_examples=2000, deadline=None)
@given(st.integers(0, MASK))
def test_both_clients_accept_the_same_random_words(word: int) -> None:
    assert (reference_isa.why_invalid(word) is None) == (unicorn_isa.why_invalid(word) is None)


RETURN_NOTHING = host(HostFunction.RETURN, 0, 0)
GOOD = make_elf(code(RETURN_NOTHING), data=bytes(8))
MALFORMED = [
    b"\x7fEL",
    make_elf(code(RETURN_NOTHING), magic=b"\x7fELG"),
    make_elf(code(RETURN_NOTHING), ident_class=2),
    make_elf(code(RETURN_NOTHING), machine=62),
    make_elf(code(RETURN_NOTHING), e_type=3),
    make_elf(code(RETURN_NOTHING), data=bytes(8), data_address=0x10010),
    make_elf(code(RETURN_NOTHING), data_memsz=unicorn_elf.LOAD_END),
    make_elf(code(RETURN_NOTHING), text_address=0x1000),
    make_elf(code(RETURN_NOTHING), entry=0x11000, data=bytes(8)),
    make_elf(code(RETURN_NOTHING), entry=0x10002),
    make_elf(code(RETURN_NOTHING), entry=0x10000 + 4 * len(RETURN_NOTHING)),
    GOOD[: len(GOOD) - 20],
    GOOD[:60],
    make_elf(code(RETURN_NOTHING), text_flags=7),
    make_elf(code([*RETURN_NOTHING, 0x0505])),
    make_elf(code([*RETURN_NOTHING, 0xC0002573])),
    make_elf(code([*RETURN_NOTHING, 0x00A57553])),
    make_elf(code(RETURN_NOTHING) + b"\x13\x00"),
    make_elf(code(RETURN_NOTHING), text_address=0x10002),
]


ELVES = [(GOOD, True), *((elf, False) for elf in MALFORMED),
         *((example_elf(name), True) for name in EXAMPLES)]  # fmt: skip


@pytest.mark.parametrize(("elf", "good"), ELVES)
def test_both_clients_refuse_the_same_elves(elf: bytes, good: bool) -> None:
    assert (REFERENCE.check_code(elf) is None) == (UNICORN.check_code(elf) is None) == good


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_both_clients_refuse_the_same_mutated_elves(data: st.DataObject) -> None:
    """Byte flips in the headers and truncations of the example contracts (as the riscv
    loader's own fuzz test makes them): accepted by both clients, or refused by both."""
    elf = bytearray(example_elf(data.draw(st.sampled_from(EXAMPLES))))
    for _ in range(data.draw(st.integers(1, 8))):
        elf[data.draw(st.integers(0, 52 + 32 * 4))] = data.draw(st.integers(0, 255))
    elf = elf[: data.draw(st.integers(0, len(elf)))]
    assert (REFERENCE.check_code(bytes(elf)) is None) == (UNICORN.check_code(bytes(elf)) is None)


# --- single instructions ----------------------------------------------------------------------

EDGES = [0, 1, 2, 7, 31, 33, MASK, MASK - 1, (-7) & MASK, INT_MIN, INT_MAX, INT_MIN + 1,
         0x1234_5678, 0xFFFF_0000]  # fmt: skip
PAIRS = [(a, b) for a in EDGES for b in EDGES]
FIRST_RESULT = 7  # results go to x7.., the operands are in t0 (x5) and t1 (x6)
PER_PROGRAM = 30 - FIRST_RESULT + 1


def _chunks(items: list, size: int) -> list[list]:  # type: ignore[type-arg]
    return [items[i : i + size] for i in range(0, len(items), size)]


@pytest.mark.parametrize("name", REGISTER_OPS)
def test_register_operations_on_edge_values(name: str) -> None:
    """Every pair of edge values through every register-register operation (shift amounts
    over 31 included: only their low 5 bits count)."""
    funct7, funct3 = REGISTER_OPS[name]
    for chunk in _chunks(PAIRS, PER_PROGRAM):
        words = []
        for i, (a, b) in enumerate(chunk):
            words += [*li(T0, a), *li(T1, b), r_type(funct7, funct3, FIRST_RESULT + i, T0, T1)]
        registers(words)


# The RISC-V spec's answers (volume I, "M" chapter, table of division corner cases).
SPEC_ANSWERS = [
    ("div", 7, 0, MASK), ("divu", 7, 0, MASK), ("rem", 7, 0, 7), ("remu", 7, 0, 7),
    ("div", INT_MIN, MASK, INT_MIN), ("rem", INT_MIN, MASK, 0),
    ("div", (-7) & MASK, 2, (-3) & MASK), ("rem", (-7) & MASK, 2, (-1) & MASK),
    ("div", 7, (-2) & MASK, (-3) & MASK), ("rem", 7, (-2) & MASK, 1),
    ("divu", MASK, 2, INT_MAX), ("remu", MASK, 2, 1),
    ("mul", MASK, MASK, 1), ("mulh", INT_MIN, INT_MIN, 0x4000_0000),
    ("mulhu", MASK, MASK, MASK - 1), ("mulhsu", MASK, MASK, MASK), ("mulh", MASK, 2, MASK),
    ("mulhsu", 2, MASK, 1), ("mulhu", INT_MIN, 2, 1),
    ("sll", 1, 33, 2), ("srl", INT_MIN, 63, 1), ("sra", INT_MIN, 35, 0xF000_0000),
    ("sra", INT_MAX, 30, 1), ("slt", MASK, 0, 1), ("sltu", MASK, 0, 0), ("sub", 0, 1, MASK),
    ("add", MASK, 1, 0),
]  # fmt: skip


@pytest.mark.parametrize(("name", "a", "b", "answer"), SPEC_ANSWERS)
def test_register_operations_give_the_spec_answers(name: str, a: int, b: int, answer: int) -> None:
    funct7, funct3 = REGISTER_OPS[name]
    assert registers([*li(T0, a), *li(T1, b), r_type(funct7, funct3, 7, T0, T1)])[7] == answer


IMMEDIATES = [0, 1, -1, 5, -2048, 2047, 0x7F0, -0x800 + 1]


@pytest.mark.parametrize("name", [*IMMEDIATE_OPS, *SHIFT_IMMEDIATE])
def test_immediate_operations_on_edge_values(name: str) -> None:
    if name in SHIFT_IMMEDIATE:
        funct3, high = SHIFT_IMMEDIATE[name]
        cases = [(a, high | amount) for a in EDGES for amount in (0, 1, 5, 31)]
    else:
        funct3 = IMMEDIATE_OPS[name]
        cases = [(a, imm) for a in EDGES for imm in IMMEDIATES]
    for chunk in _chunks(cases, PER_PROGRAM):
        words = []
        for i, (a, imm) in enumerate(chunk):
            words += [*li(T0, a), op_imm(funct3, FIRST_RESULT + i, T0, imm)]
        registers(words)
    if name == "sltiu":  # the immediate is sign-extended, then compared unsigned
        assert registers([*li(T0, MASK - 1), op_imm(3, 7, T0, -1)])[7] == 1
    if name == "srai":
        assert registers([*li(T0, INT_MIN), op_imm(5, 7, T0, 0x400 | 31)])[7] == MASK


def test_upper_immediates_and_x0() -> None:
    got = registers([lui(7, 0xFFFFF), auipc(8, 0), auipc(9, 0xFFFFF), op_imm(0, 0, 0, 5),
                     r_type(0, 0, 10, 0, 0), lui(0, 0x12345), r_type(0, 0, 11, 0, 0),
                     0x0FF0_000F])  # fence: a no-op  # fmt: skip
    assert got[7] == 0xFFFF_F000
    assert got[8] == 0x10004 and got[9] == (0x10008 + 0xFFFF_F000) & MASK
    assert got[10] == got[11] == 0  # x0 stays zero whatever is written to it


def test_the_initial_registers() -> None:
    got = registers([])
    assert got[SP] == 0x10_0000 and all(v == 0 for x, v in got.items() if x != SP)


@pytest.mark.parametrize("name", LOADS)
def test_loads_extend_each_width_at_every_offset(name: str) -> None:
    words = [*li(T0, SCRATCH), *li(T1, 0x80FF_7F80), sw(T1, T0, 0), *li(T1, 0x0180_8001),
             sw(T1, T0, 4)]  # fmt: skip
    for offset in range(8):  # misaligned offsets included: both clients allow them
        words.append(load(LOADS[name], FIRST_RESULT + offset, T0, offset))
    got = registers(words)
    if name == "lb":
        assert got[7] == 0xFFFF_FF80 and got[8] == 0x7F
    if name == "lhu":
        assert got[7] == 0x7F80 and got[10] == 0x0180


@pytest.mark.parametrize("name", STORES)
def test_stores_write_each_width_at_every_offset(name: str) -> None:
    words = [*li(T0, SCRATCH), *li(T1, 0x8899_AABB)]
    for offset in range(0, 40, 5):  # misaligned offsets included
        words.append(store(STORES[name], T1, T0, offset))
    memory = scratch(words)
    width = {"sb": 1, "sh": 2, "sw": 4}[name]
    assert memory[:width] == (0x8899_AABB).to_bytes(4, "little")[:width]


@pytest.mark.parametrize("name", BRANCHES)
def test_branches_taken_and_not(name: str) -> None:
    """Each pair: x(7+i) is 1 if the branch was taken, 2 if not."""
    seen = set()
    for chunk in _chunks(PAIRS, PER_PROGRAM):
        words = []
        for i, (a, b) in enumerate(chunk):
            rd = FIRST_RESULT + i
            words += [*li(T0, a), *li(T1, b), op_imm(0, rd, 0, 1),
                      branch(BRANCHES[name], T0, T1, 8), op_imm(0, rd, 0, 2)]  # fmt: skip
        got = registers(words)
        seen |= {got[FIRST_RESULT + i] for i in range(len(chunk))}
    assert seen == {1, 2}  # taken, and not taken
    taken = registers([*li(T0, MASK), *li(T1, 1), op_imm(0, 7, 0, 1),
                       branch(BRANCHES[name], T0, T1, 8), op_imm(0, 7, 0, 2)])[7] == 1  # fmt: skip
    assert taken == (name in ("bne", "blt", "bgeu"))  # -1 against 1, signed and unsigned


def test_jumps_link_and_clear_bit_zero() -> None:
    got = registers([
        jal(RA, 8), op_imm(0, 7, 0, 1),  # skipped
        *li(T0, 0x10000 + 4 * 6 + 1),  # an odd target: bit 0 is cleared
        jalr(T0, T0, 0),  # rd == rs1: the target is read before the link is written
        op_imm(0, 8, 0, 1),  # skipped
        op_imm(0, 9, 0, 1),
        jal(0, 4),
    ])  # fmt: skip
    assert got[RA] == 0x10004 and got[7] == 0 and got[8] == 0 and got[9] == 1
    assert got[T0] == 0x10000 + 4 * 5  # the link


@pytest.mark.parametrize(
    "words",
    [
        [*li(T0, 0x10006), jalr(0, T0, 0)],  # a misaligned target (bit 1)
        [*li(T0, 0x10007), jalr(0, T0, 0)],  # odd: bit 0 cleared, still misaligned
        [jal(0, 6)],
        [branch(0, 0, 0, 6)],
        [*li(T0, 0x11000), jalr(0, T0, 0)],  # into data
        [*li(T0, 0x10800), jalr(0, T0, 0)],  # into the code page's zero padding
        [jalr(0, 0, 0)],
        [*li(T0, 0x20_0000), jalr(0, T0, 0)],
        [jal(RA, 0)],  # an infinite loop
        [EBREAK],
        [0xC000_1073],  # unimp
        [*li(T0, 0x20_0000), sw(0, T0, 0)],
        [*li(T0, 0x20_0000), load(2, A0, T0, 0)],
        [*li(T0, 0x10000), sw(0, T0, 0)],  # code is read-only
        [*li(T0, 0x11000), store(0, 0, T0, 0)],  # so is a read-only data segment
        [*li(T0, 0xF_FFFE), load(2, A0, T0, 0)],  # past the stack's top
        [*li(T0, 0xF_FFFE), store(1, 0, T0, 1)],
        [*li(T0, 0xE_FFFF), store(0, 0, T0, 0)],  # below the stack
        [*li(T0, 0xE_FFFE), store(2, 0, T0, 0)],  # half below it
        [*li(T0, MASK), load(0, A0, T0, 1)],  # the address wraps to 0
        [*host(999)],
        [*host(HostFunction.LOG, 0x11000, 5, 0x11000, 0)],
        [*host(HostFunction.RETURNDATA_COPY, 0x11000, 0, 1)],
        [*host(HostFunction.STORAGE_LOAD, 0x20_0000, 0x11000)],
        [*host(HostFunction.STORAGE_LOAD, 0x11000, 0x10000)],
        [*host(HostFunction.CALLDATA_COPY, 0x11000, 0, 0x7FFF_FFFF)],
        [*host(HostFunction.CALLDATA_COPY, 0xF_FFF0, 0, 32)],
        [*host(HostFunction.KECCAK256, 0xF_FFF0, 32, 0xF_F000)],
        [*host(HostFunction.RETURN, 0x7_F000, 4)],
        [*host(HostFunction.REVERT, 0xF_FFFF, 2)],
        [*host(HostFunction.CALLDATA_COPY, 0x10010, 0, 0)],  # nothing, but into code
    ],
)
def test_faults_fail_the_call_on_both_clients(words: list[int]) -> None:
    fails(words, data_flags=4, data_address=0x11000)  # a read-only data segment


def _elf(segments: Sequence[tuple[int, bytes, int, int]], entry: int = 0x10000) -> bytes:
    """An ELF of (address, data, flags, memory size) segments."""
    headers, body = b"", b""
    offset = 52 + 32 * len(segments)
    for address, data, flags, size in segments:
        headers += struct.pack("<8I", 1, offset + len(body), address, address, len(data), size,
                               flags, 4)  # fmt: skip
        body += data
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    header = struct.pack("<16sHHIIIIIHHHHHH", ident, 2, 243, 1, entry, 52, 0, 0, 52, 32,
                         len(segments), 40, 0, 0)  # fmt: skip
    return header + headers + body


def _three_regions(words: Sequence[int]) -> bytes:
    """Code, then writable data at 0x11000 and 0x12000: two regions that touch."""
    text = code([*words, *RETURN_NOTHING])
    return _elf([(0x10000, text, 5, len(text)), (0x11000, b"\x01" * 16, 6, 0x1000),
                 (0x12000, b"\x02" * 16, 6, 0x1000)])  # fmt: skip


@pytest.mark.parametrize(
    ("words", "success"),
    [
        ([*li(T0, 0x11FFE), store(2, T0, T0, 0), load(2, A0, T0, 0)], True),  # across regions
        ([*li(T0, 0x10FFE), load(2, A0, T0, 0)], True),  # from code into data
        ([*li(T0, 0x10FFE), store(1, 0, T0, 1)], False),  # into code, from its last byte
        ([*li(T0, 0x12FFE), store(2, 0, T0, 0)], False),  # out of the data, into nothing
        ([*host(HostFunction.KECCAK256, 0x11FF0, 32, 0x11000)], True),  # a host read across
        ([*host(HostFunction.CALLDATA_COPY, 0x11FF0, 0, 32)], False),  # a host write across
        ([*host(HostFunction.CALLDATA_COPY, 0x11FF0, 0, 16)], True),
        ([*host(HostFunction.CALLDATA_COPY, 0x12000, 0, 0)], True),  # nothing, at the seam
        # Nothing, at the end of the code, which is the start of the data: the host looks for
        # the first region holding the range, the read-only code's, so the call fails.
        ([*host(HostFunction.CALLDATA_COPY, 0x11000, 0, 0)], False),
        ([*host(HostFunction.CALLDATA_COPY, 0x20_0000, 0, 0)], True),  # nothing, nowhere
        ([*host(HostFunction.KECCAK256, 0x20_0000, 0, 0x11000)], True),
    ],
)
def test_memory_regions_that_touch(words: list[int], success: bool) -> None:
    outcome = both(_three_regions(words), data=b"\x05" * 32, gas=100_000)
    assert outcome.success == success, outcome.error


NOP = op_imm(0, 0, 0, 0)


@pytest.mark.parametrize("filled", [True, False])
def test_code_in_two_segments_and_an_entry_point_inside(filled: bool) -> None:
    """Code that runs off the end of its page into a second code segment (or, when the first
    does not fill its page, into the zero padding: an illegal instruction)."""
    first = code([NOP] * (1024 if filled else 1000))
    second = code([*host(HostFunction.GAS_LEFT), *li(T0, 0x12000), sw(A0, T0, 0),
                   *host(HostFunction.RETURN, 0x12000, 4)])  # fmt: skip
    elf = _elf([(0x10000, first, 5, len(first)), (0x11000, second, 5, len(second)),
                (0x12000, b"", 6, 0x1000)], entry=0x10000 + 4 * 7)  # fmt: skip
    outcome = both(elf, gas=100_000)
    assert outcome.success == filled


def test_gas_left_and_the_exact_out_of_gas_point() -> None:
    """GAS_LEFT sees the same count on both; with one gas less than a call needs, both fail."""
    words = [*host(HostFunction.GAS_LEFT), *li(T0, SCRATCH), sw(A0, T0, 0), sw(A1, T0, 4)]
    elf = with_dump(words)
    needed = both(elf, gas=10**6).gas_used
    assert both(elf, gas=needed).success
    assert not both(elf, gas=needed - 1).success
    spin = example_elf("spin")
    data = calldata("spin(uint256)", 300)
    needed = both(spin, data, gas=10**7).gas_used
    for gas in range(needed - 40, needed + 1):
        assert both(spin, data, gas=gas).success == (gas == needed)


# --- random straight-line programs ------------------------------------------------------------

BASE = 8  # x8 points into the scratch memory, x9 into the stack: loads and stores use them


@st.composite
def straight_line_instruction(draw: st.DrawFn) -> int:
    kind = draw(st.sampled_from(["register", "immediate", "shift", "upper", "load", "store",
                                 "branch"]))  # fmt: skip
    reg = st.integers(1, 30).filter(lambda x: x not in (BASE, BASE + 1))
    rd, rs1, rs2 = draw(reg), draw(st.integers(0, 31)), draw(st.integers(0, 31))
    if kind == "register":
        return r_type(*draw(st.sampled_from(list(REGISTER_OPS.values()))), rd, rs1, rs2)
    if kind == "immediate":
        return op_imm(draw(st.sampled_from(list(IMMEDIATE_OPS.values()))), rd, rs1,
                      draw(st.integers(-2048, 2047)))  # fmt: skip
    if kind == "shift":
        funct3, high = draw(st.sampled_from(list(SHIFT_IMMEDIATE.values())))
        return op_imm(funct3, rd, rs1, high | draw(st.integers(0, 31)))
    if kind == "upper":
        return draw(st.sampled_from([lui, auipc]))(rd, draw(st.integers(0, 0xFFFFF)))
    base = draw(st.sampled_from([BASE, BASE + 1]))
    offset = draw(st.integers(-8, 130))
    if kind == "load":
        return load(draw(st.sampled_from(list(LOADS.values()))), rd, base, offset)
    if kind == "store":
        return store(draw(st.sampled_from(list(STORES.values()))), rs2, base, offset)
    # A forward branch over at most two instructions: no loops.
    return branch(draw(st.sampled_from(list(BRANCHES.values()))), rs1, rs2,
                  draw(st.sampled_from([4, 8, 12])))  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, MASK), min_size=30, max_size=30),
    st.lists(straight_line_instruction(), min_size=1, max_size=60),
    st.one_of(st.just(10**6), st.integers(150, 350)),  # about what such a program needs
)
def test_random_programs_agree(start: list[int], words: list[int], gas: int) -> None:
    """Random registers, then random instructions (memory ones around two pointers, near
    the edges of mapped memory); sometimes with too little gas."""
    setup = [word for x, value in zip(DUMPED, start, strict=True) for word in li(x, value)]
    setup += [*li(BASE, SCRATCH - 4), *li(BASE + 1, 0x10_0000 - 128)]
    both(with_dump(setup + words), gas=gas)


# --- random blocks on a chain -----------------------------------------------------------------

ADDRESS = {name: bytes([0xC0 + i]) * 20 for i, name in enumerate(EXAMPLES)}
STORE = b"\xd0" * 20  # a hand-made contract: stores (key, value) from its call data
NOT_AN_ELF = b"\xd1" * 20  # code placed at genesis that is not a contract: every call fails
BUFFER = 0x11000
STORE_PROGRAM = [
    *host(HostFunction.CALLDATA_COPY, BUFFER, 0, 64),
    *host(HostFunction.STORAGE_STORE, BUFFER, BUFFER + 32),
    *host(HostFunction.STORAGE_LOAD, BUFFER, BUFFER + 64),
    *host(HostFunction.LOG, BUFFER, 1, BUFFER + 32, 32),
    *host(HostFunction.GAS_LEFT), *li(T0, BUFFER + 96), sw(A0, T0, 0), sw(A1, T0, 4),
    *host(HostFunction.BALANCE, BUFFER + 64 + 12, BUFFER + 128),  # the value's low 20 bytes
    *host(HostFunction.TRANSFER, BUFFER + 12, BUFFER + 32),  # the value, to the key's address
    *host(HostFunction.RETURN, BUFFER + 64, 128),
]  # fmt: skip
STORE_ELF = make_elf(code(STORE_PROGRAM), data_address=BUFFER, data=bytes(8), data_memsz=0x1000)
TOKEN_SUPPLY = 10**6


def balance_slot(owner: bytes) -> int:
    """The token's slot of ``owner``'s balance (Solidity's layout of a mapping at slot 1)."""
    return int.from_bytes(keccak(owner.rjust(32, b"\0") + (1).to_bytes(32, "big")), "big")


def genesis(wallets: list[Wallet]) -> dict[bytes, GenesisAccount]:
    """Funded wallets, the example contracts (the token already handed out), the store
    contract, and an account whose code is not a contract."""
    alloc = {w.address: GenesisAccount(balance=10**24) for w in wallets}
    for name, address in ADDRESS.items():
        alloc[address] = GenesisAccount(code=example_elf(name), nonce=1)
    held = {balance_slot(w.address): TOKEN_SUPPLY // len(wallets) for w in wallets}
    alloc[ADDRESS["token"]] = GenesisAccount(code=example_elf("token"), nonce=1,
                                             storage={0: TOKEN_SUPPLY, **held})  # fmt: skip
    alloc[STORE] = GenesisAccount(code=STORE_ELF, nonce=1, balance=10**18, storage={1: 5, 2: 6})
    alloc[NOT_AN_ELF] = GenesisAccount(code=b"\x7fELF" + bytes(60), nonce=1)
    return alloc


@dataclass
class Chains:
    """The same chain twice: built by the Unicorn client and by the reference client."""

    unicorn: DevChain
    reference: DevChain
    wallets: list[Wallet]
    created: list[bytes]  # addresses of the contracts transactions create (maybe not yet)

    @classmethod
    def new(cls) -> Chains:
        wallets = dev_wallets(4, CHAIN_ID)
        alloc = genesis(wallets)
        unicorn = DevChain(alloc, chain_id=CHAIN_ID, vm="riscv")
        reference = DevChain(alloc, chain_id=CHAIN_ID, vm="riscv")
        # DevChain builds with the registered VM by name; a client is swapped in (genesis is
        # AccountVM's, the same for both).
        reference.vm = Rv32RefVM()
        return cls(unicorn, reference, wallets, [])

    def deposit(self, message: dict[str, object]) -> None:
        for chain in (self.unicorn, self.reference):
            chain.deposit(**message)  # type: ignore[arg-type]


MALFORMED_CODE = [
    make_elf(code([*RETURN_NOTHING, 0x0505])),  # a compressed instruction
    b"\x7fELF",
    example_elf("counter")[:900],
]
CALLS = {
    "counter": ["increment()", "count()", "fail()", "nothing()"],
    "caller": ["callIncrement(address)", "tryFail(address)", "lastStatus()", "fresh()",
               "callIncrement(address)", "depth()"],
    "token": ["transfer(address,uint256)", "balanceOf(address)", "totalSupply()",
              "initialize(uint256)"],
    "spin": ["spin(uint256)"],
}  # fmt: skip
NOBODY = b"\xee" * 20
Call = tuple[bytes | None, int, bytes]  # (to, value, data)


def _create(draw: st.DrawFn, chains: Chains, wallet: Wallet) -> Call:
    """Deploy an example contract, the store contract, or code the loader refuses."""
    elf = draw(st.sampled_from([*map(example_elf, EXAMPLES), STORE_ELF, *MALFORMED_CODE]))
    chains.created.append(contract_address(wallet.address, wallet.nonce))
    return None, draw(st.sampled_from([0, 5])), elf


def _value(draw: st.DrawFn, chains: Chains, wallet: Wallet) -> Call:
    """Value to a wallet, a contract (its code runs), or an account that may not exist."""
    to = draw(st.sampled_from([*(w.address for w in chains.wallets), STORE, ADDRESS["counter"],
                               NOBODY, draw(st.binary(min_size=20, max_size=20))]))  # fmt: skip
    return to, draw(st.integers(0, 10**18)), b""


def _store(draw: st.DrawFn, chains: Chains, wallet: Wallet) -> Call:
    """A store contract call: a few keys, values that include zero (a delete), call data cut
    short (zeros are read past its end), sometimes value (which it passes on)."""
    to = draw(st.sampled_from([STORE, *chains.created[-2:]]))
    key = draw(st.sampled_from([0, 1, 2, int.from_bytes(wallet.address, "big")]))
    value = draw(st.sampled_from([0, 1, 7, 2**256 - 1]))
    data = key.to_bytes(32, "big") + value.to_bytes(32, "big")
    return to, draw(st.sampled_from([0, 0, 3])), data[: draw(st.sampled_from([64, 64, 52, 32]))]


def _junk(draw: st.DrawFn, chains: Chains, wallet: Wallet) -> Call:
    """Random call data (unknown selectors, short arguments), or a call to code that is not a
    contract."""
    to = draw(st.sampled_from([*ADDRESS.values(), NOT_AN_ELF]))
    return to, 0, draw(st.binary(max_size=40))


def _example_call(draw: st.DrawFn, chains: Chains, wallet: Wallet) -> Call:
    """A function of an example contract, with arguments that make it do something."""
    name = draw(st.sampled_from(list(CALLS)))
    signature = draw(st.sampled_from(CALLS[name]))
    if signature.endswith("(address)"):
        targets = [ADDRESS["counter"], ADDRESS["token"], ADDRESS["spin"], NOBODY]
        data = calldata(signature, draw(st.sampled_from(targets)))
    elif signature == "spin(uint256)":  # 2**256 - 1 never ends: out of gas
        data = calldata(signature, draw(st.sampled_from([0, 1, 50, 400, 2**256 - 1])))
    elif signature == "initialize(uint256)":  # reverts: the token was made at genesis
        data = calldata(signature, draw(st.integers(0, 10)))
    elif signature == "transfer(address,uint256)":
        to = draw(st.sampled_from([w.address for w in chains.wallets]))
        held = chains.unicorn.storage(ADDRESS["token"], balance_slot(wallet.address))
        # All of it (its slot is written to zero), a little, nothing, or too much (reverts).
        data = calldata(signature, to, draw(st.sampled_from([held, held, 1, 0, held + 1])))
    else:
        data = calldata(signature)
    return ADDRESS[name], 0, data


KINDS = [_example_call, _example_call, _example_call, _store, _store, _create, _value, _junk]


@dataclass(frozen=True)
class _Data:  # what calldata_floor reads of a transaction
    data: bytes


@st.composite
def transaction(draw: st.DrawFn, chains: Chains) -> bytes:
    """A signed transaction of a random kind, with plenty of gas or with little (from its
    intrinsic gas up: out of gas anywhere in its code, or short of a creation's deposit)."""
    wallet = draw(st.sampled_from(chains.wallets))
    to, value, data = draw(st.sampled_from(KINDS))(draw, chains, wallet)
    least = max(call_intrinsic_gas(data, create=to is None), calldata_floor(_Data(data)))
    # Plenty, but not so much that a call that never ends (spin forever) takes long in Python.
    plenty = 4_000_000 if to is None else 300_000
    gas = draw(st.one_of(st.just(plenty), st.integers(least, least + 60_000)))
    tx_type = draw(st.sampled_from([0, 1, 2]))
    return wallet.sign(to=to, value=value, data=data, gas=gas, tx_type=tx_type)


@st.composite
def deposit(draw: st.DrawFn) -> dict[str, object]:
    """An L1 deposit: value to an account, or a call with a gas limit."""
    target = draw(st.sampled_from([*ADDRESS.values(), STORE, NOBODY]))
    data = draw(st.sampled_from([b"", calldata("increment()"), bytes(31) + b"\x09" * 33,
                                 calldata("spin(uint256)", 2**256 - 1)]))  # fmt: skip
    return {"target": target, "value": draw(st.integers(0, 10**17)), "data": data,
            "sender": draw(st.binary(min_size=20, max_size=20)),
            "gas_limit": draw(st.sampled_from([0, 30_000, 100_000, 250_000]))}  # fmt: skip


BLOCKS_PER_TRACE = 2
TRACES_PER_EXAMPLE = 2
DIFFERENTIAL_EXAMPLES = 150  # of 4 blocks each: 600 blocks a run


@settings(max_examples=DIFFERENTIAL_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(data=st.data())
def test_random_blocks_agree_on_both_clients(data: st.DataObject) -> None:
    """Both clients build the same blocks (state roots, receipts, L2 and EXECUTE gas, the
    trace itself), and EXECUTE accepts the honest trace under each, with the same outputs."""
    chains = Chains.new()
    for _trace in range(TRACES_PER_EXAMPLE):
        blocks = []
        for _block in range(BLOCKS_PER_TRACE):
            if data.draw(st.integers(0, 3)) == 0:
                chains.deposit(data.draw(deposit()))
            count = data.draw(st.integers(0, 6))
            blocks.append([data.draw(transaction(chains)) for _ in range(count)])
        unicorn = chains.unicorn.build([chains.unicorn.template(txs) for txs in blocks])
        reference = chains.reference.build([chains.reference.template(txs) for txs in blocks])
        assert reference.results == unicorn.results
        assert reference.encoded == unicorn.encoded
        assert reference.execute_args() == unicorn.execute_args()
        verdicts = [execute_detailed(*unicorn.execute_args(), vm="riscv", client=client)
                    for client in (None, "rv32ref")]  # fmt: skip
        assert all(verdicts), [v.detail for v in verdicts]
        assert verdicts[0].outputs == verdicts[1].outputs == unicorn.outputs


def test_read_only_calls_with_a_deadline_agree() -> None:
    """A read-only call's meter stops the guest every 100,000 gas to look at the clock: the
    guest goes on, on both clients, and the count stays exact."""
    chains = Chains.new()
    data = calldata("spin(uint256)", 40_000)  # some 400,000 instructions
    results = []
    for chain in (chains.unicorn, chains.reference):
        for timeout in (None, 60.0):
            result = chain.vm.call(chain.view(), chain_id=CHAIN_ID, parent_header=chain.headers[-1],
                                   sender=b"\x07" * 20, to=ADDRESS["spin"], value=0, data=data,
                                   gas=5_000_000, timeout=timeout)  # fmt: skip
            results.append((result.success, result.output, result.gas_used))
    assert results[0][0] and results[0][2] > 400_000
    assert results.count(results[0]) == 4


def test_wrong_claims_are_refused_by_both() -> None:
    """A claim short of the gas (so that the meter stops execution part way), one gas over,
    and a wrong post-state root: both clients refuse each, for the same reason."""
    chains = Chains.new()
    w = chains.wallets
    built = chains.unicorn.build(transactions=[
        w[0].sign(to=ADDRESS["spin"], data=calldata("spin(uint256)", 5_000), gas=1_000_000),
        w[1].sign(to=ADDRESS["caller"], gas=500_000,
                  data=calldata("callIncrement(address)", ADDRESS["counter"])),
    ])  # fmt: skip
    pre, post, trace, gas = built.execute_args()
    for claim in ((pre, post, trace, gas - 30_000), (pre, post, trace, gas - 1),
                  (pre, post, trace, gas + 1), (pre, pre, trace, gas)):  # fmt: skip
        verdicts = [execute_detailed(*claim, vm="riscv", client=client)
                    for client in (None, "rv32ref")]  # fmt: skip
        assert not any(verdicts)
        assert verdicts[0].reason == verdicts[1].reason
