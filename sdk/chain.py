"""An in-memory L2 chain over any VM and state model: genesis, an L1 queue, block building.

:class:`DevChain` is the smallest complete producer of EXECUTE inputs: it keeps the full state,
the headers and a simulated L1 message queue, and turns proposed blocks into traces with
:func:`rollupkit.builder.build_trace`. Tests, benchmarks, the demo and the conformance suite
use it; the rollup node builds on the same pieces with persistent storage.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import replace

from rollupkit import messages as queue
from rollupkit.block import MIN_BLOCK_GAS_LIMIT
from rollupkit.builder import BuiltTrace, build_trace
from rollupkit.execution import resolve_plugins
from rollupkit.interfaces import VM, StateModel, StateStore, StateView
from rollupkit.plugins import PluginRegistry
from rollupkit.system import SYSTEM_ADDRESS, genesis_system_account
from rollupkit.trace import LIMITS
from rollupkit.types import (
    ZERO_ADDRESS,
    ZERO_HASH,
    Account,
    BlockInput,
    GenesisAccount,
    HeaderInfo,
    L1Message,
    MessageKind,
    QueuePosition,
)

DEFAULT_CHAIN_ID = 42_424
DEFAULT_GAS_LIMIT = 30_000_000
DEFAULT_BASE_FEE = 1_000_000_000  # 1 gwei
DEFAULT_GENESIS_TIMESTAMP = 1_700_000_000
DEFAULT_BLOCK_TIME = 2
#: Gas a deposit's call gets by default (the L1 bridge lets the depositor choose).
DEFAULT_DEPOSIT_GAS = 100_000


def genesis_alloc(
    alloc: Mapping[bytes, GenesisAccount], *, chain_id: int, header_commitment: bytes
) -> dict[bytes, GenesisAccount]:
    """``alloc`` plus the rollupkit system account every chain's genesis holds (it records the
    chain id and the genesis header's commitment)."""
    if SYSTEM_ADDRESS in alloc:
        raise ValueError(f"0x{SYSTEM_ADDRESS.hex()} is the system account; allocate elsewhere")
    for address, account in alloc.items():
        if len(account.code) > LIMITS.max_code_bytes:
            raise ValueError(
                f"genesis code of 0x{address.hex()} is {len(account.code)} bytes, more than a "
                f"trace can carry ({LIMITS.max_code_bytes})"
            )
    full = dict(alloc)
    full[SYSTEM_ADDRESS] = genesis_system_account(chain_id, header_commitment)
    return full


def apply_genesis(view: StateView, alloc: Mapping[bytes, GenesisAccount]) -> bytes:
    """Write a genesis allocation (see :func:`genesis_alloc`) into an empty view and return
    its root."""
    for address, account in alloc.items():
        if len(address) != 20:
            raise ValueError(f"genesis address 0x{address.hex()} is not 20 bytes")
        view.set_account(address, nonce=account.nonce, balance=account.balance)
        if account.code:
            view.set_code(address, account.code)
        for slot, value in account.storage.items():
            view.set_storage(address, slot, value)
    return view.commit()


def write_genesis(
    vm: VM,
    model: StateModel,
    store: StateStore,
    alloc: Mapping[bytes, GenesisAccount],
    *,
    chain_id: int,
    timestamp: int,
    gas_limit: int,
    base_fee: int,
) -> tuple[bytes, dict[bytes, GenesisAccount]]:
    """Write a chain's genesis state into ``store``; return its RLP header and the whole
    allocation (``alloc`` plus the system account, see :func:`genesis_alloc`)."""

    def header(state_root: bytes) -> bytes:
        return bytes(
            vm.genesis_header(
                chain_id=chain_id, state_root=state_root, timestamp=timestamp,
                gas_limit=gas_limit, base_fee=base_fee,
            )
        )  # fmt: skip

    # The genesis state records the genesis header's commitment, which covers every field but
    # the state root, so it can be computed before the root is known.
    full = genesis_alloc(
        alloc, chain_id=chain_id, header_commitment=vm.header_commitment(header(ZERO_HASH))
    )
    view = model.open(store, model.empty_root(), record=True)
    root = apply_genesis(view, full)
    view.flush()
    return header(root), full


