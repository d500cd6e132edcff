"""rollupkit's pytest plugin (registered through the ``pytest11`` entry point).

Fixtures for plugin packages and generated rollups:

* ``rollupkit_registry``: the plugin registry (every installed plugin);
* ``rollupkit_wallets``: ten funded-at-genesis dev wallets for the default chain id;
* ``rollupkit_dev_chain``: a factory ``(vm="evm", state="mpt", **kwargs) -> DevChain`` whose
  genesis funds those wallets.

The conformance classes live in :mod:`rollupkit.testing.conformance`; subclass them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rollupkit.chain import DEFAULT_CHAIN_ID, DevChain
from rollupkit.plugins import PluginRegistry, get_registry
from rollupkit.testing.wallets import Wallet, dev_wallets
from rollupkit.types import GenesisAccount

GENESIS_BALANCE = 10**24


@pytest.fixture
def rollupkit_registry() -> PluginRegistry:
    """The process-wide plugin registry."""
    return get_registry()


@pytest.fixture
def rollupkit_wallets() -> list[Wallet]:
    """Ten dev wallets (fresh nonces) for the default chain id."""
    return dev_wallets(10, DEFAULT_CHAIN_ID)


@pytest.fixture
def rollupkit_dev_chain(rollupkit_wallets: list[Wallet]) -> Callable[..., DevChain]:
    """A factory of in-memory chains whose genesis funds ``rollupkit_wallets``."""

    def make(vm: str = "evm", state: str = "mpt", **kwargs: Any) -> DevChain:
        alloc = {w.address: GenesisAccount(balance=GENESIS_BALANCE) for w in rollupkit_wallets}
        alloc.update(kwargs.pop("alloc", {}))
        return DevChain(alloc, vm=vm, state=state, **kwargs)

    return make
