"""The ``eth_*`` JSON-RPC methods, over any chain backend (the embedded L1, an L2 node).

Values follow the Ethereum JSON-RPC specification (execution-apis): quantities are hex without
leading zeros, data is 0x-prefixed hex, block tags are latest, earliest, pending, safe and
finalized. web3.py, ethers and cast talk to it unmodified.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import rlp
from eth.abc import BlockAPI, ReceiptAPI, SignedTransactionAPI
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from rollupkit.errors import BlockNotFound, CallReverted, CallTimeout, TransactionRejected
from rollupkit.rpc.filters import Filters, LogQuery
from rollupkit.rpc.server import (
    EXECUTION_REVERTED,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    SERVER_ERROR,
    RpcError,
)

CLIENT_VERSION = "{client}/{version}/py-evm"


# --- parsing ---------------------------------------------------------------------------------


#: The longest hex quantity read (a uint256 with some leading zeros); longer is refused
#: before Python parses it.
MAX_QUANTITY_DIGITS = 80


def parse_quantity(value: Any, what: str = "quantity", bits: int = 256) -> int:
    """A hex quantity (``0x1a``); decimal integers are accepted too. Must fit in ``bits``."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        number = value
    elif (
        isinstance(value, str)
        and value[:2] in ("0x", "0X")
        and 2 < len(value) <= 2 + MAX_QUANTITY_DIGITS
    ):
        try:
            number = int(value, 16)
        except ValueError:
            number = None
    if number is None:
        raise RpcError(INVALID_PARAMS, f"invalid {what}: {_shown(value)}")
    if number >= 1 << bits:
        raise RpcError(INVALID_PARAMS, f"invalid {what}: does not fit in {bits} bits")
    return number


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_data(value: Any, what: str = "data", length: int | None = None) -> bytes:
    """0x-prefixed hex bytes, optionally of a fixed length."""
    if not isinstance(value, str) or value[:2] not in ("0x", "0X"):
        raise RpcError(INVALID_PARAMS, f"invalid {what}: expected 0x-prefixed hex")
    text = value[2:]
    if len(text) % 2:
        text = "0" + text
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise RpcError(INVALID_PARAMS, f"invalid {what}: not hex") from None
    if length is not None and len(data) != length:
        raise RpcError(INVALID_PARAMS, f"invalid {what}: expected {length} bytes, got {len(data)}")
    return data


def parse_address(value: Any, what: str = "address") -> bytes:
    """A 20-byte address."""
    return parse_data(value, what, 20)


def parse_block(value: Any) -> int | str | bytes:
    """A block tag, number, hash, or EIP-1898 object."""
    if value is None:
        return "latest"
    if isinstance(value, dict):
        if "blockHash" in value:
            return parse_data(value["blockHash"], "blockHash", 32)
        if "blockNumber" in value:
            return parse_block(value["blockNumber"])
        raise RpcError(INVALID_PARAMS, "invalid block: expected blockHash or blockNumber")
    if value in ("latest", "earliest", "pending", "safe", "finalized"):
        return str(value)
    if isinstance(value, str) and len(value) == 66:
        return parse_data(value, "block hash", 32)
    return parse_quantity(value, "block number")


def _storage_key(value: Any) -> int:
    """An eth_getProof storage key: at most 32 bytes of hex (a slot, or a hashed key)."""
    raw = parse_data(value, "storage key")
    if len(raw) > 32:
        raise RpcError(INVALID_PARAMS, f"invalid storage key: {len(raw)} bytes, more than 32")
    return int.from_bytes(raw, "big")


def q(value: int) -> str:
    """Format a quantity."""
    return hex(value)


def d(value: bytes) -> str:
    """Format data."""
    return "0x" + bytes(value).hex()


def a(value: bytes) -> str:
    """Format an address (checksummed, as clients print it)."""
    return to_checksum_address(value)


# --- formatting ------------------------------------------------------------------------------