class DevChain:
    """A single-node L2 chain held in memory."""

    def __init__(
        self,
        alloc: Mapping[bytes, GenesisAccount],
        *,
        vm: str = "evm",
        state: str = "mpt",
        chain_id: int = DEFAULT_CHAIN_ID,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        base_fee: int = DEFAULT_BASE_FEE,
        genesis_timestamp: int = DEFAULT_GENESIS_TIMESTAMP,
        block_time: int = DEFAULT_BLOCK_TIME,
        registry: PluginRegistry | None = None,
        l1_source: Mapping[bytes, bytes] | None = None,
    ) -> None:
        """``l1_source``: for a booster chain, the L1's database (trie nodes, codes and headers
        by hash), read where the chain's own store has nothing: what L1 calls read of it is
        recorded into the witness like the L2's own state."""
        if gas_limit < MIN_BLOCK_GAS_LIMIT:
            raise ValueError(
                f"gas limit {gas_limit} is below the floor {MIN_BLOCK_GAS_LIMIT} EXECUTE enforces"
            )
        self.vm_name, self.state_name = vm, state
        self.vm, self.model = resolve_plugins(vm, state, registry)
        self.chain_id = chain_id
        self.gas_limit = gas_limit
        self.block_time = block_time
        self.store = StateStore()
        if l1_source is not None:
            self.store = StateStore(nodes=ChainMap({}, l1_source), codes=ChainMap({}, l1_source))  # type: ignore[arg-type]
        genesis, self.genesis_alloc = write_genesis(
            self.vm, self.model, self.store, alloc, chain_id=chain_id,
            timestamp=genesis_timestamp, gas_limit=gas_limit, base_fee=base_fee,
        )  # fmt: skip
        self.headers: list[bytes] = [genesis]
        self.l1_queue: list[L1Message] = []
        self.queue_position = QueuePosition()

    # --- reading ------------------------------------------------------------------------------

    @property
    def head(self) -> HeaderInfo:
        """The newest block's header fields."""
        return self.vm.decode_header(self.headers[-1])

    @property
    def state_root(self) -> bytes:
        """The state root at the head."""
        return self.head.state_root

    def view(self) -> StateView:
        """A view of the state at the head (writes to it are not part of the chain)."""
        return self.model.open(self.store, self.state_root, record=True)

    def account(self, address: bytes) -> Account | None:
        """The account at ``address`` at the head."""
        return self.view().get_account(address)

    def balance(self, address: bytes) -> int:
        """The balance of ``address`` at the head."""
        account = self.account(address)
        return account.balance if account else 0

    def nonce(self, address: bytes) -> int:
        """The nonce of ``address`` at the head."""
        account = self.account(address)
        return account.nonce if account else 0

    def storage(self, address: bytes, slot: int) -> int:
        """Storage ``slot`` of ``address`` at the head."""
        return self.view().get_storage(address, slot)

    def code(self, address: bytes) -> bytes:
        """The code of ``address`` at the head."""
        return self.view().get_code(address)

    # --- the simulated L1 queue ---------------------------------------------------------------

    def _enqueue(self, message: L1Message) -> L1Message:
        self.l1_queue.append(message)
        return message

    def enqueue(self, message: L1Message) -> L1Message:
        """Add a message read from a real L1 queue (its index must be the next one)."""
        if message.index != len(self.l1_queue):
            raise ValueError(
                f"L1 message index {message.index} does not follow the queue's "
                f"{len(self.l1_queue)} messages"
            )
        return self._enqueue(message)

    def deposit(
        self,
        target: bytes,
        value: int,
        *,
        sender: bytes = ZERO_ADDRESS,
        data: bytes = b"",
        gas_limit: int = DEFAULT_DEPOSIT_GAS,
    ) -> L1Message:
        """Queue a deposit of ``value`` wei to ``target`` (with an optional call)."""
        return self._enqueue(
            L1Message(
                MessageKind.DEPOSIT, len(self.l1_queue), sender, target, value, gas_limit, data
            )
        )

    def force_transaction(
        self, raw_transaction: bytes, *, sender: bytes = ZERO_ADDRESS
    ) -> L1Message:
        """Queue a signed L2 transaction through L1 (forced inclusion)."""
        return self._enqueue(
            L1Message(
                MessageKind.FORCED_TX,
                len(self.l1_queue),
                sender,
                ZERO_ADDRESS,
                0,
                0,
                raw_transaction,
            )
        )

    def pending_messages(self) -> list[L1Message]:
        """Queued messages no block has consumed yet."""
        return self.l1_queue[self.queue_position.index :]

    # --- building -----------------------------------------------------------------------------

    def template(
        self,
        transactions: Sequence[bytes] = (),
        *,
        l1_messages: Sequence[L1Message] = (),
        timestamp: int | None = None,
        coinbase: bytes = ZERO_ADDRESS,
        gas_limit: int | None = None,
        prev_randao: bytes = ZERO_HASH,
        l1_anchor: bytes = ZERO_HASH,
        extra_data: bytes = b"",
    ) -> BlockInput:
        """A proposed block; number, parent hash and base fee are filled in when built."""
        return BlockInput(
            number=0,
            timestamp=timestamp or 0,
            coinbase=coinbase,
            gas_limit=gas_limit or self.gas_limit,
            base_fee=0,
            prev_randao=prev_randao,
            parent_hash=ZERO_HASH,
            l1_anchor=l1_anchor,
            extra_data=extra_data,
            l1_messages=tuple(l1_messages),
            transactions=tuple(transactions),
        )

    def build(
        self,
        blocks: Sequence[BlockInput] | None = None,
        *,
        transactions: Sequence[bytes] = (),
        include_pending: bool = True,
        drop_invalid: bool = False,
        commit: bool = True,
        compress: bool = False,
    ) -> BuiltTrace:
        """Build one trace of ``blocks`` (default: one block of ``transactions``) on the head
        (compressed with ``compress``).

        Pending L1 messages go into the first block unless ``include_pending`` is False.
        Blocks without a timestamp get the parent's plus the block time. With ``commit`` the
        blocks become part of the chain.
        """
        blocks = list(blocks) if blocks is not None else [self.template(transactions)]
        if not blocks:
            raise ValueError("a trace needs at least one block")
        if include_pending and self.pending_messages():
            # As many as a block may carry; the rest wait for the next block.
            room = LIMITS.max_messages_per_block - len(blocks[0].l1_messages)
            first = blocks[0]
            blocks[0] = replace(
                first, l1_messages=tuple(self.pending_messages()[:room]) + first.l1_messages
            )
        timestamp = self.head.timestamp
        for i, block in enumerate(blocks):
            if not block.timestamp:
                block = replace(block, timestamp=timestamp + self.block_time)
                blocks[i] = block
            timestamp = block.timestamp
        headers = self.headers
        built = build_trace(
            self.vm,
            self.model,
            self.store,
            chain_id=self.chain_id,
            parent_header=headers[-1],
            header_by_number=lambda n: headers[n],
            queue_start=self.queue_position,
            blocks=blocks,
            drop_invalid=drop_invalid,
            commit=commit,
            compress=compress,
        )
        if commit:
            self.headers.extend(r.header for r in built.results)
            consumed = [m for b in built.trace.blocks for m in b.l1_messages]
            self.queue_position = queue.consume(self.queue_position, consumed)
        return built
