"""A contract's memory for one call: its segments' pages and the stack, nothing else.

The whole address space a contract can reach fits below :data:`~rollupkit_rv32ref.elf.STACK_TOP`
(1 MiB), so memory is one ``bytearray`` indexed by address, and a table of each page's
permissions says what may be read, written or run. Every call starts from the program's image.

The host ABI reads and writes through :meth:`Memory.read` and :meth:`Memory.write`, whose
rules are the riscv VM's: a host read may span any mapped bytes; a host write must fall inside
one mapped *region* (one segment's pages, or the stack) that is writable, where a write of no
bytes counts as inside the first region that contains its address or ends right at it. (That
last rule decides whether, say, an empty CALLDATA_COPY to the end of the code fails the call.)
"""

from __future__ import annotations

from dataclasses import dataclass

from rollupkit.hostabi import MAX_HOST_COPY, GuestFault
from rollupkit_rv32ref.elf import EXECUTE, PAGE, READ, STACK_SIZE, STACK_TOP, WRITE, Program
from rollupkit_rv32ref.isa import GuestFailed

PAGES = STACK_TOP // PAGE
MAPPED = READ  # every mapped page is readable, whatever its ELF flags say


@dataclass(frozen=True)
class Layout:
    """What a program's memory looks like before a call: page permissions, regions (start,
    end, writable) by address, and the initial bytes (address, data)."""

    permissions: bytes
    regions: tuple[tuple[int, int, bool], ...]
    image: tuple[tuple[int, bytes], ...]

    @classmethod
    def of(cls, program: Program) -> Layout:
        permissions = bytearray(PAGES)
        regions = []
        for segment in program.segments:
            start, end = segment.first_page, segment.end_page
            mode = MAPPED | (segment.flags & (WRITE | EXECUTE))
            permissions[start // PAGE : end // PAGE] = bytes([mode]) * ((end - start) // PAGE)
            regions.append((start, end, bool(mode & WRITE)))
        stack = STACK_TOP - STACK_SIZE
        permissions[stack // PAGE :] = bytes([MAPPED | WRITE]) * (STACK_SIZE // PAGE)
        regions.append((stack, STACK_TOP, True))
        image = tuple((s.address, s.data) for s in program.segments if s.data)
        return cls(bytes(permissions), tuple(regions), image)


class Memory:
    """One call's memory (see the module docstring). Loads and stores that touch a page
    without the permission they need fail the call, as does any access past 1 MiB."""

    __slots__ = ("permissions", "ram", "regions")

    def __init__(self, layout: Layout) -> None:
        self.ram = bytearray(STACK_TOP)
        for address, data in layout.image:
            self.ram[address : address + len(data)] = data
        self.permissions = layout.permissions
        self.regions = layout.regions

    def load(self, address: int, size: int) -> int:
        """The ``size``-byte little-endian value at ``address`` (unaligned is fine)."""
        end = address + size
        permissions = self.permissions
        if end > STACK_TOP or not (permissions[address >> 12] and permissions[(end - 1) >> 12]):
            raise GuestFailed(f"load outside memory (address 0x{address:x})")
        return int.from_bytes(self.ram[address:end], "little")

    def store(self, address: int, size: int, value: int) -> None:
        """Store the low ``size`` bytes of ``value`` at ``address``."""
        end = address + size
        if end > STACK_TOP:
            raise GuestFailed(f"store outside memory (address 0x{address:x})")
        first, last = self.permissions[address >> 12], self.permissions[(end - 1) >> 12]
        if not (first & WRITE and last & WRITE):
            what = "store to read-only memory" if first and last else "store outside memory"
            raise GuestFailed(f"{what} (address 0x{address:x})")
        self.ram[address:end] = value.to_bytes(size, "little")

    def executable(self, address: int) -> bool | None:
        """Whether ``address`` is in code (None: it is not mapped at all)."""
        if address >= STACK_TOP or not self.permissions[address >> 12]:
            return None
        return bool(self.permissions[address >> 12] & EXECUTE)

    # --- the host's side (rollupkit.hostabi.GuestMemory) ----------------------------------------

    def read(self, pointer: int, length: int) -> bytes:
        if length > MAX_HOST_COPY:
            raise GuestFault(f"a host call cannot read {length} bytes (at most {MAX_HOST_COPY})")
        if length == 0:
            return b""
        end = pointer + length
        if end > STACK_TOP or not all(
            self.permissions[page] for page in range(pointer >> 12, ((end - 1) >> 12) + 1)
        ):
            raise GuestFault(f"host call reads outside memory at 0x{pointer:x}")
        return bytes(self.ram[pointer:end])

    def write(self, pointer: int, data: bytes) -> None:
        if len(data) > MAX_HOST_COPY:
            raise GuestFault(f"a host call cannot write {len(data)} bytes")
        end = pointer + len(data)
        region = next((r for r in self.regions if r[0] <= pointer and end <= r[1]), None)
        if region is None:
            if data:
                raise GuestFault(f"host call writes outside writable memory at 0x{pointer:x}")
            return
        if not region[2]:
            raise GuestFault(f"host call writes outside writable memory at 0x{pointer:x}")
        self.ram[pointer:end] = data
