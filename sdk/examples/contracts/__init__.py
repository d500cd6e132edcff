"""Example contracts with committed artifacts: ``Token`` (ERC-20) and ``Store`` (storage,
deletes, reverts, BLOCKHASH). Regenerate with ``rollupkit contracts build``."""

from __future__ import annotations

from pathlib import Path

from rollupkit.solidity import Artifact, load_artifact

CONTRACTS_DIR = Path(__file__).resolve().parent


def artifact(name: str) -> Artifact:
    """The committed artifact of example contract ``name``."""
    return load_artifact(CONTRACTS_DIR, name)
