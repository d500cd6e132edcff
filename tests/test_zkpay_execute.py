"""EXECUTE(vm="zkpay") on traces a stranger could post: it re-executes the zkpay rules
statelessly (the `reexec` reference the circuit follows), so every forged transfer, tampered
witness or wrong claim is False, never an exception."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rollupkit import execute_detailed
from rollupkit.builder import BuiltTrace
from rollupkit.chain import DevChain
from rollupkit.steps import execute_step
from rollupkit.trace import decode_trace, encode_trace, input_gas
from rollupkit.types import ExecuteResult, GenesisAccount, RejectReason
from rollupkit.withdrawals import withdrawals_root
from rollupkit_zkpay.babyjub import Signature
from rollupkit_zkpay.model import NODE_INDEX_GAS
from rollupkit_zkpay.transition import Transaction
from rollupkit_zkpay.vm import REFUND_SENDER
from rollupkit_zkpay.wallet import ZkPayWallet, dev_wallets

CHAIN_ID = 42_424


def _chain() -> tuple[DevChain, list[ZkPayWallet]]:
    wallets = dev_wallets(3, CHAIN_ID)
    alloc = {wallets[0].address: GenesisAccount(balance=10**20)}
    return DevChain(alloc, vm="zkpay", state="poseidon", chain_id=CHAIN_ID), wallets


def _execute(
    built: BuiltTrace,
    trace: bytes | None = None,
    *,
    pre: bytes | None = None,
    post: bytes | None = None,
    gas: int | None = None,
) -> ExecuteResult:
    """EXECUTE of ``built`` with any of its arguments replaced."""
    claimed = built.execute_args()
    return execute_detailed(
        claimed[0] if pre is None else pre, claimed[1] if post is None else post,
        claimed[2] if trace is None else trace, claimed[3] if gas is None else gas,
        vm="zkpay", state="poseidon",
    )  # fmt: skip


def _with_transaction(built: BuiltTrace, raw_tx: bytes) -> bytes:
    """The trace with its first block's only transaction replaced by ``raw_tx``."""
    trace = decode_trace(built.encoded)
    block = replace(trace.blocks[0], transactions=(raw_tx,))
    return encode_trace(replace(trace, blocks=(block, *trace.blocks[1:])))


@pytest.fixture(scope="module")
def transfer() -> tuple[BuiltTrace, Transaction, list[ZkPayWallet]]:
    chain, wallets = _chain()
    raw = wallets[0].transfer(wallets[1].address, 1_000, nonce=0)
    built = chain.build(transactions=[raw])
    assert len(decode_trace(built.encoded).blocks[0].transactions) == 1
    return built, Transaction.decode(raw), wallets


def test_a_transfer_executes_and_a_forged_one_does_not(
    transfer: tuple[BuiltTrace, Transaction, list[ZkPayWallet]],
) -> None:
    built, tx, wallets = transfer
    assert _execute(built)
    # One bit of the signature off: the block is invalid, whatever roots are claimed.
    forged = replace(tx, signature=Signature(tx.signature.r8, tx.signature.s ^ 1))
    result = _execute(built, _with_transaction(built, forged.encode()))
    assert not result and result.reason is RejectReason.INVALID_TRANSACTION
    # Numbers past the field: malformed, said as an invalid transaction (not an internal error).
    huge = _execute(built, _with_transaction(built, replace(tx, nonce=2**300).encode()))
    assert not huge and huge.reason is RejectReason.INVALID_TRANSACTION
    # A thief's transfer: the victim's key and nonce, more money, the old signature.
    theft = replace(tx, amount=tx.amount * 1000)
    assert not _execute(built, _with_transaction(built, theft.encode()))
    # Signed by another key for the same account: the address follows the key, so it is
    # another sender (with no account), not the owner.
    other = wallets[2].transfer(wallets[1].address, 1_000, nonce=0)
    assert not _execute(built, _with_transaction(built, other))
    # The same transfer signed for another chain.
    foreign = ZkPayWallet(bytes(wallets[0].private_key), CHAIN_ID + 1)
    replayed = foreign.transfer(wallets[1].address, 1_000, nonce=0)
    assert not _execute(built, _with_transaction(built, replayed))


