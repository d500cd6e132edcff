"""The ``wasm`` VM: contracts are wasm modules, run by wasmtime.

Everything but running code is :class:`~rollupkit.accountvm.AccountVM`'s: Ethereum's accounts,
signed transactions, fees, receipts and headers. A create transaction's data is the module
(checked and compiled by :func:`rollupkit_wasm.module.load`); a call instantiates it afresh
(no memory survives a call) and runs its export ``run``. The host ABI
(:mod:`rollupkit.hostabi`) comes as imports from module ``"rollupkit"``.

**Gas** is wasmtime's fuel, :data:`FUEL_GAS` gas a unit (about one per wasm instruction), plus
the host ABI's prices. The store is given as much fuel as the frame can pay for (and, under
EXECUTE, as the trace's claim can); at every host call the fuel burnt is charged to the frame
and the fuel topped back up to what is left. Running out of fuel fails the call with all its
gas (as the EVM's out of gas), or, when the trace's claim is what ran out, stops EXECUTE.
Compiling a module is charged to EXECUTE once per trace (:meth:`WasmVM.witness_code_gas`).
A read-only call (``eth_call``) is also stopped at its deadline, by wasmtime's epochs.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from typing import Any

import wasmtime

from rollupkit.accountvm import AccountVM, Frame, Outcome
from rollupkit.errors import CallTimeout, OutOfGas
from rollupkit.hostabi import GuestExit, GuestFault, Host, HostFunction
from rollupkit_wasm.module import (
    ENGINE,
    ENTRY,
    EPOCH_TICK,
    IMPORT_MODULE,
    IMPORTS,
    MAX_MEMORY_PAGES,
    MAX_TABLE_ELEMENTS,
    TICKER,
    WasmError,
    load,
)

FUEL_GAS = 1
NO_DEADLINE = 1 << 62  # epochs: never, for execution that only gas bounds
#: EXECUTE gas per byte of a witness's module: compiling costs ~2.5 µs a byte here, what ~60
#: gas of average execution takes (``benchmarks/wasm.py`` measures it).
COMPILE_GAS_PER_BYTE = 64
_I32, _I64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()
_I64_KIND = wasmtime.Val.i64(0)._kind
_running = threading.local()  # the runs of this thread, innermost last (calls nest)


class _Run:
    """One call of a module: its store, its memory and its host."""

    def __init__(self, frame: Frame, module: wasmtime.Module) -> None:
        self.frame = frame
        self.store = wasmtime.Store(ENGINE)
        self.store.set_limits(memory_size=MAX_MEMORY_PAGES * 65_536,
                              table_elements=MAX_TABLE_ELEMENTS, instances=1, tables=1,
                              memories=1)  # fmt: skip
        self.context: Any = self.store  # the caller, during a host call
        self.granted = 0  # fuel given since the last charge
        self.host = Host(frame, self, self.charge)
        self.module = module
        self.memory: wasmtime.Memory | None = None
        # What a host function of this run raised. wasmtime's binding keeps the exception of
        # a failing host function in one process-wide slot and raises it from whichever call
        # traps next, in any thread: the run keeps its own, and trusts only that.
        self.raised: BaseException | None = None

    # --- fuel -----------------------------------------------------------------------------

    def _allowance(self) -> tuple[int, bool]:
        """Fuel the frame can pay for, and whether the trace's claim is what limits it."""
        frame, meter = self.frame, self.frame.meter
        gas = frame.gas_left
        if meter is not None and meter.budget is not None:
            room = meter.running_limit - meter.running
            if room < gas:
                return max(room, 0) // FUEL_GAS, True
        return gas // FUEL_GAS, False

    def charge(self) -> None:
        """Charge the fuel burnt since the last charge (the host calls this first)."""
        left = self.store.get_fuel()
        burnt = self.granted - left
        if burnt:
            self.frame.use_gas(burnt * FUEL_GAS)
        self.granted = left

    def sync(self) -> None:
        """Charge the fuel burnt since the last charge, then grant what is left."""
        self.charge()
        self.granted, _ = self._allowance()
        self.store.set_fuel(self.granted)

    # --- memory (rollupkit.hostabi.GuestMemory) -----------------------------------------------

    def read(self, pointer: int, length: int) -> bytes:
        if self.memory is None or pointer + length > self.memory.data_len(self.context):
            raise GuestFault(f"host call reads outside memory at 0x{pointer:x}")
        return bytes(self.memory.read(self.context, pointer, pointer + length))

    def write(self, pointer: int, data: bytes) -> None:
        if self.memory is None or pointer + len(data) > self.memory.data_len(self.context):
            raise GuestFault(f"host call writes outside memory at 0x{pointer:x}")
        self.memory.write(self.context, data, pointer)

    # --- running ----------------------------------------------------------------------------

    def call_host(self, caller: Any, function: HostFunction, args: tuple[int, ...]) -> Any:
        self.context = caller
        try:
            # i32 arguments arrive signed: the ABI's are unsigned
            answer = self.host.dispatch(function, [a & 0xFFFF_FFFF for a in args])
        finally:
            self.context = self.store
        self.granted, _ = self._allowance()  # the host call spent gas: less fuel is left
        self.store.set_fuel(self.granted)
        return _I64Answer(answer - (1 << 64) if answer >= 1 << 63 else answer)

    def run(self) -> Outcome:
        frame = self.frame
        self.granted, _ = self._allowance()
        self.store.set_fuel(self.granted)
        deadline = getattr(frame.meter, "deadline", None)  # a read-only call's DeadlineMeter
        if deadline is None:
            self.store.set_epoch_deadline(NO_DEADLINE)
        else:
            TICKER.ensure_running()
            ticks = math.ceil(max(deadline - time.monotonic(), 0) / EPOCH_TICK)
            self.store.set_epoch_deadline(max(ticks, 1))
        try:
            instance = _LINKER.instantiate(self.store, self.module)
            exports = instance.exports(self.store)
            memory, entry = exports["memory"], exports[ENTRY]
            assert isinstance(memory, wasmtime.Memory) and isinstance(entry, wasmtime.Func)
            self.memory = memory
            entry(self.store)
        except BaseException as raised:  # noqa: BLE001 - sorted out below, by what this run did
            return self._ended(self.raised or raised, own=self.raised is not None)
        self.sync()
        return Outcome(True, frame.gas_used, b"", tuple(frame.logs))

    def _ended(self, exc: BaseException, *, own: bool) -> Outcome:
        """The call ended with ``exc``: a host function's (``own``), or wasmtime's."""
        frame = self.frame
        if own and isinstance(exc, GuestExit):
            self.sync()
            return Outcome(not exc.reverted, frame.gas_used, exc.output,
                           () if exc.reverted else tuple(frame.logs),
                           reverted=exc.reverted)  # fmt: skip
        if own:
            raise exc  # OutOfGas, GuestFault, or the trace's: as raised
        code = exc.trap_code if isinstance(exc, wasmtime.Trap) else None
        if not own and not isinstance(exc, wasmtime.WasmtimeError):
            # Another thread's host-call exception, raised here in place of this run's trap
            # (see ``raised``): tell the trap by its effects.
            deadline = getattr(frame.meter, "deadline", None)
            if self.store.get_fuel() == 0:
                code = wasmtime.TrapCode.OUT_OF_FUEL
            elif deadline is not None and time.monotonic() >= deadline:
                code = wasmtime.TrapCode.INTERRUPT
        if code == wasmtime.TrapCode.OUT_OF_FUEL:
            self._out_of_fuel()
        if code == wasmtime.TrapCode.INTERRUPT:  # only a deadline interrupts
            timeout = getattr(frame.meter, "timeout", 0)
            raise CallTimeout(f"execution aborted (timeout = {timeout:g}s)") from None
        self.sync()
        if isinstance(exc, wasmtime.Trap):
            raise GuestFault(f"trap: {_trap_reason(exc)}") from None
        if isinstance(exc, wasmtime.WasmtimeError):  # instantiation (limits) and the like
            raise GuestFault(f"cannot run the module: {str(exc).strip().splitlines()[0]}") from None
        raise GuestFault("trap") from None

    def _out_of_fuel(self) -> None:
        """The fuel granted ran out: charge it; then the frame is out of gas, or the trace
        has burnt more than it claimed."""
        _, by_claim = self._allowance()
        self.frame.use_gas(self.granted * FUEL_GAS)
        self.granted = 0
        if by_claim and self.frame.meter is not None:
            self.frame.meter.exceeded()
        raise OutOfGas("out of gas (fuel)")