def format_transaction(
    tx: Any, block: BlockAPI | None, index: int, chain_id: int
) -> dict[str, Any]:
    """A transaction object as eth_getTransactionByHash returns it (``tx`` is a signed py-evm
    transaction of any type; the type-specific fields are not on SignedTransactionAPI)."""
    type_id = getattr(tx, "type_id", None) or 0
    out: dict[str, Any] = {
        "hash": d(tx.hash),
        "nonce": q(tx.nonce),
        "blockHash": d(block.hash) if block else None,
        "blockNumber": q(block.number) if block else None,
        "transactionIndex": q(index) if block else None,
        "from": a(tx.sender),
        "to": a(tx.to) if tx.to else None,
        "value": q(tx.value),
        "gas": q(tx.gas),
        "input": d(tx.data),
        "type": q(type_id),
        "r": q(tx.r),
        "s": q(tx.s),
    }
    if type_id == 0:
        out["gasPrice"] = q(tx.gas_price)
        out["v"] = q(tx.v)
        if tx.chain_id is not None:
            out["chainId"] = q(tx.chain_id)
    else:
        out["chainId"] = q(tx.chain_id)
        out["v"] = q(tx.y_parity)
        out["yParity"] = q(tx.y_parity)
        out["accessList"] = [
            {"address": a(entry[0]), "storageKeys": [d(k.to_bytes(32, "big")) for k in entry[1]]}
            for entry in tx.access_list
        ]
        if type_id == 1:
            out["gasPrice"] = q(tx.gas_price)
        else:
            out["maxFeePerGas"] = q(tx.max_fee_per_gas)
            out["maxPriorityFeePerGas"] = q(tx.max_priority_fee_per_gas)
            base_fee = int(block.header.base_fee_per_gas or 0) if block else tx.max_fee_per_gas
            out["gasPrice"] = q(min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas))
    return out


def format_block(block: BlockAPI, full: bool, chain_id: int) -> dict[str, Any]:
    """A block object as eth_getBlockByNumber returns it."""
    h: Any = block.header  # a Prague header: the fork's fields are not on BlockHeaderAPI
    return {
        "number": q(h.block_number),
        "hash": d(h.hash),
        "parentHash": d(h.parent_hash),
        "nonce": d(h.nonce),
        "mixHash": d(h.mix_hash),
        "sha3Uncles": d(h.uncles_hash),
        "logsBloom": d(h.bloom.to_bytes(256, "big")),
        "transactionsRoot": d(h.transaction_root),
        "stateRoot": d(h.state_root),
        "receiptsRoot": d(h.receipt_root),
        "miner": a(h.coinbase),
        "difficulty": q(h.difficulty),
        "totalDifficulty": q(0),
        "extraData": d(h.extra_data),
        "size": q(len(block.encode() if hasattr(block, "encode") else rlp.encode(block))),
        "gasLimit": q(h.gas_limit),
        "gasUsed": q(h.gas_used),
        "timestamp": q(h.timestamp),
        "baseFeePerGas": q(h.base_fee_per_gas),
        "withdrawalsRoot": d(h.withdrawals_root),
        "withdrawals": [],
        "blobGasUsed": q(h.blob_gas_used),
        "excessBlobGas": q(h.excess_blob_gas),
        "parentBeaconBlockRoot": d(h.parent_beacon_block_root),
        "requestsHash": d(h.requests_hash),
        "uncles": [],
        "transactions": [
            format_transaction(tx, block, i, chain_id) if full else d(tx.hash)
            for i, tx in enumerate(block.transactions)
        ],
    }


