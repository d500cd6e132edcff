"""EXECUTE gas: what a trace costs, and the meter that stops work the caller did not pay for.

The L1 charges an EXECUTE call for the gas it *claims* (``gas_used``) before anything runs, so
everything EXECUTE does must be paid out of that claim, and the claim must be checked while the
work happens, not after. EXECUTE gas is the L2 gas of the blocks (transactions and deposit
calls, exactly as the EVM or the VM plugin counts it) plus the work that burns no L2 gas, at the
rates of :data:`SCHEDULE`:

=====================  =====================================================================
``trace_byte``         per byte of the encoded trace, charged *before* decoding (decoding,
                       hashing every witness node and header, copying transactions)
``block``              per block: header checks, the system-account write, transaction and
                       receipt tries, the state root
``l1_message``         per L1 message (deposit or forced transaction): the queue's rolling
                       hash, the credit or the signature recovery, its share of the roots
(the VM's)             per code in the trace's witness, what the VM says readying it costs
                       beyond its bytes (``VM.witness_code_gas``: a VM that compiles code,
                       once per trace per code); charged after decoding, before execution
(the state model's)    per state node in the witness, what indexing it by hash costs beyond
                       its bytes (``StateModel.witness_node_gas``: Poseidon, not Keccak);
                       charged with the codes
``call_frame``         per call frame a VM starts (a CALL, STATICCALL, DELEGATECALL, CALLCODE,
                       CREATE or CREATE2 that gets past its balance and depth checks, a
                       precompile call included): setting up and tearing down a frame costs
                       py-evm far more time than the 100 gas of a warm call
=====================  =====================================================================

Every number is fixed and applied identically by the builder (which computes the claim) and by
EXECUTE (which checks it), so an honest trace's claim is exact.

:class:`ExecutionMeter` enforces the claim *inside* execution: VMs report gas as code runs
(py-evm's gas meter, AccountVM's :meth:`~rollupkit.accountvm.Frame.use_gas`) and the meter
raises :class:`~rollupkit.errors.GasCapExceeded` as soon as the trace has provably used more
than the claim. So a trace claiming little gas cannot make EXECUTE do much work: a 0-gas claim
is refused before the trace is even decoded.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from rollupkit.errors import CallTimeout, GasCapExceeded


@dataclass(frozen=True)
class ExecuteGasSchedule:
    """The EXECUTE gas of work that burns no L2 gas (see the module docstring)."""

    trace_byte: int = 8
    block: int = 40_000
    l1_message: int = 10_000
    call_frame: int = 400

    def trace_bytes(self, size: int) -> int:
        """EXECUTE gas of decoding a trace of ``size`` bytes."""
        return self.trace_byte * size

    def block_gas(self, messages: int, l2_gas: int, frames: int = 0) -> int:
        """EXECUTE gas of one block with ``messages`` L1 messages that used ``l2_gas`` and
        started ``frames`` call frames."""
        return self.block + self.l1_message * messages + l2_gas + self.call_frame * frames

    def trace_gas(self, size: int, blocks: Sequence[int]) -> int:
        """EXECUTE gas of a trace of ``size`` bytes whose blocks took ``blocks`` EXECUTE gas
        each (:meth:`block_gas`): what the builder claims, and what EXECUTE must measure."""
        return self.trace_bytes(size) + sum(blocks)


def witness_gas(vm: Any, model: Any, witness: Any) -> int:
    """The EXECUTE gas of readying a witness: its codes to run (``VM.witness_code_gas``) and
    its state nodes to be found by hash (``StateModel.witness_node_gas``)."""
    codes = sum(vm.witness_code_gas(code) for code in witness.codes)
    return codes + sum(model.witness_node_gas(node) for node in witness.state_nodes)


#: The schedule EXECUTE and the builder apply.
SCHEDULE = ExecuteGasSchedule()

#: A limit no real execution reaches (the meter of a run without a claim).
UNLIMITED = 1 << 256


def refund_slack(remaining: int) -> int:
    """The most gross gas a transaction may use and still fit in ``remaining``.

    A transaction's gas is settled after refunds, and a refund is at most a fifth of the gross
    gas (EIP-3529), so gross gas ``g`` nets at least ``g - g // 5``. The largest ``g`` whose
    least net is ``remaining`` is ``remaining + remaining // 4``.
    """
    return remaining + remaining // 4 if remaining > 0 else remaining


class ExecutionMeter:
    """Counts EXECUTE gas as work is done, and stops the work once it exceeds ``budget``.

    ``used`` is the EXECUTE gas of finished work. Running code (a transaction, a deposit's
    call) adds the gas it burns to ``running`` as it goes; the engine compares it with
    ``running_limit`` after each addition and calls :meth:`over` when it passes it (which stops
    the work, allowing one step of overdraft: see :meth:`over`). Both are plain attributes so
    that a VM's per-instruction gas accounting stays cheap.

    With ``budget`` None the meter only counts (the builder, which computes the claim).
    """

    __slots__ = (
        "budget", "extra", "overdrawn", "running", "running_limit", "schedule", "unseen_frames",
        "used",
    )  # fmt: skip

    def __init__(self, budget: int | None, schedule: ExecuteGasSchedule = SCHEDULE) -> None:
        self.budget = budget
        self.schedule = schedule
        self.used = 0
        self.running = 0
        self.running_limit = UNLIMITED
        self.extra = 0  # EXECUTE gas of the running code that is not L2 gas (call frames)
        self.overdrawn = False
        #: Call frames a client could not count (see ``rollupkit_revm``): at most this many
        #: more :attr:`ExecuteGasSchedule.call_frame` charges may be missing from ``used``.
        self.unseen_frames = 0

    @property
    def remaining(self) -> int:
        """What is left of the budget (:data:`UNLIMITED` without one)."""
        return UNLIMITED if self.budget is None else self.budget - self.used

    def charge(self, gas: int, what: str) -> None:
        """Add ``gas`` for finished work; raise :class:`GasCapExceeded` past the budget."""
        self.used += gas
        if self.budget is not None and self.used > self.budget:
            raise GasCapExceeded(
                f"{what} takes the trace to {self.used} EXECUTE gas, more than the claimed gas "
                f"({self.budget})"
            )

    def start(self, upfront: int = 0) -> None:
        """Start metering running code that has already been charged ``upfront`` gas (a
        transaction's intrinsic gas): from here on ``running`` counts what it burns."""
        self.running = 0
        self.extra = 0
        self.overdrawn = False
        self.running_limit = (
            UNLIMITED if self.budget is None else refund_slack(self.remaining) - upfront
        )
        if self.running_limit < 0:
            self.exceeded()

    def frame(self) -> None:
        """The running code starts a call frame: charge :attr:`ExecuteGasSchedule.call_frame`
        (settled with the code's gas by :meth:`finish`)."""
        cost = self.schedule.call_frame
        self.extra += cost
        self.running += cost
        if self.running > self.running_limit:
            self.over()

    def finish(self, gas: int, what: str) -> None:
        """The running code is done and, after refunds, cost ``gas`` L2 gas: charge it, with
        the call frames it started."""
        extra = self.extra
        self.running = self.extra = 0
        self.running_limit = UNLIMITED
        self.charge(gas + extra, what)

    def over(self) -> None:
        """``running`` has passed ``running_limit``: stop, unless the last check was within it.

        A caller of another frame burns the gas it hands over before the frame exists to give
        back what it does not use, so the count can pass the limit for one step of an honest
        trace. That step's work is paid; a second step in a row past the limit is not."""
        if self.overdrawn:
            self.exceeded()
        self.overdrawn = True

    def recheck(self) -> None:
        """``running`` went down (a frame started, or gas came back): clear an overdraft that
        it made good."""
        if self.running <= self.running_limit:
            self.overdrawn = False

    def exceeded(self) -> NoReturn:
        """Stop: the running code has burnt more than the budget can pay for."""
        raise GasCapExceeded(
            f"execution stopped: {self.used} EXECUTE gas used and {self.running} burning, more "
            f"than the claimed gas ({self.budget})"
        )


@dataclass(frozen=True)
class CallLimits:
    """Bounds on read-only calls served over JSON-RPC (``eth_call``, ``eth_estimateGas``):
    the most gas one may use (as geth's ``--rpc.gascap``, 50M by default; a larger request is
    cut down to it) and the most time (geth's ``--rpc.evmtimeout``, 5 s)."""

    gas_cap: int = 50_000_000
    timeout: float = 5.0

    def gas(self, requested: int | None, default: int) -> int:
        """The gas a call gets: what it asked for (else ``default``), at most the cap."""
        return min(requested or default, self.gas_cap)


class DeadlineMeter(ExecutionMeter):
    """A meter for a read-only call (``eth_call``, gas estimation): no claim, but a deadline.

    The engine reports gas as it burns it; every :data:`CHECK_EVERY` gas the meter looks at the
    clock and stops the call with :class:`~rollupkit.errors.CallTimeout` once ``deadline``
    (a :func:`time.monotonic` value) has passed. Checking by gas, not per instruction, keeps
    the cost of the check out of the interpreter's loop.
    """

    __slots__ = ("deadline", "timeout")

    #: Gas between two looks at the clock (well under 0.1 s of the slowest code).
    CHECK_EVERY = 100_000

    def __init__(self, timeout: float, *, deadline: float | None = None) -> None:
        """Stop ``timeout`` seconds from now, or at ``deadline`` (several calls sharing one
        time limit, as a gas estimate's do); the error names ``timeout``."""
        super().__init__(None)
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout if deadline is None else deadline
        self.running_limit = self.CHECK_EVERY

    def over(self) -> None:
        if time.monotonic() > self.deadline:
            raise CallTimeout(f"execution aborted (timeout = {self.timeout:g}s)")
        self.running_limit = self.running + self.CHECK_EVERY

    def recheck(self) -> None:
        pass
