"""Every exception rollupkit raises on purpose, in one place.

Library code raises these typed errors; the CLI turns them into one clear line.
EXECUTE never lets any of them escape: it turns each into a False verdict with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class RollupkitError(Exception):
    """Base class of every error raised on purpose by rollupkit."""


# --- plugins -------------------------------------------------------------------------------


class PluginError(RollupkitError):
    """A plugin could not be loaded, registered or found."""


class PluginRegistrationError(PluginError):
    """A plugin registered something invalid (unknown hook, incomplete class, bad name)."""


class UnknownPluginError(PluginError):
    """No plugin of the requested kind has the requested name."""

    def __init__(self, kind: str, name: str, available: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.available = available
        choices = ", ".join(available) if available else "none installed"
        super().__init__(f"no {kind} plugin named {name!r} (available: {choices})")


class UnsupportedCombinationError(PluginError):
    """Two plugins that cannot work together were combined (e.g. a VM and a state model)."""


# --- traces and execution ------------------------------------------------------------------


class TraceError(RollupkitError):
    """A trace is malformed: it does not decode, or breaks a structural rule."""


class UnsupportedTraceVersion(TraceError):
    """A trace of a version this rollupkit does not read."""


class MissingWitnessError(RollupkitError):
    """Stateless execution needed a trie node, code or ancestor header the witness lacks."""


class InvalidBlockError(RollupkitError):
    """A block in a trace breaks a validity rule (header fields, gas limit, timestamps)."""


class InvalidTransactionError(InvalidBlockError):
    """A transaction in a block is invalid (signature, nonce, balance, chain id, gas)."""


class InvalidMessageError(InvalidBlockError):
    """The L1 messages consumed by a trace are not a contiguous run of the queue."""


class GasCapExceeded(RollupkitError):
    """Executing a trace used more gas than the caller claimed (and paid for): EXECUTE stops
    the work as soon as that is certain, in the middle of a transaction if need be."""


class CallTimeout(RollupkitError):
    """A read-only call (``eth_call``, gas estimation) ran past its time limit."""


class ClientUnsupported(RollupkitError):
    """An independent execution client (``execute(..., client=...)``) met something it cannot
    compute faithfully (a feature its engine lacks) and abstains: no verdict either way."""


class OutOfGas(RollupkitError):
    """A VM frame needed more gas than it had left: an exceptional halt that uses all of the
    frame's gas (see :meth:`rollupkit.accountvm.Frame.use_gas`)."""


class ExecuteGasLimitExceeded(RollupkitError):
    """An EXECUTE call would push an L1 block over the cumulative EXECUTE gas limit."""


class ProofError(RollupkitError):
    """A state or withdrawal proof does not verify."""


# --- chains served over JSON-RPC ----------------------------------------------------------------


class TransactionRejected(RollupkitError):
    """A transaction was refused before or while being mined (nonce, funds, gas, fee)."""


class CallReverted(RollupkitError):
    """An ``eth_call`` or gas estimate failed; ``data`` is the revert data, if any."""

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


class BlockNotFound(RollupkitError):
    """No block with that number, hash or tag."""


# --- L1 contracts and nodes -------------------------------------------------------------------


class ContractRevert(RollupkitError):
    """An L1 contract call reverted; ``error`` names the custom error when known."""

    def __init__(self, error: str, detail: str = "", receipt: Any = None) -> None:
        super().__init__(f"reverted: {error}{f' ({detail})' if detail else ''}")
        self.error = error
        self.receipt = receipt


class DepositRefunded(RollupkitError):
    """A deposit the L2 could not credit (a zkpay deposit to a held leaf): the chain paid it
    back as a withdrawal to the depositor, claimable by ``message_index`` once ``block`` is
    settled (``RunningRollup.claim_refund``)."""

    def __init__(self, message_index: int, block: int) -> None:
        super().__init__(
            f"the deposit (L1 message {message_index}) was refunded, not credited: "
            f"claim_refund({message_index}) once L2 block {block} is settled"
        )
        self.message_index = message_index
        self.block = block


class AttestationRefused(RollupkitError):
    """A verifier client re-executed a batch and will not sign it."""


class ChainMoved(RollupkitError):
    """A block was built on a head that changed (a rollback) before it could be written."""


class NodeToolMissing(RollupkitError):
    """anvil or cast is not installed."""


# --- the rollup node and its JSON-RPC -----------------------------------------------------------


class NodeDatabaseError(RollupkitError):
    """A node's database is corrupt, or holds another chain than the node is configured for."""


class ConfigError(RollupkitError):
    """The configuration file is missing, malformed or incomplete."""


@dataclass
class RpcError(RollupkitError):
    """An error to return to the client as a JSON-RPC error object."""

    code: int
    message: str
    data: Any = None

    def to_json(self) -> dict[str, Any]:
        """The JSON-RPC error object."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


# --- projects, the scaffolder and the compiler ------------------------------------------------


class ProjectError(RollupkitError):
    """A project's configuration is missing, malformed or cannot work."""


class DeploymentError(RollupkitError):
    """The rollup's contracts cannot be deployed or found."""


class Timeout(RollupkitError):
    """Something did not happen in time."""


class HookError(RollupkitError):
    """A project's hooks module cannot be loaded, or a hook gave a bad answer."""


class InvalidNameError(RollupkitError):
    """A project or plugin name that cannot be used."""


class TemplateError(RollupkitError):
    """A template cannot be read or rendered, or its output cannot be written."""


class OptionsError(RollupkitError):
    """Scaffold answers that cannot be used."""


class CompilerError(RollupkitError):
    """Solidity could not be compiled (compiler missing, or errors in the source)."""
