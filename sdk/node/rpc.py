"""The L2 node's JSON-RPC: the eth_* methods plus ``rollup_*``.

``rollup_*`` methods:

* ``rollup_status()``: head, settled block, L1 queue position, pending transactions.
* ``rollup_getBlockStatus(block)``: which batch holds a block and how far it got
  (``unbatched``, ``built``, ``posted``, ``submitted`` to the proof backend, ``settled``).
* ``rollup_getBatch(id)``: a batch's blocks, status and L1 transactions (and, once submitted,
  ``finalAt``, the L1 time from which it may settle, and the backend's ``submission`` detail);
  ``l2Transactions``, and ``l1Costs``: each L1 transaction the node sent for it (``batch
  data``, ``settlement``) with its calldata bytes and L1 gas, in all and per L2 transaction.
* ``rollup_getWithdrawalProof(txHash)``: each withdrawal the transaction made, with its leaf
  index and Merkle proof against its batch's withdrawals root, and the batch's settlement
  index on L1 (what ``L1Bridge.claimWithdrawal`` takes).
* ``rollup_getDepositRefundProof(messageIndex)``: the same for the refund of an L1 deposit the
  chain could not credit (a zkpay deposit whose leaf another address holds), found through the
  VM's ``refunds_of``; an error if the message was credited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rollupkit.node.backend import L2Backend
from rollupkit.rpc.eth import EthMethods, d, parse_block, parse_data, parse_quantity, q
from rollupkit.rpc.server import INVALID_PARAMS, SERVER_ERROR, RpcError
from rollupkit.withdrawals import merkle_proof, withdrawal_leaf

if TYPE_CHECKING:
    from rollupkit.node.node import Node


class L2Methods(EthMethods):
    """eth_*, net_*, web3_* and rollup_* for an L2 node."""

    client = "rollupkit-l2"

    def __init__(self, backend: L2Backend, node: Node) -> None:
        super().__init__(backend)
        self.backend = backend
        self.node = node

    def rollup__status(self) -> dict[str, Any]:
        store = self.backend.store
        position = self.backend.chain.queue_position()
        return {
            "role": self.node.config.role,
            "head": q(store.head_number()),
            "settledBlock": q(int(store.get_meta("settled_block", 0))),
            "queueIndex": q(position.index),
            "queueKnown": q(store.message_count()),
            "pendingTransactions": q(store.pending_count()),
            "batches": q(len(store.batches())),
            "errors": self.node.errors[-5:],
            # Set when L1 settled a chain this node cannot rebuild: it stopped following L1.
            "diverged": store.get_meta("diverged"),
        }

    def rollup__getBlockStatus(self, block: Any = "latest") -> dict[str, Any]:
        number = self.backend._number(parse_block(block))
        batch = self.backend.store.batch_of_block(number)
        status = "genesis" if number == 0 else ("unbatched" if batch is None else batch["status"])
        return {
            "block": q(number),
            "hash": d(self.backend.chain.header_info(number).hash),
            "status": status,
            "batch": _batch_json(batch) if batch else None,
        }

    def debug__executionWitness(self, block: Any) -> dict[str, Any]:
        """What re-executing one block statelessly needs, in reth's and geth's shape: the
        pre-state trie nodes it reads (``state``), the contract codes (``codes``) and the RLP
        headers from the oldest one BLOCKHASH reads up to the parent (``headers``). With the
        block itself (its transactions and L1 messages), EXECUTE verifies it from these
        alone; and the preimages of the state keys it read or wrote (``keys``: account
        addresses, storage slots as 32 bytes)."""
        import rlp

        number = self.backend._number(parse_block(block))
        stored = self.backend.store.block(number)
        if stored is None or number == 0:
            raise RpcError(INVALID_PARAMS, f"no witness for block {number}: genesis has none")
        state_nodes, codes, _, oldest, *rest = rlp.decode(stored.witness)
        keys = rest[0] if rest else []  # not kept by nodes before they were recorded
        first = int.from_bytes(oldest, "big")
        headers = [self.backend.store.header(n) for n in range(first, number)]
        return {
            "state": [d(node) for node in state_nodes],
            "codes": [d(code) for code in codes],
            "keys": [d(key) for key in keys],
            "headers": [d(header) for header in headers],
        }

    def rollup__getBatch(self, batch_id: Any) -> dict[str, Any] | None:
        batch = self.backend.store.batch(parse_quantity(batch_id, "batch id", bits=63))
        if not batch:
            return None
        answer = _batch_json(batch)
        count = self.backend.store.transaction_count(batch["first_block"], batch["last_block"])
        answer["l2Transactions"] = q(count)
        answer["l1Costs"] = _l1_costs(batch["detail"], count)
        return answer

    def rollup__getWithdrawalProof(self, tx_hash: str) -> dict[str, Any]:
        digest = parse_data(tx_hash, "transaction hash", 32)
        location = self.backend.store.tx_location(digest)
        if location is None:
            raise RpcError(INVALID_PARAMS, f"unknown transaction {tx_hash}")
        number, index = location
        batch = self._batch_holding(number)
        receipts = self.backend.receipts(self.backend.block(number))
        owned = _withdrawals_of_tx(self.backend.chain.withdrawals(number), receipts, index)
        if not owned:
            raise RpcError(SERVER_ERROR, f"transaction {tx_hash} made no withdrawal")
        return self._withdrawal_proofs(batch, number, owned)

    def rollup__getDepositRefundProof(self, message_index: Any) -> dict[str, Any]:
        index = parse_quantity(message_index, "L1 message index")
        applied = self.backend.chain.refunds_of_message(index)
        if applied is None:
            raise RpcError(SERVER_ERROR, f"L1 message {index} is not applied on L2 yet")
        block, refunds = applied
        if not refunds:
            raise RpcError(
                SERVER_ERROR, f"L1 message {index} was applied in block {block}: no refund"
            )
        return self._withdrawal_proofs(self._batch_holding(block), block, set(refunds))

    def _batch_holding(self, number: int) -> dict[str, Any]:
        batch = self.backend.store.batch_of_block(number)
        if batch is None:
            raise RpcError(SERVER_ERROR, f"block {number} is not in a batch yet; try again later")
        return batch

    def _withdrawal_proofs(
        self, batch: dict[str, Any], number: int, positions: set[int]
    ) -> dict[str, Any]:
        """The withdrawals at ``positions`` among block ``number``'s, each with its leaf index
        and Merkle proof against the withdrawals root of ``batch`` (which holds the block)."""
        leaves: list[bytes] = []
        mine: list[tuple[int, Any]] = []
        for block in range(batch["first_block"], batch["last_block"] + 1):
            block_withdrawals = self.backend.chain.withdrawals(block)
            if block == number:
                mine.extend((len(leaves) + p, block_withdrawals[p]) for p in sorted(positions))
            leaves.extend(withdrawal_leaf(w) for w in block_withdrawals)
        detail = batch["detail"]
        return {
            "batch": q(batch["id"]),
            "block": q(number),
            "status": batch["status"],
            "settlementIndex": (
                q(detail["settlement_index"]) if "settlement_index" in detail else None
            ),
            "withdrawals": [
                {
                    "nonce": q(w.nonce),
                    "sender": d(w.sender),
                    "target": d(w.target),
                    "value": q(w.value),
                    "data": d(w.data),
                    "leafIndex": q(leaf),
                    "proof": [d(p) for p in merkle_proof(leaves, leaf)],
                }
                for leaf, w in mine
            ],
        }


def _withdrawals_of_tx(
    withdrawals: list[Any], receipts: tuple[Any, ...], tx_index: int
) -> set[int]:
    """Positions, among a block's withdrawals, of those made by transaction ``tx_index``:
    withdrawals are in log order, so count the bridge's withdrawal logs per receipt."""
    from rollupkit.withdrawals import L2_BRIDGE_ADDRESS, WITHDRAWAL_EVENT_TOPIC

    topic = int.from_bytes(WITHDRAWAL_EVENT_TOPIC, "big")
    position = 0
    owned: set[int] = set()
    for i, receipt in enumerate(receipts):
        for log in receipt.logs:
            if log.address == L2_BRIDGE_ADDRESS and log.topics and log.topics[0] == topic:
                if i == tx_index:
                    owned.add(position)
                position += 1
    # Withdrawals made by deposit calls come before every transaction's.
    offset = len(withdrawals) - position
    return {p + offset for p in owned}


