"""rollupkit's ``riscv`` VM plugin: RV32IM contracts (static ELF executables) under Unicorn.

Contracts talk to the chain through rollupkit's host ABI (:mod:`rollupkit.hostabi`) as
``ecall``s; ``guest/rollupkit.h`` wraps it for C, and ``guest/`` holds example contracts and
the linker script (see ``guest/README.md``).
"""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_riscv.vm import RiscvVM

__all__ = ["RiscvVM"]


@hookimpl
def rollupkit_register_vms() -> list[tuple[str, type[RiscvVM]]]:
    return [("riscv", RiscvVM)]
