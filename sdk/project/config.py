"""A project's ``rollup.toml``: what the chain is, how its node runs, and which L1 it settles on.

The file a scaffolded project carries (every key commented there)::

    [project]
    name = "my-rollup"
    hooks = "my_rollup.hooks"          # customisation hooks module (optional)

    [chain]                            # fixes the genesis; see rollupkit.node.config
    chain_id = 42424
    vm = "evm"
    state = "mpt"
    dev_accounts = 10                  # dev wallets funded at genesis (0 for none)
    dev_balance = "1000000000000000000000000"

    [node]
    block_time = 1.0
    rpc_port = 8546

    [l1]
    kind = "embedded"                  # "embedded", "anvil", or an http(s) JSON-RPC URL
    port = 8545                        # where `rollupkit up` serves an embedded L1 or anvil
    proof = "reexec"
    derivation = "calldata"
    compression = "none"

A project's configuration is checked as a whole when loaded: unknown plugins and combinations
that cannot work (a proof that needs EXECUTE on an L1 without it, blobs on an L1 without blob
transactions) are refused with one sentence saying why.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollupkit.batchcodec import COMPRESSIONS
from rollupkit.errors import RollupkitError, UnknownPluginError
from rollupkit.plugins import PluginRegistry, get_registry

CONFIG_FILE = "rollup.toml"
STATE_DIR = ".rollupkit"
L1_KINDS = ("embedded", "anvil")
DEFAULT_DEV_BALANCE = 10**24
_URL = re.compile(r"^https?://\S+$")


class ProjectError(RollupkitError):
    """A project's configuration is missing, malformed or cannot work."""


@dataclass(frozen=True)
class L1Options:
    """The [l1] table: which L1, and how the rollup settles on it."""

    kind: str = "embedded"  # "embedded", "anvil" or a JSON-RPC URL
    port: int = 8545
    proof: str = "reexec"
    derivation: str = "calldata"
    compression: str = "none"
    attesters: int = 3  # dev verifier clients, for proof backends that take attestations
    threshold: int = 2
    inclusion_deadline: int = 3600
    finality_delay: int = 0
    confirmations: int = 0
    batch_interval: float = 2.0
    max_blocks_per_batch: int = 32

    @property
    def is_url(self) -> bool:
        """Whether the L1 is an existing node named by URL (not one rollupkit starts)."""
        return self.kind not in L1_KINDS


@dataclass(frozen=True)
class ProjectConfig:
    """A loaded ``rollup.toml``."""

    root: Path
    name: str
    hooks: str | None
    chain: dict[str, Any]  # the [chain] table as written (see rollupkit.node.config)
    dev_accounts: int
    dev_balance: int
    block_time: float
    rpc_host: str
    rpc_port: int
    l1: L1Options
    #: Where ``rollupkit up`` keeps the L1's and the node's databases, the deployment record,
    #: its log and its pid (``.rollupkit`` in the project; tests point it elsewhere).
    state_dir: Path
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def chain_id(self) -> int:
        return int(self.chain.get("chain_id", 42_424))

    @property
    def vm(self) -> str:
        return str(self.chain.get("vm", "evm"))

    @property
    def state(self) -> str:
        return str(self.chain.get("state", "mpt"))

    @property
    def package(self) -> str:
        """The project's Python package name."""
        return self.name.replace("-", "_")


