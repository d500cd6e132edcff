"""rollupkit's ``wasm`` VM plugin: wasm contracts under wasmtime.

Contracts talk to the chain through rollupkit's host ABI (:mod:`rollupkit.hostabi`), imported
from module ``"rollupkit"``; ``rollupkit.h`` wraps it for C, and ``guest/`` holds the example
contracts built for wasm32 (and one written in WAT).
"""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_wasm.vm import WasmVM

__all__ = ["WasmVM"]


@hookimpl
def rollupkit_register_vms() -> list[tuple[str, type[WasmVM]]]:
    return [("wasm", WasmVM)]
