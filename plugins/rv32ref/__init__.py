"""rollupkit's ``rv32ref`` plugin: a second client of the ``riscv`` VM, in pure Python.

``execute(..., vm="riscv", client="rv32ref")`` verifies a riscv chain's trace without Unicorn:
see :mod:`rollupkit_rv32ref.vm`. ``tests/test_rv32_differential.py`` holds the two clients to
the same results.
"""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_rv32ref.vm import Rv32RefVM

__all__ = ["Rv32RefVM"]


@hookimpl
def rollupkit_register_clients() -> list[tuple[str, type[Rv32RefVM]]]:
    return [("rv32ref", Rv32RefVM)]
