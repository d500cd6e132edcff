"""Ethereum precompiles for py-evm with honest speed: the same results and gas as py-evm's own,
without its pure-Python slow paths.

EXECUTE's work must be bounded by the gas it is paid (:mod:`rollupkit.metering`), so one gas
must cost about the same time whatever code runs. py-evm gets a few precompiles badly wrong:

* KZG point evaluation (0x0a) reloads the whole trusted setup on *every* call (~2.4 s, for 50,000
  gas). Here the setup is loaded once per process.
* BLAKE2 F (0x09) runs in pure Python unless the native ``blake2b-py`` package is installed;
  rollupkit depends on it, and py-evm picks it up by itself.

Both the L1 devnet and the ``evm`` VM use :data:`PRECOMPILE_OVERRIDES`.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import ckzg
from eth.abc import ComputationAPI
from eth.exceptions import VMError
from eth.precompiles.point_evaluation import TRUSTED_SETUP_PATH
from eth.vm.forks.cancun.constants import (
    BLS_MODULUS,
    FIELD_ELEMENTS_PER_BLOB,
    POINT_EVALUATION_PRECOMPILE_GAS,
    VERSIONED_HASH_VERSION_KZG,
)

POINT_EVALUATION_ADDRESS = (0x0A).to_bytes(20, "big")

_setup: Any = None
_setup_lock = threading.Lock()


def trusted_setup() -> Any:
    """The KZG trusted setup py-evm ships, loaded once."""
    global _setup
    with _setup_lock:
        if _setup is None:
            _setup = ckzg.load_trusted_setup(TRUSTED_SETUP_PATH, 0)
        return _setup


def point_evaluation(computation: ComputationAPI) -> ComputationAPI:
    """EIP-4844's point evaluation precompile: py-evm's, with the trusted setup kept."""
    computation.consume_gas(POINT_EVALUATION_PRECOMPILE_GAS, reason="Point Evaluation Precompile")
    data = computation.msg.data_as_bytes
    if len(data) != 192:
        raise VMError("Point evaluation invalid input length.")
    versioned_hash, z, y, commitment, proof = (
        data[:32], data[32:64], data[64:96], data[96:144], data[144:192],
    )  # fmt: skip
    if VERSIONED_HASH_VERSION_KZG + hashlib.sha256(commitment).digest()[1:] != versioned_hash:
        raise VMError("Point evaluation commitment does not match versioned hash.")
    try:
        valid = ckzg.verify_kzg_proof(commitment, z, y, proof, trusted_setup())
    except RuntimeError:  # malformed points or scalars
        valid = False
    if not valid:
        raise VMError("Point evaluation KZG proof verification failed.")
    computation.output = FIELD_ELEMENTS_PER_BLOB.to_bytes(32, "big") + BLS_MODULUS.to_bytes(
        32, "big"
    )
    return computation


#: Precompiles to put over py-evm's own (address -> function).
PRECOMPILE_OVERRIDES = {POINT_EVALUATION_ADDRESS: point_evaluation}
