"""Ethereum precompiles for py-evm with honest speed: the same results and gas as py-evm's own,
without its pure-Python slow paths.

EXECUTE's work must be bounded by the gas it is paid (:mod:`rollupkit.metering`), so one gas
must cost about the same time whatever code runs. py-evm gets a few precompiles badly wrong:

* KZG point evaluation (0x0a) reloads the whole trusted setup on *every* call (~2.4 s, for 50,000
  gas). Here the setup is loaded once per process.
* BLAKE2 F (0x09) runs in pure Python unless the native ``blake2b-py`` package is installed;
  rollupkit depends on it, and py-evm picks it up by itself.
* BN254 addition, multiplication and pairing (0x06-0x08, EIP-196/197) run py_ecc's pure Python
  (a pairing check of two points takes ~0.6 s). Here the result comes from revm's own
  precompiles (``pyrevm``), with py-evm's gas rules; should revm answer anything but a result
  or "invalid input", py-evm's implementation answers instead.
* BLS12-381 (0x0b-0x11, EIP-2537) run py_ecc's pure Python too (a two-pair pairing check takes
  ~1 s). Here arkworks computes them (``py-arkworks-bls12381``), with py-evm's gas, length and
  encoding rules: 64-byte field elements whose top 16 bytes are zero, all-zero for the point at
  infinity, points on the curve for the additions, and in the subgroup for MSM and pairing.

* MODEXP (0x05) answers 0 for a base of length 0, where ``0 ** 0 % m`` is 1 for ``m > 1``
  (EIP-198 reads a missing base as 0, and every other client computes ``pow(0, 0, m)``).

Both the L1 devnet and the ``evm`` VM use :data:`PRECOMPILE_OVERRIDES`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import ckzg
import py_arkworks_bls12381 as bls
import pyrevm
from eth import precompiles as pyevm_precompiles
from eth.abc import ComputationAPI
from eth.exceptions import VMError
from eth.precompiles.bls12_381.constants import (
    BLS12_G1_ADD_GAS,
    BLS12_G1_MSM_GAS,
    BLS12_G2_ADD_GAS,
    BLS12_G2_MSM_GAS,
    BLS12_MAP_FP2_G2_GAS,
    BLS12_MAP_FP_G1_GAS,
    G1_MSM_DISCOUNTS,
    G1_MSM_MAX_DISCOUNT,
    G2_MSM_DISCOUNTS,
    G2_MSM_MAX_DISCOUNT,
    MSM_MULTIPLIER,
)
from eth.precompiles.modexp import extract_lengths
from eth.precompiles.point_evaluation import TRUSTED_SETUP_PATH
from eth.vm.forks.berlin.computation import _compute_modexp_gas_fee_eip_2565
from eth.vm.forks.cancun.constants import (
    BLS_MODULUS,
    FIELD_ELEMENTS_PER_BLOB,
    POINT_EVALUATION_PRECOMPILE_GAS,
    VERSIONED_HASH_VERSION_KZG,
)
from eth.vm.forks.istanbul.constants import (
    GAS_ECADD,
    GAS_ECMUL,
    GAS_ECPAIRING_BASE,
    GAS_ECPAIRING_PER_POINT,
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


# --- MODEXP ------------------------------------------------------------------------------------


def modexp(computation: ComputationAPI) -> ComputationAPI:
    """EIP-198 with EIP-2565's gas: ``base ** exponent % modulus``, each operand read from the
    input (zero-padded on the right), an empty base being 0."""
    data = computation.msg.data_as_bytes
    computation.consume_gas(_compute_modexp_gas_fee_eip_2565(data), reason="MODEXP Precompile")
    base_length, exponent_length, modulus_length = extract_lengths(data)
    if modulus_length == 0:
        computation.output = b""
        return computation
    start = 96

    def operand(length: int) -> int:
        nonlocal start
        value = int.from_bytes(data[start : start + length].ljust(length, b"\x00"), "big")
        start += length
        return value

    base, exponent, modulus = (
        operand(base_length),
        operand(exponent_length),
        operand(modulus_length),
    )
    result = pow(base, exponent, modulus) if modulus else 0
    computation.output = result.to_bytes(modulus_length, "big")
    return computation


# --- BN254 through revm -----------------------------------------------------------------------

_REVM_CALLER = "0x" + "52" * 20
#: revm keeps a journal entry per call; a fresh instance after this many keeps memory flat.
_REVM_CALLS_PER_INSTANCE = 10_000


class _RevmPerThread(threading.local):
    evm: Any = None
    calls = 0


_revm = _RevmPerThread()


def revm_precompile(address: int, data: bytes, gas: int) -> bytes | None:
    """revm's output for precompile ``address`` on ``data`` (given ``gas`` for it), None if
    revm finds the input invalid. Raises :class:`RuntimeError` on any other outcome."""
    if _revm.evm is None or _revm.calls >= _REVM_CALLS_PER_INSTANCE:
        _revm.evm = pyrevm.EVM(spec_id="PRAGUE")
        _revm.evm.set_balance(_REVM_CALLER, 10**30)
        _revm.calls = 0
    _revm.calls += 1
    evm = _revm.evm
    # The call's own cost on top: intrinsic gas and the EIP-7623 calldata floor.
    limit = gas + 21_000 + 40 * len(data) + 10_000
    try:
        return bytes(evm.message_call(_REVM_CALLER, f"0x{address:040x}", calldata=data, gas=limit))
    except RuntimeError:
        result = evm.result
        if result is not None and result.reason == "PrecompileError":
            return None
        raise


def _bn254(
    address: int,
    name: str,
    gas_of: Callable[[bytes], int],
    fallback: Callable[[ComputationAPI], ComputationAPI],
    size: int | None = None,
) -> Callable[[ComputationAPI], ComputationAPI]:
    def precompile(computation: ComputationAPI) -> ComputationAPI:
        data = computation.msg.data_as_bytes
        if size is not None:  # EIP-196: short input is padded with zeros, long cut
            data = data[:size].ljust(size, b"\x00")
        gas = gas_of(data)
        computation.consume_gas(gas, reason=f"{name} Precompile")  # paid before the work
        try:
            output = revm_precompile(address, data, gas)
        except RuntimeError:
            computation.return_gas(gas)  # py-evm's own answer, slow but right; it charges
            return fallback(computation)
        if output is None:
            raise VMError(f"Invalid {name} parameters")
        computation.output = output
        return computation

    precompile.__name__ = f"native_{name.lower()}"
    return precompile


def _pairing_gas(data: bytes) -> int:
    if len(data) % 192:
        raise VMError("Invalid ECPAIRING parameters")  # before any gas, as py-evm
    return GAS_ECPAIRING_BASE + GAS_ECPAIRING_PER_POINT * (len(data) // 192)


bn254_add = _bn254(
    0x06, "ECADD", lambda _: GAS_ECADD, pyevm_precompiles.ecadd(gas_cost=GAS_ECADD), size=128
)
bn254_mul = _bn254(
    0x07, "ECMUL", lambda _: GAS_ECMUL, pyevm_precompiles.ecmul(gas_cost=GAS_ECMUL), size=96
)
bn254_pairing = _bn254(
    0x08,
    "ECPAIRING",
    _pairing_gas,
    pyevm_precompiles.ecpairing(
        gas_cost_base=GAS_ECPAIRING_BASE, gas_cost_per_point=GAS_ECPAIRING_PER_POINT
    ),
)


# --- BLS12-381 through arkworks ------------------------------------------------------------

_FP_PAD = bytes(16)  # EIP-2537 field elements are 64 bytes: 16 zero bytes, then 48


def _fp48(data: bytes) -> bytes:
    """The 48 significant bytes of a 64-byte field element (its top 16 must be zero; the value
    itself is checked below the modulus by arkworks)."""
    if data[:16] != _FP_PAD:
        raise VMError("coordinate >= field modulus")
    return data[16:]


def _fp64(data48: bytes) -> bytes:
    return b"".join(_FP_PAD + data48[i : i + 48] for i in range(0, len(data48), 48))


def _g1(data: bytes, *, subgroup: bool) -> Any:
    raw = _fp48(data[:64]) + _fp48(data[64:128])
    try:
        if subgroup:
            return bls.G1Point.from_xy_bytes_be(raw)
        return bls.G1Point.from_xy_bytes_unchecked_be(raw)
    except ValueError as exc:
        raise VMError(f"invalid G1 point: {exc}") from exc


def _g2(data: bytes, *, subgroup: bool) -> Any:
    raw = b"".join(_fp48(data[i : i + 64]) for i in range(0, 256, 64))
    try:
        if subgroup:
            return bls.G2Point.from_xy_bytes_be(raw)
        return bls.G2Point.from_xy_bytes_unchecked_be(raw)
    except ValueError as exc:
        raise VMError(f"invalid G2 point: {exc}") from exc


def _scalar(data: bytes) -> Any:
    return bls.Scalar.from_be_bytes_mod_order(data)  # points are in the subgroup: mod r is exact


def bls12_g1_add(computation: ComputationAPI) -> ComputationAPI:
    data = bytes(computation.msg.data)
    if len(data) != 256:
        raise VMError("Length of data must be 256 bytes for BLS12_G1ADD")
    computation.consume_gas(BLS12_G1_ADD_GAS, reason="BLS12_G1ADD gas")
    total = _g1(data[:128], subgroup=False) + _g1(data[128:], subgroup=False)
    computation.output = _fp64(total.to_xy_bytes_be())
    return computation


def bls12_g2_add(computation: ComputationAPI) -> ComputationAPI:
    data = bytes(computation.msg.data)
    if len(data) != 512:
        raise VMError("Length of data must be 512 for g2 add")
    computation.consume_gas(BLS12_G2_ADD_GAS, reason="BLS12_G2ADD gas")
    total = _g2(data[:256], subgroup=False) + _g2(data[256:], subgroup=False)
    computation.output = _fp64(total.to_xy_bytes_be())
    return computation


def _msm(
    computation: ComputationAPI,
    *,
    name: str,
    pair_size: int,
    gas_per_pair: int,
    discounts: list[int],
    max_discount: int,
    point: Callable[..., Any],
    group: Any,
) -> ComputationAPI:
    data = bytes(computation.msg.data)
    if not data or len(data) % pair_size:
        raise VMError(f"Length of data must be a multiple of {pair_size} bytes for {name}")
    k = len(data) // pair_size
    discount = discounts[k - 1] if k <= len(discounts) else max_discount
    computation.consume_gas(k * gas_per_pair * discount // MSM_MULTIPLIER, reason=f"{name} gas")
    size = pair_size - 32
    points, scalars = [], []
    for start in range(0, len(data), pair_size):
        points.append(point(data[start : start + size], subgroup=True))
        scalars.append(_scalar(data[start + size : start + pair_size]))
    computation.output = _fp64(group.multiexp_unchecked(points, scalars).to_xy_bytes_be())
    return computation


def bls12_g1_msm(computation: ComputationAPI) -> ComputationAPI:
    return _msm(
        computation, name="BLS12_G1MSM", pair_size=160, gas_per_pair=BLS12_G1_MSM_GAS,
        discounts=G1_MSM_DISCOUNTS, max_discount=G1_MSM_MAX_DISCOUNT, point=_g1,
        group=bls.G1Point,
    )  # fmt: skip


def bls12_g2_msm(computation: ComputationAPI) -> ComputationAPI:
    return _msm(
        computation, name="BLS12_G2MSM", pair_size=288, gas_per_pair=BLS12_G2_MSM_GAS,
        discounts=G2_MSM_DISCOUNTS, max_discount=G2_MSM_MAX_DISCOUNT, point=_g2,
        group=bls.G2Point,
    )  # fmt: skip


def bls12_pairing_check(computation: ComputationAPI) -> ComputationAPI:
    data = bytes(computation.msg.data)
    if not data or len(data) % 384:
        raise VMError("Length of data must be a multiple of 384 bytes for BLS12_PAIRING_CHECK")
    k = len(data) // 384
    computation.consume_gas(32600 * k + 37700, "BLS12_PAIRING_CHECK gas")
    g1s = [_g1(data[i : i + 128], subgroup=True) for i in range(0, len(data), 384)]
    g2s = [_g2(data[i + 128 : i + 384], subgroup=True) for i in range(0, len(data), 384)]
    holds = bls.GT.pairing_check(g1s, g2s)
    computation.output = b"\x00" * 31 + (b"\x01" if holds else b"\x00")
    return computation


def bls12_map_fp_to_g1(computation: ComputationAPI) -> ComputationAPI:
    data = bytes(computation.msg.data)
    if len(data) != 64:
        raise VMError("Length of data must be 64 bytes for BLS12_MAP_FP_TO_G1")
    computation.consume_gas(BLS12_MAP_FP_G1_GAS, reason="BLS12_MAP_FP_TO_G1 gas")
    try:
        mapped = bls.G1Point.map_from_fp_be(_fp48(data))
    except ValueError as exc:
        raise VMError(f"coordinate >= field modulus: {exc}") from exc
    computation.output = _fp64(mapped.to_xy_bytes_be())
    return computation


def bls12_map_fp2_to_g2(computation: ComputationAPI) -> ComputationAPI:
    data = bytes(computation.msg.data)
    if len(data) != 128:
        raise VMError("Length of data must be 128 bytes for BLS12_MAP_FP2_TO_G2")
    computation.consume_gas(BLS12_MAP_FP2_G2_GAS, "BLS12_MAP_FP2_TO_G2 gas")
    try:
        mapped = bls.G2Point.map_from_fp2_be(_fp48(data[:64]) + _fp48(data[64:]))
    except ValueError as exc:
        raise VMError(f"coordinate >= field modulus: {exc}") from exc
    computation.output = _fp64(mapped.to_xy_bytes_be())
    return computation


def _address(number: int) -> bytes:
    return number.to_bytes(20, "big")


#: Precompiles to put over py-evm's own (address -> function).
PRECOMPILE_OVERRIDES = {
    _address(0x05): modexp,
    _address(0x06): bn254_add,
    _address(0x07): bn254_mul,
    _address(0x08): bn254_pairing,
    POINT_EVALUATION_ADDRESS: point_evaluation,
    _address(0x0B): bls12_g1_add,
    _address(0x0C): bls12_g1_msm,
    _address(0x0D): bls12_g2_add,
    _address(0x0E): bls12_g2_msm,
    _address(0x0F): bls12_pairing_check,
    _address(0x10): bls12_map_fp_to_g1,
    _address(0x11): bls12_map_fp2_to_g2,
}
