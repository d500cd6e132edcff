"""rollupkit's ``blobs`` derivation: batches in EIP-4844 blobs.

A batch (``rollupkit.batchcodec``) is prefixed with its 4-byte length and spread over blobs of
4096 field elements; each element carries 31 bytes after a zero byte, so every element is
below the BLS modulus whatever the data. The poster commits to the blobs with real KZG
(``ckzg``, through eth-account's blob transactions). Blob data can only be pointed at from the
EVM, never read: pair blobs with attestations or fraud proofs, not with EXECUTE re-execution.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rollupkit.batchcodec import decode_blocks, encode_blocks
from rollupkit.errors import TraceError
from rollupkit.interfaces import Derivation
from rollupkit.plugins import hookimpl
from rollupkit.types import BlockInput, L1Message

FIELD_ELEMENTS_PER_BLOB = 4096
BYTES_PER_BLOB = 32 * FIELD_ELEMENTS_PER_BLOB
USABLE_BYTES_PER_BLOB = 31 * FIELD_ELEMENTS_PER_BLOB
MAX_BLOBS_PER_BATCH = 6


def to_blobs(data: bytes) -> list[bytes]:
    """Spread ``len(data) ‖ data`` over as many blobs as needed (31 bytes per element)."""
    framed = len(data).to_bytes(4, "big") + data
    blobs = []
    for start in range(0, len(framed), USABLE_BYTES_PER_BLOB):
        chunk = framed[start : start + USABLE_BYTES_PER_BLOB]
        chunk += b"\x00" * (USABLE_BYTES_PER_BLOB - len(chunk))
        blobs.append(
            b"".join(b"\x00" + chunk[i : i + 31] for i in range(0, USABLE_BYTES_PER_BLOB, 31))
        )
    return blobs


def from_blobs(blobs: Sequence[bytes]) -> bytes:
    """Inverse of :func:`to_blobs`; raise :class:`TraceError` on malformed blobs."""
    parts = []
    for blob in blobs:
        if len(blob) != BYTES_PER_BLOB:
            raise TraceError(f"a blob is {BYTES_PER_BLOB} bytes, got {len(blob)}")
        for i in range(0, BYTES_PER_BLOB, 32):
            if blob[i] != 0:
                raise TraceError("a blob field element does not start with a zero byte")
            parts.append(blob[i + 1 : i + 32])
    framed = b"".join(parts)
    length = int.from_bytes(framed[:4], "big")
    if length > len(framed) - 4:
        raise TraceError("the blob data is shorter than its length prefix")
    return framed[4 : 4 + length]


class BlobDerivation(Derivation):
    """Batches in EIP-4844 blobs (none, zlib or zstd compression)."""

    description = "batches in EIP-4844 blobs, KZG-committed (compression: none, zlib, zstd)"
    carrier = "blobs"

    def encode_batch(
        self, chain_id: int, blocks: Sequence[BlockInput], *, compression: str = "none"
    ) -> list[bytes]:
        blobs = to_blobs(encode_blocks(chain_id, blocks, compression))
        if len(blobs) > MAX_BLOBS_PER_BATCH:
            raise TraceError(
                f"the batch needs {len(blobs)} blobs, more than one L1 transaction carries "
                f"({MAX_BLOBS_PER_BATCH}): batch fewer blocks"
            )
        return blobs

    def decode_batch(
        self, chain_id: int, payloads: Sequence[bytes], message_at: Callable[[int], L1Message]
    ) -> list[BlockInput]:
        return decode_blocks(chain_id, from_blobs(payloads), message_at)


@hookimpl
def rollupkit_register_derivations() -> list[tuple[str, type[Derivation]]]:
    return [("blobs", BlobDerivation)]
