"""The trace: EXECUTE's versioned binary input format, and its codec.

A trace is one RLP list (all integers big-endian, minimal, no leading zeros; all hashes 32
bytes; all addresses 20 bytes)::

    trace    = [version, chain_id, queue, blocks, witness]         version = 1
    queue    = [next_index, rolling_hash]        # where the blocks start consuming the L1 queue
    blocks   = [block, ...]                      # at least one, consecutive
    block    = [number, timestamp, coinbase, gas_limit, base_fee, prev_randao, parent_hash,
                l1_anchor, extra_data, messages, transactions]
    messages = [[kind, index, sender, target, value, gas_limit, data], ...]
    transactions = [signed_tx, ...]              # each in its network encoding (EIP-2718)
    witness  = [state_nodes, codes, headers]     # lists of byte strings; headers oldest first

Decoding is strict: trailing bytes, a wrong shape, a non-canonical integer or a field of the
wrong width are all a :class:`rollupkit.errors.TraceError`. Limits (:data:`LIMITS`) bound the
work a hostile trace can cause before any execution starts.

A trace may travel compressed (:func:`compress_trace`)::

    compressed = 0x02 ‖ one zstd frame of the trace above, its content size in the frame header

0x02 is no RLP list's first byte, so the two never mix. The declared size is read first and
paid for (:func:`input_gas`: EXECUTE charges the compressed bytes and the declared ones, so a
claim that does not cover the declared size is refused before anything is decompressed); it
may be at most :data:`MAX_TRACE_EXPANSION` times the compressed size and
``LIMITS.max_bytes``, and the frame must decompress to exactly that many bytes, with nothing
after it. zstd, because it is the well-kept codec with the best ratio at this speed (python's
``zstandard`` binds the reference library; traces of signed transactions compress about 2x,
less than zlib's ratio at no more decode time), and its frames declare their size, which is
what makes the bound checkable before any work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp
import zstandard
from rlp.sedes import big_endian_int

from rollupkit import rlp_strict
from rollupkit.errors import TraceError, UnsupportedTraceVersion
from rollupkit.metering import SCHEDULE
from rollupkit.types import (
    BlockInput,
    L1Message,
    MessageKind,
    QueuePosition,
    Trace,
    Witness,
)

TRACE_VERSION = 1
#: The first byte of a compressed trace (see the module docstring).
TRACE_ZSTD = 0x02
#: How many times its compressed size a compressed trace may declare (real traces: 2-3x).
MAX_TRACE_EXPANSION = 64


@dataclass(frozen=True)
class TraceLimits:
    """Upper bounds checked while decoding, before any execution."""

    max_bytes: int = 32 * 1024 * 1024
    max_blocks: int = 1024
    max_transactions_per_block: int = 65_536
    max_transaction_bytes: int = 128 * 1024  # as Ethereum's mempools
    max_messages_per_block: int = 4096
    max_message_data: int = 128 * 1024
    max_extra_data: int = 32
    max_headers: int = 257  # the parent plus the 256 blocks BLOCKHASH can reach
    max_header_bytes: int = 1024
    # A trie node under 32 bytes is inlined in its parent, never looked up by hash, so such an
    # entry is useless; refusing it bounds how many entries a trace of a given size can have.
    min_node_bytes: int = 32
    # A full hexary branch node is 532 bytes; a full EIP-7864 stem node record (stem, bitmap
    # and 256 values, see rollupkit_binary.tree) 8,255.
    max_node_bytes: int = 8_255
    max_code_bytes: int = 65_536


LIMITS = TraceLimits()


# --- encoding --------------------------------------------------------------------------------


def message_fields(message: L1Message) -> list[Any]:
    """The RLP structure of one L1 message."""
    return [
        int(message.kind),
        message.index,
        message.sender,
        message.target,
        message.value,
        message.gas_limit,
        message.data,
    ]


def block_fields(block: BlockInput) -> list[Any]:
    """The RLP structure of one block (used by the trace and by the block commitment)."""
    return [
        block.number,
        block.timestamp,
        block.coinbase,
        block.gas_limit,
        block.base_fee,
        block.prev_randao,
        block.parent_hash,
        block.l1_anchor,
        block.extra_data,
        [message_fields(m) for m in block.l1_messages],
        list(block.transactions),
    ]


def encode_trace(trace: Trace) -> bytes:
    """Serialise ``trace`` (see the module docstring for the layout)."""
    return rlp.encode(
        [
            trace.version,
            trace.chain_id,
            [trace.queue_start.index, trace.queue_start.rolling_hash],
            [block_fields(b) for b in trace.blocks],
            [
                list(trace.witness.state_nodes),
                list(trace.witness.codes),
                list(trace.witness.headers),
            ],
        ]
    )


def compress_trace(encoded: bytes, level: int = 15) -> bytes:
    """``encoded`` (a version-1 trace) as a compressed trace. Level 15: on a 1,000-transfer
    trace it is within 0.3% of level 19's size at a fifth of its time (18 ms, not 99)."""
    compressor = zstandard.ZstdCompressor(level=level, write_content_size=True)
    return bytes([TRACE_ZSTD]) + compressor.compress(encoded)


