"""Start a project's rollup: its L1, its contracts (deployed once), its node.

:func:`run_project` is ``rollupkit up`` without the terminal: the CLI, ``rollupkit demo`` and
the pytest fixture of generated projects all start a rollup through it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from web3 import Web3

from rollupkit.errors import RollupkitError
from rollupkit.l1.anvil import Anvil, rpc
from rollupkit.l1.contracts import RollupContracts
from rollupkit.l1.devnet import DevnetConfig, dev_accounts
from rollupkit.l1.node import start_devnet
from rollupkit.node.deploy import genesis_of
from rollupkit.node.l2chain import ChainConfig
from rollupkit.node.node import Node, NodeConfig
from rollupkit.node.sequencer import SequencerPolicy
from rollupkit.node.settings import chain_from_dict
from rollupkit.project.config import LOCAL_L1_CHAIN_IDS, ProjectConfig, ProjectError
from rollupkit.project.deployment import ensure_deployment, project_keys
from rollupkit.project.hooks import ProjectHooks, load_hooks
from rollupkit.project.running import RunningRollup
from rollupkit.types import GenesisAccount
from rollupkit.wallets import Wallet, dev_wallets

Progress = Callable[[str], None]


def project_chain(config: ProjectConfig, hooks: ProjectHooks) -> ChainConfig:
    """The chain a project defines: [chain] of ``rollup.toml``, its dev wallets, and the
    accounts its genesis hook adds."""
    chain = chain_from_dict(config.chain)
    alloc = dict(chain.alloc)
    for wallet in project_wallets(config):
        alloc.setdefault(wallet.address, GenesisAccount(balance=config.dev_balance))
    for address, account in hooks.genesis_alloc(chain.chain_id).items():
        if address in alloc:
            raise ProjectError(
                f"the genesis hook of {hooks.name} allocates 0x{address.hex()}, which "
                "rollup.toml already allocates"
            )
        alloc[address] = account
    if config.l1.is_url:
        funded = sorted(f"0x{a.hex()}" for a, account in alloc.items() if account.balance)
        if funded:
            raise ProjectError(
                f"the genesis gives {len(funded)} account(s) a balance ({funded[0]}, ...), but on "
                "an L1 named by URL no deposit backs it: whoever holds such a key could withdraw "
                "other users' deposits. Fund accounts by depositing through the L1 bridge (set "
                "[chain] dev_accounts = 0 and give genesis accounts no balance)"
            )
    l1_chain_id = chain.l1_chain_id or LOCAL_L1_CHAIN_IDS.get(config.l1.kind, 0)
    return replace(chain, alloc=alloc, l1_chain_id=l1_chain_id)


def project_wallets(config: ProjectConfig) -> list[Wallet]:
    """The L2 dev wallets funded at genesis: private keys 1, 2, ..., as wallets of the chain's
    VM (Ethereum's, or zkpay's Baby Jubjub keys: each VM's own addresses)."""
    from rollupkit.plugins import get_registry

    vm = get_registry().create("vm", str(config.chain.get("vm", "evm")))
    keys = [w.private_key for w in dev_wallets(config.dev_accounts, config.chain_id)]
    return [vm.new_wallet(key, config.chain_id) for key in keys]


#: What each dev L1 account holds: enough for the deployer to back the L2's genesis balances
#: (rollupkit.node.deploy.genesis_balance), as every L2 balance must be backed on L1.
DEV_L1_BALANCE_ETHER = 1_000_000_000


@contextmanager
def _start_l1(config: ProjectConfig, port: int | None) -> Iterator[tuple[str, Any]]:
    kind = config.l1.kind
    port = config.l1.port if port is None else port
    if kind == "embedded":
        try:
            running = start_devnet(
                DevnetConfig(balance=DEV_L1_BALANCE_ETHER * 10**18),
                port=port,
                data_dir=config.state_dir / "l1",
            )
        except OSError as exc:
            raise ProjectError(
                f"cannot serve the embedded L1 on port {port}: {exc.strerror or exc} (is another "
                "L1 or `rollupkit up` running? set [l1] port, or pass --l1-port)"
            ) from None
        with running:
            yield running.url, running.devnet
    elif kind == "anvil":
        config.state_dir.mkdir(parents=True, exist_ok=True)
        with Anvil(
            port=port,
            state_file=config.state_dir / "anvil-state.json",
            extra_args=("--balance", str(DEV_L1_BALANCE_ETHER)),
        ) as anvil:
            yield anvil.url, None
    else:
        try:
            rpc(kind, "eth_chainId", timeout=5)
        except (OSError, RollupkitError) as exc:
            raise ProjectError(f"the L1 at {kind} does not answer: {exc}") from None
        yield kind, None


def _set_aside(data_dir: Path, progress: Progress) -> None:
    """Keep an old L2 database (of a previous deployment) instead of deleting it."""
    if not data_dir.exists():
        return
    aside = data_dir.with_name(f"{data_dir.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.move(str(data_dir), str(aside))
    progress(f"the old L2 database belongs to the previous deployment: moved to {aside}")


@contextmanager
def run_project(
    config: ProjectConfig,
    *,
    l1_port: int | None = None,
    rpc_port: int | None = None,
    follower: bool = False,
    l1_poll: float = 0.5,
    progress: Progress = lambda _: None,
) -> Iterator[RunningRollup]:
    """Start the L1 (or connect to it), deploy or find the contracts, start the node(s).

    Ports default to ``rollup.toml``'s; pass 0 for any free port (tests, the demo).
    """
    hooks = load_hooks(config.hooks, config.root)
    chain = project_chain(config, hooks)
    keys = project_keys(config)
    with ExitStack() as stack:
        progress(f"starting the L1 ({config.l1.kind})")
        l1_url, devnet = stack.enter_context(_start_l1(config, l1_port))
        progress(f"deploying the rollup contracts ({config.l1.proof} proof)")
        deployed = ensure_deployment(config, chain, l1_url, keys)
        data_dir = config.state_dir / "sequencer"
        if deployed.fresh:
            _set_aside(data_dir, progress)
            _set_aside(config.state_dir / "follower", progress)
        policy = SequencerPolicy(
            empty_blocks=config.empty_blocks,
            inclusion_deadline=config.l1.inclusion_deadline,
            admit=hooks.admit if hooks.has_admission_rule else None,
        )
        nodes = [
            Node(NodeConfig(
                data_dir, chain, block_time=config.block_time, rpc_host=config.rpc_host,
                rpc_port=config.rpc_port if rpc_port is None else rpc_port, policy=policy,
                l1=deployed.settings, l1_poll=l1_poll,
            ))
        ]  # fmt: skip
        if follower:
            nodes.append(Node(NodeConfig(
                config.state_dir / "follower", chain, role="follower", l1=deployed.settings,
                l1_poll=l1_poll,
            )))  # fmt: skip
        for node in nodes:
            stack.callback(node.stop)
            progress(f"starting the {node.config.role}")
            try:
                node.start(background=True)
            except OSError as exc:
                raise ProjectError(
                    f"cannot serve the L2 JSON-RPC on port {node.config.rpc_port}: "
                    f"{exc.strerror or exc} (set [node] rpc_port, or pass --rpc-port)"
                ) from None
        l1_w3 = Web3(Web3.HTTPProvider(l1_url))
        user = dev_accounts(4)[2] if not config.l1.is_url else keys.deployer
        yield RunningRollup(
            l1_kind=config.l1.kind if not config.l1.is_url else "url", l1_url=l1_url,
            l1=l1_w3, l2=Web3(Web3.HTTPProvider(nodes[0].url)), settings=deployed.settings,
            sequencer=nodes[0], follower=nodes[1] if follower else None,
            contracts=RollupContracts(l1_w3, deployed.settings.deployment, user),
            wallets=project_wallets(config), record={**deployed.record,
            "fresh": deployed.fresh, "reason": deployed.reason}, devnet=devnet,
        )  # fmt: skip


def genesis_summary(config: ProjectConfig) -> dict[str, str]:
    """The genesis a project's configuration gives (no L1 needed)."""
    chain = project_chain(config, load_hooks(config.hooks, config.root))
    genesis = genesis_of(chain)
    return {"hash": "0x" + genesis.hash.hex(), "state_root": "0x" + genesis.state_root.hex()}