def check_combination(
    *,
    vm: str,
    state: str,
    derivation: str,
    proof: str,
    l1: str,
    compression: str = "none",
    registry: PluginRegistry | None = None,
) -> None:
    """Refuse, in one sentence, a set of choices that names a plugin that is not installed or
    cannot work together. The rules come from the plugins' own declarations."""
    registry = registry or get_registry()
    for kind, name in (
        ("vm", vm),
        ("state", state),
        ("derivation", derivation),
        ("proof", proof),
    ):
        if name not in registry.names(kind):
            raise UnknownPluginError(kind, name, registry.names(kind))
    if compression not in COMPRESSIONS:
        raise ProjectError(
            f"unknown compression {compression!r} (installed: {', '.join(COMPRESSIONS)})"
        )
    if l1 not in L1_KINDS and not _URL.match(l1):
        raise ProjectError(f"L1 must be embedded, anvil or an http(s):// URL, not {l1!r}")
    vm_impl = registry.create("vm", vm)
    if not vm_impl.supports_state_model(registry.create("state", state)):
        raise ProjectError(f"VM {vm!r} cannot execute over the {state!r} state model")
    backend = registry.get("proof", proof)
    carrier = registry.get("derivation", derivation).carrier
    if backend.requires_execute and l1 != "embedded":
        raise ProjectError(
            f"proof {proof!r} needs an L1 with the EXECUTE precompile, which only the embedded "
            f"L1 has; choose --l1 embedded or a proof that does not ({_not_execute(registry)})"
        )
    if carrier == "blobs" and l1 == "embedded":
        raise ProjectError(
            "the embedded L1 does not take blob transactions; choose --da calldata or --l1 anvil"
        )
    if carrier == "blobs" and backend.trace_in_calldata:
        raise ProjectError(
            f"proof {proof!r} reads the batch from calldata, so blobs cannot carry it; "
            "choose --da calldata"
        )


def _not_execute(registry: PluginRegistry) -> str:
    names = [n for n in registry.names("proof") if not registry.get("proof", n).requires_execute]
    return ", ".join(names) or "none installed"


def find_project(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding a
    ``rollup.toml`` with a [project] table."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file() and "[project]" in candidate.read_text(errors="replace"):
            return folder
    raise ProjectError(
        f"no rollup project here: {CONFIG_FILE} with a [project] table not found in {here} or "
        "above (create one with `rollupkit scaffold new NAME`)"
    )


def load_project(root: Path | None = None, registry: PluginRegistry | None = None) -> ProjectConfig:
    """Read and check the project at ``root`` (default: found from the working directory)."""
    root = find_project(root)
    path = root / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path} is not valid TOML: {exc}") from None
    project = _table(data, "project", path)
    chain = _table(data, "chain", path)
    node = _table(data, "node", path)
    l1_table = _table(data, "l1", path)
    try:
        l1 = L1Options(**{k: v for k, v in l1_table.items()})
        config = ProjectConfig(
            root=root,
            name=str(project["name"]),
            hooks=project.get("hooks") or None,
            chain={k: v for k, v in chain.items() if k not in ("dev_accounts", "dev_balance")},
            dev_accounts=int(chain.get("dev_accounts", 10)),
            dev_balance=int(str(chain.get("dev_balance", DEFAULT_DEV_BALANCE)), 0),
            block_time=float(node.get("block_time", 1.0)),
            rpc_host=str(node.get("rpc_host", "127.0.0.1")),
            rpc_port=int(node.get("rpc_port", 8546)),
            l1=l1,
            state_dir=root / STATE_DIR,
            raw=data,
        )
    except KeyError as exc:
        raise ProjectError(f"{path}: [project] needs {exc.args[0]}") from None
    except TypeError as exc:  # an unknown key in [l1]
        raise ProjectError(f"{path}: [l1] {exc}".replace("L1Options.__init__() ", "")) from None
    except ValueError as exc:
        raise ProjectError(f"{path}: {exc}") from None
    if not 1 <= config.chain_id < 2**64:
        raise ProjectError(f"{path}: [chain] chain_id must be in [1, 2^64), not {config.chain_id}")
    if config.block_time <= 0:
        raise ProjectError(f"{path}: [node] block_time must be positive")
    if config.l1.threshold > config.l1.attesters:
        raise ProjectError(f"{path}: [l1] threshold exceeds the number of attesters")
    try:
        check_combination(
            vm=config.vm, state=config.state, derivation=l1.derivation, proof=l1.proof,
            l1=l1.kind, compression=l1.compression, registry=registry,
        )  # fmt: skip
    except RollupkitError as exc:
        raise ProjectError(f"{path}: {exc}") from None
    return config


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ProjectError(f"{path}: [{name}] must be a table")
    return value
