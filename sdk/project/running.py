"""A running rollup (its L1, its contracts, its nodes) and the steps of a rollup's life.

:class:`RunningRollup` is what :func:`rollupkit.project.runner.run_project` yields: deposit on
L1, send on L2, wait for settlement, withdraw on L2, claim on L1, each through the real JSON-RPC
endpoints (web3.py), the way a user's tools would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from rollupkit.errors import (
    DepositRefunded,  # re-exported: raised here
    RollupkitError,
    Timeout,  # re-exported: raised here
)
from rollupkit.l1.contracts import RollupContracts
from rollupkit.node.l1link import L1Settings
from rollupkit.node.node import Node
from rollupkit.types import Withdrawal
from rollupkit.wallets import Wallet


@dataclass
class RunningRollup:
    """A running L1, the rollup's contracts on it, and its nodes."""

    l1_kind: str
    l1_url: str
    l1: Web3
    l2: Web3
    settings: L1Settings
    sequencer: Node
    follower: Node | None
    contracts: RollupContracts  # acting as an L1 user (dev account 2 on a dev L1)
    wallets: list[Wallet]  # L2 dev wallets funded at genesis
    record: dict[str, Any]  # the deployment record
    devnet: Any = None  # the embedded devnet object, when embedded

    @property
    def l2_url(self) -> str:
        return self.sequencer.url

    def wallet(self, index: int) -> Wallet:
        """Dev wallet ``index``, its nonce read from the L2 (so it is right after restarts)."""
        wallet = self.wallets[index]
        wallet.nonce = self.l2.eth.get_transaction_count(wallet.checksum_address, "pending")
        return wallet

    # --- waiting ----------------------------------------------------------------------------

    def wait(self, what: Callable[[], Any], timeout: float = 90, message: str = "") -> Any:
        """Poll ``what`` until it is truthy; raise :class:`Timeout` saying what was awaited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = what()
            if value:
                return value
            time.sleep(0.1)
        errors = self.sequencer.errors[-3:] + (self.follower.errors[-3:] if self.follower else [])
        raise Timeout(f"timed out waiting for {message or what}; node errors: {errors}")

    def settled_block(self) -> int:
        """The newest L2 block settled on L1."""
        return int(self.sequencer.store.get_meta("settled_block", 0))

    def wait_settled(self, number: int | None = None, timeout: float = 90) -> int:
        """Wait until L2 block ``number`` (default: the head now) is settled on L1."""
        target = self.sequencer.store.head_number() if number is None else number
        self.wait(lambda: self.settled_block() >= target, timeout, f"block {target} to settle")
        return target

    def wait_l1_seen(self, l1_block: int, timeout: float = 60) -> None:
        """Wait until the sequencer has read L1 up to ``l1_block``: a booster chain's next
        blocks read L1 state there (or later), so they see what that block did."""
        self.wait(
            lambda: self.sequencer.l1_view.number >= l1_block,
            timeout,
            f"the sequencer to read L1 block {l1_block}",
        )

    def advance_l1(self, seconds: int) -> None:
        """Move L1 time forward and mine a block (devnet and anvil both take this)."""
        self.l1.provider.make_request(RPCEndpoint("evm_increaseTime"), [seconds])
        self.l1.provider.make_request(RPCEndpoint("evm_mine"), [])

    # --- the bridge -------------------------------------------------------------------------

    def deposit(self, target: bytes, value: int, timeout: float = 60) -> Any:
        """Deposit on L1 and wait until the L2 credits it; returns the L1 receipt. A deposit
        the chain refunds instead (a zkpay deposit that bounced) raises
        :class:`~rollupkit.errors.DepositRefunded` (its L1 message index, for
        :meth:`claim_refund`)."""
        address = Web3.to_checksum_address(target)
        receipt = self.contracts.transact(
            self.contracts.bridge.functions.deposit(address, 0, b""), value=value
        )
        (message,) = self.contracts.messages_from_receipt(receipt)
        chain = self.sequencer.chain

        def credited() -> bool:
            # Applied by a block: credited, unless that block refunded it (not a balance
            # read, which a transfer out of the account in between would confuse).
            applied = chain.refunds_of_message(message.index)
            if applied is not None and applied[1]:
                raise DepositRefunded(message.index, applied[0])
            return applied is not None

        self.wait(credited, timeout, "the deposit to be credited on L2")
        return receipt

    def send(self, raw: bytes) -> Any:
        """Send a signed L2 transaction and return its receipt."""
        tx_hash = self.l2.eth.send_raw_transaction(raw)
        return self.l2.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.1)

    def withdraw(self, wallet: Wallet, value: int, target: bytes | None = None) -> Any:
        """Withdraw ``value`` from L2 (through the bridge predeploy, or however ``wallet``'s
        chain withdraws); returns the receipt."""
        return self.send(wallet.withdrawal(value, target))

    def claim(self, withdraw_tx: bytes) -> Any:
        """Claim on L1 every withdrawal an L2 transaction made (once it is settled)."""
        return self._claim("rollup_getWithdrawalProof", Web3.to_hex(withdraw_tx))

    def claim_refund(self, message_index: int) -> Any:
        """Claim on L1 the refund of a deposit the L2 could not credit (a zkpay deposit that
        bounced), by its L1 message index (``contracts.messages_from_receipt``)."""
        return self._claim("rollup_getDepositRefundProof", hex(message_index))

    def _claim(self, method: str, argument: str) -> Any:
        answer = self.l2.provider.make_request(RPCEndpoint(method), [argument])
        if "error" in answer:
            raise RollupkitError(answer["error"]["message"])
        proof = answer["result"]
        if proof["settlementIndex"] is None:
            raise RollupkitError(
                f"batch {int(proof['batch'], 16)} holding the withdrawal is {proof['status']}, "
                "not settled yet: wait_settled() first"
            )
        receipt = None
        for item in proof["withdrawals"]:
            withdrawal = Withdrawal(
                int(item["nonce"], 16), bytes.fromhex(item["sender"][2:]),
                bytes.fromhex(item["target"][2:]), int(item["value"], 16),
                bytes.fromhex(item["data"][2:]),
            )  # fmt: skip
            receipt = self.contracts.claim_withdrawal(
                int(proof["settlementIndex"], 16), withdrawal, int(item["leafIndex"], 16),
                [bytes.fromhex(p[2:]) for p in item["proof"]],
            )  # fmt: skip
        return receipt
