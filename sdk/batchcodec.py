"""The batch codec shared by the derivation plugins: L2 blocks ⇄ bytes posted on L1.

A batch is one byte string::

    batch = version (1 byte, 1) ‖ compression (1 byte) ‖ compress(rlp([chain_id, blocks]))
    block = [number, timestamp, coinbase, gas_limit, base_fee, prev_randao, parent_hash,
             l1_anchor, extra_data, first_message_index, message_count, transactions]

L1 messages are not copied: they are on L1 already, in the bridge's queue, and a block names
the run it consumed. Decoding therefore takes the queue (``message_at``) and gives back the
exact blocks that were encoded. Compression is ``none``, ``zlib`` or ``zstd``; decompression
stops at :func:`max_expansion` of the compressed size (64 times it, at least 1 MiB, at most
:data:`MAX_BATCH_BYTES`), so a small hostile batch cannot cost a follower more time or memory
than its size warrants (real batches of signed transactions compress about 2 times).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import rlp
import zstandard

from rollupkit import rlp_strict
from rollupkit.errors import TraceError
from rollupkit.trace import LIMITS, block_fields, decode_block, message_fields
from rollupkit.types import BlockInput, L1Message

BATCH_VERSION = 1
COMPRESSIONS = {"none": 0, "zlib": 1, "zstd": 2}
#: The largest a batch may decompress to.
MAX_BATCH_BYTES = LIMITS.max_bytes
#: How much larger than its compressed size a batch may decompress to, and the floor of that.
MAX_EXPANSION_RATIO = 64
MIN_EXPANSION_LIMIT = 1024 * 1024


def max_expansion(compressed_size: int) -> int:
    """The most ``compressed_size`` bytes of batch may decompress to."""
    return min(MAX_BATCH_BYTES, max(MIN_EXPANSION_LIMIT, MAX_EXPANSION_RATIO * compressed_size))


def compress(data: bytes, method: str) -> bytes:
    """Compress with ``method`` (none, zlib, zstd)."""
    if method == "none":
        return data
    if method == "zlib":
        return zlib.compress(data, 9)
    if method == "zstd":
        return zstandard.ZstdCompressor(level=19).compress(data)
    raise ValueError(f"unknown compression {method!r} (use {', '.join(COMPRESSIONS)})")


def decompress(data: bytes, method_id: int) -> bytes:
    """Inverse of :func:`compress`, refusing output over :func:`max_expansion` of the input."""
    limit = max_expansion(len(data))
    try:
        if method_id == COMPRESSIONS["none"]:
            out = data
        elif method_id == COMPRESSIONS["zlib"]:
            inflater = zlib.decompressobj()
            out = inflater.decompress(data, limit + 1)
            if inflater.unconsumed_tail or not inflater.eof:
                raise TraceError(
                    f"zlib batch is truncated or decompresses to more than {limit} bytes"
                )
        elif method_id == COMPRESSIONS["zstd"]:
            reader = zstandard.ZstdDecompressor().stream_reader(data)
            out = reader.read(limit + 1)
        else:
            raise TraceError(f"unknown compression id {method_id}")
    except (zlib.error, zstandard.ZstdError) as exc:
        raise TraceError(f"batch does not decompress: {exc}") from exc
    if len(out) > limit:
        raise TraceError(
            f"a batch of {len(data)} bytes decompresses to more than {limit} bytes "
            f"({MAX_EXPANSION_RATIO} times its size, at least {MIN_EXPANSION_LIMIT})"
        )
    return out


def encode_blocks(chain_id: int, blocks: Sequence[BlockInput], compression: str = "none") -> bytes:
    """Encode ``blocks`` as one batch."""
    items = []
    for block in blocks:
        fields = block_fields(block)
        first = block.l1_messages[0].index if block.l1_messages else 0
        items.append([*fields[:9], first, len(block.l1_messages), fields[10]])
    body = rlp.encode([chain_id, items])
    return bytes([BATCH_VERSION, COMPRESSIONS[compression]]) + compress(body, compression)


def _int(item: object, what: str) -> int:
    if not isinstance(item, bytes) or (item and item[0] == 0):
        raise TraceError(f"batch {what} is not a canonical integer")
    return int.from_bytes(item, "big")


def decode_blocks(
    chain_id: int, batch: bytes, message_at: Callable[[int], L1Message]
) -> list[BlockInput]:
    """Decode a batch back into its blocks, taking their L1 messages from the queue;
    raise :class:`TraceError` if it is malformed or for another chain."""
    if len(batch) < 2 or batch[0] != BATCH_VERSION:
        raise TraceError("not a version-1 rollupkit batch")
    body = rlp_strict.decode(decompress(batch[2:], batch[1]))
    if not isinstance(body, list) or len(body) != 2 or not isinstance(body[1], list):
        raise TraceError("batch body is not [chain_id, blocks]")
    if _int(body[0], "chain id") != chain_id:
        raise TraceError("the batch is for another chain")
    blocks = []
    for item in body[1]:
        if not isinstance(item, list) or len(item) != 12:
            raise TraceError("a batch block must have 12 fields")
        first = _int(item[9], "first message index")
        count = _int(item[10], "message count")
        if count > LIMITS.max_messages_per_block:
            raise TraceError("a batch block consumes too many L1 messages")
        try:
            messages = [message_at(first + i) for i in range(count)]
        except (KeyError, IndexError) as exc:
            raise TraceError(f"the batch consumes L1 message {exc} that is not queued") from exc
        fields = [*item[:9], [message_fields(m) for m in messages], item[11]]
        blocks.append(decode_block(rlp.encode(fields)))
    return blocks
