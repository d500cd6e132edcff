"""The host ABI: how a non-EVM guest (a RISC-V ELF, a wasm module) talks to the chain.

One logical interface, the same for every VM that runs on :class:`~rollupkit.accountvm.AccountVM`:
a guest names a :class:`HostFunction` and passes up to five integer arguments (pointers into its
own memory, lengths, small numbers); the host answers with one unsigned 64-bit integer. How the
call is made is the VM's: a RISC-V guest puts the function number in ``a7`` and the arguments
in ``a0..a4`` and executes ``ecall``; the answer comes back in ``a0`` (low 32 bits) and ``a1``
(high 32 bits); a wasm guest imports each function from module ``"rollupkit"`` under its lower-case
name (``storage_load``, ...), with i32 arguments and an i64 answer. ``rollupkit.h``
(``sdk/guest/``, :func:`c_header`) wraps every function for C on both.

Values follow the EVM's encodings so that contracts of every VM agree on them: addresses are
20 bytes, storage keys and values, balances and call values are 32-byte big-endian words, logs
have up to four 32-byte topics, and calls return data the caller can copy.

=====  ===================  ===========================================  =================
#      function             arguments -> answer                          gas (+ HOST_CALL)
=====  ===================  ===========================================  =================
1      STORAGE_LOAD         key_ptr, out_ptr -> 0                        2,100
2      STORAGE_STORE        key_ptr, value_ptr -> 0                      22,100 from zero to
                                                                         non-zero, else 5,000
3      CALLDATA_SIZE        -> size                                      0
4      CALLDATA_COPY        dst, offset, length -> 0  (zeros past end)   3 per word
5      CALLER               out_ptr (20 bytes) -> 0                      0
6      CALL_VALUE           out_ptr (32 bytes) -> 0                      0
7      RETURN               ptr, length: ends the call, successfully     3 per word
8      REVERT               ptr, length: ends the call, undoing writes   3 per word
9      LOG                  topics_ptr, topic_count (0..4), data_ptr,    375 + 375 a topic
                            data_length -> 0                             + 8 a byte
10     KECCAK256            ptr, length, out_ptr -> 0                    30 + 6 per word
11     BALANCE              address_ptr, out_ptr -> 0                    2,600
12     TRANSFER             address_ptr, value_ptr -> 0 done, 1 refused  11,600 (+25,000
                            (moves value; runs no code; refused for a    to a new account)
                            short balance or the L2 bridge: use CALL)
13     BLOCK_NUMBER         -> number                                    0
14     TIMESTAMP            -> timestamp                                 0
15     CHAIN_ID             -> chain id                                  0
16     CALL                 address_ptr, value_ptr, data_ptr,            2,600 (+9,000 with
                            data_length, gas -> 0 success, 1 failed      value, +25,000 to a
                            (reverted, out of gas, too deep, short       new account) + the
                            balance); its output becomes the return      callee's gas
                            data. ``gas`` 0xFFFFFFFF: all it may have
17     RETURNDATA_SIZE      -> size of the last call's output            0
18     RETURNDATA_COPY      dst, offset, length -> 0 (fails past end)    3 per word
19     GAS_LEFT             -> gas left, after this call's own cost      0
20     ADDRESS              out_ptr (20 bytes) -> 0: the running         0
                            contract's address
=====  ===================  ===========================================  =================

Every host call costs :data:`HOST_CALL` (100) on top: crossing into the host is a Python call
(5 to 7 µs; ``benchmarks/execute_worst.py`` keeps a loop of the cheapest host call within 2x
of EXECUTE's average time per gas).

A call forwards at most all but 1/64 of the caller's gas left (as the EVM's CALL), and nests at
most :data:`MAX_CALL_DEPTH` deep; no host call moves more than :data:`MAX_HOST_COPY` bytes.
Anything a guest gets wrong (an unknown function, a pointer outside its memory, more than four
topics, copying past the end of the return data) ends the call as failed with all its gas used,
as an exceptional halt does on the EVM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Any, Protocol

from eth_hash.auto import keccak

from rollupkit.accountvm import MAX_CALL_DEPTH, Frame, Log, StateOverlay, call_depth
from rollupkit.errors import OutOfGas
from rollupkit.withdrawals import L2_BRIDGE_ADDRESS


class HostFunction(IntEnum):
    """The host functions a guest may call (see the module docstring)."""

    STORAGE_LOAD = 1
    STORAGE_STORE = 2
    CALLDATA_SIZE = 3
    CALLDATA_COPY = 4
    CALLER = 5
    CALL_VALUE = 6
    RETURN = 7
    REVERT = 8
    LOG = 9
    KECCAK256 = 10
    BALANCE = 11
    TRANSFER = 12
    BLOCK_NUMBER = 13
    TIMESTAMP = 14
    CHAIN_ID = 15
    CALL = 16
    RETURNDATA_SIZE = 17
    RETURNDATA_COPY = 18
    GAS_LEFT = 19
    ADDRESS = 20


#: How many arguments each host function takes (a wasm import has exactly these, as i32s).
ARGUMENTS = {
    HostFunction.STORAGE_LOAD: 2, HostFunction.STORAGE_STORE: 2, HostFunction.CALLDATA_SIZE: 0,
    HostFunction.CALLDATA_COPY: 3, HostFunction.CALLER: 1, HostFunction.CALL_VALUE: 1,
    HostFunction.RETURN: 2, HostFunction.REVERT: 2, HostFunction.LOG: 4,
    HostFunction.KECCAK256: 3, HostFunction.BALANCE: 2, HostFunction.TRANSFER: 2,
    HostFunction.BLOCK_NUMBER: 0, HostFunction.TIMESTAMP: 0, HostFunction.CHAIN_ID: 0,
    HostFunction.CALL: 5, HostFunction.RETURNDATA_SIZE: 0, HostFunction.RETURNDATA_COPY: 3,
    HostFunction.GAS_LEFT: 0, HostFunction.ADDRESS: 1,
}  # fmt: skip

HOST_CALL = 100
COPY_WORD = 3
STORAGE_LOAD = 2_100
STORAGE_SET = 22_100
STORAGE_RESET = 5_000
LOG_BASE = 375
LOG_TOPIC = 375
LOG_BYTE = 8
KECCAK_BASE = 30
KECCAK_WORD = 6
ACCOUNT_ACCESS = 2_600
VALUE_TRANSFER = 9_000
NEW_ACCOUNT = 25_000
MAX_HOST_COPY = 1 << 20  # no host call moves more guest memory than this (1 MiB)
ALL_THE_GAS = 0xFFFF_FFFF
MAX_TOPICS = 4
U64 = (1 << 64) - 1


class GuestMemory(Protocol):
    """A guest's memory as the host sees it: both raise :class:`GuestFault` on a bad range."""

    def read(self, pointer: int, length: int) -> bytes: ...

    def write(self, pointer: int, data: bytes) -> None: ...


