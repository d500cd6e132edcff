"""Ethereum's signed-transaction format, which every rollupkit VM uses (EIP-2718 envelopes:
legacy, EIP-2930, EIP-1559, EIP-7702). Decoding is py-evm's; the checks py-evm leaves to the
caller (chain id, blob transactions on an L2) are made here, once, for every VM and for the
node's mempool."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from coincurve import PublicKey
from eth.vm.forks.prague.transactions import PragueTransactionBuilder
from eth_hash.auto import keccak

from rollupkit.errors import InvalidTransactionError

#: EIP-4844 blob transactions carry data an L2 never sees; rollupkit L2s refuse them.
BLOB_TX_TYPE = 3
#: The most a transaction may weigh (as Ethereum mempools; see rollupkit.trace.LIMITS).
MAX_TRANSACTION_BYTES = 128 * 1024


#: Decoded transactions kept by their bytes, so a transaction seen by the mempool, the builder,
#: the prover and an in-process L1 has its signature recovered once (recovery is the biggest
#: single cost of re-execution). Only small transactions are kept, so the cache stays small.
DECODE_CACHE_SIZE = 16_384
DECODE_CACHE_MAX_BYTES = 2_048


class _DecodeCache:
    """A thread-safe LRU of decoded transactions keyed by (chain id, raw bytes). The value is
    a pure function of the key, so sharing it between callers cannot be abused."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, bytes], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, bytes]) -> Any:
        with self._lock:
            tx = self._entries.get(key)
            if tx is not None:
                self._entries.move_to_end(key)
            return tx

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def put(self, key: tuple[int, bytes], tx: Any) -> None:
        with self._lock:
            self._entries[key] = tx
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)


_cache = _DecodeCache(DECODE_CACHE_SIZE)


def clear_decode_cache() -> None:
    """Forget every decoded transaction (benchmarks use it to time signature recovery)."""
    _cache.clear()


def decode_signed_transaction(raw: bytes, chain_id: int) -> Any:
    """Decode and check a signed transaction; raise :class:`InvalidTransactionError`.

    The signature is checked and the sender recovered here, and the rules that need no state
    (field ranges, ``s`` in the lower half, intrinsic gas, a non-empty EIP-7702 authorization
    list) are applied. A transaction signed for another chain is invalid (py-evm does not
    compare chain ids); legacy transactions without EIP-155 protection are accepted, as on
    Ethereum (deterministic deployment proxies need them).
    """
    raw = bytes(raw)
    key = (chain_id, raw)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    tx = _decode(raw, chain_id)
    if len(raw) <= DECODE_CACHE_MAX_BYTES:
        _cache.put(key, tx)
    return tx


#: secp256k1's group order: ``r`` and ``s`` must be below it (as eth-keys checks).
SECPK1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAACEDCE6AF48A03BBFD25E8CD0364141


def _recover_sender(tx: Any, message: bytes) -> bytes:
    """The signer of ``tx`` (whose signed ``message`` is given), recovered once. py-evm's
    check_signature_validity recovers the key and then verifies the signature against it,
    and its ``sender`` recovers it again: three secp256k1 operations where one does (a key
    recovered from a signature is one the signature verifies against). The checks are
    eth-keys' (``v`` 0 or 1, ``r`` and ``s`` below the group order); the recovery is
    libsecp256k1's through coincurve, without eth-keys' objects around it. Raises on a
    signature out of range or one that recovers to no key."""
    v, r, s = tx.y_parity, tx.r, tx.s
    if v not in (0, 1) or not 0 <= r < SECPK1_N or not 0 <= s < SECPK1_N:
        raise ValueError(f"signature out of range: v={v}, r={r}, s={s}")
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((v,))
    public_key = PublicKey.from_signature_and_message(signature, keccak(message), hasher=None)
    return bytes(keccak(public_key.format(compressed=False)[1:])[12:])


def _rlp_int_length(value: int) -> int:
    """How many bytes RLP encodes a non-negative integer below 2**256 in."""
    return 1 if value < 0x80 else 1 + (value.bit_length() + 7) // 8


