"""Compressed traces (issue 16): EXECUTE takes a trace as one zstd frame behind 0x02, pays for
its declared size before decompressing, and refuses a frame that lies about its size, expands
past the bound, or carries anything after it; uncompressed traces still verify."""

from __future__ import annotations

import time

import pytest
import zstandard

from rollupkit import execute_detailed
from rollupkit.builder import BuiltTrace
from rollupkit.examples.evm import EvmScenario
from rollupkit.metering import SCHEDULE
from rollupkit.trace import (
    MAX_TRACE_EXPANSION,
    TRACE_ZSTD,
    compress_trace,
    declared_size,
    decode_trace,
    input_gas,
)
from rollupkit.types import RejectReason


def _batch(compress: bool) -> tuple[EvmScenario, BuiltTrace]:
    scenario = EvmScenario.create(wallets=8)
    w = scenario.wallets
    txs = [w[i % 4].transfer(w[4 + i % 4].address, 1 + i) for i in range(40)]
    return scenario, scenario.chain.build(transactions=txs, compress=compress, commit=False)


def _with_declared(compressed: bytes, size: int) -> bytes:
    """``compressed`` with its zstd frame header declaring ``size`` bytes instead."""
    frame = bytearray(compressed[1:])
    descriptor = frame[4]
    single_segment = bool(descriptor & 0x20)
    field = {0: 1 if single_segment else 0, 1: 2, 2: 4, 3: 8}[descriptor >> 6]
    offset = 5 + (0 if single_segment else 1) + {0: 0, 1: 1, 2: 2, 3: 4}[descriptor & 3]
    value = size - 256 if field == 2 else size
    frame[offset : offset + field] = value.to_bytes(field, "little")
    return bytes([TRACE_ZSTD]) + bytes(frame)


def test_a_compressed_trace_verifies_and_decodes_to_the_same_trace() -> None:
    _, plain = _batch(compress=False)
    _, packed = _batch(compress=True)
    # Signatures and trie hashes do not compress: about 0.6 of the size here.
    assert packed.encoded[0] == TRACE_ZSTD and len(packed.encoded) < 0.8 * len(plain.encoded)
    assert decode_trace(packed.encoded) == plain.trace
    assert declared_size(packed.encoded) == len(plain.encoded)
    result = execute_detailed(*packed.execute_args())
    assert result.ok, (result.reason, result.detail)
    # The same transition; the claim pays for the compressed bytes and the declared ones.
    assert packed.outputs.post_state_root == plain.outputs.post_state_root
    extra = SCHEDULE.trace_bytes(len(packed.encoded))
    assert packed.gas_used - plain.gas_used == extra
    # An uncompressed trace still verifies as it always did.
    assert execute_detailed(*plain.execute_args()).ok


def _refused(built: BuiltTrace, trace: bytes, gas: int | None = None) -> RejectReason:
    started = time.perf_counter()
    result = execute_detailed(
        built.pre_state_root, built.post_state_root, trace,
        built.gas_used if gas is None else gas,
    )  # fmt: skip
    assert not result.ok
    assert time.perf_counter() - started < 0.5  # refused before any block runs
    return result.reason


def test_a_compressed_trace_that_lies_about_its_size_is_false_quickly() -> None:
    _, packed = _batch(compress=True)
    size = declared_size(packed.encoded)
    assert size is not None
    for lie in (size - 1, size + 1, size // 2, size + 300):
        lying = _with_declared(packed.encoded, lie)
        assert declared_size(lying) == lie
        assert _refused(packed, lying, input_gas(lying)) == RejectReason.MALFORMED_TRACE


def test_a_trace_bomb_is_refused_before_decompressing() -> None:
    _, packed = _batch(compress=True)
    bomb = compress_trace(b"\x00" * (8 * 1024 * 1024))
    assert len(bomb) * MAX_TRACE_EXPANSION < 8 * 1024 * 1024
    assert _refused(packed, bomb, 10**12) == RejectReason.MALFORMED_TRACE
    # A frame without a declared size, and bytes after the frame, are refused too.
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(b"\xc0" * 100)
    assert _refused(packed, bytes([TRACE_ZSTD]) + unsized, 10**9) == RejectReason.MALFORMED_TRACE
    trailing = packed.encoded + b"\x00" * 8
    assert _refused(packed, trailing, input_gas(trailing)) == RejectReason.MALFORMED_TRACE
    nested = compress_trace(packed.encoded)
    assert _refused(packed, nested, input_gas(nested)) == RejectReason.MALFORMED_TRACE


def test_a_claim_must_pay_for_the_declared_size_before_anything_is_decompressed() -> None:
    _, packed = _batch(compress=True)
    size = declared_size(packed.encoded)
    assert size is not None
    # Enough for the compressed bytes, not for the declared ones: refused on gas at once.
    short = SCHEDULE.trace_bytes(len(packed.encoded) + size) - 1
    assert _refused(packed, packed.encoded, short) == RejectReason.GAS_MISMATCH


@pytest.mark.parametrize("vm", ["riscv", "wasm"])
def test_other_vms_take_compressed_traces(vm: str) -> None:
    from rollupkit.chain import DevChain
    from rollupkit.types import GenesisAccount
    from rollupkit.wallets import dev_wallets

    wallets = dev_wallets(2, 4242)
    chain = DevChain({w.address: GenesisAccount(balance=10**20) for w in wallets}, vm=vm,
                     chain_id=4242)  # fmt: skip
    built = chain.build(transactions=[wallets[0].transfer(wallets[1].address, 5)], compress=True)
    result = execute_detailed(*built.execute_args(), vm=vm)
    assert result.ok, (result.reason, result.detail)
