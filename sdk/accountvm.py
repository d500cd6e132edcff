"""A base for VM plugins that bring their own code interpreter and keep the rest of Ethereum.

Every rollupkit L2 keeps Ethereum's accounts, signed transactions, headers and receipts, so
wallets, web3.py and the node work unchanged whatever runs contract code. :class:`AccountVM`
implements all of that once, over any state model's :class:`~rollupkit.interfaces.StateView`:
transaction validity and fees (EIP-1559), deposits and forced transactions, contract creation,
the L2 bridge's withdrawals, receipts, roots and the sealed header. A subclass implements one
method, :meth:`AccountVM.run_code`: run an account's code in a :class:`Frame` and return an
:class:`Outcome`. ``rollupkit scaffold plugin NAME --kind vm`` starts from a stack machine
built this way.

Rules a subclass inherits (and EXECUTE enforces through it):

* a transaction pays ``gas_used * min(max_fee, base_fee + tip)``; the base fee is burned, the
  tip goes to the block's coinbase; ``gas_used`` is the transaction's intrinsic gas (py-evm's
  Prague rules, the same the mempool checks) plus what its code used;
* a contract creation stores the transaction's data as the new account's code (after
  :meth:`AccountVM.check_code`), at ``CODE_DEPOSIT_GAS`` per byte; there is no init code;
* a call to :data:`rollupkit.withdrawals.L2_BRIDGE_ADDRESS` with ``withdraw(address,bytes)``
  (or no data) is a withdrawal, handled natively: the value is locked in the bridge account
  and a ``WithdrawalInitiated`` log is emitted with the same fields as the EVM's bridge
  contract's (the L1 proves withdrawals from those logs; the contract's
  ``sentWithdrawals`` mapping is not kept);
* a failed frame (``Outcome.success`` False) undoes every write it made, value transfer
  included, and its logs are dropped (no withdrawal comes of them); the fee is still paid;
* transactions are legacy, EIP-2930 or EIP-1559 (others are invalid), and pay at least the
  EIP-7623 calldata floor; which transactions are valid, and the order of a block, are
  rollupkit's core's (:mod:`rollupkit.block`), the same for every VM;
* the interpreter spends gas through :meth:`Frame.use_gas` as it runs, so that EXECUTE can stop
  a trace as soon as it has used more gas than it claims;
* a read the state cannot answer raises :class:`~rollupkit.errors.MissingWitnessError`
  through ``run_code`` untouched: never catch it, nor
  :class:`~rollupkit.errors.GasCapExceeded`; any other exception out of ``run_code`` (an
  interpreter's bug) refuses the transaction, and fails a deposit's call, which a block must
  take: a plugin's bug stalls no chain.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from rollupkit.block import calldata_floor, fees
from rollupkit.errors import (
    CallTimeout,
    ClientUnsupported,
    GasCapExceeded,
    InvalidBlockError,
    InvalidTransactionError,
    MissingWitnessError,
    OutOfGas,
    TraceError,
)
from rollupkit.ethheader import HEADER_CLASS, header_commitment
from rollupkit.ethtx import encoded_transaction
from rollupkit.interfaces import (
    VM,
    AccountState,
    AncestorHashes,
    BlockExecution,
    CallResult,
    NextBlock,
    StateView,
)
from rollupkit.metering import DeadlineMeter, ExecutionMeter
from rollupkit.ordered_trie import ordered_trie_root
from rollupkit.system import SYSTEM_ADDRESS
from rollupkit.types import ZERO_HASH, BlockInput, BlockResult, HeaderInfo, L1Message
from rollupkit.withdrawals import (
    L2_BRIDGE_ADDRESS,
    WITHDRAWAL_EVENT_TOPIC,
    withdrawals_from_logs,
)

CODE_DEPOSIT_GAS = 200
MAX_CODE_SIZE = 24_576
WITHDRAWAL_GAS = 30_000
WITHDRAWAL_BYTE_GAS = 8  # as a log's data byte
MAX_EXTRA_DATA = 32
#: How deep guest calls may nest (each nested guest frame holds an emulator or a wasm store and
#: native stack; the EVM's 1,024 is far more than those can take).
MAX_CALL_DEPTH = 64
GAS_LIMIT_BOUND_DIVISOR = 1024
MIN_GAS_LIMIT = 5000
_WITHDRAW_SELECTOR = keccak(b"withdraw(address,bytes)")[:4]


@dataclass(frozen=True)
class BlockContext:
    """What code may read about the block it runs in."""

    chain_id: int
    number: int
    timestamp: int
    coinbase: bytes
    gas_limit: int
    base_fee: int
    prev_randao: bytes


@dataclass(frozen=True)
class Log:
    """An event: the emitting account, up to four 32-byte topics, and data."""

    address: bytes
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class Outcome:
    """How a frame ended."""

    success: bool
    gas_used: int
    output: bytes = b""
    logs: tuple[Log, ...] = ()
    reverted: bool = False  # the code asked to revert (as opposed to an exceptional halt)
    error: str = ""


class StateOverlay:
    """Writes buffered over a state view (or another overlay): :meth:`commit` pushes them
    down, dropping the overlay reverts them. Reads fall through to what is below."""

    def __init__(self, below: StateView | StateOverlay) -> None:
        self.below = below
        self._accounts: dict[bytes, tuple[int, int]] = {}
        self._storage: dict[tuple[bytes, int], int] = {}
        self._code: dict[bytes, bytes] = {}
        # The overlay on the view remembers what it read from it: a state model's reads
        # (a trie walk in Python) cost far more than the host call that asks again.
        self._read_accounts: dict[bytes, tuple[int, int] | None] = {}
        self._read_storage: dict[tuple[bytes, int], int] = {}
        self._read_code: dict[bytes, bytes] = {}
        #: The slots of each account read or written here (an index of the two maps above).
        self._slots: dict[bytes, set[int]] = {}

    def child(self) -> StateOverlay:
        return StateOverlay(self)

    def account(self, address: bytes) -> tuple[int, int] | None:
        """(nonce, balance), or None for an account that does not exist."""
        if address in self._accounts:
            return self._accounts[address]
        if isinstance(self.below, StateOverlay):
            return self.below.account(address)
        if address in self._read_accounts:
            return self._read_accounts[address]
        found = self.below.get_account(address)
        read = (found.nonce, found.balance) if found is not None else None
        self._read_accounts[address] = read
        return read

    def nonce(self, address: bytes) -> int:
        found = self.account(address)
        return found[0] if found else 0

    def balance(self, address: bytes) -> int:
        found = self.account(address)
        return found[1] if found else 0

    def set_account(self, address: bytes, *, nonce: int, balance: int) -> None:
        self._accounts[address] = (nonce, balance)

    def add_balance(self, address: bytes, delta: int) -> None:
        found = self.account(address)
        if found is None and delta == 0:  # no value moves: no account is made (as EIP-161)
            return
        nonce, balance = found or (0, 0)
        if balance + delta < 0:
            raise ValueError("balance would go negative")
        self._accounts[address] = (nonce, balance + delta)

    def get_storage(self, address: bytes, slot: int) -> int:
        key = (address, slot)
        if key in self._storage:
            return self._storage[key]
        if isinstance(self.below, StateOverlay):
            return self.below.get_storage(address, slot)
        if key not in self._read_storage:
            self._read_storage[key] = int(self.below.get_storage(address, slot))
            self._slots.setdefault(address, set()).add(slot)
        return self._read_storage[key]

    def known_storage(self, address: bytes) -> dict[int, int]:
        """The slots of ``address`` whose values are known without asking the state view
        (read or written through this overlay or the ones below it), with those values."""
        known: dict[int, int] = {}
        if isinstance(self.below, StateOverlay):
            known = self.below.known_storage(address)
        for slot in self._slots.get(address, ()):
            key = (address, slot)
            known[slot] = self._storage[key] if key in self._storage else self._read_storage[key]
        return known

    def set_storage(self, address: bytes, slot: int, value: int) -> None:
        if not 0 <= value < 2**256 or not 0 <= slot < 2**256:
            raise ValueError("storage slots and values are 256-bit unsigned")
        self._storage[(address, slot)] = value
        self._slots.setdefault(address, set()).add(slot)

    def get_code(self, address: bytes) -> bytes:
        if address in self._code:
            return self._code[address]
        if isinstance(self.below, StateOverlay):
            return self.below.get_code(address)
        if address not in self._read_code:
            self._read_code[address] = bytes(self.below.get_code(address))
        return self._read_code[address]

    def set_code(self, address: bytes, code: bytes) -> None:
        self._code[address] = code

    def commit(self) -> None:
        """Push every buffered write into what is below, and empty this overlay."""
        below = self.below
        for address, (nonce, balance) in self._accounts.items():
            below.set_account(address, nonce=nonce, balance=balance)
        for address, code in self._code.items():
            if address not in self._accounts and below.get_account(address) is None:
                below.set_account(address, nonce=0, balance=0)
            below.set_code(address, code)
        for (address, slot), value in self._storage.items():
            if address not in self._accounts and address not in self._code:
                if isinstance(below, StateOverlay):
                    if below.account(address) is None:
                        below.set_account(address, nonce=0, balance=0)
                elif below.get_account(address) is None:
                    below.set_account(address, nonce=0, balance=0)
            below.set_storage(address, slot, value)
        self._accounts.clear()
        self._storage.clear()
        self._slots.clear()
        self._code.clear()
        self._read_accounts.clear()  # the view below has changed
        self._read_storage.clear()
        self._read_code.clear()

    def get_account(self, address: bytes) -> Any:  # so an overlay can sit below an overlay
        return self.account(address)


_depth = threading.local()


def call_depth() -> int:
    """How many host CALLs deep the running guest is (0: called by a transaction)."""
    return int(getattr(_depth, "value", 0))


@contextmanager
def one_call_deeper() -> Iterator[None]:
    """While a guest's host CALL runs: :func:`call_depth` is one more."""
    _depth.value = call_depth() + 1
    try:
        yield
    finally:
        _depth.value -= 1


