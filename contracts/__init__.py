"""rollupkit's Solidity contracts, importable as ``rollupkit.contracts``.

Sources sit beside this file; compiled artifacts (ABI and bytecode) are committed under
``build/`` and regenerated with ``rollupkit contracts build``.
"""

from __future__ import annotations

from pathlib import Path

from rollupkit.solidity import Artifact, load_artifact

CONTRACTS_DIR = Path(__file__).resolve().parent


def artifact(name: str) -> Artifact:
    """The committed artifact of contract ``name`` (e.g. ``"L2Bridge"``)."""
    return load_artifact(CONTRACTS_DIR, name)
