"""rollupkit's ``revm`` client: the ``evm`` VM's blocks executed by revm (pyrevm), a second,
independent implementation for k-of-n verification and the fast path of EXECUTE on an EVM
trace (``execute(..., vm="evm", client="revm")``). See :mod:`rollupkit_revm.vm`."""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_revm.vm import RevmVM

__all__ = ["RevmVM"]


@hookimpl
def rollupkit_register_clients() -> list[tuple[str, type[RevmVM]]]:
    return [("revm", RevmVM)]