def test_wrong_claims_and_malformed_traces_are_false(
    transfer: tuple[BuiltTrace, Transaction, list[ZkPayWallet]],
) -> None:
    built, _, _ = transfer
    _, post, raw, gas = built.execute_args()
    assert not _execute(built, post=b"\x01" * 32)
    assert not _execute(built, pre=post)
    assert not _execute(built, gas=gas - 1)
    assert not _execute(built, gas=gas + 1)
    for broken in (b"", raw[:-1], raw[: len(raw) // 2], b"\xff" * 64, raw + b"\x00"):
        assert not _execute(built, broken)
    # A witness node missing: no state to check the sender against.
    trace = decode_trace(raw)
    bare = replace(trace, witness=replace(trace.witness, state_nodes=()))
    assert _execute(built, encode_trace(bare)).reason is RejectReason.MISSING_WITNESS
    for node in trace.witness.state_nodes[:8]:
        nodes = tuple(n for n in trace.witness.state_nodes if n != node)
        thin = replace(trace, witness=replace(trace.witness, state_nodes=nodes))
        assert not _execute(built, encode_trace(thin))


def test_witness_nodes_pay_for_their_poseidon_hashing(
    transfer: tuple[BuiltTrace, Transaction, list[ZkPayWallet]],
) -> None:
    """EXECUTE hashes every state node a trace carries, read or not: 200 junk nodes must
    be paid as Poseidon hashes, not only as bytes, before any is hashed."""
    built, _, _ = transfer
    _, _, raw, gas = built.execute_args()
    trace = decode_trace(raw)
    junk = tuple(bytes(1) + i.to_bytes(31, "big") + bytes(32) for i in range(1, 201))
    padded = encode_trace(
        replace(trace, witness=replace(trace.witness, state_nodes=trace.witness.state_nodes + junk))
    )
    bytes_only = gas + input_gas(padded) - input_gas(raw)
    refused = _execute(built, padded, gas=bytes_only)
    assert not refused and refused.reason is RejectReason.GAS_MISMATCH
    assert "state nodes" in refused.detail
    assert _execute(built, padded, gas=bytes_only + 200 * NODE_INDEX_GAS[64])
    # EXECUTE_STEP (a bisection's one step) charges them the same way against its budget.
    pre = built.pre_state_root
    step = execute_step(pre, padded, 1, True, 60_000_000, vm="zkpay", state="poseidon")
    assert step.ok and step.gas_used > 200 * NODE_INDEX_GAS[64]
    starved = execute_step(pre, padded, 1, True, input_gas(padded) + 1_000_000, vm="zkpay",
                           state="poseidon")  # fmt: skip
    assert not starved.ok and "readying the step's witness" in starved.reason


def test_a_bounced_deposit_is_refunded_in_the_withdrawals_root() -> None:
    chain, wallets = _chain()
    rich = int.from_bytes(wallets[0].address, "big")
    colliding = (rich ^ 1 << 100).to_bytes(20, "big")  # rich's leaf: the same low 20 bits
    depositor = b"\xd0" * 20
    message = chain.deposit(colliding, 5 * 10**15, sender=depositor)
    built = chain.build()
    assert _execute(built)
    assert chain.balance(colliding) == 0
    (refund,) = built.results[0].withdrawals
    assert (refund.sender, refund.target, refund.value) == (REFUND_SENDER, depositor, 5 * 10**15)
    assert refund.nonce == message.index
    assert built.outputs.withdrawal_count == 1
    assert built.outputs.withdrawals_root == withdrawals_root([refund])


def test_deposits_no_zkpay_key_could_use_are_refunded_whole() -> None:
    """ETH sent straight to the bridge (to its own sender's Ethereum address), or a deposit
    with call data, would credit an account nobody can sign for: L1 gets it back instead."""
    chain, wallets = _chain()
    user = wallets[1].address
    own = b"\xe0" * 20
    cases = [
        chain.deposit(own, 7 * 10**15, sender=own),  # what L1Bridge.receive() queues
        chain.deposit(user, 8 * 10**15, sender=own, data=b"\x01"),
        chain.deposit(user, 9 * 10**15, sender=own),  # a plain deposit is credited
    ]
    built = chain.build()
    assert _execute(built)
    assert chain.balance(own) == 0 and chain.balance(user) == 9 * 10**15
    refunds = built.results[0].withdrawals
    assert [(w.nonce, w.target, w.value) for w in refunds] == [
        (m.index, own, m.value) for m in cases[:2]
    ]
