"""py-evm's Prague computation as rollupkit runs it, on the L2 (``evm`` VM) and on the L1 devnet.

* :class:`MeteredGasMeter` reports every unit of gas py-evm burns to the state's
  :class:`~rollupkit.metering.ExecutionMeter` (``state.execution_meter``), which stops the run
  once it is past its claim (EXECUTE) or its deadline (``eth_call``);
* py-evm's slow precompiles are replaced by native ones (:mod:`rollupkit.ethprecompiles`);
* memory accesses that need no expansion skip py-evm's validations and cost arithmetic.

Without a meter on the state, the computation is py-evm's own but for the last two points,
which change nothing a program can observe.

:class:`CallStates` keeps py-evm states for calls (``eth_call``, ``eth_estimateGas``) on the
same block and reuses them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from eth.exceptions import OutOfGas
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.gas_meter import GasMeter, allow_negative_refund_strategy
from eth.vm.spoof import SpoofTransaction
from eth_utils import ValidationError

from rollupkit.ethprecompiles import PRECOMPILE_OVERRIDES
from rollupkit.metering import ExecutionMeter


class MeteredGasMeter(GasMeter):
    """py-evm's gas meter, also counting what it burns on an :class:`ExecutionMeter`.

    The running count is always the gross gas the transaction has used so far. A child frame
    is handed gas its parent has already burnt (the CALL or CREATE allotment), so creating one
    takes its gas back off the count, and only what the child itself burns counts again; gas a
    parent gets back (a call that could not start, or a child's leftover) comes off the count,
    and :meth:`MeteredComputation.apply_child_computation` puts a child's leftover on it first,
    since the child's own count already excluded it. Refunds are settled when the transaction
    ends.
    """

    def __init__(self, start_gas: int, meter: ExecutionMeter, *, child: bool) -> None:
        super().__init__(start_gas, allow_negative_refund_strategy)
        self.meter = meter
        if child:  # a new call frame: its gas was counted by its caller, its set-up was not
            meter.running -= start_gas
            meter.recheck()
            meter.frame()

    def consume_gas(self, amount: int, reason: str) -> None:
        # Called for every opcode: keep it short (py-evm's debug logging is left out).
        if amount < 0:
            raise ValidationError("Gas consumption amount must be positive")
        if amount > self.gas_remaining:
            raise OutOfGas(
                f"Out of gas: Needed {amount} - Remaining {self.gas_remaining} - Reason: {reason}"
            )
        self.gas_remaining -= amount
        meter = self.meter
        meter.running += amount
        if meter.running > meter.running_limit:
            meter.over()

    def return_gas(self, amount: int) -> None:
        super().return_gas(amount)
        self.meter.running -= amount
        self.meter.recheck()


class MeteredComputation(PragueComputation):
    """Prague's computation with its gas metered on the state's :class:`ExecutionMeter`,
    py-evm's slow precompiles replaced (:mod:`rollupkit.ethprecompiles`) and fast memory."""

    _precompiles = {**PragueComputation._precompiles, **PRECOMPILE_OVERRIDES}

    def _configure_gas_meter(self) -> GasMeter:
        meter = getattr(self.state, "execution_meter", None)
        if meter is None:
            return super()._configure_gas_meter()
        return MeteredGasMeter(self.msg.gas, meter, child=self.msg.depth > 0)

    def extend_memory(self, start_position: int, size: int) -> None:
        # The common case, memory already large enough, costs nothing and changes nothing:
        # skip py-evm's validations and cost arithmetic for it (memory-heavy loops spent most
        # of their time there). Anything else goes through py-evm unchanged.
        if size > 0 and start_position + size <= len(self._memory):
            return
        super().extend_memory(start_position, size)

    def memory_write(self, start_position: int, size: int, value: bytes) -> None:
        # py-evm validates every write against invariants its opcodes already keep (the
        # memory was extended first, the value has the size); keep only the size check.
        memory = self._memory
        if type(value) is bytes and len(value) == size and start_position + size <= len(memory):
            memory._bytes[start_position : start_position + size] = value  # type: ignore[attr-defined]
            return
        super().memory_write(start_position, size, value)

    def apply_child_computation(self, child_msg: Any) -> Any:
        meter = getattr(self.state, "execution_meter", None)
        child = super().apply_child_computation(child_msg)
        if meter is not None:
            # The parent returns this to itself next (return_gas takes it off the count).
            meter.running += child.get_gas_remaining()
        return child


class CallTransaction(SpoofTransaction):
    """An unsigned transaction sent as ``from_`` (what a call runs), remembering each field
    it is asked for: py-evm reads them some fifty times a call, each time through two
    lookups and an RLP field getter."""

    def __getattr__(self, attr: str) -> Any:
        value = super().__getattr__(attr)
        self.__dict__[attr] = value  # a call's transaction does not change while it runs
        return value


def _without_zero_balance_changes(state: Any) -> Any:
    """``state``, with adding 0 to a balance skipped. A free call buys its gas, refunds it
    and pays the coinbase with 0 wei, and each of those re-encodes an account: a fifth of a
    small call's time. Adding 0 changes nothing a call can observe (an EIP-161 touch only
    matters when a transaction is kept, and a call's state is reverted)."""
    delta_balance = state.delta_balance

    def skip_zero(address: bytes, delta: int) -> None:
        if delta:
            delta_balance(address, delta)

    state.delta_balance = skip_zero
    return state


class CallStates:
    """py-evm states for calls on one block, reused from call to call.

    Building a VM, its header and its state, then reading the same accounts and code through
    the trie again, was most of the cost of a small ``eth_call``. A call here takes a state
    no other call is using (or builds one), runs on it, and reverts it to the snapshot it
    started from: py-evm journals every change a transaction makes (accounts, storage, code,
    the EIP-2929 warm sets) and reverts them as it does for a failed transaction in a block,
    while its read caches stay warm. Transient storage is cleared when a transaction starts.

    A state serves calls only for its ``key`` (the block, and whatever else decides what a
    call sees) and at most ``uses`` times, since its caches grow with the accounts calls
    touch; states for the ``keys`` newest keys are kept, ``per_key`` of each.
    """

    def __init__(self, *, keys: int = 4, per_key: int = 4, uses: int = 512) -> None:
        self.per_key, self.uses = per_key, uses
        self._keys = keys
        self._free: OrderedDict[Hashable, list[tuple[Any, int]]] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def state(self, key: Hashable, build: Callable[[], Any]) -> Iterator[Any]:
        """A state for ``key`` (from ``build()`` if none is free); every change a call makes
        on it is reverted on leaving. Leave ``state.execution_meter`` as it was found."""
        with self._lock:
            free = self._free.get(key)
            state, used = free.pop() if free else (None, 0)
        if state is None:
            state = _without_zero_balance_changes(build())
        snapshot = state.snapshot()
        try:
            yield state
        finally:
            state.revert(snapshot)
            self._give_back(key, state, used + 1)

    def _give_back(self, key: Hashable, state: Any, used: int) -> None:
        if used >= self.uses:
            return
        with self._lock:
            free = self._free.setdefault(key, [])
            self._free.move_to_end(key)
            if len(free) < self.per_key:
                free.append((state, used))
            while len(self._free) > self._keys:
                self._free.popitem(last=False)


@contextmanager
def recorded_accesses(state: Any) -> Iterator[dict[bytes, set[int]]]:
    """Record, on a py-evm ``state``, every account and storage slot the code it runs warms
    (EIP-2929), for eth_createAccessList: address -> slots. Setting up the transaction
    marks its sender, target, coinbase and the precompiles: callers leave those out."""
    touched: dict[bytes, set[int]] = {}
    mark_address, mark_storage = state.mark_address_warm, state.mark_storage_warm

    def address(account: bytes) -> None:
        touched.setdefault(bytes(account), set())
        mark_address(account)

    def storage(account: bytes, slot: int) -> None:
        touched.setdefault(bytes(account), set()).add(int(slot))
        mark_storage(account, slot)

    state.mark_address_warm, state.mark_storage_warm = address, storage
    try:
        yield touched
    finally:
        del state.mark_address_warm, state.mark_storage_warm  # the class's methods again


def access_list_of(
    touched: dict[bytes, set[int]], excluded: set[bytes]
) -> tuple[tuple[bytes, tuple[int, ...]], ...]:
    """``touched`` as an access list, sorted, without the ``excluded`` accounts (as geth
    leaves out the sender, the target and the precompiles)."""
    return tuple(
        (address, tuple(sorted(slots)))
        for address, slots in sorted(touched.items())
        if address not in excluded
    )
