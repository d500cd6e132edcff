"""The contract format of the riscv VM, read independently of its Unicorn client.

A contract is an ``ET_EXEC`` ELF32 little-endian file for ``EM_RISCV`` (not RV32E) with at most
:data:`MAX_SEGMENTS` program headers. Its non-empty ``PT_LOAD`` segments lie in
[:data:`LOAD_START`, :data:`LOAD_END`), are never both writable and executable, and no two
share a page; an executable segment is 4-byte aligned, holds all its bytes in the file, and
every word of it passes :func:`rollupkit_rv32ref.isa.why_invalid`; the entry point is 4-byte
aligned inside an executable segment. ``PT_DYNAMIC`` or ``PT_INTERP`` refuse the file; other
program headers are ignored.

These rules are the riscv VM's (its ``elf`` module and ``guest/README.md``): they decide which
code can be deployed, so they are part of the chain, and a second client must apply the same
ones. Only the reasons' wording may differ.
"""

from __future__ import annotations

import functools
import itertools
import struct
from dataclasses import dataclass

from rollupkit_rv32ref.isa import why_invalid

PAGE = 0x1000
LOAD_START, LOAD_END = 0x0001_0000, 0x0008_0000
STACK_SIZE, STACK_TOP = 0x0001_0000, 0x0010_0000
MAX_SEGMENTS = 16

READ, WRITE, EXECUTE = 4, 2, 1  # the ELF's p_flags bits
_HEADER = struct.Struct("<4sBB10xHHIIIIIHHHHHH")
_PROGRAM_HEADER = struct.Struct("<8I")
_PT_LOAD, _PT_DYNAMIC, _PT_INTERP = 1, 2, 3
_ET_EXEC, _EM_RISCV, _EF_RVE = 2, 243, 0x8


class ElfError(ValueError):
    """The code is not a contract the riscv VM runs: the message says why."""


@dataclass(frozen=True)
class Segment:
    """``data`` at ``address``, zero-filled to ``size`` bytes; ``flags`` are READ/WRITE/EXECUTE.
    It occupies the whole pages [``first_page``, ``end_page``) (page addresses)."""

    address: int
    size: int
    data: bytes
    flags: int

    @property
    def first_page(self) -> int:
        return self.address & ~(PAGE - 1)

    @property
    def end_page(self) -> int:
        return (self.address + self.size + PAGE - 1) & ~(PAGE - 1)


@dataclass(frozen=True)
class Program:
    """A contract that passed every rule: its entry point and segments, by address."""

    entry: int
    segments: tuple[Segment, ...]


@functools.lru_cache(maxsize=256)
def parse(code: bytes) -> Program:
    """The :class:`Program` of ``code``, or :class:`ElfError` naming the first rule it breaks.
    Cached by content: a contract is checked when deployed and every time it runs."""
    if len(code) < _HEADER.size:
        raise ElfError(f"truncated ELF: {len(code)} bytes, shorter than an ELF header")
    (magic, elf_class, data_encoding, e_type, machine, version, entry, phoff, _shoff, flags,
     _ehsize, phentsize, phnum, *_sections) = _HEADER.unpack_from(code)  # fmt: skip
    if magic != b"\x7fELF":
        raise ElfError("not an ELF file (bad magic)")
    if elf_class != 1:
        raise ElfError("not a 32-bit ELF")
    if data_encoding != 1:
        raise ElfError("not a little-endian ELF")
    if machine != _EM_RISCV:
        raise ElfError(f"not a RISC-V ELF (e_machine {machine})")
    if e_type != _ET_EXEC or version != 1:
        raise ElfError("not a static executable (ET_EXEC, version 1)")
    if flags & _EF_RVE:
        raise ElfError("built for RV32E, not RV32IM")
    if phentsize != _PROGRAM_HEADER.size or not 1 <= phnum <= MAX_SEGMENTS:
        raise ElfError(f"bad program headers ({phnum} of {phentsize} bytes)")
    if phoff + phnum * _PROGRAM_HEADER.size > len(code):
        raise ElfError("truncated ELF: program headers past the end of the file")
    segments = sorted(
        (s for s in map(functools.partial(_segment, code, phoff), range(phnum)) if s),
        key=lambda s: s.address,
    )
    for before, after in itertools.pairwise(segments):
        if after.first_page < before.end_page:
            raise ElfError(f"segments at 0x{before.address:x} and 0x{after.address:x} share a page")
    if entry % 4 or not any(
        s.flags & EXECUTE and s.address <= entry < s.address + s.size for s in segments
    ):
        raise ElfError(f"entry point 0x{entry:x} is not an aligned address in code")
    return Program(entry, tuple(segments))


def _segment(code: bytes, phoff: int, index: int) -> Segment | None:
    """Program header ``index`` as a checked segment (None: it loads nothing)."""
    kind, offset, address, _paddr, file_size, size, flags, _align = _PROGRAM_HEADER.unpack_from(
        code, phoff + index * _PROGRAM_HEADER.size
    )
    where = f"segment {index} at 0x{address:x}"
    if kind in (_PT_DYNAMIC, _PT_INTERP):
        raise ElfError("dynamically linked: a contract is a static executable")
    if kind != _PT_LOAD or size == 0:
        return None
    if file_size > size:
        raise ElfError(f"{where}: more bytes in the file than in memory")
    if offset + file_size > len(code):
        raise ElfError(f"truncated ELF: {where} runs past the end of the file")
    if address < LOAD_START or address + size > LOAD_END:
        raise ElfError(f"{where}: outside the load window 0x{LOAD_START:x}..0x{LOAD_END:x}")
    if flags & WRITE and flags & EXECUTE:
        raise ElfError(f"{where}: writable and executable")
    data = code[offset : offset + file_size]
    if flags & EXECUTE:
        if address % 4 or file_size != size or file_size % 4:
            raise ElfError(f"{where}: code must be 4-byte aligned words, all in the file")
        for position in range(0, file_size, 4):
            word = int.from_bytes(data[position : position + 4], "little")
            reason = why_invalid(word)
            if reason is not None:
                raise ElfError(f"{where}: 0x{word:08x} at 0x{address + position:x}: {reason}")
    return Segment(address, size, data, flags & 7)