@dataclass
class Frame:
    """One account's code running: the state it may change, and who asked it to run.

    An interpreter spends gas through :meth:`use_gas` as it goes (per instruction, or per
    straight-line run of instructions): that is what stops an out-of-gas frame and, under
    EXECUTE, the whole trace as soon as it has used more gas than it claimed.

    This is also the interface the host ABI (:class:`rollupkit.hostabi.Host`) and the guest
    interpreters use; a VM that hosts guests in another engine (the ``multi`` VM, in py-evm)
    passes an object with the same members: the context fields, ``state`` (get_storage,
    set_storage, balance, add_balance, account), ``gas``, ``gas_left``, ``gas_used``, ``meter``,
    ``is_static``, :meth:`use_gas`, :meth:`emit_log` and :meth:`call`.
    """

    vm: AccountVM
    state: StateOverlay  # this frame's writes; dropped if the frame fails
    block: BlockContext
    origin: bytes  # the transaction's signer (or the deposit's L1 sender)
    sender: bytes  # who called this frame
    address: bytes  # the account whose code runs
    value: int  # already moved to ``address`` when the code starts
    data: bytes
    code: bytes
    gas: int  # the gas the frame started with
    logs: list[Log] = field(default_factory=list)
    meter: ExecutionMeter | None = None
    gas_left: int = field(init=False)
    #: Writes are refused (a static call). AccountVM chains have no static calls.
    is_static: bool = False

    def __post_init__(self) -> None:
        self.gas_left = self.gas

    @property
    def gas_used(self) -> int:
        """Gas spent through :meth:`use_gas` so far."""
        return self.gas - self.gas_left

    def use_gas(self, amount: int) -> None:
        """Spend ``amount`` gas. Raise :class:`~rollupkit.errors.OutOfGas` if the frame has
        less left (the frame then fails and its gas is gone), and
        :class:`~rollupkit.errors.GasCapExceeded` once the trace has burnt more than its
        claim (let both through)."""
        if amount > self.gas_left:
            raise OutOfGas(f"out of gas: {amount} needed, {self.gas_left} left")
        self.gas_left -= amount
        meter = self.meter
        if meter is not None:
            meter.running += amount
            if meter.running > meter.running_limit:
                meter.over()

    def use_callee_gas(self, amount: int) -> None:
        """Deduct what a call this frame made used: the callee's own frame reported that gas
        to the meter as it burnt it, so it is not counted again."""
        if amount > self.gas_left:
            raise OutOfGas(f"out of gas: the callee used {amount}, {self.gas_left} left")
        self.gas_left -= amount

    def emit_log(self, log: Log) -> None:
        """Record an event of this frame (kept only if the frame succeeds)."""
        self.logs.append(log)

    def call(self, to: bytes, value: int, data: bytes, gas: int) -> tuple[bool, bytes]:
        """Call ``to`` from this frame with ``value`` and ``gas`` (already limited by the
        63/64 rule), charging this frame what the callee used. Returns (success, the
        callee's return or revert data); too deep a call fails without running."""
        if call_depth() >= MAX_CALL_DEPTH:
            return False, b""
        if self.meter is not None:
            self.meter.frame()
        with one_call_deeper():
            outcome = self.vm._message(self.state, self.block, self.origin, self.address, to,
                                       value, data, gas, 0, self.meter)  # fmt: skip
        self.use_callee_gas(min(outcome.gas_used, gas))
        if outcome.success:
            self.logs.extend(outcome.logs)
        return outcome.success, outcome.output


