"""Hand-made RV32 programs and ELF files, for tests and benchmarks of the riscv VM: a few
instruction encoders, and an ELF writer with a knob for every field the loader checks (so
malformed files can be made on purpose)."""

from __future__ import annotations

import struct

ZERO, RA, SP, T0, T1 = 0, 1, 2, 5, 6
A0, A1, A2, A3, A4, A7 = 10, 11, 12, 13, 14, 17
ECALL = 0x0000_0073
EBREAK = 0x0010_0073


def i_type(opcode: int, funct3: int, rd: int, rs1: int, imm: int) -> int:
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode


def addi(rd: int, rs1: int, imm: int) -> int:
    return i_type(0x13, 0, rd, rs1, imm)


def lw(rd: int, rs1: int, imm: int) -> int:
    return i_type(0x03, 2, rd, rs1, imm)


def lbu(rd: int, rs1: int, imm: int) -> int:
    return i_type(0x03, 4, rd, rs1, imm)


def sb(rs2: int, rs1: int, imm: int) -> int:
    imm &= 0xFFF
    return ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | ((imm & 31) << 7) | 0x23


def jalr(rd: int, rs1: int, imm: int) -> int:
    return i_type(0x67, 0, rd, rs1, imm)


def sw(rs2: int, rs1: int, imm: int) -> int:
    imm &= 0xFFF
    return ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) | ((imm & 31) << 7) | 0x23


def beq(rs1: int, rs2: int, offset: int) -> int:
    o = offset & 0x1FFF
    imm = (((o >> 12) & 1) << 31) | (((o >> 5) & 0x3F) << 25) | (((o >> 1) & 0xF) << 8)
    return imm | (((o >> 11) & 1) << 7) | (rs2 << 20) | (rs1 << 15) | 0x63


def lui(rd: int, upper: int) -> int:
    return (upper << 12) | (rd << 7) | 0x37


def jal(rd: int, offset: int) -> int:
    o = offset & 0x1FFFFF
    imm = (((o >> 20) & 1) << 31) | (((o >> 1) & 0x3FF) << 21) | (((o >> 11) & 1) << 20)
    return imm | (((o >> 12) & 0xFF) << 12) | (rd << 7) | 0x6F


def li(rd: int, value: int) -> list[int]:
    """Load a 32-bit constant (lui + addi)."""
    upper, lower = (value + 0x800) >> 12, value & 0xFFF
    lower = lower - 0x1000 if lower >= 0x800 else lower
    return [lui(rd, upper & 0xFFFFF), addi(rd, rd, lower)]


def host(function: int, *args: int) -> list[int]:
    """Call host function ``function`` with constant arguments."""
    words = []
    for register, value in zip((A0, A1, A2, A3, A4), args, strict=False):
        words += li(register, value)
    return [*words, *li(A7, function), ECALL]


def code(words: list[int]) -> bytes:
    return b"".join(w.to_bytes(4, "little") for w in words)


def make_elf(
    text: bytes,
    *,
    data: bytes = b"",
    text_address: int = 0x10000,
    data_address: int = 0x11000,
    entry: int | None = None,
    text_flags: int = 5,  # R+X
    data_flags: int = 6,  # R+W
    data_memsz: int | None = None,
    ident_class: int = 1,
    machine: int = 243,
    e_type: int = 2,
    magic: bytes = b"\x7fELF",
) -> bytes:
    """A static ELF32 executable: ``text`` (and ``data``) as PT_LOAD segments."""
    segments = [(text_address, text, text_flags, len(text))]
    if data or data_memsz:
        segments.append((data_address, data, data_flags, data_memsz or len(data)))
    header_size, ph_size = 52, 32
    offset = header_size + ph_size * len(segments)
    phdrs, body = b"", b""
    for address, content, flags, memsz in segments:
        phdrs += struct.pack("<IIIIIIII", 1, offset + len(body), address, address, len(content),
                             memsz, flags, 4)  # fmt: skip
        body += content
    ident = magic + bytes([ident_class, 1, 1]) + bytes(9)
    header = struct.pack("<16sHHIIIIIHHHHHH", ident, e_type, machine, 1,
                         text_address if entry is None else entry, header_size, 0, 0,
                         header_size, ph_size, len(segments), 40, 0, 0)  # fmt: skip
    return header + phdrs + body
