"""Deploy a project's rollup contracts once, and find them again on the next ``rollupkit up``.

The record (``.rollupkit/deployment.json``) says which L1 (chain id and genesis block hash),
which contracts, and a fingerprint of everything the contracts were deployed for: the L2
genesis, the proof backend and its verifier's arguments, the VM and state model, the deadlines.
``up`` reuses
the deployment when all of that still matches and the contracts are still on the L1; otherwise
it deploys afresh and says why.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from eth_account import Account as EthAccount
from web3 import Web3

from rollupkit.errors import (
    DeploymentError,  # re-exported: raised here
    RollupkitError,
)
from rollupkit.l1.contracts import Deployment, rollups_of_chain
from rollupkit.l1.devnet import dev_accounts
from rollupkit.node.deploy import deploy_for_chain, genesis_of
from rollupkit.node.l1link import L1Settings, default_inbox
from rollupkit.node.l2chain import ChainConfig
from rollupkit.plugins import get_registry
from rollupkit.project.config import ProjectConfig

RECORD_FILE = "deployment.json"
DEPLOYER_KEY_ENV = "ROLLUPKIT_DEPLOYER_KEY"
BATCHER_KEY_ENV = "ROLLUPKIT_BATCHER_KEY"


@dataclass(frozen=True)
class Keys:
    """Who deploys and who posts batches (the proof backend's keys, if it has any, are in
    its options: [l1.proof_options])."""

    deployer: Any  # an eth_account LocalAccount
    batcher: bytes


@dataclass(frozen=True)
class Deployed:
    """The outcome of :func:`ensure_deployment`."""

    settings: L1Settings
    record: dict[str, Any]
    fresh: bool  # deployed in this run (False: found from an earlier run)
    reason: str  # why it was deployed afresh, or "" when reused


def project_keys(config: ProjectConfig) -> Keys:
    """Dev keys on an L1 rollupkit starts; keys from the environment on an L1 named by URL."""
    if not config.l1.is_url:
        accounts = dev_accounts(4)
        return Keys(accounts[0], bytes(accounts[1].key))
    deployer = os.environ.get(DEPLOYER_KEY_ENV)
    if not deployer:
        raise DeploymentError(
            f"an L1 named by URL needs a funded deployer key: set {DEPLOYER_KEY_ENV} "
            f"(and {BATCHER_KEY_ENV} for the batcher, which defaults to the deployer)"
        )
    try:
        account = EthAccount.from_key(deployer)
        batcher = bytes(EthAccount.from_key(os.environ.get(BATCHER_KEY_ENV) or deployer).key)
    except ValueError as exc:
        raise DeploymentError(f"bad key in {DEPLOYER_KEY_ENV}/{BATCHER_KEY_ENV}: {exc}") from None
    return Keys(account, batcher)


def fingerprint(config: ProjectConfig, chain: ChainConfig, keys: Keys) -> str:
    """A digest of everything the contracts are deployed for."""
    genesis = genesis_of(chain)
    backend = get_registry().get("proof", config.l1.proof).configured(config.l1.proof_options)
    what = {
        "genesis": genesis.hash.hex(),
        "chain_id": chain.chain_id,
        "vm": chain.vm,
        "state": chain.state,
        "proof": config.l1.proof,
        "inclusion_deadline": config.l1.inclusion_deadline,
        "finality_delay": config.l1.finality_delay,
        # what the verifier is deployed with (not the options: they may hold private keys)
        "verifier": backend.verifier_arguments(vm=chain.vm, state=chain.state),
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=repr).encode()).hexdigest()


def read_record(config: ProjectConfig) -> dict[str, Any] | None:
    path = config.state_dir / RECORD_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except FileNotFoundError:
        return None
    except ValueError:
        return None  # a torn or edited record: deploy afresh


def _why_not_reusable(record: dict[str, Any] | None, w3: Web3, print_: str) -> str:
    if record is None:
        return "first deployment"
    if record.get("fingerprint") != print_:
        return "the chain's genesis or settlement settings changed since the last deployment"
    if record.get("l1_chain_id") != w3.eth.chain_id:
        return "the L1 is a different chain"
    genesis = w3.eth.get_block(0)
    if record.get("l1_genesis") != genesis["hash"].to_0x_hex():
        return "the L1 was reset (its genesis block differs)"
    rollup = record.get("deployment", {}).get("rollup", "")
    if not Web3.is_address(rollup) or not w3.eth.get_code(Web3.to_checksum_address(rollup)):
        return "the rollup contract is no longer on the L1"
    return ""


def ensure_deployment(
    config: ProjectConfig, chain: ChainConfig, l1_url: str, keys: Keys
) -> Deployed:
    """Reuse the recorded deployment if it still holds, else deploy and record a new one."""
    w3 = Web3(Web3.HTTPProvider(l1_url))
    if w3.eth.chain_id == chain.chain_id:
        raise DeploymentError(
            f"the L1 at {l1_url} has chain id {chain.chain_id}, the same as this rollup's: L1 "
            "and L2 transactions would be interchangeable; change [chain] chain_id"
        )
    digest = fingerprint(config, chain, keys)
    record = read_record(config)
    reason = _why_not_reusable(record, w3, digest)
    options = config.l1
    node_settings = {
        "derivation": options.derivation,
        "compression": options.compression,
        "confirmations": options.confirmations,
        "batch_interval": options.batch_interval,
        "max_blocks_per_batch": options.max_blocks_per_batch,
    }
    if not reason and record is not None:
        deployment = Deployment(**record["deployment"])
        settings = L1Settings(
            url=l1_url, deployment=deployment, deploy_block=int(record["deploy_block"]),
            inbox=record["inbox"], batcher_key=keys.batcher,
            proof_options=dict(options.proof_options),
            inclusion_deadline=options.inclusion_deadline,
            **node_settings,
        )  # fmt: skip
        return Deployed(settings, record, False, "")
    own = record.get("deployment", {}).get("rollup", "") if record else ""
    for rollup in rollups_of_chain(w3, chain.chain_id):
        if rollup.lower() != own.lower():
            raise DeploymentError(
                f"chain id {chain.chain_id} is already used by the rollupkit rollup at {rollup} "
                "on this L1: transactions (and withdrawals) signed for one would be valid on the "
                "other; change [chain] chain_id"
            )
    try:
        settings = deploy_for_chain(
            chain, l1_url, keys.deployer, batcher_key=keys.batcher, proof=options.proof,
            proof_options=options.proof_options, inclusion_deadline=options.inclusion_deadline,
            finality_delay=options.finality_delay, permissionless=options.permissionless,
            back_genesis=not options.is_url, **node_settings,
        )  # fmt: skip
    except RollupkitError:
        raise
    except Exception as exc:
        raise DeploymentError(
            f"deploying the rollup contracts on {l1_url} failed: {type(exc).__name__}: {exc}"
        ) from exc
    genesis = genesis_of(chain)
    record = {
        "fingerprint": digest,
        "l1_url": l1_url,
        "l1_chain_id": w3.eth.chain_id,
        "l1_genesis": w3.eth.get_block(0)["hash"].to_0x_hex(),
        "l2_chain_id": chain.chain_id,
        "l2_genesis": "0x" + genesis.hash.hex(),
        "l2_genesis_state_root": "0x" + genesis.state_root.hex(),
        "deployment": {
            "bridge": settings.deployment.bridge,
            "verifier": settings.deployment.verifier,
            "rollup": settings.deployment.rollup,
            "proof": settings.deployment.proof,
        },
        "deploy_block": settings.deploy_block,
        "inbox": settings.inbox or default_inbox(chain.chain_id),
    }
    write_record(config, record)
    return Deployed(settings, record, True, reason)


def write_record(config: ProjectConfig, record: dict[str, Any]) -> None:
    """Write the record atomically (a crash leaves the old one or the new one)."""
    config.state_dir.mkdir(parents=True, exist_ok=True)
    path = config.state_dir / RECORD_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(temporary, path)
