"""The example EVM scenario: :mod:`rollupkit.examples.evm` (kept here for existing imports)."""

from rollupkit.examples.evm import EvmScenario, calldata, l2_bridge_alloc

__all__ = ["EvmScenario", "calldata", "l2_bridge_alloc"]
