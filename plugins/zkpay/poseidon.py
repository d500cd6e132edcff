"""Poseidon over BN254's scalar field, exactly as circomlib's ``poseidon.circom`` computes it.

The zkpay chain hashes everything a circuit must recompute with Poseidon (its tree, its
accounts, the messages its owners sign), because a Poseidon permutation costs about 240
constraints where Keccak costs ~150,000. This module is the reference the circuit is checked
against (tests compare it with circomlib's circuit and with ``circomlibjs``), so it follows the
circuit's own optimised schedule (full rounds with the MDS matrix ``M``, the matrix ``P``
entering the partial rounds, partial rounds with the sparse matrices ``S``) rather than the
textbook one: both give the same permutation, this one in a third of the multiplications.

The round constants are circomlib's (generated with the Grain LFSR of the Poseidon paper),
copied into ``poseidon_constants.json`` by :func:`constants_from_circomlib` for the widths the
zkpay chain uses; a test re-derives them from the circomlib the circuit compiles with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

#: BN254's scalar field: every circom signal lives in it.
FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617

#: Partial rounds by width t = inputs + 1 (circomlib's table, from the Poseidon paper).
PARTIAL_ROUNDS = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
FULL_ROUNDS = 8
#: The input counts whose constants ship with rollupkit (widths 2 to 7).
SUPPORTED_INPUTS = range(1, 7)

CONSTANTS_FILE = Path(__file__).with_name("poseidon_constants.json")


@cache
def _constants(t: int) -> tuple[list[int], list[int], list[list[int]], list[list[int]]]:
    table = json.loads(CONSTANTS_FILE.read_text())[str(t)]

    def ints(values: list[str]) -> list[int]:
        return [int(v, 16) for v in values]

    return (
        ints(table["C"]),
        ints(table["S"]),
        [ints(row) for row in table["M"]],
        [ints(row) for row in table["P"]],
    )


def poseidon(inputs: Sequence[int]) -> int:
    """Poseidon of 1 to 6 field elements (circomlib's ``Poseidon(n)``); every input must be
    below :data:`FIELD` (a circuit could not take a larger one)."""
    n = len(inputs)
    if n not in SUPPORTED_INPUTS:
        raise ValueError(f"Poseidon takes 1 to 6 inputs here, not {n}")
    for value in inputs:
        if not 0 <= value < FIELD:
            raise ValueError(f"{value} is not a field element")
    if n == 2:  # the tree's pairs: most of zkpay's hashing
        return _poseidon2(inputs[0], inputs[1])
    t = n + 1
    c, s, m, p = _constants(t)
    partial = PARTIAL_ROUNDS[t - 2]
    half = FULL_ROUNDS // 2
    q = FIELD
    state = [(v + c[i]) % q for i, v in enumerate([0, *inputs])]

    def mix(matrix: list[list[int]], values: list[int]) -> list[int]:
        # circom's Mix: out[i] = sum_j M[j][i] * in[j].
        return [sum(matrix[j][i] * values[j] for j in range(t)) % q for i in range(t)]

    for r in range(half - 1):
        state = [pow(v, 5, q) for v in state]
        state = mix(m, [(v + c[(r + 1) * t + i]) for i, v in enumerate(state)])
    state = [pow(v, 5, q) for v in state]
    state = mix(p, [(v + c[half * t + i]) for i, v in enumerate(state)])
    width = 2 * t - 1
    for r in range(partial):
        first = (pow(state[0], 5, q) + c[(half + 1) * t + r]) % q
        row = s[width * r : width * (r + 1)]
        head = (row[0] * first + sum(row[i] * state[i] for i in range(1, t))) % q
        state = [head] + [(state[i] + first * row[t + i - 1]) % q for i in range(1, t)]
    for r in range(half - 1):
        state = [pow(v, 5, q) for v in state]
        offset = (half + 1) * t + partial + r * t
        state = mix(m, [(v + c[offset + i]) for i, v in enumerate(state)])
    state = [pow(v, 5, q) for v in state]
    return sum(m[j][0] * state[j] for j in range(t)) % q


@cache
def _schedule2() -> tuple[Any, ...]:
    """:func:`poseidon`'s schedule for two inputs (t = 3), flattened for :func:`_poseidon2`:
    the round constants per full round, the matrices row by row, and per partial round its
    constant and sparse-matrix entries."""
    c, s, m, p = _constants(3)
    partial = PARTIAL_ROUNDS[1]
    half = FULL_ROUNDS // 2
    full_in = [tuple(c[(r + 1) * 3 : (r + 2) * 3]) for r in range(half)]
    base = (half + 1) * 3 + partial
    full_out = [tuple(c[base + r * 3 : base + (r + 1) * 3]) for r in range(half - 1)]
    rounds = tuple((c[(half + 1) * 3 + r], *s[5 * r : 5 * r + 5]) for r in range(partial))
    # mix: out[i] = sum_j M[j][i] * in[j], so column i of the stored matrix makes output i.
    columns = tuple(tuple(m[j][i] for j in range(3)) for i in range(3))
    p_columns = tuple(tuple(p[j][i] for j in range(3)) for i in range(3))
    return tuple(c[:3]), tuple(full_in), columns, p_columns, rounds, tuple(full_out)


def _poseidon2(a: int, b: int) -> int:
    """:func:`poseidon` of two inputs, unrolled (the same schedule: full rounds with ``M``,
    ``P`` into the partial rounds, sparse partial rounds), about twice as fast."""
    q = FIELD
    start, full_in, columns, p_columns, rounds, full_out = _schedule2()
    (m00, m10, m20), (m01, m11, m21), (m02, m12, m22) = columns
    s0, s1, s2 = start[0], (a + start[1]) % q, (b + start[2]) % q
    for number, (c0, c1, c2) in enumerate(full_in):
        x0 = pow(s0, 5, q) + c0
        x1 = pow(s1, 5, q) + c1
        x2 = pow(s2, 5, q) + c2
        if number == len(full_in) - 1:  # the last first-half round mixes with P
            (m00, m10, m20), (m01, m11, m21), (m02, m12, m22) = p_columns
        s0 = (m00 * x0 + m10 * x1 + m20 * x2) % q
        s1 = (m01 * x0 + m11 * x1 + m21 * x2) % q
        s2 = (m02 * x0 + m12 * x1 + m22 * x2) % q
    for c, r0, r1, r2, v1, v2 in rounds:
        # s1 and s2 only accumulate here: reduced once after the rounds (s0 feeds pow).
        first = pow(s0, 5, q) + c
        s0 = (r0 * first + r1 * s1 + r2 * s2) % q
        s1 += first * v1
        s2 += first * v2
    s1, s2 = s1 % q, s2 % q
    (m00, m10, m20), (m01, m11, m21), (m02, m12, m22) = columns
    for c0, c1, c2 in full_out:
        x0 = pow(s0, 5, q) + c0
        x1 = pow(s1, 5, q) + c1
        x2 = pow(s2, 5, q) + c2
        s0 = (m00 * x0 + m10 * x1 + m20 * x2) % q
        s1 = (m01 * x0 + m11 * x1 + m21 * x2) % q
        s2 = (m02 * x0 + m12 * x1 + m22 * x2) % q
    return (m00 * pow(s0, 5, q) + m10 * pow(s1, 5, q) + m20 * pow(s2, 5, q)) % q


def constants_from_circomlib(source: str, widths: Sequence[int]) -> dict[str, dict[str, object]]:
    """The constants of ``widths`` from the text of circomlib's ``poseidon_constants.circom``,
    hex strings as :data:`CONSTANTS_FILE` stores them."""
    functions = {
        name: body
        for name, body in re.findall(r"function POSEIDON_(\w)\(t\) \{(.*?)\n\}", source, re.S)
    }
    out: dict[str, dict[str, object]] = {}
    for t in widths:
        table: dict[str, object] = {}
        for name in "CSMP":
            cases = re.split(r"if \(t ?== ?(\d+)\)", functions[name])
            body = dict(zip(cases[1::2], cases[2::2], strict=True))[str(t)]
            body = body.split("} else")[0]
            numbers = [hex(int(x, 16)) for x in re.findall(r"0x[0-9a-fA-F]+", body)]
            if name in "MP":
                table[name] = [numbers[i * t : (i + 1) * t] for i in range(t)]
            else:
                table[name] = numbers
        out[str(t)] = table
    return out


def write_constants(circomlib_circuits: Path) -> None:
    """Regenerate :data:`CONSTANTS_FILE` from a circomlib checkout's ``circuits`` folder."""
    source = (circomlib_circuits / "poseidon_constants.circom").read_text()
    widths = [n + 1 for n in SUPPORTED_INPUTS]
    CONSTANTS_FILE.write_text(json.dumps(constants_from_circomlib(source, widths)) + "\n")
