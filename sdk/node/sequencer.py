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
from rollupkit.ethtx import TxSummary, decode_signed_transaction
from rollupkit.node.l2chain import NodeChain
from rollupkit.node.mempool import Mempool
from rollupkit.trace import LIMITS
from rollupkit.types import ZERO_ADDRESS, ZERO_HASH, BlockInput, L1Message, MessageKind

#: Block timestamps rise by at least a second per block; with faster blocks they may run this
#: many seconds ahead of the wall clock, no more (the sequencer waits instead).
MAX_CLOCK_LEAD = 2


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
    """What the sequencer knows of L1 now: its newest block's hash and timestamp."""

    block_hash: bytes = ZERO_HASH
    timestamp: int = 0
    extra: dict[str, object] = field(default_factory=dict)


class Sequencer:
    """Builds blocks for one node."""

    def __init__(self, chain: NodeChain, mempool: Mempool, policy: SequencerPolicy) -> None:
        self.chain = chain
        self.mempool = mempool
        self.policy = policy

    def _sender(self, message: L1Message) -> bytes | None:
        try:
            tx = decode_signed_transaction(message.data, self.chain.config.chain_id)
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
            template = BlockInput(
                number=0,
                timestamp=timestamp,
                coinbase=self.policy.coinbase,
                gas_limit=self.chain.config.gas_limit,
                base_fee=0,
                prev_randao=ZERO_HASH,
                parent_hash=ZERO_HASH,
                l1_anchor=l1.block_hash,
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


def censor_set(addresses: Iterable[str | bytes]) -> frozenset[bytes]:
    """Addresses (hex or bytes) as a censor set."""
    return frozenset(
        bytes.fromhex(a[2:] if a.startswith("0x") else a) if isinstance(a, str) else a
        for a in addresses
    )