def declared_size(data: bytes, limits: TraceLimits | None = None) -> int | None:
    """The size a compressed trace declares (None for an uncompressed one); raise
    :class:`TraceError` if it declares none, or more than the bounds allow."""
    if not data or data[0] != TRACE_ZSTD:
        return None
    limits = limits or LIMITS
    try:
        size = zstandard.frame_content_size(bytes(data[1:]))
    except zstandard.ZstdError as exc:
        raise TraceError(f"the compressed trace has no zstd frame header: {exc}") from None
    if size < 0:
        raise TraceError("the compressed trace does not declare its size")
    bound = min(limits.max_bytes, MAX_TRACE_EXPANSION * (len(data) - 1))
    if size > bound:
        raise TraceError(
            f"the compressed trace declares {size} bytes, more than {bound} (at most "
            f"{MAX_TRACE_EXPANSION} times its {len(data) - 1} bytes, and {limits.max_bytes})"
        )
    return int(size)


def input_gas(data: bytes) -> int:
    """EXECUTE gas of reading trace ``data``: its bytes, and a compressed trace's declared
    bytes too (paid before decompressing); raise :class:`TraceError` on a bad declaration."""
    return SCHEDULE.trace_bytes(len(data) + (declared_size(data) or 0))


def decompress_trace(data: bytes, limits: TraceLimits | None = None) -> bytes:
    """The version-1 trace a compressed trace holds: exactly its declared size, or
    :class:`TraceError` (decompressing stops one byte past the declaration)."""
    size = declared_size(data, limits)
    if size is None:
        return bytes(data)
    try:
        # Across frames: bytes after the first must be more frames that add nothing (paid
        # for as compressed bytes), or they fail to decompress.
        reader = zstandard.ZstdDecompressor().stream_reader(
            bytes(data[1:]), read_across_frames=True
        )
        out = reader.read(size + 1)
        rest = reader.read(1) if len(out) == size else b""
    except zstandard.ZstdError as exc:
        raise TraceError(f"the compressed trace does not decompress: {exc}") from None
    if len(out) != size or rest:
        held = "more" if len(out) > size or rest else str(len(out))
        raise TraceError(f"the compressed trace declares {size} bytes but holds {held}")
    return bytes(out)


# --- decoding --------------------------------------------------------------------------------


