"""Deterministic dev accounts that sign real Ethereum transactions (eth-account).

Every built-in VM uses Ethereum's signed transaction format, so these wallets drive EVM,
RISC-V and WASM chains alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import rlp
from eth_abi import encode as abi_encode
from eth_account import Account as _EthAccount
from eth_hash.auto import keccak
from eth_utils import to_checksum_address


def calldata(signature: str, *args: object) -> bytes:
    """ABI-encoded call data for ``signature`` (e.g. ``"transfer(address,uint256)"``)."""
    types = signature[signature.index("(") + 1 : -1]
    arg_types = [t for t in types.split(",") if t]
    return keccak(signature.encode())[:4] + abi_encode(arg_types, list(args))


DEFAULT_MAX_FEE = 2_000_000_000
DEFAULT_TIP = 100_000_000


def contract_address(sender: bytes, nonce: int) -> bytes:
    """The address CREATE gives a contract deployed by ``sender`` at ``nonce``."""
    return keccak(rlp.encode([sender, nonce]))[12:]


@dataclass
class Wallet:
    """A private key, its address and a local nonce counter."""

    private_key: bytes
    chain_id: int
    nonce: int = 0
    _account: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._account = _EthAccount.from_key(self.private_key)

    @property
    def address(self) -> bytes:
        """The 20-byte address."""
        return bytes.fromhex(self._account.address[2:])

    @property
    def checksum_address(self) -> str:
        """The EIP-55 address string."""
        return str(self._account.address)

    def sign(
        self,
        *,
        to: bytes | None,
        value: int = 0,
        data: bytes = b"",
        gas: int = 21_000,
        nonce: int | None = None,
        tx_type: int = 2,
        max_fee: int = DEFAULT_MAX_FEE,
        tip: int = DEFAULT_TIP,
        chain_id: int | None = None,
    ) -> bytes:
        """Sign a transaction (type 0 legacy, 1 EIP-2930 or 2 EIP-1559) and return its raw
        bytes. Uses and advances the local nonce unless ``nonce`` is given."""
        if nonce is None:
            nonce = self.nonce
            self.nonce += 1
        tx: dict[str, Any] = {
            "chainId": self.chain_id if chain_id is None else chain_id,
            "nonce": nonce,
            "value": value,
            "gas": gas,
            "data": data,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        if tx_type == 2:
            tx.update(maxFeePerGas=max_fee, maxPriorityFeePerGas=tip)
        else:
            tx["gasPrice"] = max_fee
            if tx_type == 1:
                tx["accessList"] = []
        signed = self._account.sign_transaction(tx)
        return bytes(signed.raw_transaction)

    def transfer(self, to: bytes, value: int, **kwargs: Any) -> bytes:
        """A plain value transfer."""
        return self.sign(to=to, value=value, **kwargs)

    def withdrawal(self, value: int, target: bytes | None = None, **kwargs: Any) -> bytes:
        """A withdrawal of ``value`` to ``target`` on L1 (default: this address): a call to
        the L2 bridge predeploy's ``withdraw(address,bytes)``."""
        from rollupkit.withdrawals import L2_BRIDGE_ADDRESS

        data = calldata("withdraw(address,bytes)", target or self.address, b"")
        return self.sign(to=L2_BRIDGE_ADDRESS, value=value, gas=150_000, data=data, **kwargs)

    def create(
        self, init_code: bytes, *, gas: int = 3_000_000, **kwargs: Any
    ) -> tuple[bytes, bytes]:
        """A contract creation: returns (raw transaction, address the contract will have)."""
        address = contract_address(self.address, kwargs.get("nonce", self.nonce))
        return self.sign(to=None, data=init_code, gas=gas, **kwargs), address


def dev_wallets(count: int, chain_id: int, *, offset: int = 0) -> list[Wallet]:
    """``count`` wallets with private keys 1+offset, 2+offset, ... (never use on a real chain)."""
    return [Wallet((offset + i + 1).to_bytes(32, "big"), chain_id) for i in range(count)]
