"""Loading a contract's code: a static RV32IM ELF executable, checked before it can run.

A contract is an ``ET_EXEC`` ELF32 little-endian file for ``EM_RISCV`` whose ``PT_LOAD``
segments all lie in the guest's load window (:data:`LOAD_START` to :data:`LOAD_END`), do not
share a page, and are never both writable and executable; its entry point is a 4-byte aligned
address in an executable segment, and every 4-byte word of an executable segment is an RV32IM
instruction (:mod:`rollupkit_riscv.isa`). Memory beyond the segments is the stack, the
:data:`STACK_SIZE` bytes below :data:`STACK_TOP`; nothing else is mapped. Anything else is
refused with :class:`ElfError`, whose message says what is wrong.
"""

from __future__ import annotations

import functools
import itertools
import struct
from dataclasses import dataclass

from rollupkit_riscv.isa import invalid_instruction

PAGE = 0x1000
LOAD_START = 0x0001_0000
LOAD_END = 0x0008_0000  # at most 448 KiB of code, data and bss
STACK_SIZE = 0x0001_0000  # 64 KiB
STACK_TOP = 0x0010_0000

PF_X, PF_W, PF_R = 1, 2, 4
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
ET_EXEC = 2
EM_RISCV = 243
EF_RISCV_RVE = 0x8
_EHDR = struct.Struct("<16sHHIIIIIHHHHHH")
_PHDR = struct.Struct("<IIIIIIII")
MAX_SEGMENTS = 16


class ElfError(ValueError):
    """The code is not a contract this VM can run: the message says why."""


@dataclass(frozen=True)
class Segment:
    """A loadable segment: ``data`` at ``address``, zero-filled to ``size`` bytes."""

    address: int
    size: int
    data: bytes
    flags: int

    @property
    def executable(self) -> bool:
        return bool(self.flags & PF_X)

    @property
    def writable(self) -> bool:
        return bool(self.flags & PF_W)

    @property
    def pages(self) -> tuple[int, int]:
        """The page-aligned [start, end) this segment is mapped over."""
        start = self.address - self.address % PAGE
        end = -(-(self.address + self.size) // PAGE) * PAGE
        return start, end


@dataclass(frozen=True)
class Program:
    """A checked contract: where it starts and what memory it has."""

    entry: int
    segments: tuple[Segment, ...]


@functools.lru_cache(maxsize=256)
def load(code: bytes) -> Program:
    """Check ``code`` and return its :class:`Program`; raise :class:`ElfError` saying why it
    cannot run. Cached by content: a contract runs many times, and is checked once."""
    if len(code) < _EHDR.size:
        raise ElfError(f"truncated ELF: {len(code)} bytes, shorter than an ELF header")
    (ident, e_type, machine, version, entry, phoff, _shoff, flags, _ehsize, phentsize, phnum,
     *_rest) = _EHDR.unpack_from(code)  # fmt: skip
    if ident[:4] != b"\x7fELF":
        raise ElfError("not an ELF file (bad magic)")
    if ident[4] != 1:
        raise ElfError("not a 32-bit ELF (EI_CLASS must be ELFCLASS32 for RV32)")
    if ident[5] != 1:
        raise ElfError("not a little-endian ELF")
    if machine != EM_RISCV:
        raise ElfError(f"not a RISC-V ELF (e_machine {machine}, expected {EM_RISCV})")
    if e_type != ET_EXEC or version != 1:
        raise ElfError("not a static executable (e_type must be ET_EXEC, e_version 1)")
    if flags & EF_RISCV_RVE:
        raise ElfError("built for RV32E; this VM runs RV32IM")
    if phentsize != _PHDR.size or not 1 <= phnum <= MAX_SEGMENTS:
        raise ElfError(f"bad program headers ({phnum} of {phentsize} bytes)")
    if phoff + phnum * _PHDR.size > len(code):
        raise ElfError("truncated ELF: program headers past the end of the file")
    segments = []
    for index in range(phnum):
        p_type, offset, vaddr, _paddr, filesz, memsz, p_flags, _align = _PHDR.unpack_from(
            code, phoff + index * _PHDR.size
        )
        if p_type in (PT_DYNAMIC, PT_INTERP):
            raise ElfError("dynamically linked; a contract must be a static executable")
        if p_type != PT_LOAD or memsz == 0:
            continue
        where = f"segment {index} at 0x{vaddr:x}"
        if filesz > memsz:
            raise ElfError(f"{where}: file size over its memory size")
        if offset + filesz > len(code):
            raise ElfError(f"truncated ELF: {where} runs past the end of the file")
        if vaddr < LOAD_START or vaddr + memsz > LOAD_END:
            raise ElfError(
                f"{where}: {memsz} bytes outside the load window "
                f"0x{LOAD_START:x}..0x{LOAD_END:x} (segments too large or misplaced)"
            )
        if p_flags & PF_W and p_flags & PF_X:
            raise ElfError(f"{where}: writable and executable")
        segment = Segment(vaddr, memsz, code[offset : offset + filesz], p_flags & 7)
        if segment.executable:
            if vaddr % 4 or filesz != memsz:
                raise ElfError(f"{where}: executable but not 4-byte aligned or zero-filled")
            bad = invalid_instruction(segment.data)
            if bad is not None:
                position, word, reason = bad
                raise ElfError(
                    f"{where}: word 0x{word:08x} at 0x{vaddr + position:x} is not an RV32IM "
                    f"instruction ({reason})"
                )
        segments.append(segment)
    segments.sort(key=lambda s: s.address)
    for before, after in itertools.pairwise(segments):
        if after.pages[0] < before.pages[1]:
            raise ElfError(
                f"segments at 0x{before.address:x} and 0x{after.address:x} overlap "
                "(or share a page)"
            )
    if not any(s.executable and s.address <= entry < s.address + s.size for s in segments):
        raise ElfError(f"entry point 0x{entry:x} is outside every executable segment")
    if entry % 4:
        raise ElfError(f"entry point 0x{entry:x} is not 4-byte aligned")
    return Program(entry, tuple(segments))
