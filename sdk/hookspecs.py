"""The hooks rollupkit calls. One module, every hook prefixed ``rollupkit_``.

A plugin is a module (named by an entry point in the ``rollupkit`` group) that defines some of
these functions, decorated with ``rollupkit.hookimpl``. Every hook here *registers classes*:
it returns an iterable of ``(name, class)`` pairs; the class must subclass the matching base
class in ``rollupkit.interfaces`` and implement every abstract method. None of these hooks is
``firstresult``: rollupkit calls every implementation and collects all the pairs.
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from rollupkit.interfaces import VM, Derivation, ProofBackend, StateModel

hookspec = pluggy.HookspecMarker("rollupkit")


@hookspec
def rollupkit_register_vms() -> Iterable[tuple[str, type[VM]]]:
    """Register VM interpreters.

    Result rule: every implementation is called; each returns ``(name, cls)`` pairs with ``cls``
    a concrete subclass of :class:`rollupkit.interfaces.VM`; all pairs are collected. Names
    must be unique across installed plugins.
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