def _l1_costs(detail: dict[str, Any], transactions: int) -> list[dict[str, Any]]:
    """Each L1 transaction of a batch this node sent, labelled, with its calldata bytes and L1
    gas, in all and per L2 transaction of the batch (rounded down)."""
    costs = []
    for label, kind, size in (
        ("batch data", "post", "l1_bytes"),
        ("settlement", "settle", "settle_bytes"),
    ):
        tx, gas, size_bytes = detail.get(f"{kind}_tx"), detail.get(f"{kind}_gas"), detail.get(size)
        if tx is None or gas is None or size_bytes is None:
            continue  # not sent by this node (or before it kept these)
        per = max(transactions, 1)
        costs.append({
            "label": label, "tx": tx, "calldataBytes": q(size_bytes), "l1Gas": q(gas),
            "bytesPerL2Transaction": q(size_bytes // per), "gasPerL2Transaction": q(gas // per),
        })  # fmt: skip
    return costs


def _batch_json(batch: dict[str, Any]) -> dict[str, Any]:
    """A batch as JSON-RPC shows it: camelCase names, every number a hex quantity (as the
    eth_* methods do), hashes and roots as 0x-hex."""
    answer: dict[str, Any] = {
        "id": q(batch["id"]),
        "firstBlock": q(batch["first_block"]),
        "lastBlock": q(batch["last_block"]),
        "status": batch["status"],
    }
    for key, value in batch["detail"].items():
        if key.startswith("_"):
            continue
        head, *rest = key.split("_")
        name = head + "".join(part.capitalize() for part in rest)
        answer[name] = q(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return answer
