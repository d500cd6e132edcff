"""rollupkit's ``calldata`` derivation: each batch is the calldata of one L1 transaction
(``rollupkit.batchcodec``: blocks without their L1 messages, optionally compressed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rollupkit.batchcodec import decode_blocks, encode_blocks
from rollupkit.errors import TraceError
from rollupkit.interfaces import Derivation
from rollupkit.plugins import hookimpl
from rollupkit.types import BlockInput, L1Message


class CalldataDerivation(Derivation):
    """Batches in L1 calldata (none, zlib or zstd compression)."""

    description = "batches in L1 calldata (compression: none, zlib, zstd)"
    carrier = "calldata"

    def encode_batch(
        self, chain_id: int, blocks: Sequence[BlockInput], *, compression: str = "none"
    ) -> list[bytes]:
        return [encode_blocks(chain_id, blocks, compression)]

    def decode_batch(
        self, chain_id: int, payloads: Sequence[bytes], message_at: Callable[[int], L1Message]
    ) -> list[BlockInput]:
        if len(payloads) != 1:
            raise TraceError(f"a calldata batch is one payload, got {len(payloads)}")
        return decode_blocks(chain_id, payloads[0], message_at)


@hookimpl
def rollupkit_register_derivations() -> list[tuple[str, type[Derivation]]]:
    return [("calldata", CalldataDerivation)]
