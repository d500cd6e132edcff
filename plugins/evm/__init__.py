"""rollupkit's ``evm`` VM plugin: Ethereum's EVM, executed by py-evm.

Executes standard signed Ethereum transactions (legacy, EIP-2930, EIP-1559, EIP-7702) under
the newest fork the installed py-evm supports, over the ``mpt`` state model.
"""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_evm.vm import EvmVM

__all__ = ["EvmVM"]


@hookimpl
def rollupkit_register_vms() -> list[tuple[str, type[EvmVM]]]:
    return [("evm", EvmVM)]
