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
from importlib import metadata

# eth-hash hashes with the first backend it finds, and pycryptodome (~8 us a hash, through
# ctypes) comes before pysha3 (~1 us, C): keccak runs for every trie node, address and call.
# ETH_HASH_BACKEND is eth-hash's own switch, read at the first hash; a user's setting wins.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

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

try:
    __version__ = metadata.version("rollupkit")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

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
