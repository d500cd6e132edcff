"""A rollup's life in five steps, through its public endpoints: deposit on L1, transfer on L2,
withdraw on L2, settlement of the batch on L1 (EXECUTE, or whatever the proof backend is),
claim on L1.

``rollupkit demo`` prints the :class:`JourneyReport`; a generated project's end-to-end test
asserts on it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from rollupkit.project.running import RunningRollup
from rollupkit.wallets import Wallet

ETHER = 10**18


@dataclass
class Step:
    """One step of the journey and how long it took."""

    name: str
    seconds: float
    detail: str


@dataclass
class JourneyReport:
    """What the journey did and saw."""

    account: str  # the fresh account that deposited, transferred and withdrew
    deposit: int
    transfer: int
    withdrawal: int
    l2_balance_after: int
    l1_balance_before: int
    l1_balance_after: int  # of the withdrawal's target on L1, after the claim
    batch: dict[str, Any]  # the settled batch holding the withdrawal (rollup_getBatch)
    steps: list[Step] = field(default_factory=list)
    total_seconds: float = 0.0

    @property
    def claimed(self) -> int:
        return self.l1_balance_after - self.l1_balance_before


def run_journey(
    rollup: RunningRollup,
    *,
    deposit: int = ETHER,
    transfer: int = ETHER // 10,
    withdrawal: int = ETHER // 2,
    progress: Callable[[str], None] = lambda _: None,
    timeout: float = 120,
) -> JourneyReport:
    """Walk deposit → L2 transfer → withdrawal → settlement → claim with a fresh account."""
    chain_id = rollup.sequencer.config.chain.chain_id
    user = Wallet(secrets.token_bytes(32), chain_id)  # fresh: every balance starts at zero
    friend = rollup.wallets[0].address if rollup.wallets else b"\x11" * 20
    started = time.monotonic()
    steps: list[Step] = []

    def step(name: str, action: Callable[[], str]) -> None:
        progress(name)
        t0 = time.monotonic()
        detail = action()
        steps.append(Step(name, time.monotonic() - t0, detail))

    address = Web3.to_checksum_address(user.address)
    l1_before = rollup.l1.eth.get_balance(address)

    def do_deposit() -> str:
        rollup.deposit(user.address, deposit, timeout=timeout)
        return f"{deposit / ETHER:g} ETH from L1 credited to {address} on L2"

    def do_transfer() -> str:
        receipt = rollup.send(user.sign(to=friend, value=transfer, gas=21_000))
        return f"{transfer / ETHER:g} ETH on L2 in block {receipt['blockNumber']}"

    withdraw_receipt: dict[str, Any] = {}

    def do_withdraw() -> str:
        withdraw_receipt.update(rollup.withdraw(user, withdrawal))
        return (
            f"{withdrawal / ETHER:g} ETH through the L2 bridge in block "
            f"{withdraw_receipt['blockNumber']}"
        )

    batch: dict[str, Any] = {}

    def do_settle() -> str:
        block = int(withdraw_receipt["blockNumber"])
        rollup.wait_settled(block, timeout=timeout)
        status = rollup.l2.provider.make_request(RPCEndpoint("rollup_getBlockStatus"), [hex(block)])
        batch.update(status["result"]["batch"] or {})
        return (
            f"batch {batch.get('id')} (L2 blocks {int(batch.get('firstBlock', '0x0'), 16)}-"
            f"{int(batch.get('lastBlock', '0x0'), 16)}) settled on L1"
        )

    def do_claim() -> str:
        receipt = rollup.claim(withdraw_receipt["transactionHash"])
        return f"claimed on L1 in block {receipt['blockNumber']}"

    step("deposit", do_deposit)
    step("L2 transfer", do_transfer)
    step("withdraw", do_withdraw)
    step("batch + settlement", do_settle)
    step("claim", do_claim)
    return JourneyReport(
        account=address,
        deposit=deposit,
        transfer=transfer,
        withdrawal=withdrawal,
        l2_balance_after=rollup.l2.eth.get_balance(address),
        l1_balance_before=l1_before,
        l1_balance_after=rollup.l1.eth.get_balance(address),
        batch=batch,
        steps=steps,
        total_seconds=time.monotonic() - started,
    )
