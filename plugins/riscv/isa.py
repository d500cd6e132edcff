"""Which 4-byte words are RV32IM instructions this VM runs.

Unicorn emulates a richer CPU (compressed, atomic and floating-point instructions, control
and status registers). A contract may use only RV32IM, so every word of its executable
segments is checked at deployment (and whenever code is loaded): together with 4-byte aligned
control flow, checked while it runs, no other instruction can execute. That matters for more
than tidiness: the counter CSRs (``rdcycle``, ``rdtime``) read the host's clock, which would
make execution non-deterministic.

Allowed besides RV32I and M: ``fence`` (a no-op here), and ``ecall``, ``ebreak`` and ``unimp``
(the last two, and any illegal instruction, end the call as failed).
"""

from __future__ import annotations

ECALL, EBREAK, UNIMP = 0x0000_0073, 0x0010_0073, 0xC000_1073

_LOAD, _STORE, _BRANCH = 0x03, 0x23, 0x63
_OP_IMM, _OP, _SYSTEM, _MISC_MEM = 0x13, 0x33, 0x73, 0x0F
_LUI, _AUIPC, _JAL, _JALR = 0x37, 0x17, 0x6F, 0x67


def why_invalid(word: int) -> str | None:
    """Why ``word`` is not an RV32IM instruction this VM runs (None: it is one)."""
    if word & 3 != 3:
        return "compressed instructions are not RV32IM"
    opcode, funct3, funct7 = word & 0x7F, (word >> 12) & 7, word >> 25
    if opcode in (_LUI, _AUIPC, _JAL):
        return None
    if opcode == _JALR:
        return None if funct3 == 0 else "bad JALR"
    if opcode == _BRANCH:
        return None if funct3 not in (2, 3) else "bad branch"
    if opcode == _LOAD:
        return None if funct3 in (0, 1, 2, 4, 5) else "bad load"
    if opcode == _STORE:
        return None if funct3 in (0, 1, 2) else "bad store"
    if opcode == _OP_IMM:
        if funct3 == 1:
            return None if funct7 == 0 else "bad shift"
        if funct3 == 5:
            return None if funct7 in (0, 0x20) else "bad shift"
        return None
    if opcode == _OP:
        if funct7 in (0, 1) or (funct7 == 0x20 and funct3 in (0, 5)):
            return None
        return "not an RV32IM register operation"
    if opcode == _MISC_MEM:
        return None if funct3 == 0 else "only FENCE (no FENCE.I)"
    if opcode == _SYSTEM:
        return None if word in (ECALL, EBREAK, UNIMP) else "CSR and privileged instructions"
    return "an opcode outside RV32IM (floating point, atomics, vector, ...)"


def invalid_instruction(text: bytes) -> tuple[int, int, str] | None:
    """The first (offset, word, reason) in ``text`` that is not an RV32IM instruction."""
    if len(text) % 4:
        return len(text) - len(text) % 4, 0, "the segment is not a whole number of words"
    for offset in range(0, len(text), 4):
        word = int.from_bytes(text[offset : offset + 4], "little")
        reason = why_invalid(word)
        if reason is not None:
            return offset, word, reason
    return None
