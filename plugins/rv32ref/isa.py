"""RV32IM, decoded once into Python closures.

:func:`decode` turns one 32-bit word into an :class:`Instruction`: a closure over its operands
(registers, immediate, and the instruction's own address, which is fixed because code is never
writable). Straight-line instructions are ``run(r, memory)``; instructions that end a block
(branches, jumps, ``ecall``, and those that always fail) are ``run(r, memory) -> next pc``.

``r`` is the register file: a list of 33 unsigned 32-bit integers. ``r[0]`` is ``x0`` and is
never written: an instruction whose destination is ``x0`` writes ``r[32]`` instead, which
nothing reads, so no instruction needs a special case for it.

The instructions a contract may contain are RV32I, M, ``fence`` (a no-op: one hart, no I/O),
``ecall``, ``ebreak`` and ``unimp`` (the last two fail the call): :func:`why_invalid` says why
any other word is refused. That set is the riscv VM's rule (its ``isa`` module): anything more
would be a different chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MASK = 0xFFFF_FFFF
SIGN = 0x8000_0000
INT_MIN = -(1 << 31)  # as a signed value
X0_SINK = 32  # where writes to x0 go
REGISTERS = 33

ECALL, EBREAK, UNIMP = 0x0000_0073, 0x0010_0073, 0xC000_1073

LUI, AUIPC, JAL, JALR, BRANCH = 0x37, 0x17, 0x6F, 0x67, 0x63
LOAD, STORE, OP_IMM, OP, MISC_MEM, SYSTEM = 0x03, 0x23, 0x13, 0x33, 0x0F, 0x73


class GuestFailed(Exception):
    """The guest did something that fails its call (the message says what)."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """A decoded instruction: ``run`` (see the module docstring), its mnemonic, and whether it
    ends a block (it decides the next pc, or is ``ecall``, which the interpreter handles)."""

    run: Callable[..., Any]
    name: str
    ends_block: bool = False
    is_ecall: bool = False


def signed(value: int) -> int:
    """An unsigned 32-bit value read as two's complement."""
    return value - ((value & SIGN) << 1)


def _sign_extend(value: int, bits: int) -> int:
    top = 1 << (bits - 1)
    return (value & (top - 1)) - (value & top)


# --- field extraction -------------------------------------------------------------------------


def _imm_i(word: int) -> int:
    return _sign_extend(word >> 20, 12)


def _imm_s(word: int) -> int:
    return _sign_extend(((word >> 25) << 5) | ((word >> 7) & 0x1F), 12)


def _imm_b(word: int) -> int:
    value = (((word >> 31) & 1) << 12) | (((word >> 7) & 1) << 11)
    value |= (((word >> 25) & 0x3F) << 5) | (((word >> 8) & 0xF) << 1)
    return _sign_extend(value, 13)


def _imm_j(word: int) -> int:
    value = (((word >> 31) & 1) << 20) | (((word >> 12) & 0xFF) << 12)
    value |= (((word >> 20) & 1) << 11) | (((word >> 21) & 0x3FF) << 1)
    return _sign_extend(value, 21)


# --- validity ---------------------------------------------------------------------------------


def why_invalid(word: int) -> str | None:
    """Why ``word`` is not an instruction a contract may contain (None: it is one)."""
    if word & 3 != 3:
        return "compressed instructions are not RV32IM"
    opcode, funct3, funct7 = word & 0x7F, (word >> 12) & 7, word >> 25
    if opcode in (LUI, AUIPC, JAL):
        return None
    if opcode == JALR:
        return None if funct3 == 0 else "bad JALR"
    if opcode == BRANCH:
        return "bad branch" if funct3 in (2, 3) else None
    if opcode == LOAD:
        return None if funct3 in (0, 1, 2, 4, 5) else "bad load"
    if opcode == STORE:
        return None if funct3 in (0, 1, 2) else "bad store"
    if opcode == OP_IMM:
        # Shift amounts are 5 bits on RV32: the bits above them must be 0 (or SRAI's 0x20).
        if (funct3 == 1 and funct7 != 0) or (funct3 == 5 and funct7 not in (0, 0x20)):
            return "bad shift"
        return None
    if opcode == OP:
        if funct7 in (0, 1) or (funct7 == 0x20 and funct3 in (0, 5)):
            return None
        return "not an RV32IM register operation"
    if opcode == MISC_MEM:
        return None if funct3 == 0 else "only FENCE (no FENCE.I)"
    if opcode == SYSTEM:
        return None if word in (ECALL, EBREAK, UNIMP) else "CSR and privileged instructions"
    return "an opcode outside RV32IM (floating point, atomics, vector, ...)"


# --- decoding ---------------------------------------------------------------------------------


