"""The ``riscv`` VM: contracts are RV32IM ELF executables, run under Unicorn.

Everything but running code is :class:`~rollupkit.accountvm.AccountVM`'s: Ethereum's
accounts, signed transactions, fees, receipts and headers. A create transaction's data is the
contract's ELF (checked by :func:`rollupkit_riscv.elf.load` when deployed and when run); a
call runs the callee's ELF from its entry point with the call data available through the host
ABI (:mod:`rollupkit.hostabi`, as ``ecall``: function number in ``a7``, arguments in
``a0..a4``, answer in ``a0``/``a1``). Gas is :data:`~rollupkit_riscv.machine.INSTRUCTION_GAS`
per instruction plus the host ABI's prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files

from rollupkit.accountvm import AccountVM, Frame, Outcome
from rollupkit.errors import OutOfGas
from rollupkit.hostabi import GuestFault, guest_project_files
from rollupkit_riscv.elf import ElfError, load
from rollupkit_riscv.machine import GuestFailed, MachinePool, native_meter

#: EXECUTE gas per program of a witness: setting up an emulator for it (~0.3 ms, plus checking
#: the ELF) is more than its bytes pay for when the ELF is small.
MACHINE_GAS = 10_000


class RiscvVM(AccountVM):
    """RV32IM contracts under Unicorn, on Ethereum's account model."""

    client = "unicorn"
    description = "RV32IM ELF contracts under Unicorn, host ABI as ecalls; " + (
        "instructions metered in C"
        if native_meter()
        else "instructions metered in Python, ~200x slower (the C meter was not built)"
    )

    def __init__(self) -> None:
        self.pool = MachinePool()

    @classmethod
    def scaffold_files(cls) -> Mapping[str, bytes]:
        """A project gets the guest SDK and the example contracts (sources and ELFs)."""
        return guest_project_files(files("rollupkit_riscv") / "guest", (".ld", ".elf", ".md"))

    def check_code(self, code: bytes) -> str | None:
        try:
            load(code)
        except ElfError as exc:
            return str(exc)
        return None

    def run_code(self, frame: Frame) -> Outcome:
        try:
            program = load(frame.code)
        except ElfError as exc:  # code placed at genesis is not checked at deployment
            return Outcome(False, frame.gas, error=str(exc))
        try:
            return self.pool.run(program, frame)
        except (GuestFailed, GuestFault, OutOfGas) as exc:
            # An exceptional halt, as on the EVM: the call fails and all its gas is gone.
            return Outcome(False, frame.gas, error=str(exc))

    def witness_code_gas(self, code: bytes) -> int:
        """A program of the witness costs a new emulator (mapping, translating its code)."""
        return MACHINE_GAS
