"""Loading a contract's code: a wasm module, checked and compiled once.

The engine is configured for consensus: fuel metering on; SIMD, threads, bulk memory and the
other post-MVP proposals that add non-determinism or flat-priced bulk work off; NaN results
canonicalised, which makes floating point deterministic (its only non-determinism in wasm is
the bits of a NaN). A contract must import only the host ABI's functions from module
``"rollupkit"`` (each ``(i32 x n) -> i64``, :data:`rollupkit.hostabi.ARGUMENTS`), export its
entry point ``run: [] -> []`` and its ``memory``, of at most :data:`MAX_MEMORY_PAGES` pages.
Anything else is refused with :class:`WasmError`, whose message says why. Tables are bounded
when a call instantiates the module (:data:`MAX_TABLE_ELEMENTS`).
"""

from __future__ import annotations

import functools
import threading
import time

import wasmtime

from rollupkit.hostabi import ARGUMENTS

MAX_MEMORY_PAGES = 16  # 1 MiB of linear memory
MAX_TABLE_ELEMENTS = 1024
MAX_WASM_STACK = 48 * 1024  # native stack per entry: calls nest 64 deep on one thread
IMPORT_MODULE = "rollupkit"
ENTRY = "run"
#: The host functions by import name, with their argument counts.
IMPORTS = {function.name.lower(): count for function, count in ARGUMENTS.items()}


class WasmError(ValueError):
    """The code is not a contract this VM can run: the message says why."""


def _engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True  # how a read-only call's deadline stops a loop (vm.py)
    config.cranelift_nan_canonicalization = True
    config.max_wasm_stack = MAX_WASM_STACK
    for proposal in ("wasm_simd", "wasm_relaxed_simd", "wasm_threads", "wasm_bulk_memory",
                     "wasm_multi_memory", "wasm_memory64", "wasm_gc", "wasm_function_references",
                     "wasm_exceptions", "wasm_tail_call", "wasm_component_model"):  # fmt: skip
        setattr(config, proposal, False)
    return wasmtime.Engine(config)


ENGINE = _engine()
EPOCH_TICK = 0.01  # seconds between two epochs of ENGINE, while a deadline needs them


class _Ticker:
    """Advances ENGINE's epoch every EPOCH_TICK seconds, from the first call with a deadline
    on (a daemon thread; a store without a deadline never looks at the epoch)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wasm-epoch", daemon=True)
                self._thread.start()

    @staticmethod
    def _run() -> None:
        while True:
            time.sleep(EPOCH_TICK)
            ENGINE.increment_epoch()


TICKER = _Ticker()


def _signature(kind: wasmtime.FuncType) -> tuple[list[str], list[str]]:
    return [str(t) for t in kind.params], [str(t) for t in kind.results]


def _has_start_function(code: bytes) -> bool:
    """Whether a (valid) module has a start section (id 8)."""
    position = 8
    while position < len(code):
        section = code[position]
        size, position = _leb128(code, position + 1)
        if section == 8:
            return True
        position += size
    return False


def _leb128(code: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = code[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


@functools.lru_cache(maxsize=1024)
def load(code: bytes) -> wasmtime.Module:
    """Check and compile ``code``; raise :class:`WasmError` saying why it cannot run.
    Cached by content: a hot contract is compiled once. (EXECUTE charges compiling each module
    of its witness once; a trace that cycles through more modules than the cache holds makes it
    compile some again, unpaid: a known limit, see the README.)"""
    if code[:4] != b"\0asm":
        raise WasmError("not a wasm module (bad magic)")
    try:
        module = wasmtime.Module(ENGINE, code)
    except wasmtime.WasmtimeError as exc:
        reason = str(exc).strip().splitlines()
        raise WasmError(f"not a valid wasm module: {' '.join(reason[:3])}") from None
    for item in module.imports:
        where = f"import {item.module}.{item.name}"
        if item.module != IMPORT_MODULE or item.name not in IMPORTS:
            raise WasmError(f"{where} is not a rollupkit host function (no WASI, no others)")
        if not isinstance(item.type, wasmtime.FuncType) or _signature(item.type) != (
            ["i32"] * IMPORTS[item.name],
            ["i64"],
        ):
            raise WasmError(f"{where} must be a function (i32 x {IMPORTS[item.name]}) -> i64")
    if _has_start_function(code):
        raise WasmError("a start function (it would run before the host is ready; use run)")
    exports = {item.name: item.type for item in module.exports}
    entry = exports.get(ENTRY)
    if not isinstance(entry, wasmtime.FuncType) or _signature(entry) != ([], []):
        raise WasmError(f'no exported function "{ENTRY}" taking and returning nothing')
    memory = exports.get("memory")
    if not isinstance(memory, wasmtime.MemoryType):
        raise WasmError('no exported "memory"')
    if memory.limits.min > MAX_MEMORY_PAGES:
        raise WasmError(
            f"memory of {memory.limits.min} pages; at most {MAX_MEMORY_PAGES} (64 KiB each)"
        )
    return module
