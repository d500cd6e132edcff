"""rollupkit's native precompiles answer exactly as py-evm's own: same output, same gas, same
failures, on valid, edge and malformed inputs (rollupkit.ethprecompiles)."""

from __future__ import annotations

import random

import pytest
from eth.vm.forks.prague.computation import PragueComputation
from py_ecc import bn128 as bn
from pyevm_env import prague_state, run_message

from rollupkit.ethprecompiles import revm_precompile
from rollupkit_evm.engine import RollupComputation

P = bn.field_modulus


def u256(value: object) -> bytes:
    return int(value).to_bytes(32, "big")


def g1(point: object) -> bytes:
    if point is None:
        return bytes(64)
    x, y = point  # type: ignore[misc]
    return u256(x) + u256(y)


def g2(point: object) -> bytes:  # EIP-197 order: x_imag, x_real, y_imag, y_real
    x, y = point  # type: ignore[misc]
    return u256(x.coeffs[1]) + u256(x.coeffs[0]) + u256(y.coeffs[1]) + u256(y.coeffs[0])


@pytest.fixture(scope="module")
def state():  # type: ignore[no-untyped-def]
    return prague_state()


def run(state, computation_class, address: int, data: bytes):  # type: ignore[no-untyped-def]
    return run_message(state, computation_class, address.to_bytes(20, "big"), data)


def same_as_pyevm(state, address: int, data: bytes) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    ours = run(state, RollupComputation, address, data)
    theirs = run(state, PragueComputation, address, data)
    assert ours == theirs, (hex(address), data.hex())
    return ours


def addition_inputs() -> list[bytes]:
    a, b = bn.G1, bn.multiply(bn.G1, 7)
    off_curve = u256(1) + u256(3)
    too_big = u256(P) + u256(2)
    cases = [
        g1(a) + g1(b), g1(a) + g1(a), g1(a) + g1(bn.neg(a)), g1(None) + g1(a), bytes(128),
        g1(a), b"", g1(a) + g1(b) + b"\x01" * 50, off_curve + g1(a), too_big + g1(a),
    ]  # fmt: skip
    rng = random.Random(7)
    for _ in range(10):  # single-bit mutations of a valid input: mostly off the curve
        mutated = bytearray(g1(a) + g1(b))
        mutated[rng.randrange(128)] ^= 1 << rng.randrange(8)
        cases.append(bytes(mutated))
    return cases


def multiplication_inputs() -> list[bytes]:
    a = bn.multiply(bn.G1, 5)
    return [
        g1(a) + u256(3), g1(a) + u256(0), g1(a) + u256(2**256 - 1), g1(a) + u256(bn.curve_order),
        g1(None) + u256(9), g1(a), g1(a) + u256(3) + b"\xff" * 10, u256(1) + u256(3) + u256(2),
        u256(P) + u256(1) + u256(2), b"",
    ]  # fmt: skip


def pairing_inputs() -> list[bytes]:
    pair = g1(bn.G1) + g2(bn.G2)
    inverse = g1(bn.neg(bn.G1)) + g2(bn.G2)
    off_curve_g2 = g1(bn.G1) + u256(1) * 4
    return [
        b"", pair, pair + inverse, pair + pair, g1(None) + g2(bn.G2), pair[:100],
        off_curve_g2, u256(P) + pair[32:],
    ]  # fmt: skip


@pytest.mark.parametrize("data", addition_inputs())
def test_bn254_addition(state, data: bytes) -> None:  # type: ignore[no-untyped-def]
    same_as_pyevm(state, 0x06, data)


@pytest.mark.parametrize("data", multiplication_inputs())
def test_bn254_multiplication(state, data: bytes) -> None:  # type: ignore[no-untyped-def]
    same_as_pyevm(state, 0x07, data)


@pytest.mark.parametrize("data", pairing_inputs())
def test_bn254_pairing(state, data: bytes) -> None:  # type: ignore[no-untyped-def]
    same_as_pyevm(state, 0x08, data)


