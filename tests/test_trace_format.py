"""The trace codec: strict, versioned, bounded, and a faithful round trip."""

from __future__ import annotations

import re

import pytest
import rlp

from rollupkit.errors import TraceError
from rollupkit.trace import LIMITS, TraceLimits, decode_trace, encode_trace
from rollupkit.types import BlockInput, L1Message, MessageKind, QueuePosition, Trace, Witness

BLOCK = BlockInput(
    number=7,
    timestamp=1_700_000_123,
    coinbase=b"\x01" * 20,
    gas_limit=30_000_000,
    base_fee=875_000_000,
    prev_randao=b"\x02" * 32,
    parent_hash=b"\x03" * 32,
    l1_anchor=b"\x04" * 32,
    extra_data=b"hi",
    l1_messages=(
        L1Message(MessageKind.DEPOSIT, 5, b"\x05" * 20, b"\x06" * 20, 10**18, 100_000, b"\xaa"),
        L1Message(MessageKind.FORCED_TX, 6, b"\x07" * 20, b"\x00" * 20, 0, 0, b"\x02\xc0"),
    ),
    transactions=(b"\x02\xf8\x01", b"\xf8\x02"),
)
TRACE = Trace(
    chain_id=42_424,
    queue_start=QueuePosition(5, b"\x09" * 32),
    blocks=(BLOCK,),
    witness=Witness(
        (b"\xe2" + b"\x11" * 34, b"\xf8\x51" + b"\x22" * 81),
        (b"\x60\x00",),
        (b"\xf9\x02\x10" + b"\x33" * 528,),
    ),
)


def test_round_trip() -> None:
    encoded = encode_trace(TRACE)
    assert decode_trace(encoded) == TRACE
    assert encode_trace(decode_trace(encoded)) == encoded


def _fields() -> list:  # type: ignore[type-arg]
    return rlp.decode(encode_trace(TRACE))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f.__setitem__(0, b"\x02"), "unsupported trace version 2"),
        (lambda f: f.__setitem__(1, b"\x00\x01"), "chain_id is not a canonical integer"),
        (lambda f: f[3][0].__setitem__(2, b"\x01" * 19), "coinbase must be 20 bytes"),
        (lambda f: f[3][0].__setitem__(6, b"\x01" * 31), "parent_hash must be 32 bytes"),
        (lambda f: f[3][0].__setitem__(8, b"x" * 33), "extra_data is 33 bytes, more than 32"),
        (lambda f: f[3][0][9][0].__setitem__(0, b"\x07"), "not a known message kind"),
        (lambda f: f[3][0].pop(), "must have 11 items"),
        (lambda f: f.__setitem__(3, []), "the trace has no blocks"),
        (lambda f: f[4].__setitem__(0, b"\x01"), "witness.state_nodes must be a list"),
        (lambda f: f[3][0].__setitem__(10, [[b"\x01"]]), "transactions[0] must be a byte string"),
        (lambda f: f[4][0].append(b"\x01" * 31), "state_nodes[2] is 31 bytes, fewer than 32"),
        (lambda f: f[4][2].append(b"\x01" * 1025), "headers[1] is 1025 bytes, more than 1024"),
        (
            lambda f: f[3][0][10].append(b"\x02" * (128 * 1024 + 1)),
            "is 131073 bytes, more than 131072",
        ),
        (lambda f: f.__setitem__(2, [b"\x01"]), "queue must have 2 items"),
    ],
)
def test_structural_defects_are_named(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    fields = _fields()
    mutate(fields)
    with pytest.raises(TraceError, match=re.escape(message)):
        decode_trace(rlp.encode(fields))


def test_trailing_bytes_empty_input_and_non_bytes_are_refused() -> None:
    encoded = encode_trace(TRACE)
    with pytest.raises(TraceError, match="not valid RLP: 1 bytes follow"):
        decode_trace(encoded + b"\x00")
    with pytest.raises(TraceError, match="not canonical"):
        decode_trace(b"\x81\x05")  # a byte below 0x80 must stand for itself
    with pytest.raises(TraceError, match="not canonical"):
        decode_trace(b"\xb8\x05hello")  # long form for a short string
    with pytest.raises(TraceError, match="nested more than 16"):
        nested: list = []  # type: ignore[type-arg]
        for _ in range(17):
            nested = [nested]
        decode_trace(rlp.encode(nested))
    with pytest.raises(TraceError, match="empty"):
        decode_trace(b"")
    with pytest.raises(TraceError, match="bytes, not str"):
        decode_trace("0x00")  # type: ignore[arg-type]


def test_limits_bound_the_work_before_execution() -> None:
    encoded = encode_trace(TRACE)
    with pytest.raises(TraceError, match=f"is {len(encoded)} bytes, more than 10"):
        decode_trace(encoded, TraceLimits(max_bytes=10))
    many = Trace(TRACE.chain_id, TRACE.queue_start, (BLOCK,) * 3, TRACE.witness)
    with pytest.raises(TraceError, match="more than 2 blocks"):
        decode_trace(encode_trace(many), TraceLimits(max_blocks=2))
    assert LIMITS.max_headers == 257
