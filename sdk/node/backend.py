"""The L2 node as a chain backend for :class:`rollupkit.rpc.eth.EthMethods`.

Every rollupkit L2 keeps Ethereum's formats for headers, transactions and receipts, so stored
blocks decode into py-evm's objects and the same formatting serves the L1 and the L2. State
reads and calls go through the VM and state-model plugins.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.forks.prague.receipts import PragueReceiptBuilder
from eth.vm.header import HeaderSedes

from rollupkit.errors import BlockNotFound, CallReverted, CallTimeout
from rollupkit.interfaces import AccessListResult
from rollupkit.metering import CallLimits
from rollupkit.node.l2chain import NodeChain
from rollupkit.node.mempool import Mempool
from rollupkit.rpc.eth import log_matches
from rollupkit.types import AccountProof


@functools.lru_cache(maxsize=256)
def _decode_header(raw: bytes) -> Any:
    """A stored header as py-evm's object, decoded once (eth_blockNumber, every call and
    every block read start from the head's header; headers are immutable)."""
    return rlp.decode(raw, sedes=HeaderSedes)


@dataclass
class BlockView:
    """A stored L2 block in the shape the RPC formatting expects (py-evm's blocks)."""

    header: Any
    transactions: list[Any]
    raw_header: bytes
    raw_transactions: list[bytes]

    @property
    def hash(self) -> bytes:
        return bytes(self.header.hash)

    @property
    def number(self) -> int:
        return int(self.header.block_number)

    def encode(self) -> bytes:
        """The block's RLP (header, transactions, no uncles, no withdrawals)."""
        txs = [rlp.decode(t) if t[0] >= 0xC0 else t for t in self.raw_transactions]
        return rlp.encode([rlp.decode(self.raw_header), txs, [], []])


