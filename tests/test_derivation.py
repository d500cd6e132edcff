"""Derivation plugins: L2 blocks ⇄ L1 data, with every compression, and hostile data refused."""

from __future__ import annotations

import zlib

import pytest

from rollupkit.batchcodec import MAX_BATCH_BYTES, decode_blocks, encode_blocks
from rollupkit.errors import TraceError
from rollupkit.plugins import get_registry
from rollupkit.testing.evm import EvmScenario, calldata
from rollupkit_blobs import BYTES_PER_BLOB, from_blobs, to_blobs


@pytest.fixture(scope="module")
def built():  # type: ignore[no-untyped-def]
    s = EvmScenario.create(wallets=6)
    w = s.wallets
    s.chain.deposit(w[5].address, 10**18)
    s.chain.deposit(s.store, 0, data=calldata("set(uint256,uint256)", 1, 2), gas_limit=80_000)
    first = s.chain.build(transactions=[w[1].transfer(w[2].address, i + 1) for i in range(20)])
    s.chain.force_transaction(w[3].transfer(w[4].address, 7))
    second = s.chain.build(transactions=[s.token_transfer(w[0], w[1].address, 3)])
    return s, [*first.trace.blocks, *second.trace.blocks]


@pytest.mark.parametrize("name", ["calldata", "blobs"])
@pytest.mark.parametrize("compression", ["none", "zlib", "zstd"])
def test_round_trip_restores_the_exact_blocks(built, name: str, compression: str) -> None:  # type: ignore[no-untyped-def]
    scenario, blocks = built
    derivation = get_registry().create("derivation", name)
    queue = scenario.chain.l1_queue
    payloads = derivation.encode_batch(scenario.chain.chain_id, blocks, compression=compression)
    if name == "blobs":
        assert all(len(p) == BYTES_PER_BLOB for p in payloads)
    assert derivation.decode_batch(scenario.chain.chain_id, payloads, queue.__getitem__) == blocks
    with pytest.raises(TraceError, match="another chain"):
        derivation.decode_batch(1, payloads, queue.__getitem__)


def test_compression_shrinks_and_messages_are_not_copied(built) -> None:  # type: ignore[no-untyped-def]
    _scenario, blocks = built
    sizes = {c: len(encode_blocks(42_424, blocks, c)) for c in ("none", "zlib", "zstd")}
    assert sizes["zlib"] < sizes["none"] and sizes["zstd"] < sizes["none"]
    forced = blocks[1].l1_messages[0].data
    assert forced not in encode_blocks(42_424, blocks, "none")  # taken from the queue instead


def test_hostile_batches_are_refused(built) -> None:  # type: ignore[no-untyped-def]
    scenario, blocks = built
    queue = scenario.chain.l1_queue
    good = encode_blocks(42_424, blocks, "zlib")
    bomb = bytes([1, 1]) + zlib.compress(b"\x00" * (MAX_BATCH_BYTES + 10))
    for bad, message in [
        (b"", "not a version-1"),
        (b"\x02\x00", "not a version-1"),
        (good[:-5], "truncated"),
        (bytes([1, 9]) + good[2:], "unknown compression"),
        (bomb, "decompresses to more than"),
    ]:
        with pytest.raises(TraceError, match=message):
            decode_blocks(42_424, bad, queue.__getitem__)
    with pytest.raises(TraceError, match="not queued"):
        decode_blocks(42_424, good, queue[:1].__getitem__)


def test_blob_framing_round_trips_and_checks_field_elements() -> None:
    data = bytes(range(256)) * 1000
    blobs = to_blobs(data)
    assert len(blobs) == 3 and from_blobs(blobs) == data
    broken = bytearray(blobs[0])
    broken[32] = 1  # a field element must start with a zero byte (below the BLS modulus)
    with pytest.raises(TraceError, match="zero byte"):
        from_blobs([bytes(broken), *blobs[1:]])
