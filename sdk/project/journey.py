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


@dataclass(frozen=True)
class L1Transaction:
    """One L1 transaction the journey caused, and what it cost on L1."""

    kind: str  # deposit, batch data, settlement, claim
    what: str  # e.g. "batch 1 (L2 blocks 1-3)"
    tx_hash: str
    gas_used: int
    calldata_bytes: int
    blobs: int = 0
    #: For a batch's posting or settlement: how many L2 transactions the batch holds.
    l2_transactions: int = 0

    def per_l2_transaction(self) -> tuple[int, int] | None:
        """(calldata bytes, L1 gas) per L2 transaction of its batch, or None if not a batch's."""
        if not self.l2_transactions:
            return None
        return self.calldata_bytes // self.l2_transactions, self.gas_used // self.l2_transactions


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
    # Every L1 transaction of the journey, in order: the deposit, each batch's data and its
    # settlement (for every batch holding a block of the journey), the claim.
    l1_transactions: list[L1Transaction] = field(default_factory=list)

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
    # Fresh (every balance starts at zero), and of the kind the chain's VM signs with.
    user = rollup.sequencer.chain.vm.new_wallet(secrets.token_bytes(32), chain_id)
    friend = rollup.wallets[0].address if rollup.wallets else b"\x11" * 20
    started = time.monotonic()
    steps: list[Step] = []

    def step(name: str, action: Callable[[], str]) -> None:
        progress(name)
        t0 = time.monotonic()
        detail = action()
        steps.append(Step(name, time.monotonic() - t0, detail))

    address = Web3.to_checksum_address(user.address)
    # Where the withdrawal is paid on L1: the user's own address when its key is an Ethereum
    # key; a zkpay key has none, so a fresh L1 address (the journey's user is thrown away
    # after it, key and all).
    l1_target = user.address if isinstance(user, Wallet) else secrets.token_bytes(20)
    l1_before = rollup.l1.eth.get_balance(Web3.to_checksum_address(l1_target))
    first_block = rollup.l2.eth.block_number + 1  # the journey's blocks start here
    l1_transactions: list[L1Transaction] = []

    def l1_cost(kind: str, what: str, tx_hash: Any, l2_transactions: int = 0) -> None:
        tx = rollup.l1.eth.get_transaction(tx_hash)
        receipt = rollup.l1.eth.get_transaction_receipt(tx_hash)
        l1_transactions.append(L1Transaction(
            kind, what, tx_hash if isinstance(tx_hash, str) else Web3.to_hex(tx_hash),
            int(receipt["gasUsed"]), len(tx["input"]),
            len(tx.get("blobVersionedHashes") or ()), l2_transactions,
        ))  # fmt: skip

    def do_deposit() -> str:
        receipt = rollup.deposit(user.address, deposit, timeout=timeout)
        l1_cost(
            "deposit", f"{deposit / ETHER:g} ETH into the L1 bridge", receipt["transactionHash"]
        )
        return f"{deposit / ETHER:g} ETH from L1 credited to {address} on L2"

    def do_transfer() -> str:
        receipt = rollup.send(user.sign(to=friend, value=transfer, gas=21_000))
        return f"{transfer / ETHER:g} ETH on L2 in block {receipt['blockNumber']}"

    withdraw_receipt: dict[str, Any] = {}

    def do_withdraw() -> str:
        withdraw_receipt.update(rollup.withdraw(user, withdrawal, l1_target))
        return (
            f"{withdrawal / ETHER:g} ETH through the L2 bridge in block "
            f"{withdraw_receipt['blockNumber']}"
        )

    batch: dict[str, Any] = {}

    def do_settle() -> str:
        block = int(withdraw_receipt["blockNumber"])
        rollup.wait_settled(block, timeout=timeout)
        batch.update(_batch_of(rollup, block))
        first_batch = int(_batch_of(rollup, first_block).get("id", batch["id"]), 16)
        for number in range(first_batch, int(batch["id"], 16) + 1):
            each = _rpc(rollup, "rollup_getBatch", hex(number)) or {}
            blocks = f"L2 blocks {int(each['firstBlock'], 16)}-{int(each['lastBlock'], 16)}"
            for kind, key in (("batch data", "postTx"), ("settlement", "settleTx")):
                if each.get(key):  # none if another node posted or settled it
                    count = int(each.get("l2Transactions", "0x0"), 16)
                    l1_cost(kind, f"batch {number} ({blocks})", each[key], count)
        return (
            f"batch {int(batch['id'], 16)} (L2 blocks {int(batch['firstBlock'], 16)}-"
            f"{int(batch['lastBlock'], 16)}) settled on L1"
        )

    def do_claim() -> str:
        receipt = rollup.claim(withdraw_receipt["transactionHash"])
        l1_cost(
            "claim", f"{withdrawal / ETHER:g} ETH out of the L1 bridge", receipt["transactionHash"]
        )
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
        l1_balance_after=rollup.l1.eth.get_balance(Web3.to_checksum_address(l1_target)),
        batch=batch,
        steps=steps,
        total_seconds=time.monotonic() - started,
        l1_transactions=l1_transactions,
    )


def _rpc(rollup: RunningRollup, method: str, *params: Any) -> Any:
    answer = rollup.l2.provider.make_request(RPCEndpoint(method), list(params))
    return answer.get("result")


def _batch_of(rollup: RunningRollup, block: int) -> dict[str, Any]:
    """The batch holding L2 block ``block`` (rollup_getBatch's shape), or {}."""
    status = _rpc(rollup, "rollup_getBlockStatus", hex(block)) or {}
    return dict(status.get("batch") or {})