def format_log(
    log: Any, tx: SignedTransactionAPI, block: BlockAPI, tx_index: int, log_index: int
) -> dict[str, Any]:
    """A log object as eth_getLogs and receipts carry it."""
    return {
        "address": a(log.address),
        "topics": [d(t.to_bytes(32, "big")) for t in log.topics],
        "data": d(log.data),
        "blockNumber": q(block.number),
        "blockHash": d(block.hash),
        "blockTimestamp": q(block.header.timestamp),
        "transactionHash": d(tx.hash),
        "transactionIndex": q(tx_index),
        "logIndex": q(log_index),
        "removed": False,
    }


def format_receipt(
    receipt: ReceiptAPI,
    tx: SignedTransactionAPI,
    block: BlockAPI,
    index: int,
    previous: int,
    first_log: int,
) -> dict[str, Any]:
    """A receipt as eth_getTransactionReceipt returns it (``previous``: the block's
    cumulative gas before it; ``first_log``: the block-wide index of its first log)."""
    contract = None
    if tx.to in (b"", None):
        import rlp

        contract = a(keccak(rlp.encode([tx.sender, tx.nonce]))[12:])
    base_fee = int(block.header.base_fee_per_gas or 0)
    if getattr(tx, "type_id", None) == 2 or hasattr(tx, "max_priority_fee_per_gas"):
        price = min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)
    else:
        price = tx.gas_price
    return {
        "transactionHash": d(tx.hash),
        "transactionIndex": q(index),
        "blockHash": d(block.hash),
        "blockNumber": q(block.number),
        "from": a(tx.sender),
        "to": a(tx.to) if tx.to else None,
        "cumulativeGasUsed": q(receipt.gas_used),
        "gasUsed": q(receipt.gas_used - previous),
        "effectiveGasPrice": q(price),
        "contractAddress": contract,
        "logs": [
            format_log(log, tx, block, index, first_log + i) for i, log in enumerate(receipt.logs)
        ],
        "logsBloom": d(receipt.bloom.to_bytes(256, "big")),
        "status": q(1 if receipt.state_root == b"\x01" else 0),
        "type": q(getattr(tx, "type_id", None) or 0),
    }


def log_matches(
    log: Any, addresses: Sequence[bytes], topics: Sequence[Sequence[bytes] | None]
) -> bool:
    """Whether a py-evm log passes an eth_getLogs address and topics filter."""
    if addresses and log.address not in addresses:
        return False
    log_topics = [t.to_bytes(32, "big") for t in log.topics]
    for position, wanted in enumerate(topics):
        if not wanted:
            continue
        if position >= len(log_topics) or log_topics[position] not in wanted:
            return False
    return True


# --- methods ---------------------------------------------------------------------------------


