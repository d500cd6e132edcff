"""A contract running under Unicorn: its memory, the instruction meter and its host calls.

**Gas.** Every executed instruction costs :data:`INSTRUCTION_GAS`. Instructions are counted
per translated block, by a block hook written in C (``_meter.c``) that Unicorn calls before
each block runs: it adds the block's instructions to a counter, or, if that would pass a
limit, stops Unicorn before the block runs. The limit is the instructions the frame can still
pay for (and, under EXECUTE, that the trace's claim can still pay for), recomputed at every
host call, where the counted instructions are charged to the frame. A stopped block is
charged before it runs: that fails the frame (out of gas) or the trace (over its claim), or
lets the guest go on (a read-only call's meter only wanted to look at the clock). So no
instruction runs unpaid, and the count is exact: RV32IM instructions are 4 bytes, a block of
``n`` bytes is ``n / 4`` instructions, and a block runs to its end unless the call fails.
Without the compiled hook (no C compiler at install) a Python hook does the same arithmetic:
the same gas, some 200 times slower (``benchmarks/riscv.py``).

**Isolation.** Each :class:`Machine` maps one program's segments (code read-only) and a stack,
nothing else; host calls check every pointer. Machines are reused for later calls of the same
program (so its code is translated once), reset first to the program's initial memory and CPU
state.
"""

from __future__ import annotations

import ctypes
import threading
from collections import OrderedDict
from typing import Any

from unicorn import (
    UC_ARCH_RISCV,
    UC_ERR_FETCH_PROT,
    UC_ERR_FETCH_UNALIGNED,
    UC_ERR_FETCH_UNMAPPED,
    UC_ERR_INSN_INVALID,
    UC_ERR_READ_PROT,
    UC_ERR_READ_UNALIGNED,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_PROT,
    UC_ERR_WRITE_UNALIGNED,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_BLOCK,
    UC_HOOK_INTR,
    UC_MODE_RISCV32,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
    Uc,
    UcError,
)
from unicorn import riscv_const as rv

from rollupkit.accountvm import Frame, Outcome
from rollupkit.errors import OutOfGas
from rollupkit.hostabi import MAX_CALL_DEPTH, MAX_HOST_COPY, GuestExit, GuestFault, Host
from rollupkit_riscv.elf import PF_W, PF_X, STACK_SIZE, STACK_TOP, Program

try:  # the compiled meter; see the module docstring
    from rollupkit_riscv._meter import BLOCK_HOOK as _NATIVE_BLOCK_HOOK
except ImportError:  # pragma: no cover - installed without a C compiler
    _NATIVE_BLOCK_HOOK = None

INSTRUCTION_GAS = 1
ECALL = 8  # the interrupt number Unicorn reports for ``ecall``
TCG_BUFFER = 1 << 20  # translated code per machine: contracts are at most 24 KiB
# Idle machines kept: enough for a call chain at the depth limit, and for many programs, so
# that a trace re-creates a machine only for a program it has not met (which its witness pays
# for: RiscvVM.witness_code_gas). About 1.5 MiB each, at most.
IDLE_PER_PROGRAM = MAX_CALL_DEPTH + 1
IDLE_MACHINES = 512

_ARGS = (rv.UC_RISCV_REG_A0, rv.UC_RISCV_REG_A1, rv.UC_RISCV_REG_A2, rv.UC_RISCV_REG_A3,
         rv.UC_RISCV_REG_A4)  # fmt: skip


class MeterState(ctypes.Structure):
    """The meter shared with the C hook (``meter_t`` in ``_meter.c``)."""

    _fields_ = [
        ("executed", ctypes.c_uint64),
        ("limit", ctypes.c_uint64),
        ("stop", ctypes.c_void_p),
        ("pending", ctypes.c_uint64),
        ("misaligned", ctypes.c_uint32),
        ("stopped", ctypes.c_uint32),
    ]


def native_meter() -> bool:
    """Whether instructions are metered by the compiled hook (else by a Python one)."""
    return _NATIVE_BLOCK_HOOK is not None and _unicorn_c_api() is not None


