"""The sequencer's mempool: validated, persisted, nonce-ordered pending transactions.

A transaction is checked against the head state before it is accepted (signature, chain id,
size, nonce, funds, gas, fee) and refused with a precise message otherwise. Accepted
transactions are committed to the node's database before the hash is returned, so a crash
cannot lose one. A pending transaction with the same sender and nonce is replaced only by one
paying at least 10% more tip (as geth does).
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rollupkit.errors import InvalidTransactionError, TransactionRejected
from rollupkit.ethtx import TxSummary, summarize
from rollupkit.node.l2chain import NodeChain

#: How far ahead of the account nonce a transaction may be queued with nonces missing before
#: it (a gap the sender may never fill).
MAX_NONCE_GAP = 64
#: Transactions one sender may have pending when their nonces run without a gap (as geth
#: lets a sender queue executable transactions while the pool has room).
MAX_PENDING_PER_SENDER = 1024
#: Transactions pending at once, all senders together: past it the pool is full.
MAX_PENDING = 20_000
#: A replacement must raise the tip by this many percent.
REPLACEMENT_BUMP_PERCENT = 10


@dataclass(frozen=True)
class Pending:
    """A pending transaction as the block builder takes it."""

    hash: bytes
    sender: bytes
    nonce: int
    raw: bytes
    tip: int
    gas: int


class Mempool:
    """Pending transactions of one node."""

    def __init__(
        self, chain: NodeChain, admit: Callable[[TxSummary], str | None] | None = None
    ) -> None:
        self.chain = chain
        #: An extra admission rule (a project's ``rollupkit_admit_transaction`` hook).
        self.admit = admit
        self.store = chain.store
        self._lock = threading.RLock()
        self._accounts_root = b""
        self._accounts: dict[bytes, Any] = {}

    def add(self, raw: bytes) -> bytes:
        """Validate and persist a signed transaction; return its hash or raise
        :class:`TransactionRejected` saying why."""
        try:
            tx = self.chain.vm.decode_transaction(raw, self.chain.config.chain_id)
        except InvalidTransactionError as exc:
            raise TransactionRejected(str(exc)) from exc
        summary = summarize(tx)
        if self.admit is not None:
            reason = self.admit(summary)
            if reason:
                raise TransactionRejected(str(reason))
        with self._lock, self.chain.lock:
            if self.store.pending_tx(summary.hash) is not None or self.store.tx_location(
                summary.hash
            ):
                raise TransactionRejected("already known")
            account = self._account(summary.sender)
            nonce = account.nonce if account else 0
            balance = account.balance if account else 0
            if summary.nonce < nonce:
                raise TransactionRejected(
                    f"nonce too low: next nonce {nonce}, tx nonce {summary.nonce}"
                )
            if summary.nonce > nonce + MAX_NONCE_GAP:
                self._check_run(summary.sender, nonce, summary.nonce)
            if self.store.pending_count() >= MAX_PENDING:
                raise TransactionRejected(f"txpool is full ({MAX_PENDING} transactions)")
            if summary.gas > self.chain.config.gas_limit:
                raise TransactionRejected(
                    f"exceeds block gas limit: gas {summary.gas} > {self.chain.config.gas_limit}"
                )
            if summary.gas < summary.intrinsic_gas:
                raise TransactionRejected(
                    f"intrinsic gas too low: gas {summary.gas}, minimum needed "
                    f"{summary.intrinsic_gas}"
                )
            if balance < summary.max_cost:
                raise TransactionRejected(
                    f"insufficient funds for gas * price + value: balance {balance}, "
                    f"tx cost {summary.max_cost}"
                )
            base_fee = self.chain.vm.next_block(
                self.store.header(self.store.head_number())
            ).base_fee
            if summary.max_fee < base_fee:
                raise TransactionRejected(
                    f"max fee per gas less than block base fee: maxFeePerGas {summary.max_fee}, "
                    f"baseFee {base_fee}"
                )
            other_tip = self.store.pending_tip(summary.sender, summary.nonce)
            if other_tip is not None and summary.tip * 100 < other_tip * (
                100 + REPLACEMENT_BUMP_PERCENT
            ):
                raise TransactionRejected(
                    f"replacement transaction underpriced: tip {summary.tip} must be "
                    f"at least {REPLACEMENT_BUMP_PERCENT}% over {other_tip}"
                )
            self.store.add_pending(
                summary.hash, summary.sender, summary.nonce, raw, summary.tip, summary.gas
            )
            self.store.commit()  # durable before it is acknowledged
        return summary.hash

    def _account(self, address: bytes) -> Any:
        """``address``'s account at the head. Read from the trie once per head: the same
        senders send again and again between two blocks."""
        root = self.chain.header_info(self.store.head_number()).state_root
        if root != self._accounts_root:
            self._accounts_root, self._accounts = root, {}
        if address not in self._accounts:
            if len(self._accounts) >= 4096:
                self._accounts.clear()
            self._accounts[address] = self.chain.view().get_account(address)
        return self._accounts[address]

    def _check_run(self, sender: bytes, next_nonce: int, nonce: int) -> None:
        """Refuse ``nonce`` unless the sender's pending nonces run to it from ``next_nonce``
        with no gap, and within :data:`MAX_PENDING_PER_SENDER`."""
        if nonce >= next_nonce + MAX_PENDING_PER_SENDER:
            raise TransactionRejected(
                f"nonce too high: next nonce {next_nonce}, tx nonce {nonce} (over "
                f"{MAX_PENDING_PER_SENDER} pending for one sender)"
            )
        pending = self.store.pending_nonces(sender)
        missing = next((n for n in range(next_nonce, nonce) if n not in pending), None)
        if missing is not None:
            raise TransactionRejected(
                f"nonce too high: next nonce {next_nonce}, tx nonce {nonce} (gap over "
                f"{MAX_NONCE_GAP}; nonce {missing} is missing)"
            )

    def select(self, gas_limit: int, exclude_senders: Iterable[bytes] = ()) -> list[Pending]:
        """Pending transactions for the next block: each sender's run of consecutive nonces
        from its account nonce, interleaved highest tip first, up to ``gas_limit`` total gas
        limit. Stale entries (nonce already used) are dropped from the mempool."""
        excluded = set(exclude_senders)
        view = self.chain.view()
        by_sender: dict[bytes, dict[int, Pending]] = {}
        stale: list[bytes] = []
        nonces: dict[bytes, int] = {}
        for tx_hash, sender, nonce, raw, tip, gas in self.store.pending():
            if sender not in nonces:
                account = view.get_account(sender)
                nonces[sender] = account.nonce if account else 0
            if nonce < nonces[sender]:
                stale.append(tx_hash)
                continue
            by_sender.setdefault(sender, {})[nonce] = Pending(tx_hash, sender, nonce, raw, tip, gas)
        if stale:
            with self.chain.lock:
                self.store.remove_pending(stale)
                self.store.commit()
        heap: list[tuple[int, int, bytes]] = []
        for sender, entries in by_sender.items():
            if sender in excluded:
                continue
            first = entries.get(nonces[sender])
            if first is not None:
                heapq.heappush(heap, (-first.tip, first.nonce, sender))
        chosen: list[Pending] = []
        used = 0
        while heap:
            _, nonce, sender = heapq.heappop(heap)
            entry = by_sender[sender][nonce]
            if used + entry.gas > gas_limit:
                continue  # this sender waits for the next block
            chosen.append(entry)
            used += entry.gas
            following = by_sender[sender].get(nonce + 1)
            if following is not None:
                heapq.heappush(heap, (-following.tip, following.nonce, sender))
        return chosen

    def __len__(self) -> int:
        return self.store.pending_count()
