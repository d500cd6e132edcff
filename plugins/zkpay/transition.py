"""What zkpay's operations do to the accounts tree: the rules the circuit proves.

Four operations, applied in order (the circuit's slots, :file:`circuits/zkpay.circom`):

* **deposit** (an L1 message): credit ``amount`` to ``to``. It *bounces* - nothing changes on
  L2 and L1 pays the amount back to the depositor - when ``to``'s leaf is held by another
  address or the credit would take the balance to :data:`AMOUNT_LIMIT` or past it. A deposit
  no zkpay account could use (:func:`refunded_whole`: an amount that large on its own, data,
  or paid to its own sender) is a slot of its own kind, refunded whole, which L1 checks
  against the message. A deposit is never lost and never stalls the chain.
* **transfer** (signed): move ``amount`` from the signer to ``to``.
* **withdrawal** (signed): take ``amount`` from the signer; L1 pays it to ``to``.
* nothing (padding a batch to the circuit's size).

A signed operation is valid when its key is on the curve and gives the sender's address (the
low 160 bits of ``Poseidon(Ax, Ay)``), its signature over
``Poseidon(chain_id, kind, to, amount, nonce)`` holds, the sender's account exists with that
nonce (which goes up by one) and at least ``amount``; a transfer's recipient leaf must be empty
or ``to``'s own, and its balance stay below :data:`AMOUNT_LIMIT`. An invalid one changes
nothing and raises :class:`rollupkit.errors.InvalidTransactionError` (the sequencer leaves it
out; EXECUTE refuses a block that has it).

Each applied operation returns a :class:`Slot`: the operation with the leaves and paths it
touched, which is exactly the circuit's input for that slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import rlp
from rlp.sedes import Binary, big_endian_int

from rollupkit.errors import InvalidTransactionError, TraceError
from rollupkit_zkpay import babyjub
from rollupkit_zkpay.poseidon import FIELD, poseidon
from rollupkit_zkpay.tree import (
    ADDRESS_LIMIT,
    AMOUNT_LIMIT,
    NONCE_LIMIT,
    AccountTree,
    Leaf,
    LeafProof,
)

#: The first byte of an encoded zkpay transaction (an EIP-2718-style type no Ethereum
#: transaction uses), so nothing signed for another chain decodes as one.
TX_TYPE = 0x7A


class Kind(IntEnum):
    """A slot's kind, as the circuit numbers them."""

    NOTHING = 0
    DEPOSIT = 1
    TRANSFER = 2
    WITHDRAWAL = 3
    #: Refunded whole on L1, no change here: 2**93 wei or more, or a deposit no zkpay key could
    #: use (see :func:`refunded_whole`).
    REFUNDED_DEPOSIT = 4


def address_of(public_key: babyjub.Point) -> int:
    """The 160-bit address of a Baby Jubjub public key."""
    return poseidon(list(public_key)) % ADDRESS_LIMIT


def signing_message(chain_id: int, kind: Kind, to: int, amount: int, nonce: int) -> int:
    """What the owner signs: the chain, the kind (1 transfer, 2 withdrawal), the recipient,
    the amount and the nonce."""
    return poseidon([chain_id % FIELD, int(kind) - 1, to, amount, nonce])


_FIELDS = [
    ("chain_id", big_endian_int),
    ("kind", big_endian_int),
    ("to", Binary.fixed_length(20)),
    ("amount", big_endian_int),
    ("nonce", big_endian_int),
    ("ax", big_endian_int),
    ("ay", big_endian_int),
    ("r8x", big_endian_int),
    ("r8y", big_endian_int),
    ("s", big_endian_int),
]


class _Encoded(rlp.Serializable):  # type: ignore[misc]
    fields = _FIELDS


@dataclass(frozen=True)
class Transaction:
    """A signed transfer or withdrawal."""

    chain_id: int
    kind: Kind
    to: int
    amount: int
    nonce: int
    public_key: babyjub.Point
    signature: babyjub.Signature

    @classmethod
    def sign(
        cls,
        key: babyjub.PrivateKey,
        *,
        chain_id: int,
        kind: Kind,
        to: int,
        amount: int,
        nonce: int,
    ) -> Transaction:
        message = signing_message(chain_id, kind, to, amount, nonce)
        return cls(chain_id, kind, to, amount, nonce, key.public_key, key.sign(message))

    @property
    def sender(self) -> int:
        return address_of(self.public_key)

    def encode(self) -> bytes:
        fields = _Encoded(
            chain_id=self.chain_id,
            kind=int(self.kind),
            to=self.to.to_bytes(20, "big"),
            amount=self.amount,
            nonce=self.nonce,
            ax=self.public_key[0],
            ay=self.public_key[1],
            r8x=self.signature.r8[0],
            r8y=self.signature.r8[1],
            s=self.signature.s,
        )
        return bytes([TX_TYPE]) + rlp.encode(fields)

    @classmethod
    def decode(cls, raw: bytes) -> Transaction:
        """Decode a transaction; raise :class:`TraceError` unless ``raw`` is exactly what
        :meth:`encode` makes of some transaction (one encoding per transaction: its hash is
        its identity)."""
        if not raw or raw[0] != TX_TYPE:
            raise TraceError("not a zkpay transaction (its first byte must be 0x7a)")
        try:
            fields = rlp.decode(raw[1:], _Encoded, strict=True)
        except (rlp.DecodingError, rlp.DeserializationError) as exc:
            raise TraceError(f"malformed zkpay transaction: {exc}") from None
        if fields.kind not in (Kind.TRANSFER, Kind.WITHDRAWAL):
            raise TraceError(f"zkpay transaction kind {fields.kind} is not 2 or 3")
        for name in ("chain_id", "amount", "nonce", "ax", "ay", "r8x", "r8y", "s"):
            # Everything the rules hash or the circuit takes is a field element.
            if getattr(fields, name) >= FIELD:
                raise TraceError(f"zkpay transaction {name} is not below the field modulus")
        tx = cls(
            chain_id=fields.chain_id,
            kind=Kind(fields.kind),
            to=int.from_bytes(fields.to, "big"),
            amount=fields.amount,
            nonce=fields.nonce,
            public_key=(fields.ax, fields.ay),
            signature=babyjub.Signature((fields.r8x, fields.r8y), fields.s),
        )
        if tx.encode() != raw:
            raise TraceError("zkpay transaction is not canonically encoded")
        return tx


