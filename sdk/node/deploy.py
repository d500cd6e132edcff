"""Deploy a rollup's L1 contracts for a chain, and describe them for a node."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eth_account import Account as EthAccount
from web3 import Web3

from rollupkit.l1.contracts import check_permissionless, deploy_rollup
from rollupkit.node.l1link import L1Settings, default_inbox
from rollupkit.node.l2chain import ChainConfig, NodeChain
from rollupkit.node.store import NodeStore
from rollupkit.types import HeaderInfo

ZERO = "0x0000000000000000000000000000000000000000"


def genesis_of(chain: ChainConfig) -> HeaderInfo:
    """The genesis block a chain config gives (computed in memory)."""
    store = NodeStore(Path(":memory:"))
    try:
        return NodeChain(store, chain).head
    finally:
        store.close()


def genesis_balance(chain: ChainConfig) -> int:
    """Wei the L2 holds at genesis (what the L1 bridge must hold to back it)."""
    return sum(account.balance for account in chain.alloc.values())


def deploy_for_chain(
    chain: ChainConfig,
    l1_url: str,
    deployer: Any,
    *,
    batcher_key: bytes,
    proof: str = "reexec",
    proof_options: Mapping[str, Any] | None = None,
    derivation: str = "calldata",
    compression: str = "none",
    inclusion_deadline: int = 3600,
    finality_delay: int = 0,
    permissionless: bool = False,
    back_genesis: bool = False,
    **settings: Any,
) -> L1Settings:
    """Deploy bridge, verifier and settlement for ``chain`` on the L1 at ``l1_url``; return
    the settings a node needs to use them. ``proof_options`` configure the proof backend
    (its verifier's constructor arguments come from them; the node settles with them).

    Settlement is gated: only the batcher (``batcher_key``'s address) may submit batches, so a
    stranger cannot settle a competing chain. ``permissionless=True`` lets anyone submit.

    With ``back_genesis`` (dev L1s), the deployer locks in the bridge as much ETH as the L2's
    genesis balances add up to, so no L2 balance is unbacked.
    """
    check_permissionless(proof, permissionless)  # before anything reaches the L1
    w3 = Web3(Web3.HTTPProvider(l1_url))
    genesis = genesis_of(chain)
    start = int(w3.eth.block_number)
    contracts = deploy_rollup(
        w3, deployer, l2_chain_id=chain.chain_id, genesis_state_root=genesis.state_root,
        genesis_block_hash=genesis.hash, proof=proof, vm=chain.vm, state=chain.state,
        proof_options=proof_options,
        inclusion_deadline=inclusion_deadline, finality_delay=finality_delay,
        sequencer=ZERO if permissionless else EthAccount.from_key(batcher_key).address,
        genesis_backing=genesis_balance(chain) if back_genesis else 0,
    )  # fmt: skip
    return L1Settings(
        url=l1_url,
        deployment=contracts.deployment,
        deploy_block=start,
        inbox=default_inbox(chain.chain_id),
        batcher_key=batcher_key,
        proof_options=dict(proof_options or {}),
        derivation=derivation,
        compression=compression,
        inclusion_deadline=inclusion_deadline,
        **settings,
    )
