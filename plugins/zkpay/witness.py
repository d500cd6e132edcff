"""Run a circom witness calculator (the ``.wasm`` circom emits) under wasmtime.

circom compiles a circuit into a wasm module that computes every signal from the inputs and
checks each constraint it can as it goes (an ``===`` that fails is "Assert Failed"). Running
it is how zkpay checks, without proving, that the circuit accepts a batch and what its public
signals are: the differential tests run hundreds of batches this way, in milliseconds each.
This follows circom's own ``witness_calculator.js`` (same imports, same calls), in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import wasmtime

#: What circom's runtime reports for each exception code.
_ERRORS = {
    1: "signal not found",
    2: "too many signals set",
    3: "signal already set",
    4: "assert failed",
    5: "not enough memory",
    6: "input signal array access exceeds the size",
    7: "out of bounds array access",
}


class WitnessError(Exception):
    """The circuit refuses the inputs (a constraint fails) or they do not fit it."""


def _fnv1a_64(name: str) -> int:
    value = 0xCBF29CE484222325
    for byte in name.encode():
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def _flatten(value: Any) -> list[int]:
    if isinstance(value, list | tuple):
        return [item for part in value for item in _flatten(part)]
    return [int(value)]


@cache
def _module(path: Path) -> tuple[wasmtime.Engine, wasmtime.Module]:
    engine = wasmtime.Engine()
    return engine, wasmtime.Module.from_file(engine, str(path))


class WitnessCalculator:
    """One circuit's witness calculator, ready to run (a fresh instance per calculation)."""

    def __init__(self, wasm: Path) -> None:
        self.engine, self.module = _module(Path(wasm).resolve())

    def _instance(self) -> tuple[wasmtime.Store, Any, list[str]]:
        store = wasmtime.Store(self.engine)
        messages: list[str] = []
        exports: dict[str, Any] = {}

        def message() -> str:
            chars = []
            while (c := exports["getMessageChar"](store)) != 0:
                chars.append(chr(c))
            return "".join(chars)

        def exception(code: int) -> None:
            detail = "; ".join(messages)
            reason = _ERRORS.get(code, "unknown error")
            raise WitnessError(reason + (f": {detail}" if detail else ""))

        def print_error() -> None:
            messages.append(message())

        def void_type(*params: wasmtime.ValType) -> wasmtime.FuncType:
            return wasmtime.FuncType(list(params), [])

        i32 = wasmtime.ValType.i32()
        imports = {
            "exceptionHandler": wasmtime.Func(store, void_type(i32), exception),
            "printErrorMessage": wasmtime.Func(store, void_type(), print_error),
            "writeBufferMessage": wasmtime.Func(store, void_type(), lambda: message() and None),
            "showSharedRWMemory": wasmtime.Func(store, void_type(), lambda: None),
        }
        ordered = []
        for item in self.module.imports:
            if item.module != "runtime" or item.name not in imports:
                raise WitnessError(f"the witness calculator imports {item.module}.{item.name}")
            ordered.append(imports[str(item.name)])
        instance = wasmtime.Instance(store, self.module, ordered)
        for name, export in instance.exports(store).items():
            exports[name] = export
        return store, exports, messages

    def calculate(
        self, inputs: Mapping[str, Any], signals: Sequence[int] | None = None
    ) -> list[int]:
        """Compute the witness for ``inputs`` (signal name -> int or nested lists of ints) and
        return the values of the witness entries ``signals`` (all of them if None: slow for a
        big circuit, as each is read through the shared memory word by word). Raise
        :class:`WitnessError` if the circuit refuses them."""
        store, ex, _ = self._instance()
        words = ex["getFieldNumLen32"](store)

        def read() -> int:
            value = 0
            for j in reversed(range(words)):
                value = (value << 32) | (ex["readSharedRWMemory"](store, j) & 0xFFFFFFFF)
            return value

        ex["getRawPrime"](store)
        prime = read()
        try:
            ex["init"](store, 0)
            count = 0
            for name, value in inputs.items():
                digest = _fnv1a_64(name)
                msb, lsb = digest >> 32, digest & 0xFFFFFFFF
                size = ex["getInputSignalSize"](store, _i32(msb), _i32(lsb))
                flat = _flatten(value)
                if size < 0:
                    raise WitnessError(f"the circuit has no input signal {name}")
                if len(flat) != size:
                    raise WitnessError(f"input {name} takes {size} values, not {len(flat)}")
                for position, item in enumerate(flat):
                    item %= prime
                    for j in range(words):
                        ex["writeSharedRWMemory"](store, j, _i32((item >> (32 * j)) & 0xFFFFFFFF))
                    ex["setInputSignal"](store, _i32(msb), _i32(lsb), position)
                    count += 1
            if count < ex["getInputSize"](store):
                raise WitnessError(f"only {count} of {ex['getInputSize'](store)} inputs were set")
            wanted = range(ex["getWitnessSize"](store)) if signals is None else signals
            values = []
            for index in wanted:
                ex["getWitness"](store, index)
                values.append(read())
            return values
        except wasmtime.WasmtimeError as exc:  # a trap other than the exception handler's
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, WitnessError):
                raise cause from None
            raise WitnessError(f"the witness calculator trapped: {exc}") from None


def _i32(value: int) -> int:
    """An unsigned 32-bit value as wasm's signed i32."""
    return value - (1 << 32) if value >= 1 << 31 else value
