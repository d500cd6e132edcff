"""rollupkit's ``multi`` VM: EVM, RISC-V and wasm contracts in one chain, calling each other.

A contract's code says which VM runs it (:mod:`rollupkit_multi.codes`); py-evm hosts all of
them (:mod:`rollupkit_multi.vm`).
"""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_multi.codes import RISCV_PREFIX, WASM_PREFIX, guest_of, riscv_code, wasm_code
from rollupkit_multi.vm import MultiVM

__all__ = ["RISCV_PREFIX", "WASM_PREFIX", "MultiVM", "guest_of", "riscv_code", "wasm_code"]


@hookimpl
def rollupkit_register_vms() -> list[tuple[str, type[MultiVM]]]:
    return [("multi", MultiVM)]