def _list(value: object, what: str, length: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise TraceError(f"{what} must be a list")
    if length is not None and len(value) != length:
        raise TraceError(f"{what} must have {length} items, has {len(value)}")
    return value


def _bytes(value: object, what: str, width: int | None = None, max_len: int | None = None) -> bytes:
    if not isinstance(value, bytes):
        raise TraceError(f"{what} must be a byte string")
    if width is not None and len(value) != width:
        raise TraceError(f"{what} must be {width} bytes, is {len(value)}")
    if max_len is not None and len(value) > max_len:
        raise TraceError(f"{what} is {len(value)} bytes, more than {max_len}")
    return value


def _int(value: object, what: str, bits: int = 256) -> int:
    raw = _bytes(value, what)
    try:
        number: int = big_endian_int.deserialize(raw)
    except rlp.DeserializationError as exc:
        raise TraceError(f"{what} is not a canonical integer") from exc
    if number >= 1 << bits:
        raise TraceError(f"{what} does not fit in {bits} bits")
    return number


def _byte_list(
    value: object,
    what: str,
    max_items: int | None = None,
    *,
    min_len: int = 0,
    max_len: int | None = None,
) -> tuple[bytes, ...]:
    items = _list(value, what)
    if max_items is not None and len(items) > max_items:
        raise TraceError(f"{what} has {len(items)} items, more than {max_items}")
    decoded = tuple(_bytes(item, f"{what}[{i}]", max_len=max_len) for i, item in enumerate(items))
    for i, item in enumerate(decoded):
        if len(item) < min_len:
            raise TraceError(f"{what}[{i}] is {len(item)} bytes, fewer than {min_len}")
    return decoded


def _decode_message(value: object, what: str, limits: TraceLimits) -> L1Message:
    kind, index, sender, target, amount, gas_limit, data = _list(value, what, 7)
    kind_number = _int(kind, f"{what}.kind", 8)
    try:
        message_kind = MessageKind(kind_number)
    except ValueError as exc:
        raise TraceError(f"{what}.kind {kind_number} is not a known message kind") from exc
    return L1Message(
        kind=message_kind,
        index=_int(index, f"{what}.index", 64),
        sender=_bytes(sender, f"{what}.sender", 20),
        target=_bytes(target, f"{what}.target", 20),
        value=_int(amount, f"{what}.value"),
        gas_limit=_int(gas_limit, f"{what}.gas_limit", 64),
        data=_bytes(data, f"{what}.data", max_len=limits.max_message_data),
    )


def _decode_block(value: object, what: str, limits: TraceLimits) -> BlockInput:
    (
        number,
        timestamp,
        coinbase,
        gas_limit,
        base_fee,
        prev_randao,
        parent_hash,
        l1_anchor,
        extra_data,
        messages,
        transactions,
    ) = _list(value, what, 11)
    message_list = _list(messages, f"{what}.messages")
    if len(message_list) > limits.max_messages_per_block:
        raise TraceError(f"{what} has more than {limits.max_messages_per_block} L1 messages")
    return BlockInput(
        number=_int(number, f"{what}.number", 64),
        timestamp=_int(timestamp, f"{what}.timestamp", 64),
        coinbase=_bytes(coinbase, f"{what}.coinbase", 20),
        gas_limit=_int(gas_limit, f"{what}.gas_limit", 64),
        base_fee=_int(base_fee, f"{what}.base_fee"),
        prev_randao=_bytes(prev_randao, f"{what}.prev_randao", 32),
        parent_hash=_bytes(parent_hash, f"{what}.parent_hash", 32),
        l1_anchor=_bytes(l1_anchor, f"{what}.l1_anchor", 32),
        extra_data=_bytes(extra_data, f"{what}.extra_data", max_len=limits.max_extra_data),
        l1_messages=tuple(
            _decode_message(m, f"{what}.messages[{i}]", limits) for i, m in enumerate(message_list)
        ),
        transactions=_byte_list(
            transactions,
            f"{what}.transactions",
            limits.max_transactions_per_block,
            min_len=1,
            max_len=limits.max_transaction_bytes,
        ),
    )


def encode_block(block: BlockInput) -> bytes:
    """One block in the trace's block layout (how a node stores and posts blocks)."""
    return rlp.encode(block_fields(block))


def decode_block(data: bytes, limits: TraceLimits = LIMITS) -> BlockInput:
    """Inverse of :func:`encode_block`; raises :class:`TraceError` on any defect."""
    try:
        item = rlp_strict.decode(data)
    except TraceError as exc:
        raise TraceError(f"the block is not valid RLP: {exc}") from exc
    return _decode_block(item, "block", limits)


def decode_trace(data: bytes, limits: TraceLimits = LIMITS) -> Trace:
    """Parse and structurally check a trace; raise :class:`TraceError` on any defect."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TraceError(f"a trace is bytes, not {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise TraceError("the trace is empty")
    if len(data) > limits.max_bytes:
        raise TraceError(f"the trace is {len(data)} bytes, more than {limits.max_bytes}")
    if data[0] == TRACE_ZSTD:
        data = decompress_trace(data, limits)
        if data[:1] == bytes([TRACE_ZSTD]):
            raise TraceError("a compressed trace holds a trace, not another compressed one")
    try:
        top = rlp_strict.decode(data)
    except TraceError as exc:
        raise TraceError(f"the trace is not valid RLP: {exc}") from exc
    fields = _list(top, "trace")
    if not fields:
        raise TraceError("the trace is an empty list")
    version = _int(fields[0], "version", 64)
    if version != TRACE_VERSION:
        raise UnsupportedTraceVersion(
            f"unsupported trace version {version} (this rollupkit reads {TRACE_VERSION})"
        )
    _, chain_id, queue, blocks, witness = _list(top, "trace", 5)
    queue_index, queue_hash = _list(queue, "queue", 2)
    block_list = _list(blocks, "blocks")
    if not block_list:
        raise TraceError("the trace has no blocks")
    if len(block_list) > limits.max_blocks:
        raise TraceError(f"the trace has more than {limits.max_blocks} blocks")
    nodes, codes, headers = _list(witness, "witness", 3)
    return Trace(
        version=version,
        chain_id=_int(chain_id, "chain_id", 64),
        queue_start=QueuePosition(
            _int(queue_index, "queue.next_index", 64), _bytes(queue_hash, "queue.rolling_hash", 32)
        ),
        blocks=tuple(_decode_block(b, f"blocks[{i}]", limits) for i, b in enumerate(block_list)),
        witness=Witness(
            state_nodes=_byte_list(
                nodes,
                "witness.state_nodes",
                min_len=limits.min_node_bytes,
                max_len=limits.max_node_bytes,
            ),
            codes=_byte_list(codes, "witness.codes", min_len=1, max_len=limits.max_code_bytes),
            headers=_byte_list(
                headers, "witness.headers", limits.max_headers, max_len=limits.max_header_bytes
            ),
        ),
    )


def trace_summary(trace: Trace) -> dict[str, int]:
    """Counts and sizes, for people reading a trace."""
    return {
        "blocks": len(trace.blocks),
        "transactions": sum(len(b.transactions) for b in trace.blocks),
        "l1_messages": sum(len(b.l1_messages) for b in trace.blocks),
        "state_nodes": len(trace.witness.state_nodes),
        "codes": len(trace.witness.codes),
        "headers": len(trace.witness.headers),
        "witness_bytes": trace.witness.size(),
    }


def transactions_bytes(blocks: Sequence[BlockInput]) -> int:
    """Total size of the signed transactions in ``blocks``."""
    return sum(len(tx) for b in blocks for tx in b.transactions)