class AccountVM(VM):
    """Ethereum's accounts, transactions, headers and receipts around an interpreter.

    Subclasses implement :meth:`run_code` (and may override :meth:`check_code`).
    """

    #: The base is generic over state models: any StateView will do.
    def supports_state_model(self, model: Any) -> bool:
        return True

    @abstractmethod
    def run_code(self, frame: Frame) -> Outcome:
        """Run ``frame.code`` with ``frame.gas``; write state through ``frame.state``. Return
        the outcome; never use more than ``frame.gas``. Let ``MissingWitnessError`` through."""

    def check_code(self, code: bytes) -> str | None:
        """Why ``code`` cannot be deployed (None: it can). Called at contract creation."""
        return None

    # --- headers --------------------------------------------------------------------------

    def genesis_header(
        self, *, chain_id: int, state_root: bytes, timestamp: int, gas_limit: int, base_fee: int
    ) -> bytes:
        header = HEADER_CLASS(
            difficulty=0, block_number=0, gas_limit=gas_limit, timestamp=timestamp,
            state_root=state_root, base_fee_per_gas=base_fee, nonce=b"\x00" * 8,
            parent_beacon_block_root=ZERO_HASH,
        )  # fmt: skip
        return rlp.encode(header)

    def _header(self, raw: bytes) -> Any:
        try:
            return rlp.decode(raw, sedes=HEADER_CLASS)
        except Exception as exc:  # any decoding failure is a malformed header
            raise TraceError(f"not a block header: {exc}") from exc

    def decode_header(self, raw: bytes) -> HeaderInfo:
        h = self._header(raw)
        return HeaderInfo(h.block_number, h.hash, h.parent_hash, h.state_root, h.timestamp,
                          h.gas_limit)  # fmt: skip

    def header_commitment(self, header: bytes) -> bytes:
        return header_commitment(self._header(header))

    def next_block(self, parent_header: bytes) -> NextBlock:
        parent = self._header(parent_header)
        return NextBlock(parent.block_number + 1, parent.hash,
                         calculate_expected_base_fee_per_gas(parent))  # fmt: skip

    def _check_block(self, parent: Any, block: BlockInput) -> None:
        expected = self.next_block(rlp.encode(parent))
        problems = []
        if block.number != expected.number or block.parent_hash != expected.parent_hash:
            problems.append("does not follow its parent")
        if block.base_fee != expected.base_fee:
            problems.append(f"base fee {block.base_fee}, expected {expected.base_fee}")
        if block.timestamp <= parent.timestamp:
            problems.append("timestamp not after its parent's")
        bound = parent.gas_limit // GAS_LIMIT_BOUND_DIVISOR
        if abs(block.gas_limit - parent.gas_limit) >= bound or block.gas_limit < MIN_GAS_LIMIT:
            problems.append(f"gas limit {block.gas_limit} too far from {parent.gas_limit}")
        if len(block.extra_data) > MAX_EXTRA_DATA:
            problems.append("extra data over 32 bytes")
        if len(block.coinbase) != 20 or len(block.prev_randao) != 32 or len(block.l1_anchor) != 32:
            problems.append("malformed coinbase, prev_randao or L1 anchor")
        if problems:
            raise InvalidBlockError(f"block {block.number}: " + "; ".join(problems))

    # --- calls ----------------------------------------------------------------------------

    def call(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        sender: bytes,
        to: bytes | None,
        value: int,
        data: bytes,
        gas: int,
        timeout: float | None = None,
    ) -> CallResult:
        parent = self._header(parent_header)
        context = BlockContext(chain_id, parent.block_number + 1, parent.timestamp + 1,
                               parent.coinbase, parent.gas_limit, 0, parent.mix_hash)  # fmt: skip
        overlay = StateOverlay(state)
        if overlay.balance(sender) < value:
            return CallResult(False, b"", 0, error="insufficient funds for value")
        # ``gas`` is a transaction's gas limit, as for the EVM: the call pays what a
        # transaction with its data would before its code runs (so eth_estimateGas answers a
        # limit a transaction can use).
        intrinsic = call_intrinsic_gas(data, create=to is None)
        if gas < intrinsic:
            problem = f"intrinsic gas too low: have {gas}, want {intrinsic}"
            return CallResult(False, b"", gas, error=problem)
        meter = DeadlineMeter(timeout) if timeout is not None else None
        outcome = self._message(overlay, context, sender, sender, to, value, data,
                                gas - intrinsic, 0, meter)  # fmt: skip
        used = max(intrinsic + outcome.gas_used, calldata_floor(_Data(data)))
        if used > gas:
            return CallResult(False, b"", gas, error="gas below the EIP-7623 calldata floor")
        return CallResult(outcome.success, outcome.output, used, outcome.reverted,
                          outcome.error)  # fmt: skip

    # --- frames ---------------------------------------------------------------------------

    def _message(
        self,
        state: StateOverlay,
        block: BlockContext,
        origin: bytes,
        sender: bytes,
        to: bytes | None,
        value: int,
        data: bytes,
        gas: int,
        creator_nonce: int,
        meter: ExecutionMeter | None = None,
    ) -> Outcome:
        """Move ``value`` and run the target's code (or create a contract) in a child
        overlay, committed only on success."""
        frame_state = state.child()
        frame_state.add_balance(sender, -value)
        if to is None:
            address = keccak(rlp.encode([sender, creator_nonce]))[12:]
            if frame_state.get_code(address) or frame_state.nonce(address):
                return Outcome(False, gas, error="contract address collision")
            cost = CODE_DEPOSIT_GAS * len(data)
            if len(data) > MAX_CODE_SIZE:
                problem: str | None = f"code of {len(data)} bytes is over {MAX_CODE_SIZE}"
            else:
                problem = self.check_code(data)
            if problem or cost > gas:
                return Outcome(False, gas, error=problem or "out of gas for the code deposit")
            frame_state.add_balance(address, value)
            frame_state.set_code(address, data)
            balance = frame_state.balance(address)
            frame_state.set_account(address, nonce=1, balance=balance)
            frame_state.commit()
            return Outcome(True, cost, output=address)
        frame_state.add_balance(to, value)
        if to == L2_BRIDGE_ADDRESS:
            outcome = self._withdraw(frame_state, sender, value, data, gas)
        else:
            code = frame_state.get_code(to)
            if not code:
                outcome = Outcome(True, 0)
            else:
                frame = Frame(self, frame_state, block, origin, sender, to, value, data, code, gas,
                              meter=meter)  # fmt: skip
                try:
                    outcome = self.run_code(frame)
                except OutOfGas as exc:  # an exceptional halt: all the frame's gas is gone
                    outcome = Outcome(False, gas, error=str(exc))

                if outcome.gas_used > gas or outcome.gas_used < 0:
                    outcome = Outcome(False, gas, error="the interpreter used more than its gas")
        if outcome.success:
            frame_state.commit()
            return outcome
        # A failed frame's logs never happened: above all, no withdrawal may come of them.
        return replace(outcome, logs=())

    def _withdraw(
        self, state: StateOverlay, sender: bytes, value: int, data: bytes, gas: int
    ) -> Outcome:
        """The L2 bridge, natively: lock the value, count, and log WithdrawalInitiated. Costs
        WITHDRAWAL_GAS and WITHDRAWAL_BYTE_GAS a byte of call data (the payload goes into a
        log, a receipt and the withdrawal the L1 proves)."""
        cost = WITHDRAWAL_GAS + WITHDRAWAL_BYTE_GAS * len(data)
        if gas < cost:
            return Outcome(False, gas, error="out of gas")
        if not data:
            target, payload = sender, b""
        elif data[:4] == _WITHDRAW_SELECTOR:
            try:
                target_str, payload = abi_decode(["address", "bytes"], data[4:])
            except Exception:  # noqa: BLE001 - malformed arguments: the call fails
                return Outcome(False, cost, reverted=True, error="bad arguments")
            target = bytes.fromhex(target_str[2:])
        else:
            return Outcome(False, cost, reverted=True, error="unknown bridge function")
        nonce = state.get_storage(L2_BRIDGE_ADDRESS, 0)
        state.set_storage(L2_BRIDGE_ADDRESS, 0, nonce + 1)
        bridge_nonce, balance = state.account(L2_BRIDGE_ADDRESS) or (0, 0)
        state.set_account(L2_BRIDGE_ADDRESS, nonce=max(bridge_nonce, 1), balance=balance)
        log = Log(
            L2_BRIDGE_ADDRESS,
            (WITHDRAWAL_EVENT_TOPIC, nonce.to_bytes(32, "big"), sender.rjust(32, b"\0"),
             target.rjust(32, b"\0")),
            abi_encode(["uint256", "bytes"], [value, payload]),
        )  # fmt: skip
        return Outcome(True, cost, output=nonce.to_bytes(32, "big"), logs=(log,))

    # --- blocks ---------------------------------------------------------------------------

    def open_block(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        block: BlockInput,
        ancestors: AncestorHashes,
        meter: ExecutionMeter,
    ) -> AccountBlockExecution:
        parent = self._header(parent_header)
        self._check_block(parent, block)
        context = BlockContext(chain_id, block.number, block.timestamp, block.coinbase,
                               block.gas_limit, block.base_fee, block.prev_randao)  # fmt: skip
        return AccountBlockExecution(self, state, block, context, meter)

    def _apply(
        self, state: StateOverlay, block: BlockContext, tx: Any, meter: ExecutionMeter | None
    ) -> tuple[int, Outcome]:
        """Charge, run, refund, pay the coinbase; return (gas used, outcome)."""
        sender = bytes(tx.sender)
        max_fee, tip = fees(tx)
        price = min(max_fee, block.base_fee + tip)
        nonce, balance = state.account(sender) or (0, 0)
        state.set_account(sender, nonce=nonce + 1, balance=balance - tx.gas * price)
        to = bytes(tx.to) if tx.to else None
        execution_gas = tx.gas - tx.intrinsic_gas
        outcome = self._message(state, block, sender, sender, to, tx.value, bytes(tx.data),
                                execution_gas, nonce, meter)  # fmt: skip
        used = max(tx.intrinsic_gas + min(outcome.gas_used, execution_gas), calldata_floor(tx))
        state.add_balance(sender, (tx.gas - used) * price)
        state.add_balance(block.coinbase, used * (price - block.base_fee))
        return used, outcome


