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
