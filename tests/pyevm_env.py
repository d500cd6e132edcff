"""Test support: a stock py-evm Prague state, and one message run on it with a computation
class (stock py-evm's, or rollupkit's) so their results can be compared."""

from __future__ import annotations

from typing import Any

from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.tools.builder.chain.builders import build, disable_pow_check, genesis, prague_at
from eth.vm.message import Message

CALLER = b"\x10" * 20


def prague_state() -> Any:
    """A Prague state with a funded caller."""
    params = {"gas_limit": 30_000_000, "difficulty": 0, "nonce": b"\0" * 8}
    accounts = {CALLER: {"balance": 10**20, "nonce": 0, "code": b"", "storage": {}}}
    chain = build(
        MiningChain,
        prague_at(0),
        disable_pow_check(),
        genesis(db=AtomicDB(), params=params, state=accounts),
    )
    return chain.get_vm().state


def run_message(
    state: Any, computation_class: Any, target: bytes, data: bytes, code: bytes = b""
) -> tuple[bool, bytes, int]:
    """Run one message (1M gas) to ``target`` and undo it: (success, output, gas left)."""
    message = Message(
        gas=1_000_000 if code else 10_000_000, to=target, sender=CALLER, value=0, data=data,
        code=code, code_address=target,
    )  # fmt: skip
    context = state.get_transaction_context_class()(gas_price=0, origin=CALLER)
    snapshot = state.snapshot()
    try:
        computation = computation_class.apply_message(state, message, context)
    finally:
        state.revert(snapshot)
    return computation.is_success, bytes(computation.output), computation.get_gas_remaining()
