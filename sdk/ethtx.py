"""Ethereum's signed-transaction format, which every rollupkit VM uses (EIP-2718 envelopes:
legacy, EIP-2930, EIP-1559, EIP-7702). Decoding is py-evm's; the checks py-evm leaves to the
caller (chain id, blob transactions on an L2) are made here, once, for every VM and for the
node's mempool."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from eth.vm.forks.prague.transactions import PragueTransactionBuilder
from eth_keys import keys

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


def _recover_sender(tx: Any) -> bytes:
    """The signer of ``tx``, recovered once. py-evm's check_signature_validity recovers the
    key and then verifies the signature against it, and its ``sender`` recovers it again:
    three secp256k1 operations where one does (a key recovered from a signature is one the
    signature verifies against). Raises on a signature out of range or one that recovers to
    no key."""
    signature = keys.Signature(vrs=(tx.y_parity, tx.r, tx.s))
    public_key = signature.recover_public_key_from_msg(tx.get_message_for_signing())
    return bytes(public_key.to_canonical_address())


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
        tx.__dict__["sender"] = _recover_sender(tx)
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
