"""The node's link to L1: the message queue, batch data, settlement, and reorgs.

:meth:`L1Link.sync` reads L1 up to its head (less ``confirmations``): queued messages into the
store, settled batches, and, for a follower, the batch data posted to the rollup's inbox,
which it turns back into L2 blocks with the derivation plugin. It remembers recent L1 block
hashes; when one changes (a reorg), it forgets what came from the dropped blocks, rolls the
L2 back to before the first block that used a dropped message, and re-reads.

:meth:`L1Link.batch_step` (sequencer only) groups blocks into batches, posts each batch's data
(calldata or blobs), then settles it through the proof backend's lifecycle, strictly in
order: ``built`` → post its data → ``posted`` → :meth:`ProofBackend.submit` → ``submitted``
(the submission stored with the batch) → once L1's clock reaches its ``final_at``,
:meth:`ProofBackend.finalize` and ``NativeRollup.submitBatch`` → ``settled``. Each step is
recorded before the next, so a restarted node resumes where it stopped; a failed step is
retried on the next call, and a batch found already settled on L1 (say, after a crash between
sending and recording) is not sent twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account as EthAccount
from eth_hash.auto import keccak
from eth_utils import to_checksum_address
from web3 import Web3
from web3.logs import DISCARD

from rollupkit.errors import ProofError, RollupkitError, TraceError
from rollupkit.interfaces import ClaimedBatch, ProofBackend, SettlementContext, Submission
from rollupkit.l1.contracts import Deployment, RollupContracts, message_from_event
from rollupkit.node.l2chain import NodeChain, decode_l1_effects
from rollupkit.node.sequencer import L1View
from rollupkit.node.store import QueuedMessage
from rollupkit.plugins import get_registry
from rollupkit.steps import BatchSteps
from rollupkit.trace import decode_trace
from rollupkit.types import BlockInput

log = logging.getLogger("rollupkit.node.l1")

#: How many recent L1 block hashes are kept to detect reorgs.
REORG_WINDOW = 64
#: How many L1 blocks one sync reads at most.
SYNC_CHUNK = 1000


def default_inbox(chain_id: int) -> str:
    """The address batches are posted to (nothing lives there: it only names the rollup)."""
    return to_checksum_address((0xFF << 152 | chain_id).to_bytes(20, "big"))


@dataclass
class L1Settings:
    """Where the rollup lives on L1 and how the node talks to it."""

    url: str
    deployment: Deployment
    deploy_block: int
    inbox: str
    batcher_key: bytes
    #: The proof backend's own settings (JSON-able; see ProofBackend.configure).
    proof_options: dict[str, Any] = field(default_factory=dict)
    derivation: str = "calldata"
    compression: str = "none"
    confirmations: int = 0
    inclusion_deadline: int = 3600
    max_blocks_per_batch: int = 32
    max_batch_gas: int = 12_000_000
    batch_interval: float = 2.0


class SettledChainUnavailable(RollupkitError):
    """L1 settled blocks this node does not hold and cannot rebuild."""


class L1Link:
    """One node's view of, and actions on, L1."""

    def __init__(self, settings: L1Settings, chain: NodeChain, role: str) -> None:
        self.settings = settings
        self.chain = chain
        self.store = chain.store
        self.role = role
        self.w3 = Web3(Web3.HTTPProvider(settings.url, request_kwargs={"timeout": 60}))
        self.batcher = EthAccount.from_key(settings.batcher_key)
        self.contracts = RollupContracts(self.w3, settings.deployment, self.batcher)
        self.derivation = get_registry().create("derivation", settings.derivation)
        self.view = L1View()
        self._proof: ProofBackend | None = None
        self._assembled: tuple[tuple[int, int, bytes], Any] | None = None
        self._steps: tuple[bytes, BatchSteps] | None = None
        self._block_cache: dict[int, Any] = {}
        self._unbatched_since: dict[int, float] = {}
        #: When (time.monotonic) the blocks waiting to be batched are due, if some are: the
        #: node's L1 loop wakes up then rather than a poll later.
        self.next_batch_due: float | None = None

    # --- reading L1 -------------------------------------------------------------------------

    def _block(self, number: int) -> Any:
        block = self._block_cache.get(number)
        if block is None:
            block = self.w3.eth.get_block(number, full_transactions=self.role == "follower")
            self._block_cache[number] = block
            if len(self._block_cache) > 4 * SYNC_CHUNK:
                self._block_cache.clear()
        return block

    def sync(self) -> L1View:
        """Read L1 up to its safe head; returns the view of the L1 head.

        What one sync reads must come from one chain: L1 can reorg while it reads. The blocks
        it will remember are fetched first, then the events, and it commits nothing unless
        those blocks link up and every event names the hash of the block it read; else the
        next sync starts over (and its reorg check finds what changed)."""
        self._block_cache.clear()  # a block an earlier sync read may be reorged out by now
        head = self.w3.eth.get_block("latest")
        self.view = L1View(bytes(head["hash"]), int(head["timestamp"]), number=int(head["number"]))
        if self.chain.reads_l1:
            self.view.l1_updates_applied_at = int(
                self.contracts.rollup.functions.l1UpdatesAppliedAt().call()
            )
        self._check_reorg()
        synced = int(self.store.get_meta("l1_synced", self.settings.deploy_block - 1))
        target = min(int(head["number"]) - self.settings.confirmations, synced + SYNC_CHUNK)
        if target <= synced:
            return self.view
        first = synced + 1
        window = [self._block(n) for n in range(max(first, target - REORG_WINDOW + 1), target + 1)]
        message_events = self.contracts.bridge.events.MessageQueued().get_logs(
            from_block=first, to_block=target
        )
        settled_events = self.contracts.rollup.events.BatchSettled().get_logs(
            from_block=first, to_block=target
        )
        recent = self.store.get_meta("l1_recent", [])
        if not self._consistent(window, recent, [*message_events, *settled_events]):
            log.info("L1 changed while it was read (blocks %d-%d): reading again", first, target)
            return self.view
        fork = self._first_block_missing_our_transactions(first, target)
        if fork is not None:
            self.rewind_l1(fork)
            return self.view
        with self.chain.lock:
            self.store.add_messages(self._messages(message_events))
            self.store.commit()
        if self.role == "follower":
            if self.derivation.carrier == "settlement":
                self._derive_settled(settled_events)
            else:
                self._derive(first, target)
        # Settlements last: a follower has derived the blocks they settle by now. Everything
        # above is safe to redo if this sync stops before its end (both skip what they have).
        with self.chain.lock:
            self._settled(settled_events)
            recent.extend([int(b["number"]), bytes(b["hash"]).hex()] for b in window)
            self.store.set_meta("l1_recent", recent[-REORG_WINDOW:])
            self.store.set_meta("l1_synced", target)
            self.store.set_meta(
                "l1_head", {"hash": self.view.block_hash.hex(), "timestamp": self.view.timestamp}
            )
            self.store.commit()
        return self.view

    def _consistent(self, window: list[Any], recent: list[Any], events: list[Any]) -> bool:
        """Whether ``window`` is one chain continuing ``recent`` and every event was read
        from a block of the chain the blocks were read from."""
        previous = recent[-1] if recent else None
        for block in window:
            number, parent = int(block["number"]), bytes(block["parentHash"]).hex()
            if previous is not None and previous[0] == number - 1 and previous[1] != parent:
                return False
            previous = [number, bytes(block["hash"]).hex()]
        return all(
            bytes(e["blockHash"]) == bytes(self._block(int(e["blockNumber"]))["hash"])
            for e in events
        )

    def _first_block_missing_our_transactions(self, first: int, last: int) -> int | None:
        """The first L1 block in ``first..last`` that the store says holds one of this node's
        postings or settlements but does not (a reorg dropped it before a sync read it)."""
        missing = []
        for batch in self.store.batches():
            detail = batch["detail"]
            posted = ("posted", "submitted", "settled")
            for kind, status in (("post", posted), ("settle", ("settled",))):
                number, tx = detail.get(f"{kind}_l1_block"), detail.get(f"{kind}_tx")
                if batch["status"] not in status or tx is None or number is None:
                    continue
                if first <= number <= last:
                    included = self._block(number)["transactions"]  # hashes, or txs (follower)
                    hashes = {bytes(getattr(t, "hash", t)).hex() for t in included}
                    if tx.removeprefix("0x") not in hashes:
                        missing.append(number)
        return min(missing, default=None)

    def _messages(self, events: list[Any]) -> list[QueuedMessage]:
        known = self.store.message_count()
        queued = []
        for event in sorted(events, key=lambda e: e.args["index"]):
            if event.args["index"] < known:
                continue
            block = self._block(int(event["blockNumber"]))
            queued.append(
                QueuedMessage(
                    message_from_event(event.args),
                    int(event["blockNumber"]),
                    bytes(block["hash"]),
                    int(block["timestamp"]),
                )
            )
        return queued

    def _settled(self, events: list[Any]) -> None:
        """Record L1's settlements. L1 is the judge of the chain: a settled block this node
        holds is marked settled (safe, then finalized) only if its hash is the one L1 holds;
        one that differs (with permissionless settlement, anyone may settle a valid competing
        chain) or that the node lacks is rebuilt from the settlement's trace, rolling the L2
        back to the last block both share."""
        for event in events:
            number = int(event.args["blockNumber"])
            tip = self._settled_tip()
            if number <= tip:
                continue  # genesis, or recorded before (this sync is a retry)
            if self.store.get_meta("diverged") is not None:
                return
            local = self.store.block(number)
            if local is None or local.hash != bytes(event.args["blockHash"]):
                try:
                    self._adopt(event, tip)
                except SettledChainUnavailable as exc:
                    log.error("%s", exc)
                    self.store.set_meta("diverged", str(exc))
                    return
            self._record_settled(tip + 1, number, event)

    def _settled_tip(self) -> int:
        """The last L2 block L1 has settled, as far as this node has read (0: genesis)."""
        settled = self.store.batches("settled")
        return int(settled[-1]["last_block"]) if settled else 0

    def _record_settled(self, first: int, last: int, event: Any) -> None:
        """Mark blocks ``first``..``last`` settled by ``event``, as one batch: withdrawals are
        proven against the batch L1 settled, so the record must have L1's bounds. When they
        are not one of this node's batches (someone else settled them), this node's unsettled
        batches from ``first`` on are dropped: they are rebuilt, from ``last + 1``."""
        batch = self.store.batch_of_block(last)
        if batch is None or (batch["first_block"], batch["last_block"]) != (first, last):
            self.store.remove_batches_from_block(first - 1)
            batch = {"id": self.store.add_batch(first, last), "detail": {}}
        self.store.update_batch(
            batch["id"],
            "settled",
            settlement_index=int(event.args["batchIndex"]),
            settle_l1_block=int(event["blockNumber"]),
            settle_tx=event["transactionHash"].to_0x_hex(),
        )
        settled = int(self.store.get_meta("settled_block", 0))
        self.store.set_meta("settled_block", max(settled, last))

    def _adopt(self, event: Any, tip: int) -> None:
        """Replace this node's blocks after ``tip`` with the ones ``event`` settled, taken
        from its settlement's trace (its transactions go back to the mempool)."""
        number, settled_hash = int(event.args["blockNumber"]), bytes(event.args["blockHash"])
        blocks = self._settled_blocks(event)
        if [b.number for b in blocks] != list(range(tip + 1, number + 1)):
            raise SettledChainUnavailable(
                f"L1 settled L2 blocks up to {number} in {event['transactionHash'].to_0x_hex()},"
                f" but its trace does not hold blocks {tip + 1}-{number}"
            )
        log.warning(
            "L1 settled another chain at L2 blocks %d-%d (%s): rolling back to block %d and "
            "following it",
            tip + 1, number, event["transactionHash"].to_0x_hex(), tip,
        )  # fmt: skip
        self.chain.rollback_to(tip, return_to_mempool=self.role == "sequencer")
        for block in blocks:
            self.chain.build_block(
                block, drop_invalid=False, mempool_hashes=[keccak(t) for t in block.transactions]
            )
        rebuilt = self.store.block(number)
        if rebuilt is None or rebuilt.hash != settled_hash:
            raise SettledChainUnavailable(
                f"L2 block {number} rebuilt from the trace L1 settled has another hash than the "
                f"one L1 holds (0x{settled_hash.hex()})"
            )

    def _settled_blocks(self, event: Any) -> list[BlockInput]:
        """The blocks a settlement carried, from its transaction's ``trace`` argument."""
        tx_hash = event["transactionHash"].to_0x_hex()
        tx = self.w3.eth.get_transaction(tx_hash)
        if (tx.get("to") or "").lower() != self.contracts.rollup.address.lower():
            raise SettledChainUnavailable(
                f"L1 settled L2 blocks up to {event.args['blockNumber']} that this node does not "
                f"hold, through a contract ({tx_hash}): it cannot read their trace. Stopped; "
                "resync this node as a follower of that chain"
            )
        try:
            return list(decode_trace(self._settlement_trace(tx)).blocks)
        except (TraceError, ValueError, KeyError) as exc:
            raise SettledChainUnavailable(
                f"L1 settled L2 blocks up to {event.args['blockNumber']} that this node does not "
                f"hold, and their settlement ({tx_hash}) carries no readable trace ({exc}): "
                "the proof system keeps blocks off L1. Stopped at the last block both hold"
            ) from exc

    def _settlement_trace(self, tx: Any) -> bytes:
        """The ``trace`` argument of a settlement transaction (ValueError or KeyError when
        ``tx`` is no call of this rollup's settlement functions)."""
        _, arguments = self.contracts.rollup.decode_function_input(tx["input"])
        return bytes(arguments["trace"])

    def _check_reorg(self) -> None:
        recent = self.store.get_meta("l1_recent", [])
        for number, block_hash in reversed(recent):
            try:
                current = bytes(self.w3.eth.get_block(number)["hash"]).hex()
            except Exception:  # noqa: BLE001 - the block is gone: the chain got shorter
                current = None
            if current == block_hash:
                fork = None if number == recent[-1][0] else number + 1
                break
        else:
            fork = recent[0][0] if recent else None
        if fork is not None:
            self.rewind_l1(fork)

    def rewind_l1(self, fork: int) -> None:
        """Forget everything read from L1 blocks ``fork`` and later (they were reorged out),
        rolling the L2 back to before its first block that used a forgotten message."""
        log.warning("L1 reorg: rewinding to L1 block %d", fork - 1)
        self._block_cache.clear()
        with self.chain.lock:
            dropped = [q for q in self.store.messages() if q.l1_block >= fork]
            if dropped:
                first_dropped = min(q.message.index for q in dropped)
                head = self.store.head_number()
                keep = head
                while keep > 0 and self.chain.queue_position(keep).index > first_dropped:
                    keep -= 1
                if keep < head:
                    self.chain.rollback_to(keep, return_to_mempool=self.role == "sequencer")
                self.store.remove_messages_from(first_dropped)
            for batch in self.store.batches():
                detail = batch["detail"]
                posted_late = detail.get("post_l1_block", -1) >= fork
                settled_late = detail.get("settle_l1_block", -1) >= fork
                if batch["status"] in ("posted", "submitted", "settled") and (
                    posted_late or settled_late
                ):
                    # Submitted afresh: a submission may rest on what was dropped.
                    status = "built" if posted_late else "posted"
                    self.store.update_batch(batch["id"], status, _submission=None)
            settled = [b for b in self.store.batches("settled")]
            self.store.set_meta("settled_block", settled[-1]["last_block"] if settled else 0)
            recent = [r for r in self.store.get_meta("l1_recent", []) if r[0] < fork]
            self.store.set_meta("l1_recent", recent)
            synced = int(self.store.get_meta("l1_synced", self.settings.deploy_block - 1))
            self.store.set_meta("l1_synced", min(synced, fork - 1))
            self.store.commit()

    # --- the follower -----------------------------------------------------------------------

    def _derive(self, first: int, last: int) -> None:
        inbox = self.settings.inbox.lower()
        batcher = self.batcher.address.lower()
        for number in range(first, last + 1):
            block = self._block(number)
            for tx in block["transactions"]:
                if (tx.get("to") or "").lower() != inbox or tx["from"].lower() != batcher:
                    continue
                try:
                    blocks = self.derivation.decode_batch(
                        self.chain.config.chain_id, self._payloads(tx), self._message_at
                    )
                except TraceError as exc:
                    log.warning("ignoring undecodable batch in %s: %s", tx["hash"].hex(), exc)
                    continue
                self._apply(blocks)

    def _derive_settled(self, events: list[Any]) -> None:
        """The settlement derivation: the blocks of each settled batch this node lacks, from
        its settlement's trace (their L1 messages checked against the queue)."""
        for event in events:
            if int(event.args["blockNumber"]) <= self.store.head_number():
                continue
            tx_hash = event["transactionHash"].to_0x_hex()
            try:
                trace = self._settlement_trace(self.w3.eth.get_transaction(tx_hash))
                blocks = self.derivation.decode_batch(
                    self.chain.config.chain_id, [trace], self._message_at
                )
            except (TraceError, ValueError, KeyError) as exc:
                # _settled adopts what L1 settled, or says why it cannot.
                log.warning("settlement %s has no derivable trace: %s", tx_hash, exc)
                continue
            self._apply(blocks)

    def _payloads(self, tx: Any) -> list[bytes]:
        if self.derivation.carrier == "blobs":
            method: Any = "anvil_getBlobsByTransactionHash"
            blobs = self.w3.provider.make_request(method, [tx["hash"].to_0x_hex()])
            return [bytes.fromhex(b[2:]) for b in blobs.get("result") or []]
        return [bytes(tx["input"])]

    def _message_at(self, index: int) -> Any:
        for queued in self.store.messages(index):
            if queued.message.index == index:
                return queued.message
            break
        raise KeyError(index)

    def _apply(self, blocks: list[BlockInput]) -> None:
        for block in blocks:
            head = self.store.head_number()
            if block.number <= head:
                continue  # posted again after a retry: already derived
            if block.number != head + 1:
                raise RollupkitError(f"batch skips from block {head} to {block.number}")
            built = self.chain.build_block(block, drop_invalid=False)
            if built.trace.blocks[0] != block:
                raise RollupkitError(f"derived block {block.number} differs from the posted one")

    # --- the sequencer's batches ------------------------------------------------------------

    def batch_step(self) -> bool:
        """Make a batch if it is time, then move the oldest unsettled batch one step (post
        it, submit it to the proof backend, or finalise and settle it); whether a batch
        moved (not when it waits for its challenge window)."""
        if self.store.get_meta("diverged") is not None:
            return False  # L1 settled a chain this node cannot rebuild: nothing would settle
        self._make_batch()
        for batch in self.store.batches():
            if batch["status"] == "settled":
                continue
            if self._leaves_overdue_message(batch["last_block"]):
                # L1 would reject it: it must reach a block that consumed the overdue message.
                head = self.store.head_number()
                if head > batch["last_block"]:
                    with self.chain.lock:
                        for later in self.store.batches():
                            if later["id"] > batch["id"]:
                                self.store.db.execute(
                                    "DELETE FROM batches WHERE id = ?", (later["id"],)
                                )
                        self.store.extend_batch(batch["id"], head)
                        self.store.commit()
                return False  # wait for the sequencer to include it
            if batch["status"] == "built":
                self._post(batch)
            elif batch["status"] == "posted":
                self._submit(batch)
            elif batch["status"] == "submitted":
                return self._settle(batch)
            return True  # strictly in order
        return False

    def _make_batch(self) -> None:
        with self.chain.lock:
            batches = self.store.batches()
            first = batches[-1]["last_block"] + 1 if batches else 1
            head = self.store.head_number()
            if head < first:
                return
            # Age by this process's clock: block timestamps are whole seconds and may run a
            # little ahead of the wall clock when blocks come faster than one a second. From
            # when the block was built here, or else first seen (built before a restart).
            seen = self.chain.built_at.get(first) or self._unbatched_since.setdefault(
                first, time.monotonic()
            )
            young = time.monotonic() - seen < self.settings.batch_interval
            full = head - first + 1 >= self.settings.max_blocks_per_batch or (
                self._gas_from(first, head) >= self.settings.max_batch_gas
            )
            self.next_batch_due = seen + self.settings.batch_interval if young else None
            if young and not full:  # a full batch need not wait for the interval
                return
            last, gas, anchor = first, 0, None
            for number in range(
                first, min(head, first + self.settings.max_blocks_per_batch - 1) + 1
            ):
                stored = self.store.block(number)
                assert stored is not None
                if gas + stored.gas_used > self.settings.max_batch_gas and number > first:
                    break
                effects = decode_l1_effects(stored.l1)
                if effects is not None:  # a batch reads L1 at one block
                    if anchor is not None and effects.anchor_hash != anchor:
                        break
                    anchor = effects.anchor_hash
                gas += stored.gas_used
                last = number
            if self._leaves_overdue_message(last) and last < head:
                last = head
            self.store.add_batch(first, last)
            self.store.commit()
        log.info("batch of L2 blocks %d-%d made", first, last)

    def _gas_from(self, first: int, last: int) -> int:
        """The EXECUTE gas of blocks ``first``..``last`` (stopping once over a batch's)."""
        gas = 0
        for number in range(first, last + 1):
            stored = self.store.block(number)
            gas += stored.gas_used if stored is not None else 0
            if gas >= self.settings.max_batch_gas:
                break
        return gas

    def _leaves_overdue_message(self, last: int) -> bool:
        position = self.chain.queue_position(last)
        for queued in self.store.messages(position.index):
            due = queued.l1_time + self.settings.inclusion_deadline
            return self.view.timestamp + 60 >= due
        return False

    def _post(self, batch: dict[str, Any]) -> None:
        if self.derivation.carrier == "settlement":
            # Nothing to post: the settlement's trace carries the blocks.
            with self.chain.lock:
                self.store.update_batch(batch["id"], "posted", carrier="settlement", l1_bytes=0)
                self.store.commit()
            return
        blocks = [
            self.chain.block_input(n) for n in range(batch["first_block"], batch["last_block"] + 1)
        ]
        payloads = self.derivation.encode_batch(
            self.chain.config.chain_id, blocks, compression=self.settings.compression
        )
        tx: dict[str, Any] = {
            "to": self.settings.inbox,
            "value": 0,
            "chainId": self.w3.eth.chain_id,
            "nonce": self.w3.eth.get_transaction_count(self.batcher.address, "pending"),
        }
        base_fee = int(self.w3.eth.get_block("latest")["baseFeePerGas"])
        tx.update(maxFeePerGas=2 * base_fee + 10**9, maxPriorityFeePerGas=10**9)
        if self.derivation.carrier == "blobs":
            tx.update(type=3, data=b"", gas=100_000, maxFeePerBlobGas=10**10)
            signed = self.batcher.sign_transaction(tx, blobs=payloads)
        else:
            tx.update(data=payloads[0])
            estimate: Any = {"from": self.batcher.address, **tx}
            tx["gas"] = int(self.w3.eth.estimate_gas(estimate)) + 10_000
            signed = self.batcher.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        log.info("batch %d posted: %d bytes", batch["id"], sum(len(p) for p in payloads))
        with self.chain.lock:
            self.store.update_batch(
                batch["id"],
                "posted",
                post_tx=tx_hash.to_0x_hex(),
                post_l1_block=int(receipt["blockNumber"]),
                post_gas=int(receipt["gasUsed"]),
                l1_bytes=sum(len(p) for p in payloads),
                carrier=self.derivation.carrier,
            )
            self.store.commit()

    def proof_backend(self) -> ProofBackend:
        """The deployment's proof backend, configured with the node's ``proof_options``
        (made on first use: a follower never settles)."""
        if self._proof is None:
            backend_class = get_registry().get("proof", self.settings.deployment.proof)
            self._proof = backend_class.configured(self.settings.proof_options)
        return self._proof

    def _settlement(self, batch: dict[str, Any]) -> tuple[Any, ClaimedBatch] | None:
        """The assembled batch and its claim, or None when L1 already holds it (settled
        before a crash could record it: marked settled here)."""
        assembled = self._assemble(batch["first_block"], batch["last_block"])
        onchain = self.contracts.state()
        if onchain["block_hash"] == assembled.outputs.block_hash:
            self._mark_settled(batch, None)  # settled before a crash could record it
            return None
        if onchain["state_root"] != assembled.pre_state_root:
            raise RollupkitError(
                f"L1 is at L2 block {onchain['block_number']}, not at the parent of batch "
                f"{batch['id']}: waiting for L1 to catch up"
            )
        claimed = ClaimedBatch(
            pre_state_root=assembled.pre_state_root, post_state_root=assembled.post_state_root,
            trace=assembled.trace, gas_used=assembled.gas_used, outputs=assembled.outputs,
        )  # fmt: skip
        return assembled, claimed

    def _assemble(self, first: int, last: int) -> Any:
        """The batch of blocks ``first``..``last``, assembled once for its settlement steps
        (the blocks are the same while the last one's hash is)."""
        tip = self.store.block(last)
        key = (first, last, tip.hash if tip is not None else b"")
        if self._assembled is None or self._assembled[0] != key:
            compress = self.settings.compression != "none"
            self._assembled = (key, self.chain.assemble_batch(first, last, compress=compress))
        return self._assembled[1]

    def _context(self, assembled: Any = None) -> SettlementContext:
        """Where batches settle; with ``assembled`` (a batch), a way to its positions."""
        steps = None if assembled is None else (lambda: self._batch_steps(assembled))
        return SettlementContext(
            l1_chain_id=int(self.w3.eth.chain_id), verifier=self.settings.deployment.verifier,
            vm=self.chain.config.vm, state=self.chain.config.state, l1=self.contracts,
            steps=steps,
        )  # fmt: skip

    def _batch_steps(self, assembled: Any) -> BatchSteps:
        """The positions of a batch (one re-execution; kept while it is the batch in play)."""
        key = assembled.outputs.block_hash
        if self._steps is None or self._steps[0] != key:
            with self.chain.lock:
                steps = self.chain.batch_steps(
                    assembled.first_block, assembled.last_block, assembled
                )
            self._steps = (key, steps)
        return self._steps[1]

    def _submit(self, batch: dict[str, Any]) -> None:
        """Hand a posted batch to the proof backend and store what it made of it."""
        found = self._settlement(batch)
        if found is None:
            return
        _, claimed = found
        try:
            submission = self.proof_backend().submit(claimed, self._context())
        except RollupkitError as exc:
            self._failed(batch, "posted", exc)
            raise
        log.info("batch %d submitted (final from L1 time %d)", batch["id"], submission.final_at)
        with self.chain.lock:
            self.store.update_batch(
                batch["id"], "submitted", **_stored_submission(submission, claimed)
            )
            self.store.commit()

    def _settle(self, batch: dict[str, Any]) -> bool:
        """Settle a submitted batch once its time has come: finalise its submission, then
        ``submitBatch``; whether it moved."""
        stored = batch["detail"].get("_submission")
        if stored is None:  # its submission was dropped: submit it afresh
            with self.chain.lock:
                self.store.update_batch(batch["id"], "posted")
                self.store.commit()
            return True
        found = self._settlement(batch)
        if found is None:
            return True
        assembled, claimed = found
        submission = _loaded_submission(stored, claimed)
        backend, context = self.proof_backend(), self._context(assembled)
        try:
            backend.tend(claimed, submission, context)  # e.g. answer a challenge
        except RollupkitError as exc:
            self._failed(batch, "submitted", exc)
            raise
        # The next L1 block's time: an L1 that mines only when sent a transaction (a devnet)
        # keeps its last block's time while idle, but stamps the next one with its clock.
        if max(self.view.timestamp, int(time.time())) < submission.final_at:
            return False  # its challenge window is still open
        try:
            final = backend.finalize(claimed, submission, context)
        except ProofError as exc:
            # It will never settle as it is (say, its claim was challenged and lost).
            self._failed(batch, "posted", exc, _submission=None)
            raise
        if final is None:
            return False  # not yet: asked again on the next step
        if final != submission:
            with self.chain.lock:
                self.store.update_batch(
                    batch["id"], "submitted", **_stored_submission(final, claimed)
                )
                self.store.commit()
        try:
            receipt = self.contracts.submit_batch(
                assembled.outputs, final.trace, final.evidence, l1_updates=assembled.l1_updates
            )
        except RollupkitError as exc:
            self._failed(batch, "submitted", exc)
            raise
        log.info("batch %d settled: %d L1 gas", batch["id"], int(receipt["gasUsed"]))
        self._mark_settled(batch, receipt, assembled, len(final.trace))
        return True

    def _failed(self, batch: dict[str, Any], status: str, exc: Exception, **detail: Any) -> None:
        """Record a failed settlement step (it is retried from ``status``)."""
        with self.chain.lock:
            attempts = int(batch["detail"].get("attempts", 0)) + 1
            self.store.update_batch(
                batch["id"], status, attempts=attempts, last_error=str(exc), **detail
            )
            self.store.commit()

    def _mark_settled(
        self, batch: dict[str, Any], receipt: Any, assembled: Any = None, trace_bytes: int = 0
    ) -> None:
        detail: dict[str, Any] = {}
        if receipt is not None:
            # Other contracts' events share the receipt (a booster batch's applyStateUpdates).
            events = self.contracts.rollup.events.BatchSettled().process_receipt(
                receipt, errors=DISCARD
            )
            event = next(e for e in events if e.address == self.contracts.rollup.address)
            detail = {
                "settlement_index": int(event.args["batchIndex"]),
                "settle_tx": receipt["transactionHash"].to_0x_hex(),
                "settle_l1_block": int(receipt["blockNumber"]),
                "settle_gas": int(receipt["gasUsed"]),
                "settle_bytes": len(
                    self.w3.eth.get_transaction(receipt["transactionHash"])["input"]
                ),
                "pre_state_root": "0x" + assembled.pre_state_root.hex(),
                "post_state_root": "0x" + assembled.post_state_root.hex(),
                "l2_gas_used": assembled.outputs.l2_gas_used,
                "execute_gas": assembled.gas_used,
                "trace_bytes": trace_bytes,
            }
        else:
            detail = {"settlement_index": int(self.contracts.state()["batches"]) - 1}
        with self.chain.lock:
            self.store.update_batch(batch["id"], "settled", **detail)
            settled = int(self.store.get_meta("settled_block", 0))
            self.store.set_meta("settled_block", max(settled, batch["last_block"]))
            if receipt is not None and assembled.l1_updates:  # see Sequencer.l1_anchor
                self.store.set_meta("l1_updates_applied_at", int(receipt["blockNumber"]))
            self.store.commit()


def _stored_submission(submission: Submission, batch: ClaimedBatch) -> dict[str, Any]:
    """A submission as the batch's details keep it (JSON): all of it under ``_submission``
    (hidden from RPC; the trace left out when it is the batch's own, which the node can
    assemble again), its time and its backend's details shown."""
    return {
        "_submission": {
            "trace": None if submission.trace == batch.trace else submission.trace.hex(),
            "evidence": submission.evidence.hex(),
            "final_at": submission.final_at,
            "detail": dict(submission.detail),
        },
        "final_at": submission.final_at,
        "submission": dict(submission.detail),
    }


def _loaded_submission(stored: dict[str, Any], batch: ClaimedBatch) -> Submission:
    """The inverse of :func:`_stored_submission`."""
    trace = batch.trace if stored["trace"] is None else bytes.fromhex(stored["trace"])
    return Submission(
        trace=trace,
        evidence=bytes.fromhex(stored["evidence"]),
        final_at=int(stored["final_at"]),
        detail=dict(stored.get("detail") or {}),
    )
