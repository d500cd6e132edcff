"""rollupkit's pytest plugin (registered through the ``pytest11`` entry point).

Fixtures for plugin packages and generated rollups:

* ``rollupkit_registry``: the plugin registry (every installed plugin);
* ``rollupkit_wallets``: ten funded-at-genesis dev wallets for the default chain id;
* ``rollupkit_dev_chain``: a factory ``(vm="evm", state="mpt", **kwargs) -> DevChain`` whose
  genesis funds those wallets.

For rollup projects (``rollupkit scaffold new``), session-wide:

* ``rollupkit_project``: the project's ``rollup.toml`` (found from pytest's root folder),
  loaded and checked, with its state folder moved to a temporary one;
* ``rollupkit_rollup``: the project's rollup running (a
  :class:`rollupkit.project.running.RunningRollup`): its L1, its contracts and its sequencer
  on free ports. Blocks come at most every 0.25 s and batches every 0.5 s whatever
  ``rollup.toml`` says, so tests are quick.

The conformance classes live in :mod:`rollupkit.testing.conformance`; subclass them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
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


@pytest.fixture(scope="session")
def rollupkit_project(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """The rollup project under test (its ``rollup.toml``), with state in a temporary folder."""
    from rollupkit.project.config import load_project
    from rollupkit.project.deployment import DEPLOYER_KEY_ENV

    config = load_project(request.config.rootpath)
    if config.l1.is_url and not os.environ.get(DEPLOYER_KEY_ENV):
        pytest.skip(f"the project's L1 is {config.l1.kind}: set {DEPLOYER_KEY_ENV} to test on it")
    return replace(
        config,
        state_dir=tmp_path_factory.mktemp("rollupkit-state"),
        block_time=min(config.block_time, 0.25),
        l1=replace(config.l1, batch_interval=min(config.l1.batch_interval, 0.5)),
    )


@pytest.fixture(scope="session")
def rollupkit_rollup(rollupkit_project: Any) -> Iterator[Any]:
    """The project's rollup, running for the whole test session."""
    from rollupkit.project.runner import run_project

    with run_project(rollupkit_project, l1_port=0, rpc_port=0, l1_poll=0.2) as rollup:
        yield rollup