def _call_params(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RpcError(INVALID_PARAMS, "invalid call: expected a transaction object")
    params: dict[str, Any] = {}
    if raw.get("from"):
        params["from"] = parse_address(raw["from"], "from")
    if raw.get("to"):
        params["to"] = parse_address(raw["to"], "to")
    for key in ("gas", "value", "gasPrice"):
        if raw.get(key) is not None:
            params[key] = parse_quantity(raw[key], key)
    data = raw.get("input") or raw.get("data")
    if data:
        params["data"] = parse_data(data, "input")
    return params


class EthMethods:
    """The eth_*, net_* and web3_* methods of a chain backend.

    A backend offers: ``chain_id``, ``accounts`` (signers eth_sendTransaction may use),
    ``head``, ``header(tag)``, ``block(tag)``, ``balance``/``nonce``/``code``/``storage``
    (address, [slot,] tag), ``proof(address, slots, tag)``, ``transaction(hash)``,
    ``receipt(hash)``, ``receipts(block)``, ``send_raw_transaction(raw)``,
    ``call(params, tag)``, ``estimate_gas(params, tag)``, ``logs(first, last, addresses,
    topics)`` and ``next_base_fee()``, with py-evm's block, transaction and receipt objects.
    """

    client = "rollupkit"

    def __init__(self, chain: Any) -> None:
        self.devnet = chain  # the backend (named for the first one: the L1 devnet)
        self.chain_id = chain.chain_id
        self.filters = Filters()

    def methods(self) -> dict[str, Callable[..., Any]]:
        """Method name → handler, for :class:`rollupkit.rpc.server.JsonRpcServer`."""
        # A handler named ``eth__chainId`` answers ``eth_chainId``.
        namespaces = ("eth", "net", "web3", "evm", "anvil", "rollup", "rollupkit", "debug")
        return {
            name.replace("__", "_", 1): getattr(self, name)
            for name in dir(self)
            if name.split("__", 1)[0] in namespaces and "__" in name
        }

    def _block(self, tag: Any) -> BlockAPI:
        try:
            return self.devnet.block(parse_block(tag))
        except BlockNotFound:
            return None  # type: ignore[return-value]

    # web3 / net
    def web3__clientVersion(self) -> str:
        from rollupkit import __version__

        return CLIENT_VERSION.format(client=self.client, version=__version__)

    def web3__sha3(self, data: str) -> str:
        return d(keccak(parse_data(data)))

    def net__version(self) -> str:
        return str(self.chain_id)

    def net__listening(self) -> bool:
        return True

    def net__peerCount(self) -> str:
        return q(0)

    # chain
    def eth__chainId(self) -> str:
        return q(self.chain_id)

    def eth__syncing(self) -> bool:
        return False

    def eth__mining(self) -> bool:
        return True

    def eth__accounts(self) -> list[str]:
        return [acct.address for acct in self.devnet.accounts]

    def eth__blockNumber(self) -> str:
        return q(self.devnet.head.block_number)

    def eth__gasPrice(self) -> str:
        return q(self._next_base_fee() + 10**9)

    def eth__maxPriorityFeePerGas(self) -> str:
        return q(10**9)

    def eth__blobBaseFee(self) -> str:
        return q(1)

    def _next_base_fee(self) -> int:
        return int(self.devnet.next_base_fee())

    def eth__feeHistory(
        self, count: Any, newest: Any = "latest", percentiles: Any = None
    ) -> dict[str, Any]:
        blocks = max(1, min(parse_quantity(count, "block count"), 1024))
        newest_header = self.devnet.header(parse_block(newest))
        first = max(0, newest_header.block_number - blocks + 1)
        headers = [self.devnet.header(n) for n in range(first, newest_header.block_number + 1)]
        base_fees = [q(h.base_fee_per_gas) for h in headers] + [q(self._next_base_fee())]
        return {
            "oldestBlock": q(first),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": [h.gas_used / h.gas_limit for h in headers],
            "baseFeePerBlobGas": [q(1)] * (len(headers) + 1),
            "blobGasUsedRatio": [0.0] * len(headers),
            "reward": [[q(10**9)] * len(percentiles or [])] * len(headers) if percentiles else None,
        }

    # state
    def eth__getBalance(self, address: str, block: Any = "latest") -> str:
        return q(self.devnet.balance(parse_address(address), self._tag(block)))

    def eth__getTransactionCount(self, address: str, block: Any = "latest") -> str:
        return q(self.devnet.nonce(parse_address(address), self._tag(block)))

    def eth__getCode(self, address: str, block: Any = "latest") -> str:
        return d(self.devnet.code(parse_address(address), self._tag(block)))

    def eth__getStorageAt(self, address: str, slot: Any, block: Any = "latest") -> str:
        value = self.devnet.storage(
            parse_address(address), parse_quantity(slot, "slot"), self._tag(block)
        )
        return d(value.to_bytes(32, "big"))

    def eth__getProof(
        self, address: str, slots: list[Any], block: Any = "latest"
    ) -> dict[str, Any]:
        if not isinstance(slots, list):
            raise RpcError(INVALID_PARAMS, "invalid storage keys: expected an array")
        keys = [_storage_key(s) for s in slots]
        proof = self.devnet.proof(parse_address(address), keys, self._tag(block))
        account = proof.account
        return {
            "address": a(proof.address),
            "balance": q(account.balance if account else 0),
            "nonce": q(account.nonce if account else 0),
            "codeHash": d(account.code_hash if account else keccak(b"")),
            "storageHash": d(account.storage_root if account else keccak(b"\x80")),
            "accountProof": [d(node) for node in proof.account_proof],
            "storageProof": [
                # The key as it was sent, as geth answers (a 32-byte key stays 32 bytes).
                {"key": sent, "value": q(item.value), "proof": [d(n) for n in item.proof]}
                for sent, item in zip(slots, proof.storage, strict=True)
            ],
        }

    def _tag(self, block: Any) -> int | str | bytes:
        tag = parse_block(block)
        if tag in ("latest", "pending", "earliest"):
            return tag  # always there
        try:
            self.devnet.header(tag)
        except BlockNotFound as exc:
            raise RpcError(SERVER_ERROR, f"header not found: {block}") from exc
        return tag

    # blocks
    def eth__getBlockByNumber(self, block: Any, full: bool = False) -> dict[str, Any] | None:
        found = self._block(block)
        return format_block(found, bool(full), self.chain_id) if found is not None else None

    def eth__getBlockByHash(self, block_hash: str, full: bool = False) -> dict[str, Any] | None:
        try:
            found = self.devnet.block(parse_data(block_hash, "block hash", 32))
        except BlockNotFound:
            return None
        return format_block(found, bool(full), self.chain_id)

    def eth__getBlockTransactionCountByNumber(self, block: Any) -> str | None:
        found = self._block(block)
        return q(len(found.transactions)) if found is not None else None

    # transactions
    def eth__sendRawTransaction(self, raw: str) -> str:
        try:
            return d(self.devnet.send_raw_transaction(parse_data(raw, "transaction")))
        except TransactionRejected as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from exc

    def eth__sendTransaction(self, raw_tx: Any) -> str:
        """Sign with one of the dev accounts (they are unlocked) and send."""
        params = raw_tx if isinstance(raw_tx, dict) else {}
        sender = parse_address(params.get("from"), "from")
        account = next(
            (x for x in self.devnet.accounts if bytes.fromhex(x.address[2:]) == sender), None
        )
        if account is None:
            raise RpcError(
                SERVER_ERROR, f"unknown account {a(sender)}: only the dev accounts are unlocked"
            )
        call = _call_params(params)
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": parse_quantity(params["nonce"])
            if "nonce" in params
            else self.devnet.nonce(sender, "pending"),
            "value": call.get("value", 0),
            "data": call.get("data", b""),
            "maxFeePerGas": parse_quantity(
                params.get("maxFeePerGas", q(self._next_base_fee() * 2 + 10**9))
            ),
            "maxPriorityFeePerGas": parse_quantity(params.get("maxPriorityFeePerGas", q(10**9))),
        }
        if "to" in call:
            tx["to"] = a(call["to"])
        tx["gas"] = call["gas"] if "gas" in call else int(self.eth__estimateGas(params), 16)
        signed = account.sign_transaction(tx)
        return self.eth__sendRawTransaction(d(signed.raw_transaction))

    def eth__getTransactionByHash(self, tx_hash: str) -> dict[str, Any] | None:
        try:
            tx, block, index = self.devnet.transaction(parse_data(tx_hash, "transaction hash", 32))
        except KeyError:
            return None
        return format_transaction(tx, block, index, self.chain_id)

    def eth__getRawTransactionByHash(self, tx_hash: str) -> str | None:
        try:
            tx, _, _ = self.devnet.transaction(parse_data(tx_hash, "transaction hash", 32))
        except KeyError:
            return None
        return d(tx.encode() if hasattr(tx, "encode") else __import__("rlp").encode(tx))

    def eth__getTransactionReceipt(self, tx_hash: str) -> dict[str, Any] | None:
        try:
            receipt, tx, block, index, previous, first_log = self.devnet.receipt(
                parse_data(tx_hash, "transaction hash", 32)
            )
        except KeyError:
            return None
        return format_receipt(receipt, tx, block, index, previous, first_log)

    def eth__call(self, params: Any, block: Any = "latest", overrides: Any = None) -> str:
        try:
            return d(self.devnet.call(_call_params(params), self._tag(block)))
        except CallReverted as exc:
            raise _reverted(exc) from exc
        except CallTimeout as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from exc

    def eth__createAccessList(self, params: Any, block: Any = "latest") -> dict[str, Any]:
        try:
            found = self.devnet.access_list(_call_params(params), self._tag(block))
        except NotImplementedError as exc:
            raise RpcError(METHOD_NOT_FOUND, str(exc)) from exc
        except CallTimeout as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from exc
        answer: dict[str, Any] = {
            "accessList": [
                {"address": a(address), "storageKeys": [d(s.to_bytes(32, "big")) for s in slots]}
                for address, slots in found.access_list
            ],
            "gasUsed": q(found.gas_used),
        }
        if found.error:
            answer["error"] = found.error
        return answer

    def eth__estimateGas(self, params: Any, block: Any = "latest") -> str:
        try:
            return q(self.devnet.estimate_gas(_call_params(params), self._tag(block)))
        except CallReverted as exc:
            raise _reverted(exc) from exc
        except CallTimeout as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from exc

    def eth__getLogs(self, criteria: Any) -> list[dict[str, Any]]:
        return self._logs(_log_query(criteria))

    def _logs(self, query: LogQuery, first: int | None = None) -> list[dict[str, Any]]:
        """The logs ``query`` selects (from block ``first`` on, if given)."""
        head = self.devnet.head.block_number
        if query.block_hash is not None:
            start = end = self.devnet.header(query.block_hash).block_number
        else:
            start = _number(self.devnet, query.from_block, head)
            end = min(_number(self.devnet, query.to_block, head), head)
        if first is not None:
            start = max(start, first)
        if end - start > 10_000:
            raise RpcError(SERVER_ERROR, "query returned more than 10000 blocks; narrow the range")
        return [
            format_log(log, tx, block, tx_index, log_index)
            for log, _, tx, block, tx_index, log_index in self.devnet.logs(
                start, end, query.addresses, query.topics
            )
        ]

    def eth__getBlockReceipts(self, block: Any) -> list[dict[str, Any]] | None:
        found = self._block(block)
        if found is None:
            return None
        answers, previous, first_log = [], 0, 0
        for index, (receipt, tx) in enumerate(
            zip(self.devnet.receipts(found), found.transactions, strict=True)
        ):
            answers.append(format_receipt(receipt, tx, found, index, previous, first_log))
            previous, first_log = receipt.gas_used, first_log + len(receipt.logs)
        return answers

    # filters
    def eth__newFilter(self, criteria: Any) -> str:
        query = _log_query(criteria)
        return self.filters.install("logs", self.devnet.head.block_number + 1, query)

    def eth__newBlockFilter(self) -> str:
        return self.filters.install("blocks", self.devnet.head.block_number + 1)

    def eth__getFilterChanges(self, filter_id: Any) -> list[Any]:
        installed = self.filters.get(filter_id)
        head = self.devnet.head.block_number
        first, installed.next_block = installed.next_block, max(installed.next_block, head + 1)
        if first > head:
            return []
        if installed.kind == "blocks":
            return [
                d(self.devnet.header(n).hash) for n in range(max(first, head - 10_000), head + 1)
            ]
        assert installed.query is not None
        if installed.query.block_hash is not None:
            return []  # a filter on one block has nothing new to say
        return self._logs(installed.query, first)

    def eth__getFilterLogs(self, filter_id: Any) -> list[dict[str, Any]]:
        installed = self.filters.get(filter_id)
        if installed.query is None:
            raise RpcError(INVALID_PARAMS, "not a log filter: use eth_getFilterChanges")
        return self._logs(installed.query)

    def eth__uninstallFilter(self, filter_id: Any) -> bool:
        return self.filters.uninstall(filter_id)


