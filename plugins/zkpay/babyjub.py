"""Baby Jubjub and EdDSA over it with Poseidon: circomlib's ``eddsaposeidon.circom``.

Baby Jubjub is the twisted Edwards curve ``a·x² + y² = 1 + d·x²·y²`` over BN254's scalar
field, so a circuit on BN254 does its arithmetic natively: verifying one signature costs a few
thousand constraints where ECDSA over secp256k1 costs over a million. The zkpay chain's owners
sign with it.

:func:`verify` accepts exactly what the circuit accepts (``EdDSAPoseidonVerifier`` plus the
on-curve checks zkpay's circuit adds): both points on the curve, ``S`` below the subgroup
order, ``8·A`` not the identity, and ``S·B8 = R8 + (8·h)·A`` with
``h = Poseidon(R8x, R8y, Ax, Ay, msg)``. Signing follows circomlibjs's ``signPoseidon`` except
that the secret scalar and the nonce are derived with BLAKE2b-512 (in the standard library)
where circomlibjs uses BLAKE-512 (which has no maintained Python package): keys made here and
there differ, their signatures verify the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rollupkit_zkpay.poseidon import FIELD, poseidon

A = 168700
D = 168696
#: The order of the prime subgroup; the curve's order is 8 times it.
SUBORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041
#: circomlib's ``Base8``: a generator of the prime subgroup.
BASE8 = (
    5299619240641551281634865583518297030282874472190772894086521144482721001553,
    16950150798460657717958625567821834550301663161624707787222815936182638968203,
)
IDENTITY = (0, 1)

Point = tuple[int, int]


def on_curve(point: Point) -> bool:
    x, y = point
    if not (0 <= x < FIELD and 0 <= y < FIELD):
        return False
    xx, yy = x * x % FIELD, y * y % FIELD
    return (A * xx + yy - 1 - D * xx % FIELD * yy) % FIELD == 0


def add(p: Point, q: Point) -> Point:
    """The sum of two points (the complete twisted Edwards addition law)."""
    (x1, y1), (x2, y2) = p, q
    t = D * x1 % FIELD * x2 % FIELD * y1 % FIELD * y2 % FIELD
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, FIELD) % FIELD
    y3 = (y1 * y2 - A * x1 * x2) * pow(1 - t, -1, FIELD) % FIELD
    return x3, y3


def multiply(point: Point, scalar: int) -> Point:
    """``scalar · point``, in projective coordinates (one inversion at the end)."""
    q = FIELD
    rx, ry, rz = 0, 1, 1  # the identity
    px, py, pz = point[0], point[1], 1
    while scalar:
        if scalar & 1:
            rx, ry, rz = _projective_add(rx, ry, rz, px, py, pz)
        px, py, pz = _projective_add(px, py, pz, px, py, pz)
        scalar >>= 1
    inverse = pow(rz, -1, q)
    return rx * inverse % q, ry * inverse % q


def _double_multiply(p: Point, a: int, q: Point, b: int) -> Point:
    """``a·p + b·q`` in one pass over the scalars' bits (Straus-Shamir): the doublings are
    shared, so it costs about 60% of two :func:`multiply` calls (a signature check's
    bulk, run for every transaction the mempool admits and every block re-executed)."""
    m = FIELD
    both = _projective_add(p[0], p[1], 1, q[0], q[1], 1)
    table = {1: (p[0], p[1], 1), 2: (q[0], q[1], 1), 3: both}
    rx, ry, rz = 0, 1, 1
    for bit in range(max(a.bit_length(), b.bit_length()) - 1, -1, -1):
        rx, ry, rz = _projective_add(rx, ry, rz, rx, ry, rz)
        pick = ((a >> bit) & 1) | (((b >> bit) & 1) << 1)
        if pick:
            rx, ry, rz = _projective_add(rx, ry, rz, *table[pick])
    inverse = pow(rz, -1, m)
    return rx * inverse % m, ry * inverse % m


def _projective_add(x1: int, y1: int, z1: int, x2: int, y2: int, z2: int) -> tuple[int, int, int]:
    # add-2008-bbjlp (Bernstein, Birkner, Joye, Lange, Peters): complete on this curve.
    q = FIELD
    a = z1 * z2 % q
    b = a * a % q
    c = x1 * x2 % q
    d = y1 * y2 % q
    e = D * c % q * d % q
    f = (b - e) % q
    g = (b + e) % q
    x3 = a * f % q * ((x1 + y1) * (x2 + y2) - c - d) % q
    y3 = a * g % q * (d - A * c) % q
    return x3, y3, f * g % q


@dataclass(frozen=True)
class Signature:
    r8: Point
    s: int


@dataclass(frozen=True)
class PrivateKey:
    """A 32-byte secret; its scalar and nonce key come from BLAKE2b-512 of it."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != 32:
            raise ValueError("a Baby Jubjub private key is 32 bytes")

    def _expanded(self) -> tuple[int, bytes]:
        digest = hashlib.blake2b(self.secret, digest_size=64).digest()
        pruned = bytearray(digest[:32])
        pruned[0] &= 0xF8  # a multiple of 8: the result lands in the prime subgroup
        pruned[31] &= 0x7F
        pruned[31] |= 0x40
        return int.from_bytes(pruned, "little"), digest[32:]

    @property
    def public_key(self) -> Point:
        scalar, _ = self._expanded()
        return multiply(BASE8, scalar >> 3)

    def sign(self, message: int) -> Signature:
        """Sign ``message``, a field element (zkpay signs the Poseidon hash of a transaction)."""
        if not 0 <= message < FIELD:
            raise ValueError("the message must be a field element")
        scalar, nonce_key = self._expanded()
        digest = hashlib.blake2b(nonce_key + message.to_bytes(32, "little"), digest_size=64)
        r = int.from_bytes(digest.digest(), "little") % SUBORDER
        r8 = multiply(BASE8, r)
        public = multiply(BASE8, scalar >> 3)
        h = poseidon([r8[0], r8[1], public[0], public[1], message])
        return Signature(r8, (r + h * scalar) % SUBORDER)


def verify(public: Point, message: int, signature: Signature) -> bool:
    """Whether ``signature`` by ``public`` over ``message`` holds, as the circuit decides it.
    Never raises."""
    r8, s = signature.r8, signature.s
    if not (on_curve(public) and on_curve(r8) and 0 <= message < FIELD and 0 <= s < SUBORDER):
        return False
    eight_a = multiply(public, 8)
    if eight_a[0] == 0:  # 8·A is the identity (or (0, -1)): A has small order, no key
        return False
    h = poseidon([r8[0], r8[1], public[0], public[1], message])
    # S·B8 = R8 + h·(8A), checked as S·B8 + h·(-8A) = R8 (-(x, y) is (-x, y) on this curve).
    minus_eight_a = ((FIELD - eight_a[0]) % FIELD, eight_a[1])
    return _double_multiply(BASE8, s, minus_eight_a, h) == r8