def _unicorn_c_api() -> Any:
    """Unicorn's C library and hook-handle type, as its Python binding (2.1) loads them."""
    try:
        from unicorn.unicorn_py3 import unicorn as binding

        return binding.uclib, binding.uc_hook_h
    except (ImportError, AttributeError):  # pragma: no cover - another binding layout
        return None


class _Registers:
    """A host call's registers in one C call each way (six separate reads through the
    binding cost more than the rest of a cheap host call)."""

    READ = (rv.UC_RISCV_REG_A7, *_ARGS)
    WRITE = (rv.UC_RISCV_REG_A0, rv.UC_RISCV_REG_A1)

    def __init__(self, uc: Uc, uclib: Any) -> None:
        self.handle, self.uclib = uc._uch, uclib
        self.read_ids = (ctypes.c_int * 6)(*self.READ)
        self.read_values = (ctypes.c_uint64 * 6)()  # RV32 writes the low 4 bytes of each
        base = ctypes.addressof(self.read_values)
        self.read_pointers = (ctypes.c_void_p * 6)(*(base + 8 * i for i in range(6)))
        self.write_ids = (ctypes.c_int * 2)(*self.WRITE)
        self.write_values = (ctypes.c_uint64 * 2)()
        base = ctypes.addressof(self.write_values)
        self.write_pointers = (ctypes.c_void_p * 2)(base, base + 8)

    def read(self) -> list[int]:
        status = self.uclib.uc_reg_read_batch(self.handle, self.read_ids, self.read_pointers, 6)
        if status != 0:
            raise UcError(status)
        return [value & 0xFFFF_FFFF for value in self.read_values]

    def write(self, answer: int) -> None:
        self.write_values[0] = answer & 0xFFFF_FFFF
        self.write_values[1] = answer >> 32
        status = self.uclib.uc_reg_write_batch(self.handle, self.write_ids, self.write_pointers, 2)
        if status != 0:
            raise UcError(status)


class GuestFailed(Exception):
    """The guest did something that ends its call as failed (the message says what)."""


