"""A zkpay wallet: a Baby Jubjub key, its address, and the transactions it signs.

Ethereum wallets cannot sign for a zkpay chain (its owners sign with EdDSA over Baby Jubjub,
which a circuit can check), so this is what a zkpay user, a test or the demo holds. It has the
shape of :class:`rollupkit.wallets.Wallet` (``address``, ``nonce``, ``sign``, ``withdrawal``),
so rollupkit's journey and test fixtures drive it as they drive an Ethereum wallet
(``ZkPayVM.new_wallet``). Send what it signs with ``eth_sendRawTransaction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from rollupkit_zkpay.babyjub import PrivateKey
from rollupkit_zkpay.transition import Kind, Transaction, address_of


@dataclass
class ZkPayWallet:
    """A private key (32 bytes), its zkpay address and a local nonce counter."""

    private_key: bytes
    chain_id: int
    nonce: int = 0
    key: PrivateKey = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.key = PrivateKey(self.private_key)

    @property
    def address(self) -> bytes:
        """The 20-byte address (what deposits, balances and transfers name)."""
        return address_of(self.key.public_key).to_bytes(20, "big")

    @property
    def checksum_address(self) -> str:
        return str(to_checksum_address(self.address))

    def _sign(self, kind: Kind, to: bytes, amount: int, nonce: int | None) -> bytes:
        if len(to) != 20:
            raise ValueError("an address is 20 bytes")
        if nonce is None:
            nonce = self.nonce
            self.nonce += 1
        tx = Transaction.sign(
            self.key, chain_id=self.chain_id, kind=kind, to=int.from_bytes(to, "big"),
            amount=amount, nonce=nonce,
        )  # fmt: skip
        return tx.encode()

    def sign(
        self, *, to: bytes | None, value: int = 0, data: bytes = b"", nonce: int | None = None,
        **_fees: Any,
    ) -> bytes:  # fmt: skip
        """A transfer of ``value`` wei to ``to`` (zkpay has no fees and no calls: gas and fee
        arguments are ignored, and data is refused)."""
        if to is None or data:
            raise ValueError("a zkpay transaction is a transfer: no contract creation, no data")
        return self._sign(Kind.TRANSFER, to, value, nonce)

    def transfer(self, to: bytes, value: int, nonce: int | None = None) -> bytes:
        """A signed transfer of ``value`` wei to the zkpay account ``to``."""
        return self._sign(Kind.TRANSFER, to, value, nonce)

    def withdrawal(
        self, value: int, target: bytes | None = None, nonce: int | None = None
    ) -> bytes:
        """A signed withdrawal of ``value`` wei to the L1 address ``target``. It has no
        default: a zkpay address is a Baby Jubjub key's hash, which no L1 key controls, so
        paying it on L1 would lose the funds."""
        if target is None:
            raise ValueError(
                "a zkpay withdrawal needs its L1 target: no L1 key controls a zkpay address"
            )
        return self._sign(Kind.WITHDRAWAL, target, value, nonce)


def dev_wallets(count: int, chain_id: int) -> list[ZkPayWallet]:
    """Deterministic development wallets (anyone can derive their keys: dev only)."""
    return [
        ZkPayWallet(keccak(f"rollupkit zkpay dev wallet {i}".encode()), chain_id)
        for i in range(count)
    ]
