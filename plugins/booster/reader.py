"""Reading a booster block's L1 state from an L1 node over JSON-RPC, for the builder.

EXECUTE reads L1 from the trace's witness; the block's builder has to find it first. A node
running a booster chain does not hold the L1's database, so it asks the L1 for what each L1
call reads, as it reads it: the anchor's header (``eth_getBlockByHash``, re-encoded and checked
against the anchor hash), each account's and slot's trie nodes at the anchor (``eth_getProof``),
and each contract's code (``eth_getCode``). They go into :attr:`RpcL1Reader.nodes` and
:attr:`~RpcL1Reader.codes`, which the builder's store falls back to, so the witness records
them as it records the L2's own reads.

One limit: a proof holds the nodes on the path to its key, not its siblings' nodes. An L1 write
that deletes a slot (sets it to zero) can need a sibling to restructure the trie, which no
standard JSON-RPC method returns by hash; such a block fails to build (a missing L1 node).
"""

from __future__ import annotations

import threading
from typing import Any

import rlp
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from rollupkit.errors import MissingWitnessError
from rollupkit.ethheader import HEADER_CLASS

EMPTY_CODE_HASH = keccak(b"")
#: How many anchors' L1 reads are kept (a sequencer reads at one anchor at a time; a node
#: deriving old blocks moves through them).
KEPT_ANCHORS = 4


class L1ReadError(MissingWitnessError):
    """The L1 node could not answer what a booster block reads: the block cannot be built now
    (like missing witness data, it ends the build rather than failing a transaction)."""


def header_rlp(block: Any) -> bytes:
    """The RLP of an L1 block's header from its JSON-RPC fields (a Prague header: the fork
    booster blocks read L1 at); raises :class:`L1ReadError` if it does not hash to the block."""

    def h(name: str) -> bytes:
        return bytes(block[name])

    try:
        header = HEADER_CLASS(
            parent_hash=h("parentHash"), uncles_hash=h("sha3Uncles"),
            coinbase=bytes.fromhex(block["miner"][2:]), state_root=h("stateRoot"),
            transaction_root=h("transactionsRoot"), receipt_root=h("receiptsRoot"),
            bloom=int.from_bytes(h("logsBloom"), "big"), difficulty=int(block["difficulty"]),
            block_number=int(block["number"]), gas_limit=int(block["gasLimit"]),
            gas_used=int(block["gasUsed"]), timestamp=int(block["timestamp"]),
            extra_data=h("extraData"), mix_hash=h("mixHash"), nonce=h("nonce"),
            base_fee_per_gas=int(block["baseFeePerGas"]), withdrawals_root=h("withdrawalsRoot"),
            blob_gas_used=int(block["blobGasUsed"]), excess_blob_gas=int(block["excessBlobGas"]),
            parent_beacon_block_root=h("parentBeaconBlockRoot"), requests_hash=h("requestsHash"),
        )  # fmt: skip
    except KeyError as exc:
        raise L1ReadError(
            f"L1 block {block.get('number')} has no {exc.args[0]} field: booster chains read an "
            "L1 at the Prague fork"
        ) from None
    raw = rlp.encode(header)
    if keccak(raw) != bytes(block["hash"]):
        raise L1ReadError(
            f"L1 block {int(block['number'])}'s header does not re-encode to its hash: booster "
            "chains read an L1 at the Prague fork"
        )
    return raw


class RpcL1Reader:
    """Loads L1 state at an anchor from an L1 node (web3 ``w3``) as booster blocks read it."""

    def __init__(self, w3: Any) -> None:
        self.w3 = w3
        self.nodes: dict[bytes, bytes] = {}
        self.codes: dict[bytes, bytes] = {}
        self._numbers: dict[bytes, int] = {}  # anchor hash -> L1 block number
        self._loaded: set[tuple[bytes, bytes, int | None]] = set()
        self._lock = threading.Lock()

    def header(self, anchor: bytes) -> None:
        """Load the anchor's header (keyed by its hash, as the witness keys it)."""
        with self._lock:
            if anchor in self._numbers:
                return
            if len(self._numbers) >= KEPT_ANCHORS:
                self.nodes.clear()
                self.codes.clear()
                self._numbers.clear()
                self._loaded.clear()
            try:
                block = self.w3.eth.get_block(anchor)
            except Exception as exc:  # noqa: BLE001 - the node's own words
                raise L1ReadError(f"L1 block 0x{anchor.hex()}: {exc}") from None
            self.codes[anchor] = header_rlp(block)
            self._numbers[anchor] = int(block["number"])

    def newest(self) -> bytes:
        """The hash of L1's newest block, its header loaded (where calls read L1 before the
        chain has read it)."""
        try:
            anchor = bytes(self.w3.eth.get_block("latest")["hash"])
        except Exception as exc:  # noqa: BLE001 - the node's own words
            raise L1ReadError(f"L1's newest block: {exc}") from None
        self.header(anchor)
        return anchor

    def account(self, anchor: bytes, address: bytes) -> None:
        """Load ``address``'s account (and code) at the anchor."""
        self._proof(anchor, address, None)

    def storage(self, anchor: bytes, address: bytes, slot: int) -> None:
        """Load ``address``'s account and storage ``slot`` at the anchor."""
        self._proof(anchor, address, slot)

    def _proof(self, anchor: bytes, address: bytes, slot: int | None) -> None:
        key = (anchor, address, slot)
        with self._lock:
            if key in self._loaded:
                return
            number = self._numbers[anchor]
            where = f"0x{address.hex()}" + ("" if slot is None else f" slot {slot}")
            try:
                proof = self.w3.eth.get_proof(
                    to_checksum_address(address), [] if slot is None else [slot], number
                )
                code_hash = bytes(proof["codeHash"])
                for node in proof["accountProof"]:
                    self.nodes[keccak(bytes(node))] = bytes(node)
                for item in proof["storageProof"]:
                    for node in item["proof"]:
                        self.nodes[keccak(bytes(node))] = bytes(node)
                if slot is None and code_hash != EMPTY_CODE_HASH and code_hash not in self.codes:
                    code = bytes(self.w3.eth.get_code(to_checksum_address(address), number))
                    self.codes[keccak(code)] = code
            except Exception as exc:  # noqa: BLE001 - the node's own words
                raise L1ReadError(f"L1 state of {where} at block {number}: {exc}") from None
            self._loaded.add(key)
