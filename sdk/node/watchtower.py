"""A follower node's watchtower: it judges the claims posted to the rollup's verifier by the
chain the follower derived from L1's batch data, and disputes the wrong ones through the proof
backend (:meth:`rollupkit.interfaces.ProofBackend.watchtower`; the optimistic backend's).

The judge answers "what does this chain say about the ``n`` blocks after the claim's parent?"
once the follower holds them (a claim is judged when its blocks are derived, not when it is
seen: a proposer may claim blocks before a slow follower has read their data).
"""

from __future__ import annotations

import logging
from typing import Any

from eth_account import Account as EthAccount

from rollupkit.interfaces import SettlementContext, Watcher
from rollupkit.l1.contracts import RollupContracts
from rollupkit.node.l1link import L1Link
from rollupkit.steps import BatchSteps

log = logging.getLogger("rollupkit.node.watchtower")


class ChainJudge:
    """Claims judged by a node's chain: the :class:`BatchSteps` of the blocks a claim is
    about, computed once per batch."""

    def __init__(self, link: L1Link) -> None:
        self.chain = link.chain
        self._known: dict[tuple[int, int, bytes], BatchSteps] = {}

    def __call__(self, claim: dict[str, Any], blocks: int) -> BatchSteps | None:
        store = self.chain.store
        with self.chain.lock:
            parent = store.block_by_hash(bytes(claim["parent_hash"]))
            if parent is None and bytes(claim["parent_hash"]) == self.chain.header_info(0).hash:
                parent_number = 0
            elif parent is None:
                return None  # a parent this chain does not hold (yet)
            else:
                parent_number = parent.number
            last = parent_number + blocks
            tip = store.block(last)
            if blocks < 1 or tip is None:
                return None  # not derived yet
            key = (parent_number + 1, last, tip.hash)
            if key not in self._known:
                self._known.clear()
                self._known[key] = self.chain.batch_steps(parent_number + 1, last)
            return self._known[key]


class NodeWatchtower:
    """The watchtower of a follower node: polled after each L1 sync."""

    def __init__(self, link: L1Link, key: bytes) -> None:
        account = EthAccount.from_key(key)
        contracts = RollupContracts(link.w3, link.settings.deployment, account)
        context = SettlementContext(
            l1_chain_id=int(link.w3.eth.chain_id), verifier=link.settings.deployment.verifier,
            vm=link.chain.config.vm, state=link.chain.config.state, l1=contracts,
        )  # fmt: skip
        self.address = account.address
        self.watcher: Watcher = link.proof_backend().watchtower(context, ChainJudge(link))
        self._logged = 0

    def poll(self) -> None:
        self.watcher.poll()
        for line in self.watcher.log[self._logged :]:
            log.warning("watchtower: %s", line)
        self._logged = len(self.watcher.log)
