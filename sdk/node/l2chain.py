"""The node's L2 chain: blocks built on a persistent state, and batches assembled from them.

Each block is built with :func:`rollupkit.builder.build_trace` (the same loop EXECUTE runs) and
committed in one database transaction with everything it changes. Its witness is kept, so a
batch of blocks gets its trace by merging the blocks' witnesses instead of executing again.
"""

from __future__ import annotations

import threading
import time
from collections import ChainMap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import rlp
from eth_hash.auto import keccak

from rollupkit import messages as queue
from rollupkit.builder import BuiltTrace, build_trace
from rollupkit.chain import (
    DEFAULT_BASE_FEE,
    DEFAULT_CHAIN_ID,
    DEFAULT_GAS_LIMIT,
    DEFAULT_GENESIS_TIMESTAMP,
    write_genesis,
)
from rollupkit.errors import ChainMoved, ConfigError, NodeDatabaseError
from rollupkit.execution import read_queue_position, resolve_plugins
from rollupkit.interfaces import StateStore, StateView
from rollupkit.l1updates import l1_outputs, merged_updates
from rollupkit.metering import witness_gas
from rollupkit.node.store import NodeStore, StoredBlock
from rollupkit.plugins import PluginRegistry
from rollupkit.steps import BatchSteps, batch_steps
from rollupkit.trace import compress_trace, decode_block, encode_block, encode_trace, input_gas
from rollupkit.types import (
    BlockInput,
    GenesisAccount,
    HeaderInfo,
    L1Effects,
    PublicOutputs,
    QueuePosition,
    Trace,
    Withdrawal,
    Witness,
)
from rollupkit.withdrawals import withdrawals_root

#: Calls served by one shared view before a new one is opened (see NodeChain.call_view).
CALL_VIEW_USES = 1024


def encode_l1_effects(effects: L1Effects | None) -> bytes:
    """A booster block's L1 effects as the node stores them (empty bytes: none); a slot's
    ``before`` is stored plus one, so an inherited slot's (-1) is an RLP integer."""
    if effects is None:
        return b""
    updates = [[c, s, before + 1, after] for c, s, before, after in effects.updates]
    return rlp.encode([effects.anchor_number, effects.anchor_hash, effects.state_root, updates])


def decode_l1_effects(raw: bytes) -> L1Effects | None:
    """What :func:`encode_l1_effects` stored."""
    if not raw:
        return None
    number, anchor, root, updates = rlp.decode(raw)
    return L1Effects(
        _int(number), bytes(anchor), bytes(root),
        tuple((bytes(c), _int(s), _int(b) - 1, _int(a)) for c, s, b, a in updates),
    )  # fmt: skip


