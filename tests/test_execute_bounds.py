"""EXECUTE's work is bounded by the gas it was paid: each attack that once froze the L1.

An EXECUTE caller chooses the pre-state (and so the block gas limit), the trace and the claimed
gas. Whatever they choose, EXECUTE must stop once the trace has used more EXECUTE gas than the
claim (:mod:`rollupkit.metering`), in the middle of a transaction if need be, and refuse a
claim too small for the trace's bytes before decoding them. Each attack is also run through the
L1 precompile, where the claim is what the caller pays for.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import rlp
from eth_abi import decode as abi_decode

from rollupkit import DevChain, GenesisAccount, RejectReason, encode_trace, execute_detailed
from rollupkit.builder import BuiltTrace
from rollupkit.l1.precompile import EXECUTE_ADDRESS, OUTPUT_TYPES, REASON_CODES, encode_input
from rollupkit.metering import SCHEDULE
from rollupkit.testing.wallets import dev_wallets
from rollupkit.types import L1Message, MessageKind

LOOP = bytes.fromhex("5b600056")  # JUMPDEST PUSH1 0 JUMP: burns gas forever
LOOP_ADDRESS = b"\x10" * 20


def loop_chain(gas_limit: int) -> tuple[DevChain, list]:  # type: ignore[type-arg]
    """A chain (a pre-state an attacker chose) with an infinite loop deployed."""
    wallets = dev_wallets(2, 42_424)
    alloc = {w.address: GenesisAccount(balance=10**30) for w in wallets}
    alloc[LOOP_ADDRESS] = GenesisAccount(code=LOOP)
    return DevChain(alloc, gas_limit=gas_limit), wallets


def swap_transaction(built: BuiltTrace, raw: bytes) -> bytes:
    block = replace(built.trace.blocks[0], transactions=(raw,))
    return encode_trace(replace(built.trace, blocks=(block,)))


def test_claim_too_small_for_a_long_loop_stops_inside_the_transaction() -> None:
    chain, (user, _) = loop_chain(30_000_000)
    built = chain.build(transactions=[user.sign(to=LOOP_ADDRESS, gas=2_000_000)], commit=False)
    assert execute_detailed(*built.execute_args()).ok  # the honest claim holds
    assert built.l2_gas_used == 2_000_000
    for claim in (0, built.gas_used - built.l2_gas_used, built.gas_used - 1):
        result = execute_detailed(built.pre_state_root, built.post_state_root, built.encoded, claim)
        assert result.reason == RejectReason.GAS_MISMATCH, claim
        assert result.outputs is None  # stopped, not run to the end and compared
    stopped = execute_detailed(
        built.pre_state_root,
        built.post_state_root,
        built.encoded,
        built.gas_used - built.l2_gas_used + 100_000,
    )
    assert "execution stopped" in stopped.detail and "burning" in stopped.detail


def test_a_huge_block_gas_limit_in_a_chosen_pre_state_does_not_raise_the_bound() -> None:
    """The pre-state grants 10**12 gas per block; a transaction asks for 10**11 of it and
    loops. Only the claim bounds the work."""
    chain, (user, _) = loop_chain(10**12)
    small = chain.build(transactions=[user.sign(to=LOOP_ADDRESS, gas=100_000)], commit=False)
    # The same loop with 10**11 gas: the witness is the same (the loop touches no state).
    greedy = swap_transaction(small, user.sign(to=LOOP_ADDRESS, gas=10**11, nonce=0))
    claim = (
        SCHEDULE.trace_bytes(len(greedy))
        + small.gas_used
        - SCHEDULE.trace_bytes(len(small.encoded))
    )
    result = execute_detailed(small.pre_state_root, small.post_state_root, greedy, claim)
    assert result.reason == RejectReason.GAS_MISMATCH
    assert "execution stopped" in result.detail


def free_deposits() -> tuple[BuiltTrace, bytes, int]:
    """A trace of 8,192 deposits that burn no L2 gas, and a claim as if they were free."""
    chain, _ = loop_chain(30_000_000)
    empty = chain.build(commit=False)
    deposits = tuple(
        L1Message(MessageKind.DEPOSIT, i, b"\x01" * 20, (i + 1).to_bytes(20, "big"), 1, 0, b"")
        for i in range(8_192)
    )
    first = replace(empty.trace.blocks[0], l1_messages=deposits[:4_096])
    second = replace(first, number=first.number + 1, l1_messages=deposits[4_096:])
    trace = encode_trace(replace(empty.trace, blocks=(first, second)))
    return empty, trace, SCHEDULE.trace_bytes(len(trace)) + 2 * SCHEDULE.block


def flat_trace(size: int) -> bytes:
    body = b"\x00" * size
    return rlp.codec.length_prefix(len(body), 0xC0) + body  # one list of one-byte items


def test_free_deposits_are_paid_for_before_they_are_touched() -> None:
    empty, trace, free = free_deposits()
    result = execute_detailed(empty.pre_state_root, empty.post_state_root, trace, free)
    assert result.reason == RejectReason.GAS_MISMATCH
    assert "block 1 takes the trace to" in result.detail  # refused before the first deposit
    assert execute_detailed(empty.pre_state_root, empty.post_state_root, trace, 0).reason == (
        RejectReason.GAS_MISMATCH
    )


def test_a_huge_flat_trace_is_refused_unread_or_by_its_item_count() -> None:
    trace = flat_trace(31 * 1024 * 1024)
    root = b"\x00" * 32
    unpaid = execute_detailed(root, root, trace, 0)
    assert unpaid.reason == RejectReason.GAS_MISMATCH and "bytes" in unpaid.detail
    paid = execute_detailed(root, root, trace, SCHEDULE.trace_bytes(len(trace)))
    assert paid.reason == RejectReason.MALFORMED_TRACE and "RLP items" in paid.detail


def test_honest_traces_still_verify_with_their_exact_claim() -> None:
    chain, (user, other) = loop_chain(30_000_000)
    chain.deposit(other.address, 10**18, data=b"", gas_limit=0)
    built = chain.build(transactions=[user.transfer(other.address, 5)])
    assert execute_detailed(*built.execute_args()).ok
    block = SCHEDULE.block_gas(messages=1, l2_gas=built.l2_gas_used)
    expected = SCHEDULE.trace_gas(len(built.encoded), [block])
    assert built.gas_used == expected


# --- the same attacks through the L1 precompile --------------------------------------------


@pytest.fixture(scope="module")
def l1():  # type: ignore[no-untyped-def]
    from rollupkit.l1.node import start_devnet

    with start_devnet() as running:
        yield running


def precompile_verdict(l1, pre: bytes, post: bytes, claim: int, trace: bytes) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(l1.url))
    output = w3.eth.call(
        {
            "to": w3.to_checksum_address(EXECUTE_ADDRESS),
            "data": encode_input(pre, post, claim, trace),
            "gas": 25_000_000,
        }
    )
    return tuple(abi_decode(OUTPUT_TYPES, bytes(output)))


def test_the_l1_precompile_stops_the_same_attacks(l1) -> None:  # type: ignore[no-untyped-def]
    gas_mismatch = REASON_CODES[RejectReason.GAS_MISMATCH]
    chain, (user, _) = loop_chain(10**12)
    small = chain.build(transactions=[user.sign(to=LOOP_ADDRESS, gas=100_000)], commit=False)
    ok, reason, *_ = precompile_verdict(
        l1, *small.execute_args()[:2], small.gas_used, small.encoded
    )
    assert ok and reason == 0
    greedy = swap_transaction(small, user.sign(to=LOOP_ADDRESS, gas=10**11, nonce=0))
    for claim in (0, small.gas_used):
        ok, reason, *_ = precompile_verdict(
            l1, small.pre_state_root, small.post_state_root, claim, greedy
        )
        assert not ok and reason == gas_mismatch
    empty, deposits, free = free_deposits()
    for claim in (0, free):
        ok, reason, *_ = precompile_verdict(
            l1, empty.pre_state_root, empty.post_state_root, claim, deposits
        )
        assert not ok and reason == gas_mismatch
    root = b"\x00" * 32
    ok, reason, *_ = precompile_verdict(l1, root, root, 0, flat_trace(1 << 20))
    assert not ok and reason == gas_mismatch


def test_calls_with_generous_gas_limits_verify_with_their_exact_claim() -> None:
    """A caller burns the whole gas it hands to a call before the callee gives back what it
    does not use: the meter must not mistake that for an overrun (every kind of frame, and a
    call that fails before it starts), in a transaction and in a deposit's call."""
    frames = bytes.fromhex(
        "5f5f5f5f5f60995af150"  # CALL an empty account
        "5f5f5f5f60045afa50"  # STATICCALL the identity precompile
        "5f5f5f5f4760010160985af150"  # CALL with more value than the balance: no frame
        "5f5f5ff050"  # CREATE with empty init code
        "00"
    )
    wallets = dev_wallets(2, 42_424)
    alloc = {w.address: GenesisAccount(balance=10**30) for w in wallets}
    alloc[LOOP_ADDRESS] = GenesisAccount(code=frames, nonce=1)
    chain = DevChain(alloc)
    chain.deposit(LOOP_ADDRESS, 0, data=b"\x01", gas_limit=1_000_000)
    built = chain.build(transactions=[wallets[0].sign(to=LOOP_ADDRESS, gas=5_000_000)])
    assert execute_detailed(*built.execute_args()).ok
    assert built.l2_gas_used < 200_000  # a small part of the gas the calls were handed
    short = execute_detailed(
        built.pre_state_root, built.post_state_root, built.encoded, built.gas_used - 1
    )
    assert short.reason == RejectReason.GAS_MISMATCH
