"""The sequencer: turns the mempool and the L1 queue into blocks.

Each block takes, in queue order, the L1 messages seen on L1 (deposits and forced
transactions), then pending transactions (nonce order per sender, highest tip first), up to
the block gas limit; invalid transactions are left out and dropped from the mempool.

A sequencer can be told to censor addresses (to test forced inclusion): their transactions
stay in the mempool, and a forced transaction they sent through L1 holds up the queue until it
is about to be overdue. It is then included, because a batch that leaves an overdue message
unconsumed is rejected by the settlement contract.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rollupkit.builder import BuiltTrace
from rollupkit.errors import ChainMoved
from rollupkit.ethtx import TxSummary
from rollupkit.node.l2chain import NodeChain
from rollupkit.node.mempool import Mempool
from rollupkit.trace import LIMITS
from rollupkit.types import ZERO_ADDRESS, ZERO_HASH, BlockInput, L1Message, MessageKind

#: Block timestamps rise by at least a second per block; with faster blocks they may run this
#: many seconds ahead of the wall clock, no more (the sequencer waits instead).
MAX_CLOCK_LEAD = 2
#: A booster chain reads L1 at one block until what it wrote there has settled; once that block
#: is this many L1 blocks old, the sequencer waits for the settlement rather than read on at it.
MAX_L1_ANCHOR_AGE = 64


log = logging.getLogger("rollupkit.node.sequencer")


@dataclass
class SequencerPolicy:
    """How the sequencer fills blocks."""

    coinbase: bytes = ZERO_ADDRESS
    censor: frozenset[bytes] = frozenset()
    inclusion_deadline: int = 3600  # the settlement contract's, in L1 seconds
    #: Include a censored forced transaction once it is within this many seconds of overdue.
    deadline_margin: int = 60
    empty_blocks: bool = False  # also produce blocks with nothing in them
    #: An extra admission rule for the mempool: returns why a transaction is refused, or None.
    admit: Callable[[TxSummary], str | None] | None = None


@dataclass
class L1View:
    """What the sequencer knows of L1 now: its newest block's hash, timestamp and number,
    and (for a chain reading L1) the L1 block at which settlement last applied L1 updates."""

    block_hash: bytes = ZERO_HASH
    timestamp: int = 0
    extra: dict[str, object] = field(default_factory=dict)
    number: int = 0
    l1_updates_applied_at: int = 0


class Sequencer:
    """Builds blocks for one node."""

    def __init__(self, chain: NodeChain, mempool: Mempool, policy: SequencerPolicy) -> None:
        self.chain = chain
        self.mempool = mempool
        self.policy = policy

    def _sender(self, message: L1Message) -> bytes | None:
        try:
            tx = self.chain.vm.decode_transaction(message.data, self.chain.config.chain_id)
        except Exception:  # noqa: BLE001 - garbage cannot be attributed to anyone
            return None
        return bytes(tx.sender)

    def messages_to_include(self, l1: L1View) -> list[L1Message]:
        """The queued messages the next block takes (a prefix of what is left)."""
        position = self.chain.queue_position()
        chosen: list[L1Message] = []
        for queued in self.chain.store.messages(position.index):
            message = queued.message
            if len(chosen) >= LIMITS.max_messages_per_block:
                break
            if message.kind == MessageKind.FORCED_TX and self.policy.censor:
                due = queued.l1_time + self.policy.inclusion_deadline - self.policy.deadline_margin
                if self._sender(message) in self.policy.censor and l1.timestamp < due:
                    break  # censored: hold the queue as long as the contract allows
            chosen.append(message)
        return chosen

    def produce(self, l1: L1View | None = None, now: float | None = None) -> BuiltTrace | None:
        """Build and commit the next block, or return None when there is nothing to do."""
        l1 = l1 or L1View()
        with self.chain.lock:
            messages = self.messages_to_include(l1)
            pending = self.mempool.select(
                self.chain.config.gas_limit, exclude_senders=self.policy.censor
            )
            if not messages and not pending and not self.policy.empty_blocks:
                return None
            head = self.chain.head
            clock = int(now if now is not None else time.time())
            if head.timestamp + 1 > clock + MAX_CLOCK_LEAD:
                return None  # timestamps must rise; do not run ahead of the clock for it
            timestamp = max(head.timestamp + 1, clock)
            anchor = self.l1_anchor(l1) if self.chain.vm.reads_l1 else l1.block_hash
            if anchor is None:
                return None  # waiting for L1 to settle what the chain wrote at its anchor
            template = BlockInput(
                number=0,
                timestamp=timestamp,
                coinbase=self.policy.coinbase,
                gas_limit=self.chain.config.gas_limit,
                base_fee=0,
                prev_randao=ZERO_HASH,
                parent_hash=ZERO_HASH,
                l1_anchor=anchor,
                l1_messages=tuple(messages),
                transactions=tuple(p.raw for p in pending),
            )
        # Built outside the chain's lock: transactions keep arriving while it executes.
        started = time.monotonic()
        try:
            built = self.chain.build_block(
                template, drop_invalid=True, mempool_hashes=[p.hash for p in pending]
            )
        except ChainMoved:
            return None  # a rollback came first: the next step builds on the new head
        log.info(
            "block %d: %d transactions, %d L1 messages, built in %.0f ms",
            built.results[0].info.number, len(built.trace.blocks[0].transactions),
            len(messages), 1000 * (time.monotonic() - started),
        )  # fmt: skip
        return built

    def l1_anchor(self, l1: L1View) -> bytes | None:
        """The L1 block a booster chain's next block reads at (None: wait).

        The settlement contract takes a batch reading L1 at the block the last one read at (the
        chain goes on from its own writes there), or at a block no older than the last
        settlement that applied L1 updates (which holds them). So the chain keeps its anchor
        while blocks that read L1 are unsettled (their updates would be missing from a newer
        block's state, and a batch reads at one anchor), and moves to L1's newest block once
        they have settled and that block is past their application. An old anchor misses L1
        writes made since (seed 000's synchronisation caveat): past
        :data:`MAX_L1_ANCHOR_AGE` blocks the sequencer waits for the settlement instead.
        """
        last = self.chain.last_l1_read()
        if last is None:
            return l1.block_hash
        block, anchor, anchor_number = last
        applied_at = max(l1.l1_updates_applied_at, self.chain.l1_updates_applied_at())
        if block <= self.chain.settled_block():
            return l1.block_hash if l1.number >= applied_at and l1.number else anchor
        if l1.number - anchor_number > MAX_L1_ANCHOR_AGE:
            return None
        return anchor


def censor_set(addresses: Iterable[str | bytes]) -> frozenset[bytes]:
    """Addresses (hex or bytes) as a censor set."""
    return frozenset(
        bytes.fromhex(a[2:] if a.startswith("0x") else a) if isinstance(a, str) else a
        for a in addresses
    )
