"""A rollup node: the sequencer, the L2 JSON-RPC, and (with an L1) the queue watcher, the
batcher and settler, or, as a follower, the derivation of the chain from L1 alone.

Every role runs on its own thread in one process; :meth:`Node.stop` ends them all. Each role
resumes from the database after a crash or a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollupkit.errors import ConfigError, NodeDatabaseError, RollupkitError
from rollupkit.metering import CallLimits
from rollupkit.node.backend import L2Backend
from rollupkit.node.l1link import L1Link, L1Settings
from rollupkit.node.l2chain import ChainConfig, NodeChain
from rollupkit.node.mempool import Mempool
from rollupkit.node.rpc import L2Methods
from rollupkit.node.sequencer import L1View, Sequencer, SequencerPolicy
from rollupkit.node.store import NodeStore
from rollupkit.node.watchtower import NodeWatchtower
from rollupkit.plugins import PluginRegistry
from rollupkit.rpc.server import JsonRpcServer

log = logging.getLogger("rollupkit.node")

#: Batch steps (a posting, a settlement) one L1 poll takes at most.
BATCH_STEPS_PER_POLL = 8


@dataclass
class NodeConfig:
    """Everything a node needs besides the chain's own definition."""

    data_dir: Path
    chain: ChainConfig = field(default_factory=ChainConfig)
    role: str = "sequencer"  # or "follower"
    block_time: float = 1.0
    rpc_host: str = "127.0.0.1"
    rpc_port: int = 0
    policy: SequencerPolicy = field(default_factory=SequencerPolicy)
    l1: L1Settings | None = None  # None: a standalone L2 (no queue, no settlement)
    l1_poll: float = 0.5
    calls: CallLimits = field(default_factory=CallLimits)  # eth_call / eth_estimateGas bounds
    #: A follower with this key also runs a watchtower: it disputes claims on L1 that are not
    #: what its chain computes, with bonds paid from this key's account.
    watchtower_key: bytes | None = None


def _l1_for(config: NodeConfig) -> Any:
    """Web3 of the L1 a chain reading L1 state (booster) builds its blocks from: the rollup's
    own L1, which must be the chain its genesis names (None for other chains)."""
    from rollupkit.plugins import get_registry

    if config.l1 is None or not get_registry().get("vm", config.chain.vm).reads_l1:
        return None
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(config.l1.url, request_kwargs={"timeout": 60}))
    l1_chain_id = int(w3.eth.chain_id)
    if l1_chain_id != config.chain.l1_chain_id:
        raise ConfigError(
            f"the chain's genesis names L1 chain id {config.chain.l1_chain_id}, but the L1 at "
            f"{config.l1.url} is chain {l1_chain_id}: set [chain] l1_chain_id = {l1_chain_id}"
        )
    return w3


class Node:
    """One rollup node process."""

    def __init__(self, config: NodeConfig, registry: PluginRegistry | None = None) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = NodeStore(config.data_dir / "node.sqlite")
        try:
            self.chain = NodeChain(self.store, config.chain, registry, l1=_l1_for(config))
        except RollupkitError:
            self.store.close()
            raise
        self.mempool = (
            Mempool(self.chain, config.policy.admit) if config.role == "sequencer" else None
        )
        self.sequencer = (
            Sequencer(self.chain, self.mempool, config.policy) if self.mempool is not None else None
        )
        self.backend = L2Backend(self.chain, self.mempool, config.calls)
        self.server = JsonRpcServer(
            L2Methods(self.backend, self).methods(),
            host=config.rpc_host, port=config.rpc_port, name="rollupkit-l2",
        )  # fmt: skip
        self.l1_view = L1View()
        self.l1 = L1Link(config.l1, self.chain, config.role) if config.l1 is not None else None
        self.watchtower: NodeWatchtower | None = None
        if config.watchtower_key is not None:
            if self.l1 is None or config.role != "follower":
                self.store.close()
                raise ConfigError("a watchtower runs in a follower node of a rollup on L1")
            try:
                self.watchtower = NodeWatchtower(self.l1, config.watchtower_key)
            except RollupkitError:
                self.store.close()
                raise
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []

    @property
    def url(self) -> str:
        """The L2 JSON-RPC URL."""
        return self.server.url

    def start(self, *, background: bool = True) -> Node:
        """Serve JSON-RPC and start the roles' loops (with ``background=False`` the roles
        only run when :meth:`produce_block` and :meth:`l1_step` are called: for tests)."""
        self._check_against_l1()
        self.server.start()
        if not background:
            return self
        if self.sequencer is not None:
            self._spawn("sequencer", self.config.block_time, self.produce_block)
        if self.l1 is not None:
            l1 = self.l1
            self._spawn("l1", self.config.l1_poll, self.l1_step, lambda: l1.next_batch_due)
        return self

    def _check_against_l1(self) -> None:
        """A sequencer with an empty database while its rollup has settled blocks on L1 would
        rebuild a different chain from genesis (re-consuming deposits) and never settle: refuse,
        with what to do instead. A follower rebuilds from L1 by design."""
        if self.l1 is None or self.config.role != "sequencer" or self.store.head_number() > 0:
            return
        settled = int(self.l1.contracts.state()["block_number"])
        if settled > 0:
            raise NodeDatabaseError(
                f"the node database in {self.config.data_dir} is empty, but the rollup on L1 has "
                f"settled L2 blocks up to {settled}: a sequencer would build another chain. "
                "Restore its database, or start the node as a follower to resync from L1"
            )

    def l1_step(self) -> None:
        """One L1 step: read L1; as the sequencer, move batches along as far as they go (a
        batch is posted and settled in one step, not one poll apart), up to
        ``BATCH_STEPS_PER_POLL`` steps, so a backlog still lets the node read L1 between."""
        assert self.l1 is not None
        self.l1_view = self.l1.sync()
        if self.watchtower is not None:
            self.watchtower.poll()
        if self.config.role == "sequencer":
            for _ in range(BATCH_STEPS_PER_POLL):
                if not self.l1.batch_step():
                    break

    def _spawn(
        self,
        name: str,
        interval: float,
        step: Callable[[], object],
        due: Callable[[], float | None] = lambda: None,
    ) -> None:
        """Run ``step`` every ``interval`` seconds on a thread (sooner if ``due()`` names an
        earlier time.monotonic() to wake at)."""

        def loop() -> None:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    step()
                except Exception as exc:
                    log.exception("%s failed", name)
                    self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                wake = started + interval
                sooner = due()
                if sooner is not None:
                    wake = min(wake, sooner)
                self._stop.wait(max(0.0, wake - time.monotonic()))

        thread = threading.Thread(target=loop, name=f"rollupkit-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def produce_block(self) -> object:
        """One sequencer step (also callable directly, e.g. from tests)."""
        assert self.sequencer is not None
        return self.sequencer.produce(self.l1_view)

    def stop(self) -> None:
        """Stop every role and close the database."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self.server.stop()
        with self.chain.lock:
            self.store.close()

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