def decode(word: int, pc: int) -> Instruction:
    """The instruction ``word`` at address ``pc``. A word :func:`why_invalid` refuses (only
    reachable as the zero padding of a code page) decodes to an instruction that fails."""
    if why_invalid(word) is not None:
        return _failing("illegal instruction", word)
    opcode = word & 0x7F
    rd = (word >> 7) & 0x1F or X0_SINK
    rs1, rs2 = (word >> 15) & 0x1F, (word >> 20) & 0x1F
    funct3, funct7 = (word >> 12) & 7, word >> 25
    if opcode == LUI:
        return _constant(rd, word & 0xFFFF_F000, "lui")
    if opcode == AUIPC:
        return _constant(rd, (pc + (word & 0xFFFF_F000)) & MASK, "auipc")
    if opcode == JAL:
        return _jal(rd, pc, (pc + _imm_j(word)) & MASK)
    if opcode == JALR:
        return _jalr(rd, rs1, _imm_i(word), pc)
    if opcode == BRANCH:
        return _branch(funct3, rs1, rs2, pc, (pc + _imm_b(word)) & MASK)
    if opcode == LOAD:
        return _load(funct3, rd, rs1, _imm_i(word))
    if opcode == STORE:
        return _store(funct3, rs1, rs2, _imm_s(word))
    if opcode == OP_IMM:
        return _op_imm(funct3, funct7, rd, rs1, _imm_i(word))
    if opcode == OP:
        return _op(funct7, funct3, rd, rs1, rs2)
    if opcode == MISC_MEM:
        return Instruction(_nothing, "fence")
    if word == ECALL:
        return Instruction(_nothing, "ecall", ends_block=True, is_ecall=True)
    return _failing("ebreak" if word == EBREAK else "illegal instruction (unimp)", word)


def _nothing(r: list[int], memory: Any) -> None:
    pass


def _failing(what: str, word: int) -> Instruction:
    def run(r: list[int], memory: Any) -> int:
        raise GuestFailed(f"{what} (0x{word:08x})")

    return Instruction(run, what, ends_block=True)


def _constant(rd: int, value: int, name: str) -> Instruction:
    def run(r: list[int], memory: Any) -> None:
        r[rd] = value

    return Instruction(run, name)


# --- jumps and branches -----------------------------------------------------------------------


def _jal(rd: int, pc: int, target: int) -> Instruction:
    link = (pc + 4) & MASK

    def run(r: list[int], memory: Any) -> int:
        r[rd] = link
        return target

    return Instruction(run, "jal", ends_block=True)


def _jalr(rd: int, rs1: int, imm: int, pc: int) -> Instruction:
    link = (pc + 4) & MASK

    def run(r: list[int], memory: Any) -> int:
        target = (r[rs1] + imm) & 0xFFFF_FFFE  # read before the link: rd may be rs1
        r[rd] = link
        return target

    return Instruction(run, "jalr", ends_block=True)


def _branch(funct3: int, rs1: int, rs2: int, pc: int, target: int) -> Instruction:
    # One closure per condition: branches close most blocks, a call fewer is worth the lines.
    fallthrough = (pc + 4) & MASK
    if funct3 == 0:

        def run(r: list[int], memory: Any) -> int:
            return target if r[rs1] == r[rs2] else fallthrough
    elif funct3 == 1:

        def run(r: list[int], memory: Any) -> int:
            return target if r[rs1] != r[rs2] else fallthrough
    elif funct3 == 4:

        def run(r: list[int], memory: Any) -> int:
            # Flipping the sign bits orders two's complement values as unsigned ones.
            return target if (r[rs1] ^ SIGN) < (r[rs2] ^ SIGN) else fallthrough
    elif funct3 == 5:

        def run(r: list[int], memory: Any) -> int:
            return target if (r[rs1] ^ SIGN) >= (r[rs2] ^ SIGN) else fallthrough
    elif funct3 == 6:

        def run(r: list[int], memory: Any) -> int:
            return target if r[rs1] < r[rs2] else fallthrough
    else:

        def run(r: list[int], memory: Any) -> int:
            return target if r[rs1] >= r[rs2] else fallthrough

    name = {0: "beq", 1: "bne", 4: "blt", 5: "bge", 6: "bltu", 7: "bgeu"}[funct3]
    return Instruction(run, name, ends_block=True)


# --- memory -----------------------------------------------------------------------------------

_LOADS = {0: ("lb", 1, True), 1: ("lh", 2, True), 2: ("lw", 4, False), 4: ("lbu", 1, False),
          5: ("lhu", 2, False)}  # fmt: skip
_STORES = {0: ("sb", 1), 1: ("sh", 2), 2: ("sw", 4)}


def _load(funct3: int, rd: int, rs1: int, imm: int) -> Instruction:
    name, size, sign = _LOADS[funct3]
    top = 1 << (8 * size - 1)

    if sign:

        def run(r: list[int], memory: Any) -> None:
            value = memory.load((r[rs1] + imm) & MASK, size)
            r[rd] = (value - ((value & top) << 1)) & MASK
    else:

        def run(r: list[int], memory: Any) -> None:
            r[rd] = memory.load((r[rs1] + imm) & MASK, size)

    return Instruction(run, name)


def _store(funct3: int, rs1: int, rs2: int, imm: int) -> Instruction:
    name, size = _STORES[funct3]
    keep = (1 << (8 * size)) - 1

    def run(r: list[int], memory: Any) -> None:
        memory.store((r[rs1] + imm) & MASK, size, r[rs2] & keep)

    return Instruction(run, name)