class DevnetMethods(EthMethods):
    """:class:`EthMethods` plus the devnet controls (anvil and hardhat names) and the EXECUTE
    gas market of the embedded L1."""

    client = "rollupkit-l1"

    def evm__mine(self, timestamp: Any = None) -> str:
        self.devnet.mine(parse_quantity(timestamp, "timestamp") if timestamp is not None else None)
        return "0x0"

    def anvil__reorg(self, depth: Any, transactions: Any = None) -> None:
        """Replace the newest ``depth`` blocks with as many empty ones (anvil's name)."""
        if transactions:
            raise RpcError(INVALID_PARAMS, "a reorg here replays no transactions")
        try:
            self.devnet.reorg(parse_quantity(depth, "depth"))
        except ValueError as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None

    def evm__setAutomine(self, enabled: bool) -> bool:
        self.devnet.automine = bool(enabled)
        return True

    def evm__increaseTime(self, seconds: Any) -> str:
        self.devnet.time_offset += parse_quantity(seconds, "seconds")
        return q(self.devnet.time_offset)

    def evm__setNextBlockTimestamp(self, timestamp: Any) -> None:
        self.devnet.next_timestamp = parse_quantity(timestamp, "timestamp")

    def rollupkit__executeGasMarket(self) -> dict[str, Any]:
        market = self.devnet.market
        return {
            "price": q(market.price),
            "block": q(market.block_number),
            "usedInBlock": q(market.used_in_block),
            "limit": q(market.config.limit),
            "target": q(market.config.target),
        }


