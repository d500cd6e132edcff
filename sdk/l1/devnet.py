"""rollupkit's embedded L1: a py-evm chain with the EXECUTE precompile.

Blocks are mined on demand (every transaction at once, like anvil's automine), at an interval,
or when asked (``evm_mine``). The chain can live in memory or in a SQLite file, so a devnet
can be stopped and started again. Dev accounts come from the same mnemonic anvil and hardhat
use, so the usual default keys work against it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth.abc import BlockAPI, BlockHeaderAPI, ComputationAPI, ReceiptAPI, SignedTransactionAPI
from eth.chains.base import MiningChain
from eth.constants import GENESIS_PARENT_HASH
from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth.exceptions import HeaderNotFound, TransactionNotFound
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.state import PragueState
from eth_account import Account as EthAccount
from eth_hash.auto import keccak
from eth_utils import ValidationError

from rollupkit.errors import BlockNotFound, CallReverted, CallTimeout, TransactionRejected
from rollupkit.gas_market import ExecuteGasConfig, ExecuteGasMarket
from rollupkit.interfaces import AccessListResult
from rollupkit.kvstore import PyEvmKV, SqliteKV
from rollupkit.l1 import DEFAULT_L1_CHAIN_ID
from rollupkit.l1.precompile import (
    EXECUTE_ADDRESS,
    EXECUTE_STEP_ADDRESS,
    TRACE_LAYOUT_ADDRESS,
    execute_precompile,
    execute_step_precompile,
    market_in_effect,
    trace_layout_precompile,
)
from rollupkit.metering import CallLimits, DeadlineMeter, ExecutionMeter
from rollupkit.pyevm_engine import (
    CallStates,
    CallTransaction,
    MeteredComputation,
    access_list_of,
    recorded_accesses,
)

DEV_MNEMONIC = "test test test test test test test test test test test junk"
_META_PREFIX = b"rollupkit:devnet:"


class L1Computation(MeteredComputation):
    """Prague computation (metered, native precompiles) plus EXECUTE at 0x…0101 and, for
    optimistic disputes, EXECUTE_STEP at 0x…0102 and TRACE_LAYOUT at 0x…0103."""

    _precompiles = {
        **MeteredComputation._precompiles,
        EXECUTE_ADDRESS: execute_precompile,
        EXECUTE_STEP_ADDRESS: execute_step_precompile,
        TRACE_LAYOUT_ADDRESS: trace_layout_precompile,
    }


class L1State(PragueState):
    """Prague state running :class:`L1Computation`."""

    computation_class = L1Computation
    #: Set around an eth_call: the call stops at its deadline.
    execution_meter: ExecutionMeter | None = None


class L1VM(PragueVM):
    """py-evm's Prague VM with EXECUTE."""

    _state_class = L1State


_accounts_cache: dict[int, list[Any]] = {}


def dev_accounts(count: int) -> list[Any]:
    """The first ``count`` accounts of the dev mnemonic (anvil's and hardhat's defaults)."""
    if count not in _accounts_cache:
        EthAccount.enable_unaudited_hdwallet_features()
        _accounts_cache[count] = [
            EthAccount.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
            for i in range(count)
        ]
    return _accounts_cache[count]


@dataclass(frozen=True)
class DevnetConfig:
    """Parameters of an embedded L1."""

    chain_id: int = DEFAULT_L1_CHAIN_ID
    accounts: int = 10
    balance: int = 10_000 * 10**18
    gas_limit: int = 60_000_000
    base_fee: int = 1_000_000_000
    block_time: float | None = None  # None: mine each transaction at once
    market: ExecuteGasConfig = field(default_factory=ExecuteGasConfig)
    calls: CallLimits = field(default_factory=CallLimits)  # eth_call / eth_estimateGas bounds


@dataclass
class MinedBlock:
    """A block the devnet mined, and the transactions it had to leave out (with why)."""

    block: BlockAPI
    receipts: tuple[ReceiptAPI, ...]
    rejected: dict[bytes, str]