# --- arithmetic -------------------------------------------------------------------------------


def _div(a: int, b: int) -> int:
    if b == 0:
        return MASK
    x, y = signed(a), signed(b)
    if x == INT_MIN and y == -1:  # the one overflow: INT_MIN / -1 is INT_MIN
        return a
    quotient = abs(x) // abs(y)  # RISC-V rounds toward zero; // rounds down
    return (-quotient if (x < 0) != (y < 0) else quotient) & MASK


def _rem(a: int, b: int) -> int:
    if b == 0:
        return a
    x, y = signed(a), signed(b)
    remainder = abs(x) % abs(y)  # the sign follows the dividend
    return (-remainder if x < 0 else remainder) & MASK


#: Register-register operations by (funct7, funct3): f(rs1 value, rs2 value) -> rd value.
_REGISTER_OPS: dict[tuple[int, int], tuple[str, Callable[[int, int], int]]] = {
    (0x00, 0): ("add", lambda a, b: (a + b) & MASK),
    (0x20, 0): ("sub", lambda a, b: (a - b) & MASK),
    (0x00, 1): ("sll", lambda a, b: (a << (b & 31)) & MASK),
    (0x00, 2): ("slt", lambda a, b: int(signed(a) < signed(b))),
    (0x00, 3): ("sltu", lambda a, b: int(a < b)),
    (0x00, 4): ("xor", lambda a, b: a ^ b),
    (0x00, 5): ("srl", lambda a, b: a >> (b & 31)),
    (0x20, 5): ("sra", lambda a, b: (signed(a) >> (b & 31)) & MASK),
    (0x00, 6): ("or", lambda a, b: a | b),
    (0x00, 7): ("and", lambda a, b: a & b),
    (0x01, 0): ("mul", lambda a, b: (a * b) & MASK),
    (0x01, 1): ("mulh", lambda a, b: ((signed(a) * signed(b)) >> 32) & MASK),
    (0x01, 2): ("mulhsu", lambda a, b: ((signed(a) * b) >> 32) & MASK),
    (0x01, 3): ("mulhu", lambda a, b: (a * b) >> 32),
    (0x01, 4): ("div", _div),
    (0x01, 5): ("divu", lambda a, b: a // b if b else MASK),
    (0x01, 6): ("rem", _rem),
    (0x01, 7): ("remu", lambda a, b: a % b if b else a),
}


def _op(funct7: int, funct3: int, rd: int, rs1: int, rs2: int) -> Instruction:
    name, operation = _REGISTER_OPS[(funct7, funct3)]
    # The commonest operations of compiled code get closures of their own (a call fewer).
    if name == "add":

        def run(r: list[int], memory: Any) -> None:
            r[rd] = (r[rs1] + r[rs2]) & MASK
    elif name == "sub":

        def run(r: list[int], memory: Any) -> None:
            r[rd] = (r[rs1] - r[rs2]) & MASK
    elif name == "or":

        def run(r: list[int], memory: Any) -> None:
            r[rd] = r[rs1] | r[rs2]
    elif name == "xor":

        def run(r: list[int], memory: Any) -> None:
            r[rd] = r[rs1] ^ r[rs2]
    elif name == "and":

        def run(r: list[int], memory: Any) -> None:
            r[rd] = r[rs1] & r[rs2]
    else:

        def run(r: list[int], memory: Any) -> None:
            r[rd] = operation(r[rs1], r[rs2])

    return Instruction(run, name)


def _op_imm(funct3: int, funct7: int, rd: int, rs1: int, imm: int) -> Instruction:
    if funct3 == 1:
        return _shift_imm("slli", rd, rs1, imm & 31)
    if funct3 == 5:
        return _shift_imm("srai" if funct7 == 0x20 else "srli", rd, rs1, imm & 31)
    if funct3 == 0:

        def run(r: list[int], memory: Any) -> None:
            r[rd] = (r[rs1] + imm) & MASK

        return Instruction(run, "addi")
    operand = imm & MASK  # the immediate, sign-extended to 32 bits
    name, operation = {
        2: ("slti", lambda a: int(signed(a) < imm)),
        3: ("sltiu", lambda a: int(a < operand)),
        4: ("xori", lambda a: a ^ operand),
        6: ("ori", lambda a: a | operand),
        7: ("andi", lambda a: a & operand),
    }[funct3]

    def run_operation(r: list[int], memory: Any) -> None:
        r[rd] = operation(r[rs1])

    return Instruction(run_operation, name)


def _shift_imm(name: str, rd: int, rs1: int, amount: int) -> Instruction:
    if name == "slli":

        def run(r: list[int], memory: Any) -> None:
            r[rd] = (r[rs1] << amount) & MASK
    elif name == "srli":

        def run(r: list[int], memory: Any) -> None:
            r[rd] = r[rs1] >> amount
    else:

        def run(r: list[int], memory: Any) -> None:
            r[rd] = (signed(r[rs1]) >> amount) & MASK

    return Instruction(run, name)
