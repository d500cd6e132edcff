"""The EXECUTE precompile for an L1 built on py-evm, at :data:`EXECUTE_ADDRESS`.

Input (ABI-encoded)::

    (bytes32 preStateRoot, bytes32 postStateRoot, uint256 gasUsed,
     string vm, string stateModel, bytes trace)

Gas: ``EXECUTE_GAS_COST + ceil(gasUsed * price)`` (see :mod:`rollupkit.gas_market`), charged
before execution from the *claimed* ``gasUsed``, so it is paid in full whatever the verdict.
The cumulative EXECUTE gas of the L1 block is tracked outside the EVM state, as blob gas is,
so a call that reverts still counts; a call that would pass
``EXECUTE_CUMULATIVE_GAS_LIMIT`` fails (all its gas is consumed). Input that does not decode
fails the same way.

Output (ABI-encoded, 18 words) when the call is charged::

    (bool ok, uint8 reason, bytes32 postStateRoot, uint256 gasUsed, uint256 chainId,
     bytes32 parentHash, bytes32 blockHash, uint256 blockNumber,
     uint256 queueStartIndex, bytes32 queueStartHash, uint256 messagesConsumed,
     bytes32 queueEndHash, bytes32 withdrawalsRoot, uint256 withdrawalCount,
     uint256 l1AnchorNumber, bytes32 l1AnchorHash, bytes32 l1StateRoot, bytes32 l1UpdatesHash)

(the last four: a booster batch's L1 effects, :mod:`rollupkit.l1updates`; zero otherwise)

``reason`` is 0 when ``ok``, else the reason's fixed number (:attr:`RejectReason.code
<rollupkit.types.RejectReason.code>`). When not ``ok`` the outputs are zero. The field order is
:data:`rollupkit.types.VERDICT_FIELDS`.
"""

from __future__ import annotations

import contextvars
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from eth.abc import ComputationAPI
from eth.exceptions import VMError
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from rollupkit.errors import ExecuteGasLimitExceeded
from rollupkit.execution import execute_detailed
from rollupkit.gas_market import ExecuteGasMarket
from rollupkit.types import REJECT_CODES, VERDICT_FIELDS, ExecuteResult, abi_values


class ExecuteRefused(VMError):
    """The precompile failed: bad input, no market, or the block's EXECUTE gas is used up."""


EXECUTE_ADDRESS = bytes.fromhex("0000000000000000000000000000000000000101")

INPUT_TYPES = ["bytes32", "bytes32", "uint256", "string", "string", "bytes"]
OUTPUT_TYPES = ["bool", "uint8", *(kind for _, kind in VERDICT_FIELDS)]
REASON_CODES = REJECT_CODES

#: The market of the L1 block being built (or a throwaway copy for eth_call). The devnet
#: sets it around every execution; with none set, EXECUTE is refused.
ACTIVE_MARKET: contextvars.ContextVar[ExecuteGasMarket | None] = contextvars.ContextVar(
    "rollupkit_execute_market", default=None
)


@contextmanager
def market_in_effect(market: ExecuteGasMarket) -> Iterator[ExecuteGasMarket]:
    """Make ``market`` the one EXECUTE charges while the block is executed."""
    token = ACTIVE_MARKET.set(market)
    try:
        yield market
    finally:
        ACTIVE_MARKET.reset(token)


def encode_input(
    pre_state_root: bytes,
    post_state_root: bytes,
    gas_used: int,
    trace: bytes,
    *,
    vm: str = "evm",
    state: str = "mpt",
) -> bytes:
    """ABI-encode a call to the precompile."""
    return abi_encode(INPUT_TYPES, [pre_state_root, post_state_root, gas_used, vm, state, trace])


def encode_output(result: ExecuteResult) -> bytes:
    """ABI-encode a verdict as the precompile returns it."""
    o = result.outputs
    if not result.ok or o is None:
        code = result.reason.code if result.reason else 0
        zeros = [b"\x00" * 32 if t == "bytes32" else 0 for t in OUTPUT_TYPES[2:]]
        return abi_encode(OUTPUT_TYPES, [False, code, *zeros])
    return abi_encode(OUTPUT_TYPES, [True, 0, *abi_values(o, VERDICT_FIELDS)])


def decode_output(output: bytes) -> tuple[object, ...]:
    """Decode the precompile's output into its 14 values."""
    return tuple(abi_decode(OUTPUT_TYPES, output))


def execute_precompile(computation: ComputationAPI) -> ComputationAPI:
    """py-evm precompile function: charge, then run EXECUTE and return its verdict."""
    market = ACTIVE_MARKET.get()
    if market is None:
        raise ExecuteRefused("EXECUTE is not available outside a block")
    try:
        pre, post, gas_used, vm, state, trace = abi_decode(
            INPUT_TYPES, computation.msg.data_as_bytes
        )
    except Exception as exc:
        raise ExecuteRefused(f"EXECUTE input does not decode: {exc}") from exc
    number = computation.state.block_number
    if number > market.block_number:
        market.start_block(number)
    cost = market.quote(gas_used)
    computation.consume_gas(cost, reason="EXECUTE precompile")
    try:
        market.charge(gas_used)
    except ExecuteGasLimitExceeded as exc:
        raise ExecuteRefused(str(exc)) from exc
    computation.output = _VERDICTS.verdict(computation.msg.data_as_bytes, pre, post, trace,
                                           gas_used, vm, state)  # fmt: skip
    return computation