def _rlp_list_prefix(length: int) -> bytes:
    if length < 56:
        return bytes((0xC0 + length,))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0xF7 + len(size),)) + size


def _typed_signing_message(raw: bytes, tx: Any) -> bytes:
    """What a typed transaction's signature signs (``type || rlp(fields without y, r, s)``),
    cut from its bytes instead of encoding its fields again. py-evm's decoder accepts only
    canonical RLP (minimal lengths and integers), so the bytes are what encoding the decoded
    fields gives, and the signature's three integers are the last items of the list."""
    first = raw[1]
    body = raw[2:] if first < 0xF8 else raw[2 + first - 0xF7 :]
    signature = _rlp_int_length(tx.y_parity) + _rlp_int_length(tx.r) + _rlp_int_length(tx.s)
    unsigned = body[: len(body) - signature]
    return raw[:1] + _rlp_list_prefix(len(unsigned)) + unsigned


#: Where a decoded transaction keeps the bytes it was decoded from (see encoded_transaction).
_RAW = "_rollupkit_raw"


def encoded_transaction(tx: Any) -> bytes:
    """``tx``'s EIP-2718 encoding: the bytes it was decoded from when it came from
    :func:`decode_signed_transaction` (the same bytes ``tx.encode()`` gives: the decoder
    accepts only canonical RLP), encoded again otherwise."""
    raw = tx.__dict__.get(_RAW) if hasattr(tx, "__dict__") else None
    if raw is not None:
        return bytes(raw)
    return bytes(tx.encode())


def _decode(raw: bytes, chain_id: int) -> Any:
    if not raw:
        raise InvalidTransactionError("empty transaction")
    if len(raw) > MAX_TRANSACTION_BYTES:
        raise InvalidTransactionError(
            f"oversized transaction: {len(raw)} bytes, more than {MAX_TRANSACTION_BYTES}"
        )
    if raw[0] == BLOB_TX_TYPE:
        raise InvalidTransactionError("blob transactions are not accepted on the L2")
    try:
        tx = PragueTransactionBuilder.decode(raw)
        if raw[0] < 0x80:  # typed (EIP-2718): the message and hash come from its bytes
            message = _typed_signing_message(raw, tx)
            tx.__dict__["hash"] = keccak(raw)  # py-evm's keccak(encode()): the same bytes
        else:
            message = tx.get_message_for_signing()
        tx.__dict__["sender"] = _recover_sender(tx, message)
        tx.__dict__[_RAW] = raw
        tx.validate()
        _ = tx.hash
    except Exception as exc:  # whatever py-evm raises, the transaction is invalid
        raise InvalidTransactionError(f"invalid transaction: {type(exc).__name__}: {exc}") from exc
    if tx.chain_id is not None and tx.chain_id != chain_id:
        raise InvalidTransactionError(
            f"invalid chain id: transaction signed for chain {tx.chain_id}, not {chain_id}"
        )
    return tx


@dataclass(frozen=True)
class TxSummary:
    """What a mempool needs to know about a transaction."""

    hash: bytes
    sender: bytes
    nonce: int
    gas: int
    max_fee: int
    tip: int
    value: int
    intrinsic_gas: int
    to: bytes | None = None  # None for a contract creation
    data: bytes = b""

    @property
    def max_cost(self) -> int:
        """The most the sender can pay: gas * max fee + value."""
        return self.gas * self.max_fee + self.value


def summarize(tx: Any) -> TxSummary:
    """The mempool's view of a decoded transaction."""
    if hasattr(tx, "max_fee_per_gas"):
        max_fee, tip = int(tx.max_fee_per_gas), int(tx.max_priority_fee_per_gas)
    else:  # legacy and EIP-2930: one gas price, all of it above the base fee
        max_fee = tip = int(tx.gas_price)
    return TxSummary(
        hash=bytes(tx.hash), sender=bytes(tx.sender), nonce=tx.nonce, gas=tx.gas,
        max_fee=max_fee, tip=tip, value=tx.value, intrinsic_gas=tx.intrinsic_gas,
        to=bytes(tx.to) if tx.to else None, data=bytes(tx.data),
    )  # fmt: skip