class Machine:
    """A Unicorn RV32 CPU with one program's memory mapped, for one call at a time."""

    def __init__(self, program: Program, native: bool) -> None:
        self.program = program
        uc = self.uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        uc.ctl_set_tcg_buffer_size(TCG_BUFFER)
        self.resets: list[tuple[int, bytes]] = []  # (address, bytes) restored before each call
        for segment in program.segments:
            start, end = segment.pages
            perms = UC_PROT_READ
            perms |= UC_PROT_WRITE if segment.flags & PF_W else 0
            perms |= UC_PROT_EXEC if segment.flags & PF_X else 0
            uc.mem_map(start, end - start, perms)
            image = bytearray(end - start)
            offset = segment.address - start
            image[offset : offset + len(segment.data)] = segment.data
            uc.mem_write(start, bytes(image))
            if segment.writable:
                self.resets.append((start, bytes(image)))
        uc.mem_map(STACK_TOP - STACK_SIZE, STACK_SIZE, UC_PROT_READ | UC_PROT_WRITE)
        self.resets.append((STACK_TOP - STACK_SIZE, bytes(STACK_SIZE)))
        uc.reg_write(rv.UC_RISCV_REG_SP, STACK_TOP)
        uc.reg_write(rv.UC_RISCV_REG_PC, program.entry)
        self.initial = uc.context_save()
        self.meter = MeterState()
        uc.hook_add(UC_HOOK_INTR, self._interrupt)
        api = _unicorn_c_api()
        if native and api is not None and _NATIVE_BLOCK_HOOK is not None:
            uclib, hook_handle = api
            self.meter.stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value
            handle = hook_handle()
            meter_address = ctypes.c_void_p(ctypes.addressof(self.meter))
            status = uclib.uc_hook_add(uc._uch, ctypes.byref(handle), UC_HOOK_BLOCK,
                                       ctypes.c_void_p(_NATIVE_BLOCK_HOOK), meter_address,
                                       1, 0)  # fmt: skip
            if status != 0:
                raise UcError(status)
            self.block_hook = int(handle.value)
        else:
            self.block_hook = uc.hook_add(UC_HOOK_BLOCK, self._python_block)
        self.host: Host | None = None
        self.charged = 0
        self.registers = _Registers(uc, api[0]) if api is not None else None

    # --- the meter --------------------------------------------------------------------------

    def _python_block(self, uc: Uc, address: int, size: int, _: Any) -> None:
        """The fallback meter: ``block_hook`` of ``_meter.c``, in Python."""
        meter = self.meter
        count = size >> 2
        if (address | size) & 3:
            meter.misaligned = 1
        elif meter.executed + count <= meter.limit:
            meter.executed += count
            return
        meter.pending = count
        meter.stopped = 1
        uc.emu_stop()

    def _sync(self) -> None:
        """Charge the instructions run since the last charge, then set how many more the
        frame (and the trace's claim) can pay for."""
        frame = self.host.frame  # type: ignore[union-attr]
        meter = self.meter
        if meter.misaligned:
            raise GuestFailed("jump to an address that is not 4-byte aligned")
        executed = meter.executed
        if executed > self.charged:
            frame.use_gas((executed - self.charged) * INSTRUCTION_GAS)
            self.charged = executed
        allowance = frame.gas_left
        if frame.meter is not None:
            allowance = min(allowance, frame.meter.running_limit - frame.meter.running)
        meter.limit = self.charged + max(allowance, 0) // INSTRUCTION_GAS

    def _pay_for_stopped_block(self) -> None:
        """The meter stopped the guest before a block it had no allowance for: charge the
        block before it runs. That raises OutOfGas if the frame cannot pay (it would run out
        within the block), GasCapExceeded past the trace's claim, CallTimeout past a call's
        deadline; otherwise (a read-only call's meter looked at the clock) the guest goes on."""
        meter = self.meter
        self._sync()
        self.host.frame.use_gas(meter.pending * INSTRUCTION_GAS)  # type: ignore[union-attr]
        self.charged += meter.pending  # paid ahead: the block counts itself when it runs
        meter.pending = meter.stopped = 0
        self._sync()

    # --- host calls -----------------------------------------------------------------------

    def _interrupt(self, uc: Uc, number: int, _: Any) -> None:
        if number != ECALL:
            raise GuestFailed(_TRAPS.get(number, f"trap {number}"))
        host = self.host
        assert host is not None
        registers = self.registers
        if registers is None:
            function = uc.reg_read(rv.UC_RISCV_REG_A7)
            answer = host.dispatch(function, [uc.reg_read(r) for r in _ARGS])
            uc.reg_write(rv.UC_RISCV_REG_A0, answer & 0xFFFF_FFFF)
            uc.reg_write(rv.UC_RISCV_REG_A1, answer >> 32)
        else:
            function, *args = registers.read()
            registers.write(host.dispatch(function, args))
        self._sync()  # the host call spent gas: fewer instructions are left

    def read(self, pointer: int, length: int) -> bytes:
        if length > MAX_HOST_COPY:
            raise GuestFault(f"a host call cannot read {length} bytes (at most {MAX_HOST_COPY})")
        try:
            return bytes(self.uc.mem_read(pointer, length))
        except UcError as exc:
            raise GuestFault(f"host call reads outside memory at 0x{pointer:x}") from exc

    def write(self, pointer: int, data: bytes) -> None:
        if len(data) > MAX_HOST_COPY:
            raise GuestFault(f"a host call cannot write {len(data)} bytes")
        if not _writable(self.uc, pointer, len(data)):
            raise GuestFault(f"host call writes outside writable memory at 0x{pointer:x}")
        self.uc.mem_write(pointer, data)

    # --- a call ---------------------------------------------------------------------------

    def run(self, frame: Frame) -> Outcome:
        """Run the program for ``frame``; raise :class:`GuestFailed` (or OutOfGas) if it fails,
        and let trace-level errors through."""
        uc, meter = self.uc, self.meter
        for address, image in self.resets:
            uc.mem_write(address, image)
        uc.context_restore(self.initial)
        meter.executed = meter.pending = meter.misaligned = meter.stopped = 0
        self.charged = 0
        self.host = Host(frame, self, self._sync)
        try:
            self._sync()
            pc = self.program.entry
            while True:
                try:
                    uc.emu_start(pc, 0)
                except GuestExit as exit:
                    self._sync()
                    return Outcome(not exit.reverted, frame.gas_used, exit.output,
                                   () if exit.reverted else tuple(frame.logs),
                                   reverted=exit.reverted)  # fmt: skip
                except UcError as exc:
                    self._sync()
                    raise GuestFailed(_fault(exc, uc)) from exc
                if not meter.stopped:
                    raise GuestFailed("the program stopped without RETURN or REVERT")
                if meter.misaligned:
                    raise GuestFailed("jump to an address that is not 4-byte aligned")
                self._pay_for_stopped_block()  # raises unless the guest may go on
                pc = uc.reg_read(rv.UC_RISCV_REG_PC)
        finally:
            self.host = None


