"""A RISC-V or wasm guest's frame inside py-evm: what the host ABI and the guest interpreters
need of a frame (:class:`rollupkit.accountvm.Frame`'s members), over a py-evm computation.

So a guest on a ``multi`` chain lives in the EVM's world: its gas is the computation's (one
budget for the whole call tree, metered for EXECUTE as every EVM frame is), its storage and
balances are py-evm's state (journaled: a revert anywhere undoes exactly that frame's writes),
its logs join the transaction's in order, its calls are py-evm child messages (to EVM code or
to another guest) and a static call's guest may not write.
"""

from __future__ import annotations

from typing import Any

from eth.exceptions import OutOfGas as EvmOutOfGas

from rollupkit.accountvm import MAX_CALL_DEPTH, BlockContext, Log, call_depth, one_call_deeper
from rollupkit.errors import OutOfGas

#: py-evm's call depth limit (Ethereum's).
EVM_MAX_DEPTH = 1024


class EvmStateAdapter:
    """The state calls of the host ABI, on py-evm's state."""

    def __init__(self, state: Any) -> None:
        self._state = state

    def get_storage(self, address: bytes, slot: int) -> int:
        return int(self._state.get_storage(address, slot))

    def set_storage(self, address: bytes, slot: int, value: int) -> None:
        self._state.set_storage(address, slot, value)

    def balance(self, address: bytes) -> int:
        return int(self._state.get_balance(address))

    def add_balance(self, address: bytes, delta: int) -> None:
        self._state.delta_balance(address, delta)

    def account(self, address: bytes) -> tuple[int, int] | None:
        state = self._state
        if not state.account_exists(address) or state.account_is_empty(address):
            return None
        return state.get_nonce(address), state.get_balance(address)


class EvmHostedFrame:
    """A guest frame on a py-evm computation (see the module docstring)."""

    def __init__(self, computation: Any, code: bytes) -> None:
        msg, state = computation.msg, computation.state
        context = state.execution_context
        self.computation = computation
        self.state = EvmStateAdapter(state)
        self.block = BlockContext(
            chain_id=context.chain_id, number=context.block_number,
            timestamp=context.timestamp, coinbase=bytes(context.coinbase),
            gas_limit=context.gas_limit, base_fee=context.base_fee_per_gas,
            prev_randao=context.mix_hash,
        )  # fmt: skip
        self.origin = bytes(computation.transaction_context.origin)
        self.sender = bytes(msg.sender)
        self.address = bytes(msg.storage_address)
        self.value = msg.value
        self.data = bytes(msg.data)
        self.code = code
        self.gas = msg.gas
        self.logs: list[Log] = []  # never filled: emit_log hands events to py-evm at once
        self.meter = getattr(state, "execution_meter", None)
        self.is_static = msg.is_static

    @property
    def gas_left(self) -> int:
        return int(self.computation.get_gas_remaining())

    @property
    def gas_used(self) -> int:
        return self.gas - self.gas_left

    def use_gas(self, amount: int) -> None:
        try:
            self.computation.consume_gas(amount, "guest")
        except EvmOutOfGas as exc:
            raise OutOfGas(str(exc)) from None

    def emit_log(self, log: Log) -> None:
        topics = tuple(int.from_bytes(topic, "big") for topic in log.topics)
        self.computation.add_log_entry(log.address, topics, log.data)

    def call(self, to: bytes, value: int, data: bytes, gas: int) -> tuple[bool, bytes]:
        """A py-evm child message, as the EVM's CALL makes one: the forwarded gas is spent
        first and what the callee leaves comes back. Guest frames nest at most
        :data:`MAX_CALL_DEPTH` deep (each holds an emulator or a wasm store)."""
        computation = self.computation
        if call_depth() >= MAX_CALL_DEPTH or computation.msg.depth + 1 >= EVM_MAX_DEPTH:
            return False, b""
        self.use_gas(gas)
        child_msg = computation.prepare_child_message(
            gas=gas, to=to, value=value, data=data,
            code=computation.state.get_code(to), is_static=self.is_static,
        )  # fmt: skip
        with one_call_deeper():
            child = computation.apply_child_computation(child_msg)
        if not child.should_burn_gas:
            computation.return_gas(child.get_gas_remaining())
        return not child.is_error, bytes(computation.return_data)