def _int(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


@dataclass(frozen=True)
class ChainConfig:
    """What defines an L2 chain (its genesis included)."""

    chain_id: int = DEFAULT_CHAIN_ID
    vm: str = "evm"
    state: str = "mpt"
    gas_limit: int = DEFAULT_GAS_LIMIT
    base_fee: int = DEFAULT_BASE_FEE
    genesis_timestamp: int = DEFAULT_GENESIS_TIMESTAMP
    alloc: dict[bytes, GenesisAccount] = field(default_factory=dict)
    #: For a VM that reads L1 (booster): its L1's chain id, which its genesis holds.
    l1_chain_id: int = 0


@dataclass(frozen=True)
class Batch:
    """Blocks assembled for settlement: the trace, its roots and gas, and its public outputs."""

    first_block: int
    last_block: int
    trace: bytes
    pre_state_root: bytes
    post_state_root: bytes
    gas_used: int
    outputs: PublicOutputs
    blocks: tuple[BlockInput, ...]
    #: A booster batch's L1 storage updates, as settlement applies them (rollupkit.l1updates).
    l1_updates: Sequence[tuple[bytes, int, int]] = ()


class NodeChain:
    """An L2 chain on a :class:`NodeStore`, safe to use from several threads."""

    def __init__(
        self,
        store: NodeStore,
        config: ChainConfig,
        registry: PluginRegistry | None = None,
        *,
        l1: Any = None,
    ) -> None:
        """``l1``: for a VM that reads L1 (booster), web3 of the L1 its blocks read state
        from (a chain without it serves its blocks but builds none)."""
        self.store = store
        self.config = config
        self.vm, self.model = resolve_plugins(config.vm, config.state, registry)
        #: The state blocks are built on: the store, and for a VM reading L1 what it loaded.
        self.build_state = store.state
        self.reads_l1 = self.vm.reads_l1 and l1 is not None
        if self.reads_l1:
            source = self.vm.l1_source(l1)
            self.build_state = StateStore(
                ChainMap(store.state.nodes, source.nodes),
                ChainMap(store.state.codes, source.codes),
            )
        self.lock = threading.RLock()
        self._build_lock = threading.Lock()  # one block built at a time
        #: When (time.monotonic) this process built each recent block: a batch's age counts
        #: from its first block's making, not from when the batcher first looked.
        self.built_at: dict[int, float] = {}
        self._call_views: dict[bytes, tuple[StateView, int]] = {}
        #: last_l1_read's answer, or False until looked up.
        self._last_l1_read: tuple[int, bytes, int] | bool | None = False
        self._call_views_lock = threading.Lock()
        if store.head_number() < 0:
            self._genesis()
        else:
            self._check_genesis()

    # --- genesis ----------------------------------------------------------------------------

    def _write_genesis(self, store: StateStore) -> bytes:
        c = self.config
        alloc = c.alloc
        if self.vm.reads_l1:
            alloc = {**self.vm.l1_predeploys(c.l1_chain_id), **alloc}
        header, _ = write_genesis(
            self.vm, self.model, store, alloc, chain_id=c.chain_id,
            timestamp=c.genesis_timestamp, gas_limit=c.gas_limit, base_fee=c.base_fee,
        )  # fmt: skip
        return header

    def _check_genesis(self) -> None:
        """The stored chain must be this config's: same genesis block."""
        if self.store.header(0) != self._write_genesis(StateStore()):
            raise NodeDatabaseError(
                f"the node database holds another chain (its genesis block differs from chain "
                f"{self.config.chain_id}'s as configured): move it away, or point the node at "
                "its own database"
            )

    def _genesis(self) -> None:
        c = self.config
        raw = self._write_genesis(self.store.state)
        info = self.vm.decode_header(raw)
        empty = rlp.encode([[], [], [], 0])
        self.store.add_block(StoredBlock(0, info.hash, raw, b"", empty, 0, rlp.encode([])), [])
        self.store.set_meta(
            "chain",
            {"chain_id": c.chain_id, "vm": c.vm, "state": c.state, "genesis": info.hash.hex()},
        )
        self.store.commit()

    # --- reading ----------------------------------------------------------------------------

    @property
    def head(self) -> HeaderInfo:
        """The newest block's header fields."""
        return self.vm.decode_header(self.store.header(self.store.head_number()))

    def header_info(self, number: int) -> HeaderInfo:
        """The header fields of block ``number``."""
        return self.vm.decode_header(self.store.header(number))

    def view(self, number: int | None = None) -> StateView:
        """A view of the state after block ``number`` (default: the head); writes to it are
        kept in memory and never reach the store."""
        root = self.header_info(self.store.head_number() if number is None else number).state_root
        return self.model.open(self.store.state, root, record=True)

    def call_view(self, number: int) -> StateView:
        """A view of the state after block ``number`` for calls (``eth_call``, estimates).

        Calls on the same state share it, so a VM can keep what it built for that state from
        one call to the next (py-evm's state and read caches); calls never commit it, and a
        view is retired after :data:`CALL_VIEW_USES` calls, since what calls write (the code
        of contracts they create) stays in its overlay."""
        root = self.header_info(number).state_root
        with self._call_views_lock:
            view, uses = self._call_views.pop(root, (None, 0))
            if view is None:  # (a chain reading L1 sees what its L1 reader loads)
                view = self.model.open(self.build_state, root, record=True)
            if uses + 1 < CALL_VIEW_USES:
                self._call_views[root] = (view, uses + 1)
            while len(self._call_views) > 4:
                self._call_views.pop(next(iter(self._call_views)))
        return view

    def queue_position(self, number: int | None = None) -> QueuePosition:
        """How far blocks up to ``number`` (default: the head) consumed the L1 queue."""
        return read_queue_position(self.view(number))

    def refunds_of_message(self, index: int) -> tuple[int, list[int]] | None:
        """Where L1 message ``index`` was applied and what it refunded: the block, and the
        positions among that block's withdrawals of the refunds applying it made (see
        ``VM.refunds_of``); None while no block has applied it (or the chain moved while
        looking: ask again)."""
        try:
            head = self.store.head_number()
            if self.queue_position(head).index <= index:
                return None
            # The first block whose queue position has passed the message applied it.
            low, high = 1, head
            while low < high:
                middle = (low + high) // 2
                if self.queue_position(middle).index > index:
                    high = middle
                else:
                    low = middle + 1
            messages = self.block_input(low).l1_messages
            withdrawals = self.withdrawals(low)
        except KeyError:  # a block went in a rollback while we looked
            return None
        message = next((m for m in messages if m.index == index), None)
        return None if message is None else (low, self.vm.refunds_of(message, withdrawals))

    def block_input(self, number: int) -> BlockInput:
        """The input of block ``number`` (not for genesis)."""
        stored = self.store.block(number)
        if stored is None or not stored.input:
            raise KeyError(number)
        return decode_block(stored.input)

    def withdrawals(self, number: int) -> list[Withdrawal]:
        """The withdrawals block ``number`` made, in order."""
        stored = self.store.block(number)
        if stored is None:
            raise KeyError(number)
        return [
            Withdrawal(int.from_bytes(n, "big"), s, t, int.from_bytes(v, "big"), d)
            for n, s, t, v, d in rlp.decode(stored.withdrawals)
        ]

    # --- building ---------------------------------------------------------------------------

    def build_block(
        self,
        template: BlockInput,
        *,
        drop_invalid: bool = True,
        mempool_hashes: list[bytes] | None = None,
    ) -> BuiltTrace:
        """Build one block on the head and commit it, with the mempool entries it used up.

        ``template`` needs no number, parent hash or base fee (they are filled in). Invalid
        transactions are left out with ``drop_invalid``; ``mempool_hashes`` (the hashes of the
        template's transactions) are removed from the mempool in the same commit, included or
        dropped.

        Executing the block holds no lock (unless the caller holds :attr:`lock`): it reads
        the parent's state, which nothing changes, and writes to memory, so transactions keep
        arriving meanwhile. Writing it takes the lock, and refuses with :class:`ChainMoved`
        if the head or the L1 messages it used changed in between (a rollback).
        """
        if self.vm.reads_l1 and not self.reads_l1:
            raise ConfigError(f"a {self.config.vm} chain builds blocks only with an L1 to read")
        with self._build_lock:
            with self.lock:
                head = self.store.head_number()
                parent_header = self.store.header(head)
                queue_start = self.queue_position()
            built = build_trace(
                self.vm, self.model, self.build_state,
                chain_id=self.config.chain_id,
                parent_header=parent_header,
                header_by_number=self.store.header,
                queue_start=queue_start,
                blocks=[template],
                drop_invalid=drop_invalid,
                commit=False,
            )  # fmt: skip
            with self.lock:
                self._check_unmoved(head, parent_header, built)
                try:
                    assert built.flush is not None
                    built.flush()
                    self._store_block(built)
                    if mempool_hashes:
                        self.store.remove_pending(mempool_hashes)
                    self.store.commit()
                except BaseException:
                    self.store.rollback()
                    raise
                self.built_at[head + 1] = time.monotonic()
                effects = built.results[0].l1
                if effects is not None:
                    self._last_l1_read = (head + 1, effects.anchor_hash, effects.anchor_number)
                if len(self.built_at) > 4096:
                    del self.built_at[min(self.built_at)]
            return built

    # --- reading L1 (booster chains) ---------------------------------------------------------

    def last_l1_read(self) -> tuple[int, bytes, int] | None:
        """The newest block that read L1: its number, and the L1 block (hash, number) it read
        at; None if none has."""
        with self.lock:
            if self._last_l1_read is False:
                self._last_l1_read = None
                for number in range(self.store.head_number(), 0, -1):
                    effects = decode_l1_effects(self.store.block_l1(number))
                    if effects is not None:
                        self._last_l1_read = (number, effects.anchor_hash, effects.anchor_number)
                        break
            return self._last_l1_read  # type: ignore[return-value]

    def settled_block(self) -> int:
        """The newest L2 block L1 has settled, as far as this node has seen."""
        return int(self.store.get_meta("settled_block", 0))

    def l1_updates_applied_at(self) -> int:
        """The L1 block of the newest settlement this node saw apply L1 updates (0: none)."""
        return int(self.store.get_meta("l1_updates_applied_at", 0))

    def _check_unmoved(self, head: int, parent_header: bytes, built: BuiltTrace) -> None:
        if self.store.head_number() != head or self.store.header(head) != parent_header:
            raise ChainMoved(f"the head moved from block {head} while block {head + 1} was built")
        for message in built.trace.blocks[0].l1_messages:
            queued = next(iter(self.store.messages(message.index)), None)
            if queued is None or queued.message != message:
                raise ChainMoved(f"L1 message {message.index} was dropped while it was used")

    def _store_block(self, built: BuiltTrace) -> None:
        (result,) = built.results
        block = built.trace.blocks[0]
        witness = built.trace.witness
        oldest = result.info.number - len(witness.headers)
        stored = StoredBlock(
            number=result.info.number,
            hash=result.info.hash,
            header=result.header,
            input=encode_block(block),
            witness=rlp.encode(
                [
                    list(witness.state_nodes),
                    list(witness.codes),
                    list(built.created),
                    oldest,
                    list(result.keys),
                ]
            ),
            gas_used=built.block_gas[0],  # EXECUTE gas: what a batch of it must claim
            withdrawals=rlp.encode(
                [[w.nonce, w.sender, w.target, w.value, w.data] for w in result.withdrawals]
            ),
            l1=encode_l1_effects(result.l1),
        )
        txs = [
            (keccak(raw), raw, receipt)
            for raw, receipt in zip(result.transactions, result.receipts, strict=True)
        ]
        self.store.add_block(stored, txs)

    def rollback_to(self, number: int, *, return_to_mempool: bool) -> None:
        """Forget blocks above ``number`` (an L1 reorg dropped messages they used), putting
        their own transactions back in the mempool if asked. Forced transactions are not put
        back: they come again from the L1 queue."""
        from rollupkit.errors import InvalidTransactionError
        from rollupkit.ethtx import summarize

        with self.lock:
            head = self.store.head_number()
            if return_to_mempool:
                for block_number in range(number + 1, head + 1):
                    forced = {m.data for m in self.block_input(block_number).l1_messages}
                    for _, raw, _ in self.store.block_txs(block_number):
                        if raw in forced:
                            continue
                        try:
                            tx = summarize(self.vm.decode_transaction(raw, self.config.chain_id))
                        except InvalidTransactionError:
                            continue
                        self.store.add_pending(tx.hash, tx.sender, tx.nonce, raw, tx.tip, tx.gas)
            self.store.remove_blocks_after(number)
            self.store.remove_batches_from_block(number)
            self.store.commit()
            self._last_l1_read = False  # looked up again

    # --- batches ----------------------------------------------------------------------------

    def assemble_batch(self, first: int, last: int, *, compress: bool = False) -> Batch:
        """The trace (compressed with ``compress``) and public outputs of blocks
        ``first``..``last`` (merged witnesses)."""
        if not 1 <= first <= last <= self.store.head_number():
            raise ValueError(f"no blocks {first}..{last} to batch")
        created: set[bytes] = set()
        created_nodes: set[bytes] = set()
        stored_nodes = self.store.state.nodes
        nodes: dict[bytes, bytes] = {}
        codes: dict[bytes, bytes] = {}
        oldest = first - 1
        inputs, withdrawals, block_gas, l2_gas = [], [], [], 0
        l1_effects: list[L1Effects] = []
        for number in range(first, last + 1):
            stored = self.store.block(number)
            assert stored is not None
            state_nodes, code_list, created_here, oldest_read = rlp.decode(stored.witness)[:4]
            # A node is needed from the pre-state only if no earlier block of the batch made
            # it: EXECUTE recreates those itself. (Compared by content too: a model whose keys
            # are not Keccak, zkpay's Poseidon, names its created nodes otherwise.)
            for node in state_nodes:
                digest = keccak(node)
                if digest not in created and node not in created_nodes:
                    nodes.setdefault(digest, node)
            for code in code_list:
                digest = keccak(code)
                if digest not in created:
                    codes.setdefault(digest, code)
            created.update(created_here)
            created_nodes.update(n for n in map(stored_nodes.get, created_here) if n is not None)
            oldest = min(oldest, int.from_bytes(oldest_read, "big"))
            inputs.append(decode_block(stored.input))
            withdrawals.extend(self.withdrawals(number))
            block_gas.append(stored.gas_used)
            l2_gas += _header_gas_used(stored.header)
            effects = decode_l1_effects(stored.l1)
            if effects is not None:
                l1_effects.append(effects)
        start = self.queue_position(first - 1)
        witness = Witness(
            tuple(nodes.values()), tuple(codes.values()),
            tuple(self.store.header(n) for n in range(oldest, first)),
        )  # fmt: skip
        trace = Trace(self.config.chain_id, start, tuple(inputs), witness)
        parent = self.header_info(first - 1)
        tip = self.header_info(last)
        end = queue.consume(start, [m for block in inputs for m in block.l1_messages])
        encoded = encode_trace(trace)
        if compress:
            encoded = compress_trace(encoded)
        # EXECUTE gas: each block's (as built), reading the trace and readying its witness.
        readying = witness_gas(self.vm, self.model, witness)
        execute_gas = input_gas(encoded) + sum(block_gas) + readying
        outputs = PublicOutputs(
            chain_id=self.config.chain_id,
            pre_state_root=parent.state_root,
            post_state_root=tip.state_root,
            gas_used=execute_gas,
            l2_gas_used=l2_gas,
            parent_hash=parent.hash,
            block_hash=tip.hash,
            block_number=tip.number,
            block_count=last - first + 1,
            receipts_root=_receipts_root(self.store.header(last)),
            queue_start_index=start.index,
            queue_start_hash=start.rolling_hash,
            messages_consumed=end.index - start.index,
            queue_end_hash=end.rolling_hash,
            withdrawals_root=withdrawals_root(withdrawals),
            withdrawal_count=len(withdrawals),
            **l1_outputs(l1_effects),
        )
        return Batch(
            first,
            last,
            encoded,
            parent.state_root,
            tip.state_root,
            execute_gas,
            outputs,
            tuple(inputs),
            merged_updates(l1_effects),
        )

    def batch_steps(self, first: int, last: int, assembled: Batch | None = None) -> BatchSteps:
        """Blocks ``first``..``last`` position by position (:mod:`rollupkit.steps`): what
        this node answers with in an optimistic dispute over their claim (one re-execution
        of the batch; ``assembled``: the batch, if assembled already)."""
        batch = assembled if assembled is not None else self.assemble_batch(first, last)
        return batch_steps(
            self.vm, self.model, self.store.state, chain_id=self.config.chain_id,
            header_by_number=self.store.header, first_block=first,
            queue_start=self.queue_position(first - 1), trace=batch.trace, outputs=batch.outputs,
        )  # fmt: skip


def _header_gas_used(header: bytes) -> int:
    # The transactions' gas: field 10 of an Ethereum header.
    fields: Any = rlp.decode(header)
    return int.from_bytes(fields[10], "big")


def _receipts_root(header: bytes) -> bytes:
    # Every rollupkit L2 header is an Ethereum header: the receipts root is field 5.
    fields: Any = rlp.decode(header)
    return bytes(fields[5])
