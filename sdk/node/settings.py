"""A node's configuration file (``rollup.toml``): the chain, the node's role, and its L1.

::

    [chain]
    chain_id = 42424
    vm = "evm"
    state = "mpt"
    gas_limit = 30000000
    base_fee = 1000000000
    genesis_timestamp = 1700000000
    l2_bridge = true                       # predeploy the L2 bridge (EVM chains)

    [chain.alloc."0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]
    balance = "1000000000000000000000"     # wei, as a string (TOML integers are 64-bit)

    [node]
    role = "sequencer"                     # or "follower"
    data_dir = ".rollupkit/sequencer"
    rpc_host = "127.0.0.1"
    rpc_port = 8546
    block_time = 1.0
    censor = []                            # addresses whose transactions are held back
    empty_blocks = false                   # also make empty blocks every block_time

    [l1]                                   # leave out for a standalone L2
    url = "http://127.0.0.1:8545"
    bridge = "0x…"
    verifier = "0x…"
    rollup = "0x…"
    proof = "reexec"                       # proof backend: reexec, multiclient, ...
    deploy_block = 0
    inbox = "0x…"
    batcher_key = "0x…"                    # or set ROLLUPKIT_BATCHER_KEY
    derivation = "calldata"                # or "blobs"
    compression = "none"                   # or "zlib", "zstd"
    inclusion_deadline = 3600
    max_blocks_per_batch = 32
    batch_interval = 2.0

    [l1.proof_options]                     # the proof backend's own (see its documentation)
    attester_keys = ["0x…"]                # multiclient: the clients' keys, and how many
    threshold = 1                          # signatures a batch needs

Relative paths are relative to the file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import tomli_w

from rollupkit.errors import (
    ConfigError,  # re-exported: raised here
)
from rollupkit.l1.contracts import Deployment
from rollupkit.node.l1link import L1Settings
from rollupkit.node.l2chain import ChainConfig
from rollupkit.node.node import NodeConfig
from rollupkit.node.sequencer import SequencerPolicy, censor_set
from rollupkit.types import GenesisAccount

BATCHER_KEY_ENV = "ROLLUPKIT_BATCHER_KEY"


def _hex(value: str, what: str, length: int | None = None) -> bytes:
    try:
        raw = bytes.fromhex(value[2:] if value.startswith("0x") else value)
    except (ValueError, AttributeError):
        raise ConfigError(f"{what} is not hex: {value!r}") from None
    if length is not None and len(raw) != length:
        raise ConfigError(f"{what} must be {length} bytes")
    return raw


def chain_from_dict(data: dict[str, Any]) -> ChainConfig:
    """The [chain] table as a :class:`ChainConfig`."""
    alloc: dict[bytes, GenesisAccount] = {}
    for address, account in (data.get("alloc") or {}).items():
        storage = {int(k, 0): int(v, 0) for k, v in (account.get("storage") or {}).items()}
        alloc[_hex(address, f"alloc address {address}", 20)] = GenesisAccount(
            balance=int(str(account.get("balance", "0")), 0),
            nonce=int(account.get("nonce", 0)),
            code=_hex(account["code"], f"code of {address}") if account.get("code") else b"",
            storage=storage,
        )
    if data.get("l2_bridge", True):  # the VM's own predeploys (the EVM's L2 bridge)
        from rollupkit.plugins import get_registry

        vm = get_registry().create("vm", str(data.get("vm", ChainConfig().vm)))
        alloc.update(vm.predeploys(int(data.get("chain_id", ChainConfig().chain_id))))
    defaults = ChainConfig()
    return ChainConfig(
        chain_id=int(data.get("chain_id", defaults.chain_id)),
        vm=str(data.get("vm", defaults.vm)),
        state=str(data.get("state", defaults.state)),
        gas_limit=int(data.get("gas_limit", defaults.gas_limit)),
        base_fee=int(data.get("base_fee", defaults.base_fee)),
        genesis_timestamp=int(data.get("genesis_timestamp", defaults.genesis_timestamp)),
        alloc=alloc,
        l1_chain_id=int(data.get("l1_chain_id", defaults.l1_chain_id)),
    )


def l1_from_dict(data: dict[str, Any]) -> L1Settings:
    """The [l1] table as :class:`L1Settings`."""
    key = os.environ.get(BATCHER_KEY_ENV) or data.get("batcher_key")
    if not key:
        raise ConfigError(f"[l1] needs batcher_key (or set {BATCHER_KEY_ENV})")
    if "attester_keys" in data:
        raise ConfigError(
            "[l1] attester_keys is an option of the proof backend now: move it into "
            "[l1.proof_options]"
        )
    proof_options = data.get("proof_options", {})
    if not isinstance(proof_options, dict):
        raise ConfigError("[l1] proof_options must be a table")
    try:
        deployment = Deployment(
            bridge=data["bridge"], verifier=data["verifier"], rollup=data["rollup"],
            proof=data.get("proof", "reexec"),
        )  # fmt: skip
        return L1Settings(
            url=data["url"],
            deployment=deployment,
            deploy_block=int(data.get("deploy_block", 0)),
            inbox=data["inbox"],
            batcher_key=_hex(key, "batcher_key", 32),
            proof_options=proof_options,
            derivation=data.get("derivation", "calldata"),
            compression=data.get("compression", "none"),
            confirmations=int(data.get("confirmations", 0)),
            inclusion_deadline=int(data.get("inclusion_deadline", 3600)),
            max_blocks_per_batch=int(data.get("max_blocks_per_batch", 32)),
            max_batch_gas=int(data.get("max_batch_gas", 12_000_000)),
            batch_interval=float(data.get("batch_interval", 2.0)),
        )
    except KeyError as exc:
        raise ConfigError(f"[l1] is missing {exc.args[0]}") from None


def load(path: Path, **overrides: Any) -> NodeConfig:
    """Read a node configuration file; ``overrides`` replace [node] settings."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no configuration file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    node = {**data.get("node", {}), **{k: v for k, v in overrides.items() if v is not None}}
    data_dir = Path(node.get("data_dir", ".rollupkit/node"))
    if not data_dir.is_absolute():
        data_dir = path.parent / data_dir
    l1 = l1_from_dict(data["l1"]) if "l1" in data else None
    policy = SequencerPolicy(
        censor=censor_set(node.get("censor", [])),
        empty_blocks=bool(node.get("empty_blocks", False)),
        inclusion_deadline=l1.inclusion_deadline if l1 else 3600,
    )
    role = node.get("role", "sequencer")
    if role not in ("sequencer", "follower"):
        raise ConfigError(f"[node] role must be sequencer or follower, not {role!r}")
    return NodeConfig(
        data_dir=data_dir,
        chain=chain_from_dict(data.get("chain", {})),
        role=role,
        block_time=float(node.get("block_time", 1.0)),
        rpc_host=str(node.get("rpc_host", "127.0.0.1")),
        rpc_port=int(node.get("rpc_port", 8546)),
        policy=policy,
        l1=l1,
    )


