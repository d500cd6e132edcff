"""The plain data that flows between rollupkit's core and its plugins.

Every type here is a frozen dataclass of bytes and ints, so values can be hashed, compared and
encoded without knowing which VM or state model produced them. Addresses are 20 raw bytes,
hashes and roots 32 raw bytes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

ZERO_HASH = b"\x00" * 32
ZERO_ADDRESS = b"\x00" * 20
#: keccak256 of empty code: the code hash of an account without code.
EMPTY_CODE_HASH = keccak(b"")


class MessageKind(enum.IntEnum):
    """What an L1 → L2 message asks the L2 to do."""

    #: ``value`` minted on L2 (locked on L1). Without ``data``: credited to ``target``. With
    #: ``data``: credited to ``sender``, who then calls ``target`` with the value, ``data`` and
    #: ``gas_limit`` gas; if the call fails the value stays with ``sender`` (as on OP Stack),
    #: so the deposit is always honoured and never stranded in a contract that refused it.
    DEPOSIT = 0
    #: A signed L2 transaction (``data``) forced through L1. It is applied like any transaction
    #: if valid; if invalid (bad nonce, no funds) it is consumed as a no-op, so nobody can stall
    #: the chain by forcing garbage.
    FORCED_TX = 1


@dataclass(frozen=True)
class L1Message:
    """One entry of the L1 message queue, as consumed by an L2 block."""

    kind: MessageKind
    index: int  # position in the L1 queue, starting at 0
    sender: bytes  # the L2-visible sender (the L1 bridge applies any aliasing)
    target: bytes  # recipient of a deposit; ZERO_ADDRESS for a forced transaction
    value: int
    gas_limit: int
    data: bytes

    def hash(self) -> bytes:
        """The message's hash in the L1 queue, as the L1 bridge contract computes it:
        ``keccak256(abi.encode(kind, index, sender, target, value, gas_limit, keccak256(data)))``.
        """
        return keccak(
            abi_encode(
                ["uint8", "uint64", "address", "address", "uint256", "uint64", "bytes32"],
                [
                    int(self.kind),
                    self.index,
                    self.sender,
                    self.target,
                    self.value,
                    self.gas_limit,
                    keccak(self.data),
                ],
            )
        )


@dataclass(frozen=True)
class QueuePosition:
    """Where a trace starts consuming the L1 queue: next index and the rolling hash so far."""

    index: int = 0
    rolling_hash: bytes = ZERO_HASH


@dataclass(frozen=True)
class BlockInput:
    """One L2 block as the sequencer proposes it: context, L1 messages and transactions.

    ``number``, ``parent_hash`` and ``base_fee`` are implied by the parent header; they are
    carried so a trace is readable on its own, and EXECUTE rejects a trace where they disagree.
    """

    number: int
    timestamp: int
    coinbase: bytes
    gas_limit: int
    base_fee: int
    prev_randao: bytes
    parent_hash: bytes
    l1_anchor: bytes  # an L1 block hash or any commitment the rollup chooses (EIP-4788 slot)
    extra_data: bytes = b""
    l1_messages: tuple[L1Message, ...] = ()
    transactions: tuple[bytes, ...] = ()  # signed transactions, in their network encoding


@dataclass(frozen=True)
class Witness:
    """What stateless execution needs besides the blocks.

    ``state_nodes`` are state-trie node preimages, ``codes`` contract codes and ``headers``
    ancestor block headers (oldest first, ending with the parent of the first block) so that
    BLOCKHASH can be answered and the parent's state root checked.
    """

    state_nodes: tuple[bytes, ...] = ()
    codes: tuple[bytes, ...] = ()
    headers: tuple[bytes, ...] = ()

    def size(self) -> int:
        """Total bytes of node, code and header preimages."""
        return (
            sum(map(len, self.state_nodes))
            + sum(map(len, self.codes))
            + sum(map(len, self.headers))
        )


@dataclass(frozen=True)
class Trace:
    """The full input of EXECUTE besides the two roots and the gas: see ``rollupkit.trace``."""

    chain_id: int
    queue_start: QueuePosition
    blocks: tuple[BlockInput, ...]
    witness: Witness
    version: int = 1


@dataclass(frozen=True)
class HeaderInfo:
    """The fields of an L2 block header that the core needs, whatever VM made it."""

    number: int
    hash: bytes
    parent_hash: bytes
    state_root: bytes
    timestamp: int
    gas_limit: int


@dataclass(frozen=True)
class Account:
    """An account in the Ethereum account model that every built-in VM keeps."""

    nonce: int = 0
    balance: int = 0
    storage_root: bytes = ZERO_HASH  # the state model's empty-storage root when empty
    code_hash: bytes = EMPTY_CODE_HASH


@dataclass(frozen=True)
class GenesisAccount:
    """An account in a genesis allocation."""

    balance: int = 0
    nonce: int = 0
    code: bytes = b""
    storage: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Withdrawal:
    """An L2 → L1 withdrawal, as emitted by the L2 bridge predeploy."""

    nonce: int
    sender: bytes
    target: bytes
    value: int
    data: bytes

    def leaf(self) -> bytes:
        """The leaf hashed into the withdrawals root; L1 recomputes it when a claim arrives."""
        from rollupkit.withdrawals import withdrawal_leaf

        return withdrawal_leaf(self)


@dataclass(frozen=True)
class L1Effects:
    """What a booster block (seed 000) did with L1: the L1 block its L1 calls read at, the L1
    state root after its L1 writes, and each L1 storage slot it changed, in the order of their
    first write, with the value before the block and after."""

    anchor_number: int
    anchor_hash: bytes
    state_root: bytes
    updates: tuple[tuple[bytes, int, int, int], ...] = ()  # (contract, slot, before, after)


@dataclass(frozen=True)
class BlockResult:
    """What a VM reports after executing one block."""

    header: bytes  # the sealed header, RLP-encoded
    info: HeaderInfo
    gas_used: int  # everything the block consumed: transactions and L1-message calls
    transactions_root: bytes
    receipts_root: bytes
    transactions: tuple[bytes, ...]  # as included (valid forced transactions first)
    receipts: tuple[bytes, ...]  # encoded receipts, one per included transaction
    withdrawals: tuple[Withdrawal, ...] = ()
    # Preimages of the state keys the block read or wrote (account addresses, storage slots
    # as 32 bytes), for debug_executionWitness's ``keys``; empty if the VM does not say.
    keys: tuple[bytes, ...] = ()
    l1: L1Effects | None = None  # a booster block that read or wrote L1


@dataclass(frozen=True)
class StorageProof:
    """One storage slot and its proof, in the eth_getProof (EIP-1186) shape."""

    key: int
    value: int
    proof: tuple[bytes, ...]


@dataclass(frozen=True)
class AccountProof:
    """An account, a few of its slots, and their proofs, in the eth_getProof shape."""

    address: bytes
    account: Account | None  # None: the proof shows the account does not exist
    account_proof: tuple[bytes, ...]
    storage: tuple[StorageProof, ...] = ()


class RejectReason(enum.StrEnum):
    """Why EXECUTE said False. The value is a stable, machine-readable code; :attr:`code` is
    the number the L1 precompile returns for it."""

    OVERSIZED = "oversized"
    MALFORMED_TRACE = "malformed-trace"
    UNSUPPORTED_VERSION = "unsupported-version"
    UNKNOWN_PLUGIN = "unknown-plugin"
    UNSUPPORTED_COMBINATION = "unsupported-combination"
    BAD_ARGUMENT = "bad-argument"
    BAD_ANCESTORS = "bad-ancestors"
    PRE_STATE_MISMATCH = "pre-state-mismatch"
    MISSING_WITNESS = "missing-witness"
    INVALID_MESSAGES = "invalid-messages"
    INVALID_BLOCK = "invalid-block"
    INVALID_TRANSACTION = "invalid-transaction"
    POST_STATE_MISMATCH = "post-state-mismatch"
    GAS_MISMATCH = "gas-mismatch"
    INTERNAL_ERROR = "internal-error"
    #: An independent client abstained (ClientUnsupported): no verdict on the trace.
    UNSUPPORTED_BY_CLIENT = "unsupported-by-client"

    @property
    def code(self) -> int:
        """The reason's on-chain number (``uint8 reason`` of the precompile's output; 0 is
        "no reason": the verdict was true). Fixed forever: see :data:`REJECT_CODES`."""
        return REJECT_CODES[self]


#: Each reason's on-chain number. These are part of the L1 interface: never renumber one;
#: give a new reason the next free number.
REJECT_CODES: dict[RejectReason, int] = {
    RejectReason.OVERSIZED: 1,
    RejectReason.MALFORMED_TRACE: 2,
    RejectReason.UNSUPPORTED_VERSION: 3,
    RejectReason.UNKNOWN_PLUGIN: 4,
    RejectReason.UNSUPPORTED_COMBINATION: 5,
    RejectReason.BAD_ARGUMENT: 6,
    RejectReason.BAD_ANCESTORS: 7,
    RejectReason.PRE_STATE_MISMATCH: 8,
    RejectReason.MISSING_WITNESS: 9,
    RejectReason.INVALID_MESSAGES: 10,
    RejectReason.INVALID_BLOCK: 11,
    RejectReason.INVALID_TRANSACTION: 12,
    RejectReason.POST_STATE_MISMATCH: 13,
    RejectReason.GAS_MISMATCH: 14,
    RejectReason.INTERNAL_ERROR: 15,
    RejectReason.UNSUPPORTED_BY_CLIENT: 16,
}


@dataclass(frozen=True)
class PublicOutputs:
    """What a verdict commits to besides True/False; L1 contracts bind these.

    The L1 settlement contract must check ``parent_hash`` against the last settled block hash,
    ``queue_start_*`` and ``queue_end_hash`` against its message queue, and record
    ``withdrawals_root`` so withdrawals can be claimed.
    """

    chain_id: int
    pre_state_root: bytes
    post_state_root: bytes
    gas_used: int  # EXECUTE gas: the blocks' L2 gas plus trace bytes, blocks and L1 messages
    parent_hash: bytes
    block_hash: bytes
    block_number: int
    block_count: int
    receipts_root: bytes  # of the last block
    queue_start_index: int
    queue_start_hash: bytes
    messages_consumed: int
    queue_end_hash: bytes
    withdrawals_root: bytes
    withdrawal_count: int
    # Booster rollups (seed 000; zero otherwise): the L1 block the batch's L1 calls read at,
    # the L1 state root after its L1 writes, and the hash of its L1 storage updates
    # (rollupkit.l1updates), which the settlement contract checks and applies.
    l1_anchor_number: int = 0
    l1_anchor_hash: bytes = ZERO_HASH
    l1_state_root: bytes = ZERO_HASH
    l1_updates_hash: bytes = ZERO_HASH
    l2_gas_used: int = 0  # the blocks' own gas (transactions and deposit calls); not bound


#: The public outputs as the L1 sees them, (field, ABI type) in the order of the Solidity
#: ``BatchClaim`` (contracts/IVerifier.sol). Every ABI encoding of a claim is made from this.
CLAIM_FIELDS: tuple[tuple[str, str], ...] = (
    ("chain_id", "uint256"),
    ("pre_state_root", "bytes32"),
    ("post_state_root", "bytes32"),
    ("gas_used", "uint256"),
    ("parent_hash", "bytes32"),
    ("block_hash", "bytes32"),
    ("block_number", "uint256"),
    ("queue_start_index", "uint256"),
    ("queue_start_hash", "bytes32"),
    ("messages_consumed", "uint256"),
    ("queue_end_hash", "bytes32"),
    ("withdrawals_root", "bytes32"),
    ("withdrawal_count", "uint256"),
    ("l1_anchor_number", "uint256"),
    ("l1_anchor_hash", "bytes32"),
    ("l1_state_root", "bytes32"),
    ("l1_updates_hash", "bytes32"),
)
#: What the EXECUTE precompile returns after ``(bool ok, uint8 reason)``: the claim's fields
#: but the pre-state root (an input), in the order ExecuteVerifier compares them.
VERDICT_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (name, dict(CLAIM_FIELDS)[name])
    for name in (
        "post_state_root", "gas_used", "chain_id", "parent_hash", "block_hash", "block_number",
        "queue_start_index", "queue_start_hash", "messages_consumed", "queue_end_hash",
        "withdrawals_root", "withdrawal_count", "l1_anchor_number", "l1_anchor_hash",
        "l1_state_root", "l1_updates_hash",
    )
)  # fmt: skip


def abi_type(fields: tuple[tuple[str, str], ...]) -> str:
    """The ABI tuple type of ``fields``, e.g. ``"(uint256,bytes32,...)"``."""
    return "(" + ",".join(kind for _, kind in fields) + ")"


def abi_values(outputs: PublicOutputs, fields: tuple[tuple[str, str], ...]) -> tuple[object, ...]:
    """``outputs``' values for ``fields``, in order."""
    return tuple(getattr(outputs, name) for name, _ in fields)


@dataclass(frozen=True)
class ExecuteResult:
    """The detailed verdict of EXECUTE: ``ok``, a reason when not, and the public outputs."""

    ok: bool
    reason: RejectReason | None = None
    detail: str = ""
    outputs: PublicOutputs | None = None

    def __bool__(self) -> bool:
        return self.ok
