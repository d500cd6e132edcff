"""The hooks rollupkit calls. One module, every hook prefixed ``rollupkit_``.

Two families:

* **Registration hooks** (``rollupkit_register_*``), implemented by plugins: modules named by
  entry points in the ``rollupkit`` group, with functions decorated ``rollupkit.hookimpl``.
  Each *registers classes*: it returns an iterable of ``(name, class)`` pairs; the class must
  subclass the matching base class in ``rollupkit.interfaces`` and implement every abstract
  method. None is ``firstresult``: rollupkit calls every implementation and collects all pairs.
* **Project hooks** (``rollupkit_genesis_alloc``, ``rollupkit_admit_transaction``),
  implemented by a rollup project's hooks module (``[project] hooks`` in its ``rollup.toml``).
  They customise one chain, so rollupkit calls them only on that project's module, never on
  installed plugins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pluggy

from rollupkit.ethtx import TxSummary
from rollupkit.interfaces import VM, Derivation, ProofBackend, StateModel
from rollupkit.types import GenesisAccount

hookspec = pluggy.HookspecMarker("rollupkit")


@hookspec
def rollupkit_register_vms() -> Iterable[tuple[str, type[VM]]]:
    """Register VM interpreters.

    Result rule: every implementation is called; each returns ``(name, cls)`` pairs with ``cls``
    a concrete subclass of :class:`rollupkit.interfaces.VM`; all pairs are collected. Names
    must be unique across installed plugins.
    """


@hookspec
def rollupkit_register_clients() -> Iterable[tuple[str, type[VM]]]:
    """Register independent execution clients of a VM (a second implementation of the same
    state transition, for k-of-n verification: ``execute(..., vm="evm", client="revm")``).

    Result rule: every implementation is called; each returns ``(name, cls)`` pairs with ``cls``
    a concrete subclass of :class:`rollupkit.interfaces.VM` whose ``implements`` names the VM;
    all pairs are collected.
    """


@hookspec
def rollupkit_register_state_models() -> Iterable[tuple[str, type[StateModel]]]:
    """Register state models.

    Result rule: every implementation is called; each returns ``(name, cls)`` pairs with ``cls``
    a concrete subclass of :class:`rollupkit.interfaces.StateModel`; all pairs are collected.
    """


@hookspec
def rollupkit_register_derivations() -> Iterable[tuple[str, type[Derivation]]]:
    """Register derivation functions (L2 blocks ⇄ L1 data).

    Result rule: every implementation is called; each returns ``(name, cls)`` pairs with ``cls``
    a concrete subclass of :class:`rollupkit.interfaces.Derivation`; all pairs are collected.
    """


@hookspec
def rollupkit_register_proof_backends() -> Iterable[tuple[str, type[ProofBackend]]]:
    """Register proof backends (how a batch's transition is settled on L1).

    Result rule: every implementation is called; each returns ``(name, cls)`` pairs with ``cls``
    a concrete subclass of :class:`rollupkit.interfaces.ProofBackend`; all pairs are collected.
    """


# --- project hooks --------------------------------------------------------------------------


@hookspec
def rollupkit_genesis_alloc(chain_id: int) -> Mapping[bytes, GenesisAccount] | None:
    """Accounts to add to the genesis of chain ``chain_id`` (20-byte address → account).

    Result rule: every implementation is called; the mappings are merged over the accounts
    ``rollup.toml`` allocates. Two implementations giving the same address is an error. The
    genesis fixes the chain: change it and ``rollupkit up`` deploys a new rollup.
    """


@hookspec(firstresult=True)
def rollupkit_admit_transaction(tx: TxSummary) -> str | None:
    """The sequencer's extra admission rule: return why ``tx`` is refused, or None to admit it.

    Result rule: ``firstresult``; the first reason returned refuses the transaction, and the
    sender sees it as the JSON-RPC error. This is sequencer policy, not consensus: EXECUTE
    does not know it, so a forced transaction from L1 is applied whatever it says.
    """