def _writable(uc: Uc, pointer: int, length: int) -> bool:
    end = pointer + length
    for start, last, perms in uc.mem_regions():
        if start <= pointer and end <= last + 1:
            return bool(perms & UC_PROT_WRITE)
    return length == 0


_TRAPS = {
    0: "jump to a misaligned instruction",
    1: "instruction fetch outside executable memory",
    2: "illegal instruction",
    3: "ebreak",
    4: "misaligned load",
    5: "load outside memory",
    6: "misaligned store",
    7: "store outside memory",
}


_FAULTS = {
    UC_ERR_READ_UNMAPPED: "load outside memory",
    UC_ERR_WRITE_UNMAPPED: "store outside memory",
    UC_ERR_FETCH_UNMAPPED: "jump outside memory",
    UC_ERR_WRITE_PROT: "store to read-only memory",
    UC_ERR_READ_PROT: "load from unreadable memory",
    UC_ERR_FETCH_PROT: "jump to memory that is not code",
    UC_ERR_INSN_INVALID: "illegal instruction (ebreak, unimp or an undefined encoding)",
    UC_ERR_READ_UNALIGNED: "misaligned load",
    UC_ERR_WRITE_UNALIGNED: "misaligned store",
    UC_ERR_FETCH_UNALIGNED: "jump to a misaligned address",
}


def _fault(exc: UcError, uc: Uc) -> str:
    what = _FAULTS.get(exc.errno, str(exc))
    return f"{what} (pc 0x{uc.reg_read(rv.UC_RISCV_REG_PC):x})"


class MachinePool:
    """Idle machines by program, so a contract's translated code is reused across calls.

    Thread-safe; a machine is used by one caller at a time (a nested call of the same
    contract gets another machine).
    """

    def __init__(self, native: bool | None = None) -> None:
        self.native = native_meter() if native is None else native
        self._idle: OrderedDict[Program, list[Machine]] = OrderedDict()
        self._count = 0  # idle machines, all programs
        self._lock = threading.Lock()

    def run(self, program: Program, frame: Frame) -> Outcome:
        machine = self._take(program)
        try:
            outcome = machine.run(frame)
        except (GuestFailed, GuestFault, OutOfGas):
            # A failed guest leaves nothing a reset does not undo: a fault stops the CPU
            # before the faulting instruction takes effect, no block the meter stopped ran, and
            # no instruction that could change other CPU state passes the ISA check. Reusing
            # the machine keeps a loop of failing calls from paying for new machines.
            self._give_back(machine)
            raise
        self._give_back(machine)
        return outcome

    def _take(self, program: Program) -> Machine:
        with self._lock:
            idle = self._idle.get(program)
            if idle:
                self._idle.move_to_end(program)
                self._count -= 1
                return idle.pop()
        return Machine(program, self.native)

    def _give_back(self, machine: Machine) -> None:
        with self._lock:
            idle = self._idle.setdefault(machine.program, [])
            if len(idle) < IDLE_PER_PROGRAM:
                idle.append(machine)
                self._count += 1
            self._idle.move_to_end(machine.program)
            while self._count > IDLE_MACHINES:  # the least recently used programs' go first
                _, dropped = self._idle.popitem(last=False)
                self._count -= len(dropped)
