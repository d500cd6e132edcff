"""rollupkit: a pluggable multi-VM native rollup SDK.

The heart is EXECUTE::

    from rollupkit import execute, execute_detailed
    ok = execute(pre_state_root, post_state_root, trace, gas_used, vm="evm", state="mpt")

``execute`` is True iff the trace, re-executed statelessly from ``pre_state_root`` by the named
VM plugin over the named state model, ends at ``post_state_root`` using exactly ``gas_used``.
It never raises. ``execute_detailed`` returns the reason for a False and the public outputs.
"""

from __future__ import annotations

import os

# eth-hash hashes with the first backend it finds, and pycryptodome (~8 us a hash, through
# ctypes) comes before pysha3 (~1 us, C): keccak runs for every trie node, address and call.
# ETH_HASH_BACKEND is eth-hash's own switch, read at the first hash; a user's setting wins.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rollupkit.builder import BuiltTrace, build_trace
    from rollupkit.chain import DevChain
    from rollupkit.execution import execute, execute_detailed
    from rollupkit.plugins import get_registry, hookimpl
    from rollupkit.trace import decode_trace, encode_trace
    from rollupkit.types import (
        BlockInput,
        ExecuteResult,
        GenesisAccount,
        L1Message,
        MessageKind,
        PublicOutputs,
        RejectReason,
        Trace,
        Witness,
    )

# What ``from rollupkit import X`` finds, imported on first use: py-evm alone takes a third
# of a second to import, and a command like ``rollupkit --help`` needs none of it.
_EXPORTS = {
    "BuiltTrace": "rollupkit.builder",
    "build_trace": "rollupkit.builder",
    "DevChain": "rollupkit.chain",
    "execute": "rollupkit.execution",
    "execute_detailed": "rollupkit.execution",
    "get_registry": "rollupkit.plugins",
    "hookimpl": "rollupkit.plugins",
    "decode_trace": "rollupkit.trace",
    "encode_trace": "rollupkit.trace",
    **{
        name: "rollupkit.types"
        for name in (
            "BlockInput", "ExecuteResult", "GenesisAccount", "L1Message", "MessageKind",
            "PublicOutputs", "RejectReason", "Trace", "Witness",
        )
    },
}  # fmt: skip


def __getattr__(name: str) -> object:
    if name == "__version__":
        return _version()
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rollupkit' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def _version() -> str:
    from importlib import metadata

    try:
        version = metadata.version("rollupkit")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        version = "0+unknown"
    globals()["__version__"] = version
    return version


__all__ = [
    "BlockInput",
    "BuiltTrace",
    "DevChain",
    "ExecuteResult",
    "GenesisAccount",
    "L1Message",
    "MessageKind",
    "PublicOutputs",
    "RejectReason",
    "Trace",
    "Witness",
    "__version__",
    "build_trace",
    "decode_trace",
    "encode_trace",
    "execute",
    "execute_detailed",
    "get_registry",
    "hookimpl",
]