def _log_query(criteria: Any) -> LogQuery:
    """An eth_getLogs / eth_newFilter filter object, checked."""
    if not isinstance(criteria, dict):
        raise RpcError(INVALID_PARAMS, "invalid filter: expected an object")
    address = criteria.get("address") or []
    addresses = [parse_address(x) for x in (address if isinstance(address, list) else [address])]
    topics: list[list[bytes] | None] = []
    raw_topics = criteria.get("topics") or []
    if not isinstance(raw_topics, list):
        raise RpcError(INVALID_PARAMS, "invalid topics: expected an array")
    for topic in raw_topics:
        if topic is None:
            topics.append(None)
        elif isinstance(topic, list):
            topics.append([parse_data(t, "topic", 32) for t in topic])
        else:
            topics.append([parse_data(topic, "topic", 32)])
    block_hash = None
    if "blockHash" in criteria:
        block_hash = parse_data(criteria["blockHash"], "blockHash", 32)
    from_block = parse_block(criteria.get("fromBlock", "latest"))
    to_block = parse_block(criteria.get("toBlock", "latest"))
    if isinstance(from_block, bytes) or isinstance(to_block, bytes):
        raise RpcError(INVALID_PARAMS, "invalid block range: use blockHash for one block")
    return LogQuery(from_block, to_block, addresses, topics, block_hash)


def _number(devnet: Any, tag: Any, head: int) -> int:
    value = parse_block(tag) if not isinstance(tag, int) else tag
    if isinstance(value, int):
        return value
    return devnet.header(value).block_number


def _reverted(exc: CallReverted) -> RpcError:
    if exc.data or str(exc) == "execution reverted":
        return RpcError(EXECUTION_REVERTED, _revert_message(exc.data), d(exc.data))
    return RpcError(SERVER_ERROR, str(exc))


def _revert_message(data: bytes) -> str:
    if data[:4] == bytes.fromhex("08c379a0"):
        from eth_abi import decode

        try:
            return f"execution reverted: {decode(['string'], data[4:])[0]}"
        except Exception:  # noqa: BLE001 - malformed Error(string): fall back to plain
            pass
    return "execution reverted"
