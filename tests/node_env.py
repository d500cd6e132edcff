"""Test support: an L1 with a rollup deployed, a sequencer node and a follower node."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account as EthAccount
from web3 import Web3

from rollupkit.l1.anvil import Anvil
from rollupkit.l1.contracts import RollupContracts
from rollupkit.l1.devnet import dev_accounts
from rollupkit.l1.node import start_devnet
from rollupkit.node.deploy import deploy_for_chain
from rollupkit.node.l2chain import ChainConfig
from rollupkit.node.node import Node, NodeConfig
from rollupkit.node.sequencer import SequencerPolicy
from rollupkit.testing.evm import l2_bridge_alloc
from rollupkit.testing.wallets import Wallet, dev_wallets
from rollupkit.types import GenesisAccount
from rollupkit.verifier import VerifierSettings
from rollupkit.verifier import serve as serve_verifier

CHAIN_ID = 42_424
ATTESTER_KEYS = [w.private_key for w in dev_wallets(3, 1, offset=9000)]


def chain_config(vm: str = "evm", state: str = "mpt", l1_chain_id: int = 0) -> ChainConfig:
    alloc = {w.address: GenesisAccount(balance=10**24) for w in dev_wallets(6, CHAIN_ID)}
    if vm in ("evm", "multi", "booster"):  # other VMs run the L2 bridge natively (accountvm)
        alloc.update(l2_bridge_alloc())
    return ChainConfig(chain_id=CHAIN_ID, vm=vm, state=state, alloc=alloc, l1_chain_id=l1_chain_id)


@dataclass
class Rollup:
    l1_kind: str
    l1_url: str
    l1: Web3
    l2: Web3
    sequencer: Node
    follower: Node | None
    contracts: RollupContracts  # acting as an L1 user (dev account 2)
    wallets: list[Wallet]
    devnet: Any = None

    def wait(self, what: Callable[[], Any], timeout: float = 60, message: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = what()
            if value:
                return value
            time.sleep(0.1)
        errors = self.sequencer.errors[-3:] + (self.follower.errors[-3:] if self.follower else [])
        raise AssertionError(f"timed out waiting for {message or what}; node errors: {errors}")

    def settled_block(self) -> int:
        return int(self.sequencer.store.get_meta("settled_block", 0))

    def advance_l1(self, seconds: int) -> None:
        self.l1.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.l1.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@contextmanager
def running_rollup(
    tmp: Path,
    *,
    l1: str = "embedded",
    derivation: str = "calldata",
    compression: str = "none",
    censor: frozenset[bytes] = frozenset(),
    inclusion_deadline: int = 3600,
    deadline_margin: int = 60,
    finality_delay: int = 0,
    follower: bool = True,
    background: bool = True,
    block_time: float = 0.2,
    vm: str = "evm",
    state: str = "mpt",
    verifier_clients: tuple[str | None, ...] = (),
    proof: str | None = None,
    proof_options: dict[str, Any] | None = None,
    watchtower: bool = False,
    permissionless: bool = False,
) -> Iterator[Rollup]:
    """A sequencer and a follower on an L1. On anvil batches settle by attestations: signed by
    the node itself, or with ``verifier_clients`` gathered from one verifier service per
    client (:mod:`rollupkit.verifier`), 2 of them needed, from 2 different clients. ``proof``
    and ``proof_options`` choose another backend; ``watchtower``: the follower runs one
    (bonds from dev account 3)."""
    chain = chain_config(vm, state, l1_chain_id=1337 if l1 == "embedded" else 31337)
    with ExitStack() as services, _l1(l1) as (url, devnet):
        accounts = dev_accounts(4)
        attestation = l1 != "embedded" and proof is None
        settings = deploy_for_chain(
            chain, url, accounts[0], batcher_key=bytes(accounts[1].key),
            proof=proof or ("multiclient" if attestation else "reexec"),
            proof_options=proof_options if proof_options is not None else (
                {"attester_keys": ["0x" + k.hex() for k in ATTESTER_KEYS], "threshold": 2}
                if attestation else {}
            ),
            derivation=derivation, compression=compression,
            inclusion_deadline=inclusion_deadline, finality_delay=finality_delay,
            batch_interval=0.3, permissionless=permissionless,
        )  # fmt: skip
        if verifier_clients:
            urls = []
            for key, client in zip(ATTESTER_KEYS, verifier_clients, strict=False):
                server = serve_verifier(VerifierSettings(
                    key, url, settings.deployment.rollup, vm=vm, state=state, client=client,
                ))  # fmt: skip
                services.callback(server.stop)
                urls.append(server.url)
            attesters = [EthAccount.from_key(k).address for k in ATTESTER_KEYS]
            if proof == "optimistic":  # the verifier services are its step committee
                settings.proof_options = {**settings.proof_options, "verifiers": urls}
            else:
                settings.proof_options = {
                    "verifiers": urls, "attesters": attesters, "threshold": 2,
                    "distinct_clients": 2, "timeout": 60,
                }  # fmt: skip
        policy = SequencerPolicy(
            censor=censor, inclusion_deadline=inclusion_deadline, deadline_margin=deadline_margin
        )
        sequencer = Node(
            NodeConfig(
                tmp / "sequencer",
                chain,
                block_time=block_time,
                policy=policy,
                l1=settings,
                l1_poll=0.2,
            )
        )
        nodes = [sequencer]
        follower_node = None
        if follower:
            follower_node = Node(
                NodeConfig(
                    tmp / "follower", chain, role="follower", l1=settings, l1_poll=0.2,
                    watchtower_key=bytes(accounts[3].key) if watchtower else None,
                )
            )  # fmt: skip
            nodes.append(follower_node)
        try:
            for node in nodes:
                node.start(background=background)
            l1_w3 = Web3(Web3.HTTPProvider(url))
            yield Rollup(
                l1,
                url,
                l1_w3,
                Web3(Web3.HTTPProvider(sequencer.url)),
                sequencer,
                follower_node,
                RollupContracts(l1_w3, settings.deployment, accounts[2]),
                dev_wallets(6, CHAIN_ID),
                devnet,
            )
        finally:
            for node in nodes:
                node.stop()


@contextmanager
def _l1(kind: str) -> Iterator[tuple[str, Any]]:
    if kind == "embedded":
        with start_devnet() as running:
            yield running.url, running.devnet
    else:
        with Anvil() as anvil:
            yield anvil.url, None