class GuestFault(Exception):
    """The guest made a host call it cannot make: the call fails with all its gas used."""


class GuestExit(Exception):  # not an error: how RETURN and REVERT end a call
    """The guest called RETURN or REVERT: the VM stops it and reports ``output``."""

    def __init__(self, output: bytes, reverted: bool) -> None:
        super().__init__("revert" if reverted else "return")
        self.output = output
        self.reverted = reverted


def c_header() -> bytes:
    """``rollupkit.h``: the host ABI for C guests of every non-EVM VM (``sdk/guest/``)."""
    from importlib.resources import files

    return (files("rollupkit") / "guest" / "rollupkit.h").read_bytes()


def c_examples() -> dict[str, bytes]:
    """The example contracts in C, by file name (``sdk/guest/examples/``): a counter, a token,
    a contract that calls others, a compute loop. Each VM builds them its own way."""
    from importlib.resources import files

    folder = files("rollupkit") / "guest" / "examples"
    return {item.name: item.read_bytes() for item in folder.iterdir() if item.name.endswith(".c")}


def guest_project_files(folder: Any, suffixes: tuple[str, ...]) -> dict[str, bytes]:
    """What ``scaffold new`` puts in a project's ``guest/`` for a VM running rollupkit's C
    examples: the files of ``folder`` (a plugin's guest folder, an importlib resource) ending
    in ``suffixes`` or named Makefile, the example sources and ``rollupkit.h``."""
    found = {
        f"guest/{item.name}": item.read_bytes()
        for item in folder.iterdir()
        if item.name.endswith(suffixes) or item.name == "Makefile"
    }
    sources = {f"guest/{name}": text for name, text in c_examples().items()}
    return {**found, **sources, "guest/rollupkit.h": c_header()}