def test_the_cases_cover_success_and_failure(state) -> None:  # type: ignore[no-untyped-def]
    """The inputs above are not all one kind: both outcomes occur for each precompile."""
    for address, inputs in ((6, addition_inputs()), (7, multiplication_inputs())):
        outcomes = {run(state, RollupComputation, address, data)[0] for data in inputs}
        assert outcomes == {True, False}
    pair = g1(bn.G1) + g2(bn.G2)
    inverse = g1(bn.neg(bn.G1)) + g2(bn.G2)
    assert run(state, RollupComputation, 8, pair + inverse)[1] == u256(1)
    assert run(state, RollupComputation, 8, pair)[1] == u256(0)
    # ...and revm answers them (not py-evm's fallback).
    assert revm_precompile(8, pair + inverse, 113_000) == u256(1)
    assert revm_precompile(6, bytes(64) + u256(1) + u256(3), 150) is None  # off the curve


# --- BLS12-381 (EIP-2537) ------------------------------------------------------------------


def bls_inputs() -> dict[int, list[bytes]]:
    from py_ecc import optimized_bls12_381 as b

    def fp(value: int) -> bytes:
        return int(value).to_bytes(64, "big")

    def p1(point: object) -> bytes:
        if b.is_inf(point):
            return bytes(128)
        x, y = b.normalize(point)
        return fp(x.n) + fp(y.n)

    def p2(point: object) -> bytes:
        if b.is_inf(point):
            return bytes(256)
        x, y = b.normalize(point)
        return fp(x.coeffs[0]) + fp(x.coeffs[1]) + fp(y.coeffs[0]) + fp(y.coeffs[1])

    q = b.field_modulus
    # A point on the curve outside the subgroup: the first x whose x^3 + 4 is a square.
    x = 1
    while pow(x**3 + 4, (q - 1) // 2, q) != 1:
        x += 1
    outside = fp(x) + fp(pow(x**3 + 4, (q + 1) // 4, q))
    a, c = b.G1, b.multiply(b.G1, 5)
    g, h = b.G2, b.multiply(b.G2, 3)
    padded = b"\x01" + p1(a)[1:]  # a non-zero byte in the 16-byte padding
    scalar = u256(2**256 - 5)
    return {
        0x0B: [p1(a) + p1(c), p1(a) + p1(b.neg(a)), bytes(128) + p1(a), outside + p1(a),
               padded + p1(a), p1(a), u256(1) * 4 + p1(a)],
        0x0C: [p1(a) + scalar, p1(a) + scalar + p1(c) + u256(7), bytes(128) + scalar,
               outside + scalar, p1(a), b""],
        0x0D: [p2(g) + p2(h), p2(g) + p2(b.neg(g)), bytes(256) + p2(h), p2(g)],
        0x0E: [p2(g) + scalar, p2(g) + scalar + p2(h) + u256(2), bytes(288), p2(g),
               b"\x01" + p2(g)[1:] + scalar],
        0x0F: [p1(a) + p2(g), p1(a) + p2(g) + p1(b.neg(a)) + p2(g), bytes(384), outside + p2(g),
               b""],
        0x10: [fp(12345), fp(q - 1), fp(q), padded[:64], fp(1)[:63]],
        0x11: [fp(12345) + fp(678), fp(q) + fp(1), fp(0) + fp(0)],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("address", "data"), [(a, d) for a, cases in bls_inputs().items() for d in cases]
)
def test_bls12_381(state, address: int, data: bytes) -> None:  # type: ignore[no-untyped-def]
    same_as_pyevm(state, address, data)


def test_bls12_381_cases_cover_success_and_failure(state) -> None:  # type: ignore[no-untyped-def]
    for address, inputs in bls_inputs().items():
        outcomes = {run(state, RollupComputation, address, data)[0] for data in inputs}
        assert outcomes == {True, False}, hex(address)
