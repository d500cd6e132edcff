"""zkpay: a payments chain a Groth16 circuit proves (issue 17).

Accounts in a Poseidon Merkle tree (:mod:`.tree`, the ``poseidon`` state model in
:mod:`.model`), owners signing with EdDSA over Baby Jubjub (:mod:`.babyjub`), deposits,
transfers and withdrawals (:mod:`.transition`, the ``zkpay`` VM in :mod:`.vm`), and the circom
circuit that proves a batch of them (:mod:`.circuit`, ``circuits/zkpay.circom``) with Groth16
(:mod:`.groth16`).
"""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_zkpay.backend import Groth16Backend
from rollupkit_zkpay.model import ZkPayStateModel
from rollupkit_zkpay.vm import ZkPayVM

__all__ = ["Groth16Backend", "ZkPayStateModel", "ZkPayVM"]


@hookimpl
def rollupkit_register_vms() -> list[tuple[str, type[ZkPayVM]]]:
    return [("zkpay", ZkPayVM)]


@hookimpl
def rollupkit_register_state_models() -> list[tuple[str, type[ZkPayStateModel]]]:
    return [("poseidon", ZkPayStateModel)]


@hookimpl
def rollupkit_register_proof_backends() -> list[tuple[str, type[Groth16Backend]]]:
    return [("groth16", Groth16Backend)]