class _I64Answer(wasmtime.Val):
    """A host function's answer. wasmtime's binding checks a returned value against the
    function's result type; given a plain int it builds and compares three value types
    first (a third of a cheap host call's time), given a Val only its own type, cached here."""

    def __init__(self, value: int) -> None:
        super().__init__(_I64_KIND, value)

    @property
    def type(self) -> wasmtime.ValType:
        return _I64


def _trap_reason(trap: wasmtime.Trap) -> str:
    code = trap.trap_code
    if code is not None:
        return code.name.lower().replace("_", " ")
    return trap.message.strip().splitlines()[0]


def _host_function(function: HostFunction) -> Any:
    def call(caller: Any, *args: int) -> Any:
        run = _running.stack[-1]
        try:
            return run.call_host(caller, function, args)
        except BaseException as exc:
            if run.raised is None:
                run.raised = exc  # the run's own record (see _Run.raised)
            raise

    return call


def _linker() -> wasmtime.Linker:
    linker = wasmtime.Linker(ENGINE)
    for function in HostFunction:
        name = function.name.lower()
        kind = wasmtime.FuncType([_I32] * IMPORTS[name], [_I64])
        linker.define_func(IMPORT_MODULE, name, kind, _host_function(function),
                           access_caller=True)  # fmt: skip
    return linker


_LINKER = _linker()


class WasmVM(AccountVM):
    """wasm contracts under wasmtime, on Ethereum's account model."""

    description = "wasm contracts under wasmtime (fuel-metered), host ABI as imports"
    client = "wasmtime"

    @classmethod
    def scaffold_files(cls) -> Mapping[str, bytes]:
        from rollupkit_wasm.examples import guest_files

        return guest_files()

    def check_code(self, code: bytes) -> str | None:
        try:
            load(code)
        except WasmError as exc:
            return str(exc)
        return None

    def witness_code_gas(self, code: bytes) -> int:
        return COMPILE_GAS_PER_BYTE * len(code)

    def run_code(self, frame: Frame) -> Outcome:
        try:
            module = load(frame.code)
        except WasmError as exc:  # code placed at genesis is not checked at deployment
            return Outcome(False, frame.gas, error=str(exc))
        run = _Run(frame, module)
        stack = _running.__dict__.setdefault("stack", [])
        stack.append(run)
        try:
            return run.run()
        except (GuestFault, OutOfGas) as exc:
            # An exceptional halt, as on the EVM: the call fails and all its gas is gone.
            return Outcome(False, frame.gas, error=str(exc))
        finally:
            stack.pop()