class L2Backend:
    """Reads, calls and transaction submission on an L2 node."""

    accounts: list[Any] = []  # an L2 node holds no user keys

    def __init__(
        self, chain: NodeChain, mempool: Mempool | None, limits: CallLimits | None = None
    ) -> None:
        self.limits = limits or CallLimits()
        self.chain = chain
        self.store = chain.store
        self.mempool = mempool
        self.chain_id = chain.config.chain_id

    # --- blocks -----------------------------------------------------------------------------

    def _number(self, block: int | str | bytes) -> int:
        head = self.store.head_number()
        if isinstance(block, bytes):
            stored = self.store.block_by_hash(block)
            if stored is None:
                raise BlockNotFound(f"no block 0x{block.hex()}")
            return stored.number
        if block in ("latest", "pending", "safe", "finalized"):
            if block in ("safe", "finalized"):
                return int(self.store.get_meta("settled_block", 0))
            return head
        if block == "earliest":
            return 0
        number = int(block)
        if not 0 <= number <= head:
            raise BlockNotFound(f"no block {number}")
        return number

    @property
    def head(self) -> Any:
        return self.header("latest")

    def header(self, block: int | str | bytes = "latest") -> Any:
        return _decode_header(self.store.header(self._number(block)))

    def block(self, block: int | str | bytes = "latest") -> BlockView:
        number = self._number(block)
        raw_header = self.store.header(number)
        txs = self.store.block_txs(number)
        return BlockView(
            _decode_header(raw_header),
            [self.chain.vm.transaction_object(raw) for _, raw, _ in txs],
            raw_header,
            [raw for _, raw, _ in txs],
        )

    def receipts(self, block: BlockView) -> tuple[Any, ...]:
        return tuple(
            PragueReceiptBuilder.decode(receipt)
            for _, _, receipt in self.store.block_txs(block.number)
        )

    def next_base_fee(self) -> int:
        return int(calculate_expected_base_fee_per_gas(self.head))

    # --- state ------------------------------------------------------------------------------

    def _view(self, block: int | str | bytes) -> Any:
        return self.chain.view(self._number(block))

    def balance(self, address: bytes, block: int | str | bytes = "latest") -> int:
        account = self._view(block).get_account(address)
        return account.balance if account else 0

    def nonce(self, address: bytes, block: int | str | bytes = "latest") -> int:
        account = self._view(block).get_account(address)
        nonce = account.nonce if account else 0
        if block == "pending":  # count the sender's consecutive pending transactions
            pending = self.store.pending_nonces(address)
            while nonce in pending:
                nonce += 1
        return nonce

    def code(self, address: bytes, block: int | str | bytes = "latest") -> bytes:
        return self._view(block).get_code(address)

    def storage(self, address: bytes, slot: int, block: int | str | bytes = "latest") -> int:
        return int(self._view(block).get_storage(address, slot))

    def proof(
        self, address: bytes, slots: list[int], block: int | str | bytes = "latest"
    ) -> AccountProof:
        root = self.chain.header_info(self._number(block)).state_root
        proof: AccountProof = self.chain.model.get_proof(self.store.state, root, address, slots)
        return proof

    # --- transactions -----------------------------------------------------------------------

    def send_raw_transaction(self, raw: bytes) -> bytes:
        if self.mempool is None:
            from rollupkit.errors import TransactionRejected

            raise TransactionRejected("this node is a follower: send transactions to the sequencer")
        return self.mempool.add(raw)

    def transaction(self, tx_hash: bytes) -> tuple[Any, BlockView | None, int]:
        location = self.store.tx_location(tx_hash)
        if location is None:
            raw = self.store.pending_tx(tx_hash)
            if raw is None:
                raise KeyError(tx_hash)
            return self.chain.vm.transaction_object(raw), None, 0
        number, index = location
        block = self.block(number)
        return block.transactions[index], block, index

    def receipt(self, tx_hash: bytes) -> tuple[Any, Any, BlockView, int, int, int]:
        """A mined transaction's receipt, the transaction, its block (header only), its index,
        and the block's gas and logs before it: one row read, whatever the block's size."""
        mined = self.store.mined_tx(tx_hash)
        if mined is None:
            raise KeyError(tx_hash)
        raw_header = self.store.header(mined.number)
        block = BlockView(_decode_header(raw_header), [], raw_header, [])
        return (
            PragueReceiptBuilder.decode(mined.receipt),
            self.chain.vm.transaction_object(mined.raw),
            block, mined.index, mined.gas_before, mined.first_log,
        )  # fmt: skip

    def logs(
        self,
        from_block: int,
        to_block: int,
        addresses: Sequence[bytes] = (),
        topics: Sequence[Sequence[bytes] | None] = (),
    ) -> Iterator[tuple[Any, Any, Any, BlockView, int, int]]:
        for number in range(from_block, to_block + 1):
            block = self.block(number)
            log_index = 0
            for tx_index, receipt in enumerate(self.receipts(block)):
                for log in receipt.logs:
                    if log_matches(log, addresses, topics):
                        yield log, receipt, block.transactions[tx_index], block, tx_index, log_index
                    log_index += 1

    # --- calls ------------------------------------------------------------------------------

    def _call(
        self,
        params: dict[str, Any],
        block: int | str | bytes,
        gas: int,
        deadline: float | None = None,
    ) -> Any:
        """One call; a whole estimate shares one ``deadline`` (time.monotonic)."""
        if deadline is None:
            deadline = time.monotonic() + self.limits.timeout
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise CallTimeout(f"execution aborted (timeout = {self.limits.timeout:g}s)")
        number = self._number(block)
        return self.chain.vm.call(
            self.chain.call_view(number),
            chain_id=self.chain_id,
            parent_header=self.store.header(number),
            sender=params.get("from") or b"\x00" * 20,
            to=params.get("to"),
            value=int(params.get("value") or 0),
            data=params.get("data") or b"",
            gas=gas,
            timeout=timeout,
        )

    def access_list(
        self, params: dict[str, Any], block: int | str | bytes = "latest"
    ) -> AccessListResult:
        """eth_createAccessList (raises NotImplementedError for a VM without access lists)."""
        number = self._number(block)
        return self.chain.vm.access_list(
            self.chain.call_view(number),
            chain_id=self.chain_id,
            parent_header=self.store.header(number),
            sender=params.get("from") or b"\x00" * 20,
            to=params.get("to"),
            value=int(params.get("value") or 0),
            data=params.get("data") or b"",
            gas=self.limits.gas(params.get("gas"), self.chain.config.gas_limit),
            timeout=self.limits.timeout,
        )

    def call(self, params: dict[str, Any], block: int | str | bytes = "latest") -> bytes:
        gas = self.limits.gas(params.get("gas"), self.chain.config.gas_limit)
        result = self._call(params, block, gas)
        if not result.success:
            raise CallReverted(
                "execution reverted" if result.reverted else f"execution failed: {result.error}",
                result.output if result.reverted else b"",
            )
        return bytes(result.output)

    def estimate_gas(self, params: dict[str, Any], block: int | str | bytes = "latest") -> int:
        """The least gas limit with which the call succeeds (binary search, as geth does)."""
        cap = self.limits.gas(params.get("gas"), self.chain.config.gas_limit)
        deadline = time.monotonic() + self.limits.timeout
        top = self._call(params, block, cap, deadline)
        if not top.success:
            raise CallReverted(
                "execution reverted" if top.reverted else f"gas estimation failed: {top.error}",
                top.output if top.reverted else b"",
            )
        low, high = max(21_000, top.gas_used) - 1, cap
        while high - low > 1:
            middle = (low + high) // 2
            if self._call(params, block, middle, deadline).success:
                high = middle
            else:
                low = middle
        return high