def words(length: int) -> int:
    return (length + 31) // 32


class Host:
    """The host side of one running frame: dispatches host calls against ``frame``.

    ``sync_gas`` is the VM's hook to charge the instructions (or fuel) its guest used since the
    last host call, before a host call reads or spends gas, so that ``GAS_LEFT`` and the
    gas a CALL forwards are exact.
    """

    def __init__(self, frame: Frame, memory: GuestMemory, sync_gas: Callable[[], None]) -> None:
        self.frame = frame
        self.memory = memory
        self.sync_gas = sync_gas
        self.return_data = b""
        self._functions: dict[int, Callable[..., int]] = {
            HostFunction.STORAGE_LOAD: self.storage_load,
            HostFunction.STORAGE_STORE: self.storage_store,
            HostFunction.CALLDATA_SIZE: lambda *_: len(self.frame.data),
            HostFunction.CALLDATA_COPY: self.calldata_copy,
            HostFunction.CALLER: lambda out, *_: self._put(out, self.frame.sender),
            HostFunction.CALL_VALUE: lambda out, *_: self._put(out, _word(self.frame.value)),
            HostFunction.RETURN: lambda p, n, *_: self._exit(p, n, reverted=False),
            HostFunction.REVERT: lambda p, n, *_: self._exit(p, n, reverted=True),
            HostFunction.LOG: self.log,
            HostFunction.KECCAK256: self.keccak256,
            HostFunction.BALANCE: self.balance,
            HostFunction.TRANSFER: self.transfer,
            HostFunction.BLOCK_NUMBER: lambda *_: self.frame.block.number,
            HostFunction.TIMESTAMP: lambda *_: self.frame.block.timestamp,
            HostFunction.CHAIN_ID: lambda *_: self.frame.block.chain_id,
            HostFunction.CALL: self.call,
            HostFunction.RETURNDATA_SIZE: lambda *_: len(self.return_data),
            HostFunction.RETURNDATA_COPY: self.returndata_copy,
            HostFunction.GAS_LEFT: lambda *_: self.frame.gas_left,
            HostFunction.ADDRESS: lambda out, *_: self._put(out, self.frame.address),
        }

    def dispatch(self, function: int, args: Sequence[int]) -> int:
        """Run host function ``function`` with ``args`` (its unsigned integer arguments: at
        least as many as it takes, :data:`ARGUMENTS`; extra ones are ignored) and return its
        answer. Raises :class:`GuestExit` for RETURN/REVERT, :class:`GuestFault` or
        :class:`~rollupkit.errors.OutOfGas` to fail the call, and lets the trace-level errors
        (missing witness, gas cap) through."""
        self.sync_gas()
        handler = self._functions.get(function)
        if handler is None:
            raise GuestFault(f"unknown host function {function}")
        self.frame.use_gas(HOST_CALL)
        return handler(*args) & U64

    # --- memory ---------------------------------------------------------------------------

    def _get(self, pointer: int, length: int) -> bytes:
        return self.memory.read(pointer, length)

    def _put(self, pointer: int, data: bytes) -> int:
        self.memory.write(pointer, data)
        return 0

    def _copy_out(self, source: bytes, dst: int, offset: int, length: int) -> int:
        if length > MAX_HOST_COPY:  # before anything is allocated for it
            raise GuestFault(f"a host call copies at most {MAX_HOST_COPY} bytes, not {length}")
        self.frame.use_gas(COPY_WORD * words(length))
        chunk = source[offset : offset + length] if offset < len(source) else b""
        return self._put(dst, chunk.ljust(length, b"\0"))

    def _exit(self, pointer: int, length: int, *, reverted: bool) -> int:
        self.frame.use_gas(COPY_WORD * words(length))
        raise GuestExit(self._get(pointer, length), reverted)

    # --- functions ------------------------------------------------------------------------

    def storage_load(self, key_ptr: int, out: int, *_: int) -> int:
        self.frame.use_gas(STORAGE_LOAD)
        slot = int.from_bytes(self._get(key_ptr, 32), "big")
        return self._put(out, _word(self.frame.state.get_storage(self.frame.address, slot)))

    def _writing(self, what: str) -> None:
        if self.frame.is_static:  # an exceptional halt, as a write in the EVM's STATICCALL
            raise GuestFault(f"{what} in a static call")

    def storage_store(self, key_ptr: int, value_ptr: int, *_: int) -> int:
        self._writing("a storage write")
        slot = int.from_bytes(self._get(key_ptr, 32), "big")
        value = int.from_bytes(self._get(value_ptr, 32), "big")
        state, address = self.frame.state, self.frame.address
        current = state.get_storage(address, slot)
        self.frame.use_gas(STORAGE_SET if current == 0 and value != 0 else STORAGE_RESET)
        state.set_storage(address, slot, value)
        return 0

    def calldata_copy(self, dst: int, offset: int, length: int, *_: int) -> int:
        return self._copy_out(self.frame.data, dst, offset, length)

    def returndata_copy(self, dst: int, offset: int, length: int, *_: int) -> int:
        if offset + length > len(self.return_data):
            raise GuestFault("RETURNDATA_COPY past the end of the return data")
        return self._copy_out(self.return_data, dst, offset, length)

    def log(self, topics_ptr: int, count: int, data_ptr: int, length: int, *_: int) -> int:
        self._writing("a log")
        if count > MAX_TOPICS:
            raise GuestFault(f"a log has at most {MAX_TOPICS} topics, not {count}")
        self.frame.use_gas(LOG_BASE + LOG_TOPIC * count + LOG_BYTE * length)
        raw = self._get(topics_ptr, 32 * count) if count else b""
        topics = tuple(raw[i : i + 32] for i in range(0, len(raw), 32))
        self.frame.emit_log(Log(self.frame.address, topics, self._get(data_ptr, length)))
        return 0

    def keccak256(self, pointer: int, length: int, out: int, *_: int) -> int:
        self.frame.use_gas(KECCAK_BASE + KECCAK_WORD * words(length))
        return self._put(out, keccak(self._get(pointer, length)))

    def balance(self, address_ptr: int, out: int, *_: int) -> int:
        self.frame.use_gas(ACCOUNT_ACCESS)
        address = self._get(address_ptr, 20)
        return self._put(out, _word(self.frame.state.balance(address)))

    def transfer(self, address_ptr: int, value_ptr: int, *_: int) -> int:
        self._writing("a transfer")
        state, me = self.frame.state, self.frame.address
        to = self._get(address_ptr, 20)
        value = int.from_bytes(self._get(value_ptr, 32), "big")
        self.frame.use_gas(ACCOUNT_ACCESS + VALUE_TRANSFER + _new_account_gas(state, to, value))
        if to == L2_BRIDGE_ADDRESS or state.balance(me) < value:
            return 1
        state.add_balance(me, -value)
        state.add_balance(to, value)
        return 0

    def call(self, address_ptr: int, value_ptr: int, data_ptr: int, length: int, gas: int) -> int:
        frame, state = self.frame, self.frame.state
        to = self._get(address_ptr, 20)
        value = int.from_bytes(self._get(value_ptr, 32), "big")
        cost = ACCOUNT_ACCESS + COPY_WORD * words(length)
        if value:
            self._writing("a call with value")
            cost += VALUE_TRANSFER + _new_account_gas(state, to, value)
        frame.use_gas(cost)
        data = self._get(data_ptr, length)
        self.return_data = b""
        if state.balance(frame.address) < value:
            return 1
        allowed = frame.gas_left - frame.gas_left // 64
        forwarded = allowed if gas == ALL_THE_GAS else min(gas, allowed)
        success, self.return_data = frame.call(to, value, data, forwarded)
        return 0 if success else 1


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _new_account_gas(state: StateOverlay, address: bytes, value: int) -> int:
    return NEW_ACCOUNT if value and state.account(address) is None else 0


__all__ = [
    "ARGUMENTS",
    "MAX_CALL_DEPTH",
    "GuestExit",
    "GuestFault",
    "GuestMemory",
    "Host",
    "HostFunction",
    "OutOfGas",
    "c_examples",
    "c_header",
    "call_depth",
    "guest_project_files",
]
