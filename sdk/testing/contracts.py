"""The example contracts: :mod:`rollupkit.examples.contracts` (kept here for existing imports)."""

from rollupkit.examples.contracts import CONTRACTS_DIR, artifact

__all__ = ["CONTRACTS_DIR", "artifact"]