@dataclass(frozen=True)
class Slot:
    """One operation as the circuit takes it: the operation, and the leaves and paths it
    read (the sender's before it changed, the receiver's after the sender's change)."""

    kind: Kind
    to: int
    amount: int
    tx: Transaction | None = None
    sender: LeafProof | None = None
    receiver: LeafProof | None = None
    bounced: bool = False


def refunded_whole(sender: bytes, target: bytes, amount: int, data: bytes) -> bool:
    """Whether L1 refunds a deposit at once, the L2 never looking at it: more than any
    balance may hold; carrying data (zkpay has no contracts to call); or paid to its own
    sender (ETH sent straight to the bridge, or deposited to the depositor's own address: an
    Ethereum address, which no zkpay key controls). ZkPayVerifier applies the same rule to
    the queued message, so these deposits are never credited to an account no one can use."""
    return amount >= AMOUNT_LIMIT or bool(data) or sender == target


def apply_deposit(tree: AccountTree, to: int, amount: int, *, whole: bool = False) -> Slot:
    """Credit a deposit, or bounce it (see the module docstring); ``whole``: the deposit is
    one L1 refunds whole (:func:`refunded_whole`)."""
    if not (0 <= to < ADDRESS_LIMIT and amount >= 0):
        raise ValueError("a deposit's target and amount come from the L1 bridge, in range")
    if whole or amount >= AMOUNT_LIMIT:  # L1 refunds it at once (the circuit's kind 4)
        return Slot(Kind.REFUNDED_DEPOSIT, to, amount, bounced=True)
    receiver = tree.proof(to)
    leaf = receiver.leaf
    held = leaf is not None and leaf.address != to
    balance = 0 if leaf is None else leaf.balance
    if held or balance + amount >= AMOUNT_LIMIT:
        return Slot(Kind.DEPOSIT, to, amount, receiver=receiver, bounced=True)
    nonce = 0 if leaf is None else leaf.nonce
    tree.set_leaf(to, Leaf(to, balance + amount, nonce))
    return Slot(Kind.DEPOSIT, to, amount, receiver=receiver)


def transaction_problem(
    tx: Transaction, chain_id: int, sender: Leaf | None, *, check_signature: bool = True
) -> str:
    """Why ``tx`` cannot apply with the sender's account ``sender`` ("" if it can), apart
    from the recipient (see :func:`apply_transaction`). ``check_signature=False`` is for a
    transaction whose signature was verified already (by ``ZkPayVM.decode_transaction``)."""
    if tx.chain_id != chain_id:
        return f"signed for chain {tx.chain_id}, not {chain_id}"
    if not (0 <= tx.to < ADDRESS_LIMIT and 0 <= tx.amount < AMOUNT_LIMIT):
        return "amount out of range"
    if not 0 <= tx.nonce < NONCE_LIMIT:
        return f"nonce {tx.nonce} is at the limit"
    if check_signature and not babyjub.verify(
        tx.public_key, signing_message(chain_id, tx.kind, tx.to, tx.amount, tx.nonce), tx.signature
    ):
        return "bad signature"
    if sender is None:
        return f"no account 0x{tx.sender:040x}"
    if tx.nonce != sender.nonce:
        return f"nonce {tx.nonce}, expected {sender.nonce}"
    if tx.amount > sender.balance:
        return f"insufficient funds: {sender.balance} < {tx.amount}"
    return ""


def apply_transaction(
    tree: AccountTree, tx: Transaction, chain_id: int, *, check_signature: bool = True
) -> Slot:
    """Apply a transfer or a withdrawal, or raise :class:`InvalidTransactionError` and leave
    the tree as it was (``check_signature``: see :func:`transaction_problem`)."""
    sender_address = tx.sender
    sender = tree.proof(sender_address)
    own = sender.leaf if sender.leaf is not None and sender.leaf.address == sender_address else None
    problem = transaction_problem(tx, chain_id, own, check_signature=check_signature)
    if problem:
        raise InvalidTransactionError(problem)
    assert own is not None
    before = tree.root
    tree.set_leaf(sender_address, Leaf(sender_address, own.balance - tx.amount, own.nonce + 1))
    if tx.kind == Kind.WITHDRAWAL:
        return Slot(Kind.WITHDRAWAL, tx.to, tx.amount, tx=tx, sender=sender)
    receiver = tree.proof(tx.to)
    leaf = receiver.leaf
    if leaf is not None and leaf.address != tx.to:
        tree.root = before
        raise InvalidTransactionError(f"the recipient's leaf is held by 0x{leaf.address:040x}")
    balance = 0 if leaf is None else leaf.balance
    if balance + tx.amount >= AMOUNT_LIMIT:
        tree.root = before
        raise InvalidTransactionError("the recipient's balance would pass the limit")
    tree.set_leaf(tx.to, Leaf(tx.to, balance + tx.amount, 0 if leaf is None else leaf.nonce))
    return Slot(Kind.TRANSFER, tx.to, tx.amount, tx=tx, sender=sender, receiver=receiver)