class _Verdicts:
    """EXECUTE's answers to the last few inputs. EXECUTE is a pure function of its input, and
    a settlement runs it three times with the same one: twice while its gas is estimated,
    once when it is mined. The caller is charged every time; only the work is not redone."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._answers: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def verdict(
        self, data: bytes, pre: bytes, post: bytes, trace: bytes, gas: int, vm: str, state: str
    ) -> bytes:
        key = keccak(data)
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
                return answer
        answer = encode_output(execute_detailed(pre, post, trace, gas, vm=vm, state=state))
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)
        return answer


_VERDICTS = _Verdicts()


# --- EXECUTE_STEP: one step of a batch, for optimistic disputes (rollupkit.steps) ------------

EXECUTE_STEP_ADDRESS = bytes.fromhex("0000000000000000000000000000000000000102")
#: (bytes32 blockPreStateRoot, uint256 transactions, bool end, uint256 gas, string vm,
#:  string stateModel, bytes trace)
STEP_INPUT_TYPES = ["bytes32", "uint256", "bool", "uint256", "string", "string", "bytes"]
#: (bool ok, bytes32 commitment, bytes32 stateRoot, bytes32 blockHash, bytes32 blockInputHash)
STEP_OUTPUT_TYPES = ["bool", "bytes32", "bytes32", "bytes32", "bytes32"]


def encode_step_input(
    block_pre_state_root: bytes, transactions: int, end: bool, gas: int, trace: bytes, *,
    vm: str = "evm", state: str = "mpt",
) -> bytes:  # fmt: skip
    return abi_encode(STEP_INPUT_TYPES, [block_pre_state_root, transactions, end, gas, vm, state,
                                         trace])  # fmt: skip


def execute_step_precompile(computation: ComputationAPI) -> ComputationAPI:
    """py-evm precompile function: charged as EXECUTE for ``gas`` (the work it may do), then
    :func:`rollupkit.steps.execute_step`; the answer is the state at the step's position."""
    from rollupkit.steps import execute_step

    market = ACTIVE_MARKET.get()
    if market is None:
        raise ExecuteRefused("EXECUTE_STEP is not available outside a block")
    try:
        pre, transactions, end, gas, vm, state, trace = abi_decode(
            STEP_INPUT_TYPES, computation.msg.data_as_bytes
        )
    except Exception as exc:
        raise ExecuteRefused(f"EXECUTE_STEP input does not decode: {exc}") from exc
    number = computation.state.block_number
    if number > market.block_number:
        market.start_block(number)
    computation.consume_gas(market.quote(gas), reason="EXECUTE_STEP precompile")
    try:
        market.charge(gas)
    except ExecuteGasLimitExceeded as exc:
        raise ExecuteRefused(str(exc)) from exc
    result = execute_step(pre, trace, transactions, end, gas, vm=vm, state=state)
    zero = b"\x00" * 32
    if not result.ok or result.state is None:
        computation.output = abi_encode(STEP_OUTPUT_TYPES, [False, zero, zero, zero, zero])
    else:
        s = result.state
        computation.output = abi_encode(
            STEP_OUTPUT_TYPES,
            [True, s.commitment(), s.state_root, s.block_hash, s.block_input_hash],
        )
    return computation


# --- TRACE_LAYOUT: which blocks a trace holds, for optimistic disputes -----------------------

TRACE_LAYOUT_ADDRESS = bytes.fromhex("0000000000000000000000000000000000000103")


def trace_layout_precompile(computation: ComputationAPI) -> ComputationAPI:
    """py-evm precompile function: input a trace (raw bytes), output its layout,
    ``keccak(abi.encode(bytes32[] blockInputHashes, uint256[] transactionCounts))``
    (:func:`rollupkit.steps.batch_layout`): what ``OptimisticVerifier`` pins a proposal's
    blocks with. Charged as EXECUTE charges reading the same bytes; a trace that does not
    decode fails the call."""
    from rollupkit.errors import TraceError
    from rollupkit.steps import batch_layout, layout_hash
    from rollupkit.trace import LIMITS, input_gas

    market = ACTIVE_MARKET.get()
    if market is None:
        raise ExecuteRefused("TRACE_LAYOUT is not available outside a block")
    trace = computation.msg.data_as_bytes
    if len(trace) > LIMITS.max_bytes:
        raise ExecuteRefused("TRACE_LAYOUT: the trace is over the size limit")
    number = computation.state.block_number
    if number > market.block_number:
        market.start_block(number)
    try:
        work = input_gas(trace)
    except TraceError as exc:
        raise ExecuteRefused(f"TRACE_LAYOUT: {exc}") from exc
    computation.consume_gas(market.quote(work), reason="TRACE_LAYOUT precompile")
    try:
        market.charge(work)
        computation.output = layout_hash(*batch_layout(trace))
    except ExecuteGasLimitExceeded as exc:
        raise ExecuteRefused(str(exc)) from exc
    except Exception as exc:  # a trace that does not decode fails the call
        raise ExecuteRefused(f"TRACE_LAYOUT: the trace does not decode: {exc}") from exc
    return computation
