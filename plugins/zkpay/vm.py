"""The ``zkpay`` VM: payments a circuit can prove, on rollupkit's one block loop.

A zkpay block is an Ethereum-shaped block (header, transactions root, receipts) whose
transactions are zkpay's own (:class:`~rollupkit_zkpay.transition.Transaction`: Baby Jubjub
EdDSA over Poseidon, type byte ``0x7a``) and whose state is the ``poseidon`` state model's.
The core runs it like any VM - L1 messages first, then the sequencer's transactions, then the
system-account write - and each step is :mod:`rollupkit_zkpay.transition`'s rule, the one the
circuit proves:

* a **deposit** credits its value to its target, or bounces: the refund is a withdrawal to the
  depositor on L1 (sender :data:`REFUND_SENDER`, nonce the message's queue index);
* a **transfer** or **withdrawal** applies, or is invalid (the sequencer drops it; EXECUTE
  refuses a block holding it). A withdrawal is a withdrawal to ``to`` on L1 with the sender's
  address and nonce, claimed through the L1 bridge like every rollupkit withdrawal;
* **forced transactions** are consumed as no-ops: the circuit has no slot that L1 data could
  bind them to, so a zkpay chain is not censorship-resistant through the forced queue.

Fees: none. The base fee stays 0 and a transaction pays nothing; what bounds a block is its
gas limit, each operation costing the EXECUTE gas its re-execution takes in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from rollupkit.accountvm import AccountVM, Frame, Log, Outcome, encode_receipt
from rollupkit.errors import InvalidTransactionError, TraceError
from rollupkit.ethheader import HEADER_CLASS
from rollupkit.interfaces import (
    AccountState,
    AncestorHashes,
    BlockExecution,
    CallResult,
    NextBlock,
    StateView,
)
from rollupkit.metering import ExecutionMeter
from rollupkit.ordered_trie import ordered_trie_root
from rollupkit.system import SYSTEM_ADDRESS
from rollupkit.types import (
    ZERO_HASH,
    BlockInput,
    BlockResult,
    HeaderInfo,
    L1Message,
    Withdrawal,
)
from rollupkit.withdrawals import L2_BRIDGE_ADDRESS, WITHDRAWAL_EVENT_TOPIC
from rollupkit_zkpay import babyjub
from rollupkit_zkpay.model import ZkPayStateModel, ZkPayStateView
from rollupkit_zkpay.transition import (
    TX_TYPE,
    Kind,
    Slot,
    Transaction,
    apply_deposit,
    apply_transaction,
    refunded_whole,
    signing_message,
)
from rollupkit_zkpay.tree import AMOUNT_LIMIT

#: EXECUTE gas of an operation: what re-executing it costs in Python at the EVM's rate
#: (benchmarks/execute_worst.py: about 50 ns a gas). A transfer verifies an EdDSA signature
#: (three scalar multiplications) and rewrites two leaves (2 x 20 Poseidon hashes); a deposit
#: rewrites one.
TRANSACTION_GAS = 400_000
DEPOSIT_GAS = 100_000
#: The sender of a bounced deposit's refund (no key hashes to it).
REFUND_SENDER = bytes.fromhex("4200000000000000000000000000000000007a01")


class ZkPayTransaction:
    """A decoded zkpay transaction, with the fields rollupkit's core, mempool and RPC read
    (an Ethereum transaction's, as far as they make sense: no fees, ``data`` the kind)."""

    type_id = TX_TYPE
    gas_price = 0
    max_fee_per_gas = 0
    max_priority_fee_per_gas = 0
    access_list: tuple[Any, ...] = ()
    v = y_parity = 0
    gas = intrinsic_gas = TRANSACTION_GAS

    def __init__(self, raw: bytes, tx: Transaction) -> None:
        self.raw = raw
        self.zk = tx
        #: Set by ZkPayVM.decode_transaction: the block need not verify it again.
        self.signature_checked = False
        self.hash = keccak(raw)
        self.sender = tx.sender.to_bytes(20, "big")
        self.nonce = tx.nonce
        self.to = tx.to.to_bytes(20, "big")
        self.value = tx.amount
        self.data = bytes([int(tx.kind)])
        self.chain_id = tx.chain_id
        self.r = tx.signature.r8[0]
        self.s = tx.signature.s

    def encode(self) -> bytes:
        return self.raw


def decode(raw: bytes) -> ZkPayTransaction:
    """Decode (not check) a zkpay transaction; raise :class:`InvalidTransactionError`."""
    try:
        return ZkPayTransaction(bytes(raw), Transaction.decode(bytes(raw)))
    except TraceError as exc:
        raise InvalidTransactionError(str(exc)) from None


class ZkPayVM(AccountVM):
    """Deposits, EdDSA-signed transfers and withdrawals over the ``poseidon`` state model."""

    description = "payments a Groth16 circuit proves: Poseidon accounts, Baby Jubjub EdDSA"
    client = "rollupkit-zkpay"
    transaction_types = frozenset({TX_TYPE})
    applies_forced_transactions = False

    def supports_state_model(self, model: Any) -> bool:
        return isinstance(model, ZkPayStateModel)

    def check_proof(self, proof: str) -> str | None:
        if proof in ("groth16", "reexec", "multiclient"):
            return None
        return "zkpay chains settle by groth16 validity proofs, reexec or multiclient"

    def decode_transaction(self, raw: bytes, chain_id: int) -> ZkPayTransaction:
        tx = decode(raw)
        zk = tx.zk
        if zk.chain_id != chain_id:
            raise InvalidTransactionError(f"signed for chain {zk.chain_id}, not {chain_id}")
        message = signing_message(chain_id, zk.kind, zk.to, zk.amount, zk.nonce)
        if not (zk.amount < AMOUNT_LIMIT and babyjub.verify(zk.public_key, message, zk.signature)):
            raise InvalidTransactionError("bad signature")
        tx.signature_checked = True
        return tx

    def refunds_of(self, message: L1Message, withdrawals: Sequence[Withdrawal]) -> list[int]:
        # A bounced deposit's refund is the one withdrawal numbered by its message's index
        # from REFUND_SENDER (see ZkPayBlock._refund).
        return [
            position
            for position, withdrawal in enumerate(withdrawals)
            if withdrawal.sender == REFUND_SENDER and withdrawal.nonce == message.index
        ]

    def transaction_object(self, raw: bytes) -> ZkPayTransaction:
        return decode(raw)

    def new_wallet(self, private_key: bytes, chain_id: int) -> Any:
        from rollupkit_zkpay.wallet import ZkPayWallet

        return ZkPayWallet(private_key, chain_id)

    def run_code(self, frame: Frame) -> Outcome:  # zkpay accounts never have code
        return Outcome(False, frame.gas, error="zkpay accounts have no code")

    def check_code(self, code: bytes) -> str | None:
        return "zkpay has no contracts"

    def next_block(self, parent_header: bytes) -> NextBlock:
        parent = self._header(parent_header)
        return NextBlock(parent.block_number + 1, parent.hash, 0)  # no fees: base fee 0

    def call(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        sender: bytes,
        to: bytes | None,
        value: int,
        data: bytes,
        gas: int,
        timeout: float | None = None,
    ) -> CallResult:
        return CallResult(False, b"", 0, error="zkpay has no contracts to call")

    def open_block(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        block: BlockInput,
        ancestors: AncestorHashes,
        meter: ExecutionMeter,
    ) -> ZkPayBlockExecution:
        if not isinstance(state, ZkPayStateView):
            raise TypeError("the zkpay VM runs over the poseidon state model only")
        self._check_block(self._header(parent_header), block)
        return ZkPayBlockExecution(state, block, chain_id)


class _Untyped:
    """What accountvm's receipt encoder is given for a zkpay transaction: its receipts use the
    legacy encoding (no type byte), which py-evm's decoders (the RPC's) read."""

    type_id = None


def _receipt(cumulative: int, withdrawal: Withdrawal | None) -> tuple[bytes, int]:
    """A successful receipt and its bloom. A withdrawal's carries the L2 bridge's
    ``WithdrawalInitiated`` log, as on every rollupkit chain (wallets and
    ``rollup_getWithdrawalProof`` find withdrawals by it)."""
    logs: tuple[Log, ...] = ()
    if withdrawal is not None:
        topics = (
            WITHDRAWAL_EVENT_TOPIC, withdrawal.nonce.to_bytes(32, "big"),
            withdrawal.sender.rjust(32, b"\0"), withdrawal.target.rjust(32, b"\0"),
        )  # fmt: skip
        data = abi_encode(["uint256", "bytes"], [withdrawal.value, withdrawal.data])
        logs = (Log(L2_BRIDGE_ADDRESS, topics, data),)
    return encode_receipt(_Untyped(), Outcome(True, TRANSACTION_GAS, logs=logs), cumulative)


class ZkPayBlockExecution(BlockExecution):
    """One zkpay block: every operation applied to the view's tree, recorded as the circuit's
    slots (:attr:`slots`) for the prover."""

    def __init__(self, view: ZkPayStateView, block: BlockInput, chain_id: int) -> None:
        self.view = view
        self.tree = view.tree
        self.block = block
        self.chain_id = chain_id
        self.slots: list[Slot] = []
        self.roots_after: list[int] = []  # the accounts root after each slot
        self.withdrawals: list[Withdrawal] = []
        self.included: list[ZkPayTransaction] = []
        self.receipts: list[bytes] = []
        self.transaction_gas = 0
        self.deposit_gas = 0
        self.bloom = 0
        self._header: Any = None

    def account_state(self, address: bytes) -> AccountState:
        leaf = self.tree.account(int.from_bytes(address, "big"))
        return AccountState(leaf.nonce, leaf.balance) if leaf else AccountState(0, 0)

    def apply_deposit(self, message: L1Message, gas: int) -> int:
        whole = refunded_whole(message.sender, message.target, message.value, message.data)
        slot = apply_deposit(
            self.tree, int.from_bytes(message.target, "big"), message.value, whole=whole
        )
        self.slots.append(slot)
        self.roots_after.append(self.tree.root)
        if slot.bounced:
            self._refund(message)
        self.deposit_gas += DEPOSIT_GAS
        return DEPOSIT_GAS

    def _refund(self, message: L1Message) -> None:
        self.withdrawals.append(
            Withdrawal(message.index, REFUND_SENDER, message.sender, message.value, b"")
        )

    def apply_transaction(self, tx: Any) -> int:
        if not isinstance(tx, ZkPayTransaction):
            raise InvalidTransactionError("not a zkpay transaction")
        slot = apply_transaction(
            self.tree, tx.zk, self.chain_id, check_signature=not tx.signature_checked
        )
        self.slots.append(slot)
        self.roots_after.append(self.tree.root)
        withdrawal = None
        if tx.zk.kind == Kind.WITHDRAWAL:
            withdrawal = Withdrawal(tx.nonce, tx.sender, tx.to, tx.value, b"")
            self.withdrawals.append(withdrawal)
        self.transaction_gas += TRANSACTION_GAS
        self.included.append(tx)
        receipt, bloom = _receipt(self.transaction_gas, withdrawal)
        self.receipts.append(receipt)
        self.bloom |= bloom
        return TRANSACTION_GAS

    def pending_header(self) -> bytes:
        block = self.block
        transactions = [tx.raw for tx in self.included]
        self._header = HEADER_CLASS(
            difficulty=0, block_number=block.number, gas_limit=block.gas_limit,
            timestamp=block.timestamp, coinbase=block.coinbase, parent_hash=block.parent_hash,
            state_root=ZERO_HASH, transaction_root=ordered_trie_root(transactions),
            receipt_root=ordered_trie_root(self.receipts), bloom=self.bloom,
            gas_used=self.transaction_gas, extra_data=block.extra_data,
            mix_hash=block.prev_randao, nonce=b"\x00" * 8, base_fee_per_gas=0,
            withdrawals_root=BLANK_ROOT_HASH, parent_beacon_block_root=block.l1_anchor,
        )  # fmt: skip
        return rlp.encode(self._header)

    def intermediate_root(self) -> bytes:
        return self.view.commit()

    def seal(self, system_storage: Mapping[int, int]) -> BlockResult:
        for slot, value in system_storage.items():
            self.view.set_storage(SYSTEM_ADDRESS, slot, value)
        root = self.view.commit()
        header = self._header
        sealed = header.copy(state_root=root)
        block = self.block
        info = HeaderInfo(block.number, sealed.hash, block.parent_hash, root, block.timestamp,
                          block.gas_limit)  # fmt: skip
        return BlockResult(
            header=rlp.encode(sealed), info=info,
            gas_used=self.transaction_gas + self.deposit_gas,
            transactions_root=header.transaction_root, receipts_root=header.receipt_root,
            transactions=tuple(tx.raw for tx in self.included), receipts=tuple(self.receipts),
            withdrawals=tuple(self.withdrawals),
        )  # fmt: skip


__all__ = ["DEPOSIT_GAS", "REFUND_SENDER", "TRANSACTION_GAS", "ZkPayTransaction", "ZkPayVM"]
