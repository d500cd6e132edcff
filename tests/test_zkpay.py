"""zkpay's building blocks (issue 17): Poseidon and EdDSA checked against circomlib's own
constants and iden3's circomlibjs, the accounts tree over an untrusted witness, the
transaction encoding, and the circuit against the Python rules on 200 random batches."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rollupkit.errors import InvalidTransactionError, MissingWitnessError, TraceError
from rollupkit_zkpay import babyjub
from rollupkit_zkpay.circuit import (
    CircuitParams,
    circomlib,
    circuit_inputs,
    compile_circuit,
    expected_public_signals,
)
from rollupkit_zkpay.model import index_nodes
from rollupkit_zkpay.poseidon import (
    CONSTANTS_FILE,
    FIELD,
    SUPPORTED_INPUTS,
    constants_from_circomlib,
    poseidon,
)
from rollupkit_zkpay.transition import (
    TX_TYPE,
    Kind,
    Slot,
    Transaction,
    address_of,
    apply_deposit,
    apply_transaction,
)
from rollupkit_zkpay.tree import AMOUNT_LIMIT, AccountTree, Leaf, empty_hashes, key
from rollupkit_zkpay.witness import WitnessCalculator, WitnessError

REFERENCE = Path(__file__).parent / "js" / "zkpay_reference.js"
CHAIN_ID = 42


def circomlibjs(request: dict[str, Any]) -> dict[str, Any]:
    if shutil.which("node") is None:
        pytest.skip("needs node and `npm install` (circomlibjs)")
    done = subprocess.run(
        ["node", str(REFERENCE)], input=json.dumps(request), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_the_poseidon_constants_are_circomlibs() -> None:
    source = (circomlib() / "poseidon_constants.circom").read_text()
    widths = [n + 1 for n in SUPPORTED_INPUTS]
    assert constants_from_circomlib(source, widths) == json.loads(CONSTANTS_FILE.read_text())


def test_poseidon_agrees_with_circomlibjs() -> None:
    rng = random.Random(7)
    vectors = [[1, 2], [0], [FIELD - 1] * 6, [0, 0], [FIELD - 1, FIELD - 1]]
    for _ in range(30):
        vectors.append([rng.randrange(FIELD) for _ in range(rng.randint(1, 6))])
    # Pairs take their own unrolled path (the tree's hashing): more of them.
    vectors.extend([rng.randrange(FIELD), rng.randrange(FIELD)] for _ in range(20))
    answer = circomlibjs({"poseidon": [[str(v) for v in vector] for vector in vectors]})
    assert [int(h) for h in answer["poseidon"]] == [poseidon(v) for v in vectors]
    with pytest.raises(ValueError, match="not a field element"):
        poseidon([FIELD])
    with pytest.raises(ValueError, match="1 to 6 inputs"):
        poseidon([1] * 7)


def _signature_case(public: babyjub.Point, message: int, sig: babyjub.Signature) -> dict[str, Any]:
    return {
        "A": [str(c) for c in public], "R8": [str(c) for c in sig.r8], "S": str(sig.s),
        "msg": str(message),
    }  # fmt: skip


def test_eddsa_agrees_with_circomlibjs_both_ways() -> None:
    rng = random.Random(11)
    ours = []
    for i in range(6):
        key_ = babyjub.PrivateKey(rng.randbytes(32))
        message = rng.randrange(FIELD)
        sig = key_.sign(message)
        assert babyjub.verify(key_.public_key, message, sig)
        ours.append(_signature_case(key_.public_key, message, sig))
        # Tampered: another message, another S, another key.
        other = babyjub.PrivateKey(bytes([i + 1]) * 32).public_key
        for case in (
            _signature_case(key_.public_key, (message + 1) % FIELD, sig),
            _signature_case(key_.public_key, message, babyjub.Signature(sig.r8, sig.s ^ 1)),
            _signature_case(other, message, sig),
        ):
            ours.append(case)
    theirs = [{"key": rng.randbytes(32).hex(), "msg": str(rng.randrange(FIELD))} for _ in range(4)]
    answer = circomlibjs({"verify": ours, "sign": theirs})
    assert answer["verify"] == [True, False, False, False] * 6
    for request, signed in zip(theirs, answer["sign"], strict=True):
        public = (int(signed["A"][0]), int(signed["A"][1]))
        sig = babyjub.Signature((int(signed["R8"][0]), int(signed["R8"][1])), int(signed["S"]))
        assert babyjub.verify(public, int(request["msg"]), sig)
        assert not babyjub.verify(public, int(request["msg"]) + 1, sig)


def test_eddsa_refuses_what_the_circuit_refuses() -> None:
    key_ = babyjub.PrivateKey(b"\x05" * 32)
    sig = key_.sign(99)
    high_s = babyjub.Signature(sig.r8, sig.s + babyjub.SUBORDER)  # the same point, S too big
    assert babyjub.multiply(babyjub.BASE8, high_s.s) == babyjub.multiply(babyjub.BASE8, sig.s)
    assert not babyjub.verify(key_.public_key, 99, high_s)
    assert not babyjub.verify((1, 2), 99, sig)  # off the curve
    assert not babyjub.verify(babyjub.IDENTITY, 99, sig)  # small order: no key at all


def test_the_tree_reads_only_nodes_that_hash_to_what_their_parent_names() -> None:
    depth = 6
    store: dict[bytes, bytes] = {}
    tree = AccountTree(store, empty_hashes(depth)[depth], depth)
    for address, balance in ((5, 10), (70, 20), (2**100 + 5, 1)):  # the last shares 5's leaf
        tree.set_leaf(address, Leaf(address, balance, 0))
    assert tree.account(70) == Leaf(70, 20, 0)
    assert tree.account(2**100 + 5) == Leaf(2**100 + 5, 1, 0)
    assert tree.account(5) is None and tree.leaf(5) == Leaf(2**100 + 5, 1, 0)
    # A witness of the nodes on 70's path answers for 70 and for nothing else.
    witness = AccountTree(index_nodes(list(store.values())), tree.root, depth)
    assert witness.account(70) == Leaf(70, 20, 0)
    partial: list[bytes] = []
    node = tree.root
    for height in range(depth, 0, -1):
        preimage = store[key(node)]
        partial.append(preimage)
        half = preimage[32:] if (70 >> (height - 1)) & 1 else preimage[:32]
        node = int.from_bytes(half, "big")
    partial.append(store[key(node)])
    lean = AccountTree(index_nodes(partial), tree.root, depth)
    assert lean.account(70) == Leaf(70, 20, 0)
    with pytest.raises(MissingWitnessError):
        lean.account(5)
    # A preimage that lies (a leaf claiming more balance) is simply not found.
    forged = Leaf(70, 10**6, 0).encode()
    bad = [p for p in partial if len(p) != 96] + [forged, b"\x00" * 95, b"\xff" * 64]
    with pytest.raises(MissingWitnessError):
        AccountTree(index_nodes(bad), tree.root, depth).account(70)


def test_a_transaction_has_exactly_one_encoding() -> None:
    key_ = babyjub.PrivateKey(b"\x01" * 32)
    tx = Transaction.sign(key_, chain_id=CHAIN_ID, kind=Kind.TRANSFER, to=7, amount=5, nonce=3)
    raw = tx.encode()
    assert raw[0] == TX_TYPE and Transaction.decode(raw) == tx
    assert tx.sender == address_of(key_.public_key)
    for bad, reason in (
        (b"", "first byte"),
        (b"\x02" + raw[1:], "first byte"),
        (raw[:-1], "malformed"),
        (raw + b"\x00", "malformed"),
    ):
        with pytest.raises(TraceError, match=reason):
            Transaction.decode(bad)
    withdrawal_as_deposit = Transaction.sign(
        key_, chain_id=CHAIN_ID, kind=Kind.TRANSFER, to=7, amount=5, nonce=3
    )
    raw_kind = bytearray(withdrawal_as_deposit.encode())
    # kind is the second RLP field: a single byte after the chain id (42 = 0x2a)
    position = raw_kind.index(bytes([0x2A])) + 1
    raw_kind[position] = Kind.DEPOSIT
    with pytest.raises(TraceError, match="kind 1"):
        Transaction.decode(bytes(raw_kind))
    # Out of the field: refused as malformed (not a ValueError from hashing it).
    for name, value in (("amount", FIELD), ("nonce", FIELD + 1), ("chain_id", 2**300)):
        huge = replace(tx, **{name: value})
        with pytest.raises(TraceError, match=f"{name} is not below the field"):
            Transaction.decode(huge.encode())
    off = replace(tx, public_key=(FIELD + 5, tx.public_key[1]))
    with pytest.raises(TraceError, match="ax is not below the field"):
        Transaction.decode(off.encode())


# --- the circuit against the rules ------------------------------------------------------------

PARAMS = CircuitParams(slots=2, depth=4)  # 16 leaves: collisions happen


@pytest.fixture(scope="module")
def calculator(tmp_path_factory: pytest.TempPathFactory) -> WitnessCalculator:
    compiled = compile_circuit(PARAMS, tmp_path_factory.mktemp("circuits"))
    assert compiled.constraints() > 10_000
    return WitnessCalculator(compiled.wasm)


def _forged_slot(tree: AccountTree, tx: Transaction) -> Slot:
    """The slot an invalid transaction would be, as if the rules had let it through."""
    from rollupkit_zkpay.poseidon import FIELD as P

    sender = tree.proof(tx.sender)
    leaf = sender.leaf
    balance = leaf.balance if leaf is not None else 0
    nonce = leaf.nonce if leaf is not None else 0
    after = AccountTree(tree.nodes, tree.root, tree.depth)
    after.set_leaf(tx.sender, Leaf(tx.sender, (balance - tx.amount) % P, (nonce + 1) % P))
    receiver = None if tx.kind == Kind.WITHDRAWAL else after.proof(tx.to)
    return Slot(tx.kind, tx.to, tx.amount, tx=tx, sender=sender, receiver=receiver)


def _random_operation(rng: random.Random, keys: list[babyjub.PrivateKey], tree: AccountTree) -> Any:
    addresses = [address_of(k.public_key) for k in keys]
    target = rng.choice([*addresses, rng.randrange(2**160), rng.randrange(16)])
    roll = rng.random()
    if roll < 0.3:
        amounts = [rng.randrange(1, 10**6), AMOUNT_LIMIT - 1, rng.randrange(AMOUNT_LIMIT)]
        amount = rng.choice(amounts)
        # Refunded whole, as a deposit with data or to its own sender is (refunded_whole).
        whole = rng.random() < 0.15
        return ("deposit", target, amount, whole)
    signer = rng.choice(keys)
    account = tree.account(address_of(signer.public_key))
    nonce = account.nonce if account is not None else 0
    balance = account.balance if account is not None else 0
    if rng.random() < 0.15:
        nonce += rng.choice([1, -1 if nonce else 2])
    amount = rng.choice([0, balance, balance + 1, rng.randrange(balance + 1)]) if balance else 5
    kind = Kind.TRANSFER if roll < 0.75 else Kind.WITHDRAWAL
    chain = CHAIN_ID if rng.random() > 0.05 else CHAIN_ID + 1
    tx = Transaction.sign(signer, chain_id=chain, kind=kind, to=target, amount=amount, nonce=nonce)
    if rng.random() < 0.07:
        forged = babyjub.Signature(tx.signature.r8, (tx.signature.s + 1) % babyjub.SUBORDER)
        tx = Transaction(tx.chain_id, tx.kind, tx.to, tx.amount, tx.nonce, tx.public_key, forged)
    return ("tx", tx)


def test_the_circuit_and_the_rules_agree_on_200_random_batches(
    calculator: WitnessCalculator,
) -> None:
    rng = random.Random(2026)
    keys = [babyjub.PrivateKey(rng.randbytes(32)) for _ in range(5)]
    store: dict[bytes, bytes] = {}
    tree = AccountTree(store, empty_hashes(PARAMS.depth)[PARAMS.depth], PARAMS.depth)
    signals = range(1, 1 + PARAMS.public_count)
    seen = {"accepted": 0, "refused": 0, "bounced": 0, "withdrawals": 0, "transfers": 0}
    seen["refunded whole"] = 0
    for batch in range(200):
        before = tree.root
        system_before, system_after = rng.randrange(FIELD), rng.randrange(FIELD)
        slots: list[Slot] = []
        refused: Slot | None = None
        while len(slots) < PARAMS.slots and refused is None:
            operation = _random_operation(rng, keys, tree)
            if operation[0] == "deposit":
                slots.append(apply_deposit(tree, operation[1], operation[2], whole=operation[3]))
                seen["bounced"] += slots[-1].kind == Kind.DEPOSIT and slots[-1].bounced
                seen["refunded whole"] += slots[-1].kind == Kind.REFUNDED_DEPOSIT
                continue
            tx = operation[1]
            root = tree.root
            try:
                slots.append(apply_transaction(tree, tx, CHAIN_ID))
            except InvalidTransactionError:
                assert tree.root == root  # an invalid transaction changes nothing
                refused = _forged_slot(tree, tx)
            else:
                seen["transfers" if tx.kind == Kind.TRANSFER else "withdrawals"] += 1
        inputs = circuit_inputs(
            slots, PARAMS, chain_id=CHAIN_ID, accounts_before=before, system_before=system_before,
            system_after=system_after,
        )  # fmt: skip
        expected = expected_public_signals(
            slots, PARAMS, chain_id=CHAIN_ID, accounts_before=before, accounts_after=tree.root,
            system_before=system_before, system_after=system_after,
        )  # fmt: skip
        assert calculator.calculate(inputs, signals) == expected, f"batch {batch}"
        seen["accepted"] += 1
        if refused is not None:
            # The refusal ended the batch, so the forged slot fits after the valid ones.
            forged_inputs = circuit_inputs(
                [*slots, refused], PARAMS, chain_id=CHAIN_ID, accounts_before=before,
                system_before=system_before, system_after=system_after,
            )  # fmt: skip
            with pytest.raises(WitnessError, match="assert failed"):
                calculator.calculate(forged_inputs, signals)
            seen["refused"] += 1
    # The random batches did reach every case.
    assert all(count >= 10 for count in seen.values()), seen
