"""A project's ``rollup.toml``: what the chain is, how its node runs, and which L1 it settles on.

The file a scaffolded project carries (every key commented there)::

    [project]
    name = "my-rollup"
    hooks = "my_rollup.hooks"          # customisation hooks module (optional)

    [chain]                            # fixes the genesis; see rollupkit.node.settings
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

    [l1.proof_options]                 # the proof backend's own settings (multiclient:
    attester_keys = ["0x…", "0x…"]     # the verifier clients' keys, and how many must sign)
    threshold = 2

A project's configuration is checked as a whole when loaded: unknown plugins, options a proof
backend does not take, and combinations that cannot work (a proof backend that cannot run on
that L1 or with that data carrier, blobs on an L1 without blob transactions) are refused with
one sentence saying why.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollupkit.batchcodec import COMPRESSIONS
from rollupkit.block import MIN_BLOCK_GAS_LIMIT
from rollupkit.errors import (
    ProjectError,  # re-exported: raised here
    RollupkitError,
    UnknownPluginError,
)
from rollupkit.plugins import PluginRegistry, get_registry

CONFIG_FILE = "rollup.toml"
STATE_DIR = ".rollupkit"
L1_KINDS = ("embedded", "anvil")
DEFAULT_DEV_BALANCE = 10**24
_URL = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class L1Options:
    """The [l1] table: which L1, and how the rollup settles on it."""

    kind: str = "embedded"  # "embedded", "anvil" or a JSON-RPC URL
    port: int = 8545
    proof: str = "reexec"
    derivation: str = "calldata"
    compression: str = "none"
    #: The proof backend's own settings ([l1.proof_options]; see ProofBackend.configure).
    proof_options: dict[str, Any] = field(default_factory=dict)
    inclusion_deadline: int = 3600
    finality_delay: int = 0
    confirmations: int = 0
    batch_interval: float = 2.0
    max_blocks_per_batch: int = 32
    permissionless: bool = False  # anyone may settle (default: only this rollup's batcher)

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
    chain: dict[str, Any]  # the [chain] table as written (see rollupkit.node.settings)
    dev_accounts: int
    dev_balance: int
    block_time: float
    rpc_host: str
    rpc_port: int
    l1: L1Options
    #: Where ``rollupkit up`` keeps the L1's and the node's databases, the deployment record,
    #: its log and its pid (``.rollupkit`` in the project; tests point it elsewhere).
    state_dir: Path
    # Also make blocks with nothing in them, one every block_time (what a chain with a fixed
    # block time does; WebSocket clients such as ethers wait for the next block).
    empty_blocks: bool = False
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


def is_l1_url(value: str) -> bool:
    """Whether ``value`` names an existing L1 node by its JSON-RPC URL."""
    return bool(_URL.match(value))


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
    model = registry.create("state", state)
    if not (vm_impl.supports_state_model(model) and model.supports_vm(vm_impl)):
        raise ProjectError(f"VM {vm!r} cannot execute over the {state!r} state model")
    backend = registry.create("proof", proof)
    refusal = vm_impl.check_proof(proof) or backend.check_chain(vm=vm, state=state)
    if refusal:
        raise ProjectError(f"proof {proof!r} cannot settle a {vm} chain: {refusal}")
    carrier = registry.get("derivation", derivation).carrier
    if carrier == "blobs" and l1 == "embedded":
        raise ProjectError(
            "the embedded L1 does not take blob transactions; use calldata, or anvil as the L1"
        )
    reason = registry.create("proof", proof).check_setup(l1=l1, carrier=carrier)
    if reason is not None:
        others = [n for n in proofs_for(l1, carrier, registry, vm=vm, state=state) if n != proof]
        raise ProjectError(
            f"proof {proof!r} cannot settle here: {reason}, or a proof backend that can "
            f"({', '.join(others) or 'none installed'})"
        )


def proofs_for(
    l1: str,
    carrier: str,
    registry: PluginRegistry | None = None,
    *,
    vm: str | None = None,
    state: str | None = None,
) -> list[str]:
    """The installed proof backends that can settle on ``l1`` with ``carrier`` data (each
    one's :meth:`~rollupkit.interfaces.ProofBackend.check_setup` says so), and, given ``vm``
    and ``state``, a chain of them (:meth:`~rollupkit.interfaces.ProofBackend.check_chain`,
    :meth:`~rollupkit.interfaces.VM.check_proof`)."""
    registry = registry or get_registry()
    vm_impl = registry.create("vm", vm) if vm is not None else None
    usable = []
    for name in registry.names("proof"):
        backend = registry.create("proof", name)
        if backend.check_setup(l1=l1, carrier=carrier) is not None:
            continue
        if vm is not None and (
            backend.check_chain(vm=vm, state=state or "mpt") is not None
            or (vm_impl is not None and vm_impl.check_proof(name) is not None)
        ):
            continue
        usable.append(name)
    return usable


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
    _check_keys(data, path)
    project = _table(data, "project", path)
    chain = _table(data, "chain", path)
    node = _table(data, "node", path)
    l1_table = _table(data, "l1", path)
    if "name" not in project:
        raise ProjectError(f"{path}: [project] needs a name")
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
        l1=L1Options(**l1_table),
        empty_blocks=bool(node.get("empty_blocks", False)),
        state_dir=root / STATE_DIR,
        raw=data,
    )
    l1 = config.l1
    if config.block_time <= 0:
        raise ProjectError(f"{path}: [node] block_time must be positive")
    gas_limit = int(config.chain.get("gas_limit", MIN_BLOCK_GAS_LIMIT))
    if gas_limit < MIN_BLOCK_GAS_LIMIT:
        raise ProjectError(
            f"{path}: [chain] gas_limit {gas_limit} is below the floor {MIN_BLOCK_GAS_LIMIT} "
            "EXECUTE enforces (forced transactions must always fit)"
        )
    for key, port in (("[node] rpc_port", config.rpc_port), ("[l1] port", config.l1.port)):
        if not 0 <= port <= 65535:
            raise ProjectError(f"{path}: {key} must be a TCP port (0-65535), not {port}")
    try:
        check_chain_id(config.chain_id, l1.kind)
    except RollupkitError as exc:
        raise ProjectError(f"{path}: [chain] {exc}") from None
    try:
        check_combination(
            vm=config.vm, state=config.state, derivation=l1.derivation, proof=l1.proof,
            l1=l1.kind, compression=l1.compression, registry=registry,
        )  # fmt: skip
    except RollupkitError as exc:
        raise ProjectError(f"{path}: {exc}") from None
    backend = (registry or get_registry()).get("proof", l1.proof)
    try:
        backend.configured(l1.proof_options)
    except RollupkitError as exc:
        raise ProjectError(f"{path}: [l1.proof_options] {exc}") from None
    if l1.permissionless and backend.permissionless_refusal:
        raise ProjectError(
            f"{path}: [l1] permissionless = true cannot be used with proof {l1.proof!r}: "
            f"{backend.permissionless_refusal}"
        )
    return config


#: What each table of rollup.toml may hold, and of which type ("int|str": an integer, or a
#: string holding one, for values past TOML's 64-bit integers).
_SCHEMA: dict[str, dict[str, str]] = {
    "project": {"name": "str", "hooks": "str"},
    "chain": {
        "chain_id": "int", "vm": "str", "state": "str", "gas_limit": "int", "base_fee": "int",
        "genesis_timestamp": "int", "l2_bridge": "bool", "alloc": "table",
        "dev_accounts": "int", "dev_balance": "int|str", "l1_chain_id": "int",
    },
    "node": {"block_time": "float", "rpc_host": "str", "rpc_port": "int", "empty_blocks": "bool"},
    "l1": {
        name: {"int": "int", "float": "float", "str": "str", "bool": "bool"}.get(
            str(f.type), "table"
        )
        for name, f in L1Options.__dataclass_fields__.items()
    },
}  # fmt: skip
#: Keys an earlier template wrote that live elsewhere now: where to.
_MOVED = {
    ("l1", key): (
        "is an option of the proof backend now, in [l1.proof_options] (`rollupkit scaffold "
        "update` brings the template's; multiclient takes attester_keys and threshold)"
    )
    for key in ("attesters", "threshold")
}
_TYPE_WORDS = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
               "table": "a table", "int|str": "an integer (or a string of one)"}  # fmt: skip


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int|str":
        if isinstance(value, str):
            try:
                int(value, 0)
            except ValueError:
                return False
            return True
        return _type_ok(value, "int")
    return isinstance(value, {"str": str, "bool": bool, "table": dict}[kind])


def _check_keys(data: dict[str, Any], path: Path) -> None:
    """Refuse a misspelt table or key (it would be silently ignored) and a value of the wrong
    type, naming the table and the key."""
    for table, values in data.items():
        if table not in _SCHEMA:
            raise ProjectError(f"{path}: unknown table [{table}]{_did_you_mean(table, _SCHEMA)}")
        if not isinstance(values, dict):
            raise ProjectError(f"{path}: [{table}] must be a table")
        schema = _SCHEMA[table]
        for key, value in values.items():
            if (table, key) in _MOVED:
                raise ProjectError(f"{path}: [{table}] {key} {_MOVED[table, key]}")
            if key not in schema:
                raise ProjectError(
                    f"{path}: [{table}] unknown key {key!r}{_did_you_mean(key, schema)}"
                )
            if not _type_ok(value, schema[key]):
                raise ProjectError(
                    f"{path}: [{table}] {key} must be {_TYPE_WORDS[schema[key]]}, not {value!r}"
                )


def _did_you_mean(word: str, known: dict[str, Any]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"


#: Chain ids of public networks: an L2 sharing one would accept transactions signed for it.
PUBLIC_CHAIN_IDS = {
    1: "Ethereum mainnet", 10: "OP Mainnet", 56: "BNB Smart Chain", 137: "Polygon PoS",
    8453: "Base", 42161: "Arbitrum One", 17000: "Holesky", 560048: "Hoodi",
    11155111: "Sepolia",
}  # fmt: skip
#: Chain ids of the L1s rollupkit starts itself.
LOCAL_L1_CHAIN_IDS = {"embedded": 1337, "anvil": 31337}


def check_chain_id(chain_id: int, l1: str) -> None:
    """Refuse an L2 chain id that transactions for another chain would be valid on (EIP-155
    replay protection works only across different chain ids)."""
    if not 1 <= chain_id < 2**64:
        raise ProjectError(f"chain id must be between 1 and 2^64 - 1, not {chain_id}")
    if chain_id in PUBLIC_CHAIN_IDS:
        raise ProjectError(
            f"chain id {chain_id} is {PUBLIC_CHAIN_IDS[chain_id]}'s: transactions signed for one "
            "chain would be valid on the other; choose another (e.g. 42424)"
        )
    if LOCAL_L1_CHAIN_IDS.get(l1) == chain_id:
        raise ProjectError(
            f"chain id {chain_id} is the {l1} L1's own: L1 and L2 transactions would be "
            "interchangeable; choose another (e.g. 42424)"
        )


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ProjectError(f"{path}: [{name}] must be a table")
    return value