class Devnet:
    """An Ethereum L1 in a Python object, safe to use from several threads."""

    def __init__(self, config: DevnetConfig | None = None, *, data_dir: Path | None = None) -> None:
        self.config = config or DevnetConfig()
        self.accounts = dev_accounts(self.config.accounts)
        self._lock = threading.RLock()
        self._states: OrderedDict[bytes, Any] = OrderedDict()
        self._call_states = CallStates()
        self._head: BlockHeaderAPI | None = None
        self._kv = SqliteKV(Path(data_dir) / "l1.sqlite") if data_dir else None
        backing = PyEvmKV(self._kv) if self._kv is not None else MemoryDB()
        chain_class = MiningChain.configure(
            __name__="RollupkitL1", vm_configuration=((0, L1VM),), chain_id=self.config.chain_id
        )
        self.market = ExecuteGasMarket(self.config.market)
        self.time_offset = 0
        self.next_timestamp: int | None = None
        self.automine = self.config.block_time is None
        self.pending: list[SignedTransactionAPI] = []
        self.rejected: dict[bytes, str] = {}
        db = AtomicDB(backing)
        # py-evm's chain API is typed with NewTypes (Hash32, Address, BlockNumber) that plain
        # bytes and ints do not satisfy; the values passed are checked where they come in.
        self.chain: Any
        if self._kv is not None and self._meta("head") is not None:
            self.chain = chain_class(db)
            self._load_meta()
        else:
            genesis_state: dict[Any, Any] = {
                bytes.fromhex(a.address[2:]): {
                    "balance": self.config.balance,
                    "nonce": 0,
                    "code": b"",
                    "storage": {},
                }
                for a in self.accounts
            }
            params: dict[str, Any] = {
                "difficulty": 0,
                "gas_limit": self.config.gas_limit,
                "timestamp": int(time.time()),
                "base_fee_per_gas": self.config.base_fee,
                "nonce": b"\x00" * 8,
                "extra_data": b"rollupkit L1 devnet",
            }
            self.chain = chain_class.from_genesis(db, params, genesis_state)
            self._save_meta()
        self._interval_thread: threading.Thread | None = None
        self._stop = threading.Event()
        if self.config.block_time is not None:
            self._interval_thread = threading.Thread(
                target=self._mine_every, args=(self.config.block_time,), daemon=True
            )
            self._interval_thread.start()

    # --- persistence ----------------------------------------------------------------------

    def _meta(self, name: str) -> Any:
        if self._kv is None:
            return None
        raw = self._kv.get(_META_PREFIX + name.encode())
        return None if raw is None else json.loads(raw)

    def _save_meta(self) -> None:
        if self._kv is None:
            return
        values = {
            "head": self.chain.get_canonical_head().hash.hex(),
            "market": [self.market.price, self.market.block_number, self.market.used_in_block],
            "time_offset": self.time_offset,
        }
        for name, value in values.items():
            self._kv[_META_PREFIX + name.encode()] = json.dumps(value).encode()
        self._kv.commit()

    def _load_meta(self) -> None:
        price, number, used = self._meta("market")
        self.market.price, self.market.block_number, self.market.used_in_block = price, number, used
        self.time_offset = int(self._meta("time_offset") or 0)

    def close(self) -> None:
        """Stop mining and close the database (committing everything mined)."""
        self._stop.set()
        if self._interval_thread is not None:
            self._interval_thread.join(timeout=5)
        with self._lock:
            if self._kv is not None:
                self._kv.close()
                self._kv = None

    # --- reading ----------------------------------------------------------------------------

    @property
    def head(self) -> BlockHeaderAPI:
        """The newest mined block's header."""
        head = self._head
        if head is None:
            with self._lock:
                head = self._head = self.chain.get_canonical_head()
        return head

    def header(self, block: int | str | bytes = "latest") -> BlockHeaderAPI:
        """The header for a number, a hash, or a tag (latest, pending, earliest, safe,
        finalized)."""
        if block in ("latest", "pending", "safe", "finalized"):
            return self.head  # read by most requests: kept, not looked up under the lock
        with self._lock:
            try:
                if isinstance(block, bytes):
                    return self.chain.get_block_header_by_hash(block)
                if block == "earliest":
                    block = 0
                return self.chain.get_canonical_block_header_by_number(int(block))
            except (HeaderNotFound, ValueError) as exc:
                raise BlockNotFound(f"no block {block!r}") from exc

    def block(self, block: int | str | bytes = "latest") -> BlockAPI:
        """The full block for a number, hash or tag."""
        header = self.header(block)
        with self._lock:
            return self.chain.get_block_by_header(header)

    def state_at(self, block: int | str | bytes = "latest") -> Any:
        """py-evm state at the end of ``block`` (read-only use, under the devnet's lock).

        The last few are kept by block hash (a block's state never changes): building a VM and
        its state per request was most of the cost of an eth_getBalance."""
        header = self.header(block)
        with self._lock:
            state = self._states.get(header.hash)
            if state is None:
                state = self.chain.get_vm(header).state
                self._states[header.hash] = state
                if len(self._states) > 8:
                    self._states.popitem(last=False)
            return state

    def balance(self, address: bytes, block: int | str | bytes = "latest") -> int:
        """Balance in wei."""
        with self._lock:
            return int(self.state_at(block).get_balance(address))

    def nonce(self, address: bytes, block: int | str | bytes = "latest") -> int:
        """Transaction count; with ``pending``, counting transactions waiting to be mined."""
        with self._lock:
            base = int(self.state_at(block).get_nonce(address))
            if block == "pending":
                base += sum(1 for tx in self.pending if tx.sender == address)
            return base

    def code(self, address: bytes, block: int | str | bytes = "latest") -> bytes:
        """Deployed code."""
        with self._lock:
            return bytes(self.state_at(block).get_code(address))

    def storage(self, address: bytes, slot: int, block: int | str | bytes = "latest") -> int:
        """One storage slot."""
        with self._lock:
            return int(self.state_at(block).get_storage(address, slot))

    def transaction(self, tx_hash: bytes) -> tuple[SignedTransactionAPI, BlockAPI | None, int]:
        """A transaction with its block and index (block None while pending)."""
        with self._lock:
            for index, tx in enumerate(self.pending):
                if tx.hash == tx_hash:
                    return tx, None, index
            try:
                number, index = self.chain.get_canonical_transaction_index(tx_hash)
            except TransactionNotFound as exc:
                raise KeyError(tx_hash) from exc
            block = self.chain.get_canonical_block_by_number(number)
            return block.transactions[index], block, index

    def receipt(
        self, tx_hash: bytes
    ) -> tuple[ReceiptAPI, SignedTransactionAPI, BlockAPI, int, int, int]:
        """A mined transaction's receipt, the transaction, its block and index, and the
        block's gas and logs before it."""
        with self._lock:
            try:
                number, index = self.chain.get_canonical_transaction_index(tx_hash)
            except TransactionNotFound as exc:
                raise KeyError(tx_hash) from exc
            block = self.chain.get_canonical_block_by_number(number)
            receipts = block.get_receipts(self.chain.chaindb)
            gas_before = receipts[index - 1].gas_used if index else 0
            first_log = sum(len(r.logs) for r in receipts[:index])
            return receipts[index], block.transactions[index], block, index, gas_before, first_log

    def receipts(self, block: BlockAPI) -> tuple[ReceiptAPI, ...]:
        """All receipts of a mined block."""
        with self._lock:
            return tuple(block.get_receipts(self.chain.chaindb))

    @property
    def chain_id(self) -> int:
        """The L1 chain id."""
        return self.config.chain_id

    def next_base_fee(self) -> int:
        """The base fee of the next block."""
        from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas

        return int(calculate_expected_base_fee_per_gas(self.head))

    def proof(self, address: bytes, slots: list[int], block: int | str | bytes = "latest") -> Any:
        """An eth_getProof proof of ``address`` and ``slots`` after ``block``."""
        from rollupkit.ethstate import get_proof

        header = self.header(block)
        return get_proof(self.chain.chaindb.db, header.state_root, address, slots)

    # --- transactions -----------------------------------------------------------------------

    def decode_transaction(self, raw: bytes) -> SignedTransactionAPI:
        """Decode and check a signed transaction; raise :class:`TransactionRejected`."""
        try:
            tx = L1VM.get_transaction_builder().decode(raw)
            tx.check_signature_validity()
            _ = tx.sender
        except Exception as exc:
            raise TransactionRejected(f"invalid transaction: {exc}") from exc
        chain_id = getattr(tx, "chain_id", None)
        if chain_id is not None and chain_id != self.config.chain_id:
            raise TransactionRejected(
                f"invalid chain id {chain_id} (this chain is {self.config.chain_id})"
            )
        return tx

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Validate, queue and (with automine) mine a transaction; return its hash."""
        tx = self.decode_transaction(raw)
        with self._lock:
            self._precheck(tx)
            self.pending.append(tx)
            if self.automine:
                mined = self.mine()
                if tx.hash in mined.rejected:
                    raise TransactionRejected(mined.rejected[tx.hash])
        return bytes(tx.hash)

    def _precheck(self, tx: SignedTransactionAPI) -> None:
        if any(p.hash == tx.hash for p in self.pending):
            raise TransactionRejected("already known")
        expected = self.nonce(tx.sender, "pending")
        if tx.nonce < expected:
            raise TransactionRejected(f"nonce too low: next nonce {expected}, tx nonce {tx.nonce}")
        if tx.nonce > expected:
            raise TransactionRejected(f"nonce too high: next nonce {expected}, tx nonce {tx.nonce}")
        if tx.gas > self.config.gas_limit:
            raise TransactionRejected(
                f"exceeds block gas limit: gas {tx.gas} > {self.config.gas_limit}"
            )
        max_fee = getattr(tx, "max_fee_per_gas", None) or tx.gas_price
        cost = tx.gas * max_fee + tx.value
        balance = self.balance(tx.sender)
        if balance < cost:
            raise TransactionRejected(
                f"insufficient funds for gas * price + value: balance {balance}, cost {cost}"
            )

    def _timestamp(self, parent: BlockHeaderAPI) -> int:
        if self.next_timestamp is not None:
            chosen, self.next_timestamp = self.next_timestamp, None
        else:
            chosen = int(time.time()) + self.time_offset
        return max(chosen, parent.timestamp + 1)

    def mine(self, timestamp: int | None = None) -> MinedBlock:
        """Mine one block with every pending transaction that is still valid."""
        with self._lock:
            if timestamp is not None:
                self.next_timestamp = timestamp
            chain = self.chain
            parent = chain.get_canonical_head()
            header = chain.create_header_from_parent(
                parent,
                timestamp=self._timestamp(parent),
                gas_limit=self.config.gas_limit,
                mix_hash=keccak(parent.hash),
            )
            vm = chain.get_vm(header)
            running = header.copy(gas_used=0)
            included: list[SignedTransactionAPI] = []
            receipts: list[ReceiptAPI] = []
            rejected: dict[bytes, str] = {}
            with market_in_effect(self.market):
                self.market.start_block(header.block_number)
                for tx in self.pending:
                    try:
                        running, (receipt,), _ = vm.apply_all_transactions([tx], running)
                    except ValidationError as exc:
                        rejected[bytes(tx.hash)] = str(exc)
                        continue
                    included.append(tx)
                    receipts.append(receipt)
                filled = vm.set_block_transactions_and_withdrawals(
                    vm.get_block(), running, included, receipts, withdrawals=[]
                )
                block = vm.mine_block(filled).block
            chain.persist_block(block, perform_validation=False)
            self._head = block.header
            chain.header = chain.create_header_from_parent(block.header)
            self.pending = []
            self.rejected.update(rejected)
            self._save_meta()
            return MinedBlock(block, tuple(receipts), rejected)

    def reorg(self, depth: int) -> None:
        """Replace the newest ``depth`` blocks with as many new empty ones, as an L1 reorg
        does (anvil's ``anvil_reorg`` without replayed transactions): what they held is gone.
        The EXECUTE market is not rewound: it goes on from its price."""
        with self._lock:
            chain = self.chain
            head = chain.get_canonical_head()
            if not 0 < depth <= head.block_number:
                raise ValueError(f"a reorg depth is 1 to {head.block_number}, not {depth}")
            fork = chain.get_canonical_block_header_by_number(head.block_number - depth)
            db = chain.chaindb.db
            _, dropped = chain.chaindb._set_as_canonical_chain_head(db, fork, GENESIS_PARENT_HASH)
            for header in dropped:  # their transactions are no longer on the chain
                for tx_hash in chain.chaindb.get_block_transaction_hashes(header):
                    chain.chaindb._remove_transaction_from_canonical_chain(db, tx_hash)
            self._head = fork
            chain.header = chain.create_header_from_parent(fork)
            self.market.block_number = min(self.market.block_number, fork.block_number)
            self.pending = []
        for _ in range(depth):
            self.mine()

    def _mine_every(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            self.mine()

    # --- calls ------------------------------------------------------------------------------

    def _call_state(self, header: BlockHeaderAPI, timestamp: int) -> Any:
        """A fresh state for calls on top of ``header``: its child block at ``timestamp``, with
        no base fee (calls are free, as eth_call is)."""
        with self._lock:
            vm = self.chain.get_vm(header)
            child = vm.create_header_from_parent(
                header, coinbase=header.coinbase, timestamp=timestamp
            ).copy(base_fee_per_gas=0)
            previous = list(itertools.islice(vm.previous_hashes or (), 255))
        return vm.build_state(
            self.chain.chaindb.db, child, vm.chain_context, [header.hash, *previous]
        )

    def _costless(
        self,
        params: dict[str, Any],
        block: int | str | bytes,
        deadline: float | None = None,
        *,
        access_list: Sequence[tuple[bytes, Sequence[int]]] = (),
        touched: dict[bytes, set[int]] | None = None,
    ) -> tuple[int, ComputationAPI]:
        """Run ``params`` as a gas-price-free transaction on top of ``block``, keeping nothing;
        raise :class:`CallReverted` if it fails, :class:`CallTimeout` past ``deadline``
        (time.monotonic; default: the call time limit from now). Returns the transaction's
        gas limit and its computation."""
        limit = self.config.calls.timeout
        meter = DeadlineMeter(limit, deadline=deadline)
        if time.monotonic() >= meter.deadline:
            raise CallTimeout(f"execution aborted (timeout = {limit:g}s)")
        header = self.header(block)
        # The child block's time is the next block's (the clock and any evm_increaseTime),
        # so states are reused only within a second.
        timestamp = max(int(time.time()) + self.time_offset, header.timestamp + 1)
        build = functools.partial(self._call_state, header, timestamp)
        sender: Any = params.get("from") or b"\x00" * 20
        to: Any = params.get("to") or b""  # empty: a contract creation
        gas = self.config.calls.gas(params.get("gas"), self.config.gas_limit)
        # Not under the devnet's lock: a slow call must not stall the chain or other requests
        # (the state it reads is a past root's, which nothing changes).
        with self._call_states.state((header.hash, timestamp), build) as state:
            nonce, price = int(state.get_nonce(sender)), int(params.get("gasPrice") or 0)
            value, data = int(params.get("value") or 0), params.get("data") or b""
            unsigned: Any
            if access_list:  # an EIP-2930 transaction
                builder: Any = L1VM.get_transaction_builder()
                unsigned = builder.new_unsigned_access_list_transaction(
                    self.config.chain_id, nonce, price, gas, to, value, data, access_list
                )
            else:
                unsigned = L1VM.create_unsigned_transaction(
                    nonce=nonce, gas_price=price, gas=gas, to=to, value=value, data=data
                )
            tx = CallTransaction(unsigned, from_=sender)
            state.execution_meter = meter
            recording = (
                recorded_accesses(state) if touched is not None else contextlib.nullcontext({})
            )
            try:
                # A gas price is charged for unless the costless path hides it (GASPRICE
                # still reports it); with none, the plain path is the same and quicker.
                with recording as seen:
                    if unsigned.gas_price:
                        computation = state.costless_execute_transaction(tx)
                    else:
                        computation = state.apply_transaction(tx)
                if touched is not None:
                    touched.update(seen)
                    excluded = {
                        bytes(sender), bytes(to), bytes(state.coinbase),  # warm from the start
                        *state.computation_class._precompiles,
                    }  # fmt: skip
                    for address in excluded:
                        touched.pop(bytes(address), None)
            finally:
                state.execution_meter = None
        if computation.is_error:
            error = computation.error
            if type(error).__name__ == "Revert":
                data = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
                raise CallReverted("execution reverted", data)
            raise CallReverted(f"execution failed: {type(error).__name__}: {error}")
        return gas, computation

    def call(self, params: dict[str, Any], block: int | str | bytes = "latest") -> bytes:
        """Run a call against the state after ``block`` (nothing is kept)."""
        with self._lock:
            market = copy.copy(self.market)  # its config is frozen
        with market_in_effect(market):
            _, computation = self._costless(params, block)
        return bytes(computation.output)

    def access_list(
        self, params: dict[str, Any], block: int | str | bytes = "latest"
    ) -> AccessListResult:
        """eth_createAccessList: what a call touches, and its gas with that list."""
        deadline = time.monotonic() + self.config.calls.timeout
        with self._lock:
            market = copy.copy(self.market)  # its config is frozen
        touched: dict[bytes, set[int]] = {}
        with market_in_effect(market):
            # A failing call's list is what it touched before failing; the gas run says why.
            with contextlib.suppress(CallReverted):
                self._costless(params, block, deadline, touched=touched)
            found = access_list_of(touched, set())
            try:
                gas_limit, computation = self._costless(params, block, deadline, access_list=found)
            except CallReverted as exc:
                return AccessListResult(found, 0, str(exc))
        return AccessListResult(found, gas_limit - computation.get_gas_remaining())

    def estimate_gas(self, params: dict[str, Any], block: int | str | bytes = "latest") -> int:
        """The gas a transaction needs; a transaction that fails with all the gas there is
        raises :class:`CallReverted`. All of it within one call time limit.

        First the gas it used with plenty, raised for the 63/64 rule of two nested calls
        (what settlement does: rollup → verifier → EXECUTE); if that is enough, that is the
        answer. Only otherwise a binary search, which would re-run an expensive call (an
        EXECUTE of a whole batch) a dozen times.
        """
        deadline = time.monotonic() + self.config.calls.timeout
        with self._lock:
            market = copy.copy(self.market)  # its config is frozen
        with market_in_effect(market):
            gas_limit, computation = self._costless(params, block, deadline)
            used = gas_limit - computation.get_gas_remaining()
            guess = min(used * 64 // 63 * 64 // 63 + 5_000, gas_limit)
            low, high = max(used, 21_000) - 1, gas_limit
            for gas in [guess] if guess < high else []:
                try:
                    self._costless({**params, "gas": gas}, block, deadline)
                    return gas
                except CallReverted:
                    low = gas
            while high - low > 1:
                middle = (low + high) // 2
                try:
                    self._costless({**params, "gas": middle}, block, deadline)
                    high = middle
                except CallReverted:
                    low = middle
            return high

    def logs(
        self,
        from_block: int,
        to_block: int,
        addresses: Sequence[bytes] = (),
        topics: Sequence[Sequence[bytes] | None] = (),
    ) -> Iterator[tuple[Any, ReceiptAPI, SignedTransactionAPI, BlockAPI, int, int]]:
        """Logs matching an eth_getLogs filter: (log, receipt, tx, block, tx index, log index)."""
        from rollupkit.rpc.eth import log_matches

        with self._lock:
            for number in range(from_block, to_block + 1):
                block = self.chain.get_canonical_block_by_number(number)
                log_index = 0
                for tx_index, receipt in enumerate(block.get_receipts(self.chain.chaindb)):
                    for log in receipt.logs:
                        if log_matches(log, addresses, topics):
                            yield (
                                log,
                                receipt,
                                block.transactions[tx_index],
                                block,
                                tx_index,
                                log_index,
                            )
                        log_index += 1