class AccountBlockExecution(BlockExecution):
    """One block of an :class:`AccountVM`: writes build up in an overlay over the view."""

    def __init__(
        self,
        vm: AccountVM,
        view: StateView,
        block: BlockInput,
        context: BlockContext,
        meter: ExecutionMeter,
    ) -> None:
        self.vm = vm
        self.view = view
        self.block = block
        self.context = context
        self.meter = meter
        self.overlay = StateOverlay(view)
        self.logs: list[Log] = []
        self.included: list[Any] = []
        self.receipts: list[bytes] = []  # encoded (EIP-2718), as the receipts root takes them
        self._bloom = 0  # the block's logs bloom, built up receipt by receipt
        self.transaction_gas = 0
        self.deposit_gas = 0
        self._header: Any = None
        self._encoded: tuple[tuple[bytes, ...], tuple[bytes, ...]] = ((), ())

    def account_state(self, address: bytes) -> AccountState:
        nonce, balance = self.overlay.account(address) or (0, 0)
        return AccountState(nonce, balance, self.overlay.get_code(address))

    def apply_deposit(self, message: L1Message, gas: int) -> int:
        if not message.data:
            if message.value:  # as the EVM: a deposit of nothing reads no account
                self.overlay.add_balance(message.target, message.value)
            return 0
        # The value is minted to the sender and carried by the call: a call that fails (or
        # gets no gas) leaves it with the sender, as on OP Stack.
        if message.value:
            self.overlay.add_balance(message.sender, message.value)
        if gas <= 0:
            return 0
        calls = self.overlay.child()  # an interpreter's bug must leave nothing behind
        try:
            outcome = self.vm._message(calls, self.context, message.sender, message.sender,
                                       message.target, message.value, message.data, gas, 0,
                                       self.meter)  # fmt: skip
        except (MissingWitnessError, GasCapExceeded, CallTimeout, ClientUnsupported, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - a deposit cannot be refused: its call fails
            outcome = Outcome(False, gas, error=f"the VM failed: {type(exc).__name__}: {exc}")
        else:
            calls.commit()
        if outcome.success:
            self.logs.extend(outcome.logs)
        self.deposit_gas += outcome.gas_used
        return outcome.gas_used

    def apply_transaction(self, tx: Any) -> int:
        # The core checked every rule that can refuse a transaction. Should the interpreter
        # still fail unexpectedly, the transaction is refused and leaves nothing behind (a
        # plugin's bug must not stall the chain, and builder and EXECUTE agree on it).
        state = self.overlay.child()
        try:
            used, outcome = self.vm._apply(state, self.context, tx, self.meter)
        except (MissingWitnessError, GasCapExceeded, ClientUnsupported, MemoryError):
            raise
        except Exception as exc:
            raise InvalidTransactionError(f"the VM failed: {type(exc).__name__}: {exc}") from exc
        state.commit()
        self.transaction_gas += used
        if outcome.success:
            self.logs.extend(outcome.logs)
        self.included.append(tx)
        receipt, bloom = encode_receipt(tx, outcome, self.transaction_gas)
        self.receipts.append(receipt)
        self._bloom |= bloom
        return used

    def pending_header(self) -> bytes:
        block = self.block
        # Encoded once, for the roots and for the block result.
        self._encoded = (tuple(map(encoded_transaction, self.included)), tuple(self.receipts))
        tx_root = ordered_trie_root(self._encoded[0])
        receipt_root = ordered_trie_root(self._encoded[1])
        bloom = self._bloom
        self._header = HEADER_CLASS(
            difficulty=0, block_number=block.number, gas_limit=block.gas_limit,
            timestamp=block.timestamp, coinbase=block.coinbase, parent_hash=block.parent_hash,
            state_root=ZERO_HASH, transaction_root=tx_root, receipt_root=receipt_root,
            bloom=bloom, gas_used=self.transaction_gas, extra_data=block.extra_data,
            mix_hash=block.prev_randao, nonce=b"\x00" * 8, base_fee_per_gas=block.base_fee,
            withdrawals_root=BLANK_ROOT_HASH, parent_beacon_block_root=block.l1_anchor,
        )  # fmt: skip
        return rlp.encode(self._header)

    def intermediate_root(self) -> bytes:
        self.overlay.commit()  # the overlay's writes into the view; reads go on through it
        return self.view.commit()

    def seal(self, system_storage: Mapping[int, int]) -> BlockResult:
        block, header, overlay = self.block, self._header, self.overlay
        for slot, value in system_storage.items():
            overlay.set_storage(SYSTEM_ADDRESS, slot, value)
        nonce, balance = overlay.account(SYSTEM_ADDRESS) or (0, 0)
        overlay.set_account(SYSTEM_ADDRESS, nonce=max(nonce, 1), balance=balance)
        overlay.commit()
        root = self.view.commit()
        sealed = header.copy(state_root=root)
        info = HeaderInfo(block.number, sealed.hash, block.parent_hash, root, block.timestamp,
                          block.gas_limit)  # fmt: skip
        return BlockResult(
            header=rlp.encode(sealed), info=info,
            gas_used=self.transaction_gas + self.deposit_gas,
            transactions_root=header.transaction_root, receipts_root=header.receipt_root,
            transactions=self._encoded[0], receipts=self._encoded[1],
            withdrawals=withdrawals_from_logs((log.address, log.topics, log.data)
                                              for log in self.logs),
        )  # fmt: skip


@dataclass(frozen=True)
class _Data:
    data: bytes


def call_intrinsic_gas(data: bytes, *, create: bool) -> int:
    """The intrinsic gas of a transaction carrying ``data``, as py-evm's Prague rules give
    the core's transactions: 21,000, calldata at 4 gas a zero byte and 16 any other, and
    32,000 more for a creation (EIP-3860's init code words are charged by the EVM's own
    creation, which an AccountVM has not)."""
    zeros = data.count(0)
    gas = 21_000 + 4 * zeros + 16 * (len(data) - zeros)
    return gas + 32_000 if create else gas


def encode_receipt(tx: Any, outcome: Outcome, cumulative: int) -> tuple[bytes, int]:
    """The transaction's receipt, encoded as py-evm's Prague receipts encode (``type ||``
    for a typed transaction, then ``rlp([status, cumulative gas, bloom, logs])``), and its
    logs bloom. Written out here: py-evm's receipt objects cost more than running a
    transfer in revm."""
    logs = outcome.logs if outcome.success else ()
    bloom = 0
    encoded_logs = []
    for log in logs:
        topics = [int.from_bytes(t, "big").to_bytes(32, "big") for t in log.topics]
        for item in (log.address, *topics):
            digest = keccak(item)
            for i in (0, 2, 4):
                bloom |= 1 << (int.from_bytes(digest[i : i + 2], "big") & 2047)
        encoded_logs.append(_rlp_list([
            _rlp_bytes(log.address), _rlp_list([_rlp_bytes(t) for t in topics]),
            _rlp_bytes(log.data),
        ]))  # fmt: skip
    status = b"\x01" if outcome.success else b""
    gas = cumulative.to_bytes((cumulative.bit_length() + 7) // 8, "big")
    fields = [_rlp_bytes(status), _rlp_bytes(gas), _rlp_bytes(bloom.to_bytes(256, "big"))]
    receipt = _rlp_list([*fields, _rlp_list(encoded_logs)])
    type_id = getattr(tx, "type_id", None)
    return (receipt if type_id is None else bytes((type_id,)) + receipt), bloom


def _rlp_length(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(size),)) + size


def _rlp_bytes(value: bytes) -> bytes:
    if len(value) == 1 and value[0] < 0x80:
        return bytes(value)
    return _rlp_length(len(value), 0x80) + value


def _rlp_list(encoded_items: list[bytes]) -> bytes:
    body = b"".join(encoded_items)
    return _rlp_length(len(body), 0xC0) + body


__all__ = [
    "AccountVM",
    "BlockContext",
    "Frame",
    "Log",
    "MissingWitnessError",
    "OutOfGas",
    "Outcome",
    "StateOverlay",
    "encode_receipt",
]