def to_dict(config: NodeConfig, *, include_key: bool = True) -> dict[str, Any]:
    """A node configuration as the TOML tables :func:`load` reads."""
    from rollupkit.withdrawals import L2_BRIDGE_ADDRESS

    chain = config.chain
    data: dict[str, Any] = {
        "chain": {
            "chain_id": chain.chain_id, "vm": chain.vm, "state": chain.state,
            "gas_limit": chain.gas_limit, "base_fee": chain.base_fee,
            "genesis_timestamp": chain.genesis_timestamp,
            **({"l1_chain_id": chain.l1_chain_id} if chain.l1_chain_id else {}),
            "l2_bridge": L2_BRIDGE_ADDRESS in chain.alloc,
            "alloc": {
                "0x" + address.hex(): {
                    "balance": str(account.balance), "nonce": account.nonce,
                    **({"code": "0x" + account.code.hex()} if account.code else {}),
                    **({"storage": {hex(k): hex(v) for k, v in account.storage.items()}}
                       if account.storage else {}),
                }
                for address, account in chain.alloc.items() if address != L2_BRIDGE_ADDRESS
            },
        },
        "node": {
            "role": config.role, "data_dir": str(config.data_dir), "rpc_host": config.rpc_host,
            "rpc_port": config.rpc_port, "block_time": config.block_time,
            "censor": ["0x" + a.hex() for a in config.policy.censor],
            "empty_blocks": config.policy.empty_blocks,
        },
    }  # fmt: skip
    if config.l1 is not None:
        s = config.l1
        data["l1"] = {
            "url": s.url, "bridge": s.deployment.bridge, "verifier": s.deployment.verifier,
            "rollup": s.deployment.rollup, "proof": s.deployment.proof,
            "deploy_block": s.deploy_block, "inbox": s.inbox,
            **({"proof_options": dict(s.proof_options)} if s.proof_options else {}),
            "derivation": s.derivation, "compression": s.compression,
            "confirmations": s.confirmations, "inclusion_deadline": s.inclusion_deadline,
            "max_blocks_per_batch": s.max_blocks_per_batch, "max_batch_gas": s.max_batch_gas,
            "batch_interval": s.batch_interval,
            **({"batcher_key": "0x" + s.batcher_key.hex()} if include_key else {}),
        }  # fmt: skip
    return data


def dump(config: NodeConfig, path: Path, *, include_key: bool = True) -> None:
    """Write a node configuration file."""
    Path(path).write_text(tomli_w.dumps(to_dict(config, include_key=include_key)))


def with_role(config: NodeConfig, role: str, data_dir: Path, rpc_port: int = 0) -> NodeConfig:
    """The same chain and L1, as another node (e.g. a follower beside a sequencer)."""
    return replace(config, role=role, data_dir=data_dir, rpc_port=rpc_port)
