"""The ``rv32ref`` client of the riscv VM: the same chain, computed by a pure-Python RV32IM
interpreter instead of Unicorn.

A second, independent implementation of a VM is what k-of-n verification needs: a bug in one
client (here, QEMU's RISC-V translation, the C meter, the pool of reused machines) shows as a
disagreement instead of a wrong state root. This one shares with the Unicorn client only what
defines the chain: rollupkit's accounts and transactions
(:class:`~rollupkit.accountvm.AccountVM`), the host ABI (:mod:`rollupkit.hostabi`), and the
riscv VM's rules, restated here: the contract format (:mod:`rollupkit_rv32ref.elf`), the
instruction set (:mod:`rollupkit_rv32ref.isa`), memory (:mod:`rollupkit_rv32ref.memory`) and
gas (:mod:`rollupkit_rv32ref.interpreter`, :data:`MACHINE_GAS`). It does not import Unicorn.

It runs some 7 million instructions a second, over a hundred times fewer than Unicorn's
translated code; through EXECUTE, where hashing, tries and signatures take most of the time, a
block of token transfers takes about twice as long as with Unicorn, a block of compute loops
some 20 times (``benchmarks/riscv_clients.py``). It is for checking, not for serving.
"""

from __future__ import annotations

from rollupkit.accountvm import AccountVM, Frame, Outcome
from rollupkit.errors import OutOfGas
from rollupkit.hostabi import GuestFault
from rollupkit_rv32ref.elf import ElfError, parse
from rollupkit_rv32ref.interpreter import Machine, compile_code
from rollupkit_rv32ref.isa import GuestFailed

#: EXECUTE gas per program of a witness: the riscv VM's price (set by what its Unicorn client
#: spends readying an emulator). A client must charge what the chain charges, not what its own
#: setup costs, or the two would disagree on every trace's gas.
MACHINE_GAS = 10_000


class Rv32RefVM(AccountVM):
    """The riscv VM's state transition, by a pure-Python RV32IM interpreter."""

    client = "rv32ref"
    implements = "riscv"
    description = "RV32IM in pure Python (no Unicorn): an independent client of the riscv VM"

    def check_code(self, code: bytes) -> str | None:
        try:
            parse(code)
        except ElfError as exc:
            return str(exc)
        return None

    def run_code(self, frame: Frame) -> Outcome:
        try:
            code = compile_code(frame.code)
        except ElfError as exc:  # code placed at genesis is not checked at deployment
            return Outcome(False, frame.gas, error=str(exc))
        try:
            return Machine(code, frame).run()
        except (GuestFailed, GuestFault, OutOfGas) as exc:
            # An exceptional halt: the call fails and all its gas is gone.
            return Outcome(False, frame.gas, error=str(exc))

    def witness_code_gas(self, code: bytes) -> int:
        return MACHINE_GAS
