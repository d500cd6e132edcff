"""The evm VM's two clients, py-evm and revm (``rollupkit_revm``), on the same traces.

A differential test: hypothesis writes small contracts out of snippets (storage writes and
deletes, reads feeding writes, calls with value into other contracts, accounts and absent
addresses, inner calls that revert, transient storage, logs, data-dependent reverts, invalid
instructions), places them at genesis with storage, and sends random blocks of calls, value
transfers, creations and L1 deposits with calls at them, with gas often too small. Every
block is built by py-evm and must be accepted by both clients with identical public outputs
(post-state root, gas, block hash, so receipts and transactions roots). Set
``ROLLUPKIT_DIFF_BLOCKS`` to run more blocks than CI's 500.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rollupkit import RejectReason, execute_detailed
from rollupkit.chain import DEFAULT_CHAIN_ID, DevChain
from rollupkit.examples.evm import EvmScenario, calldata, l2_bridge_alloc
from rollupkit.types import GenesisAccount
from rollupkit.wallets import dev_wallets
from rollupkit_revm.vm import unanswered_opcode

BLOCKS = int(os.environ.get("ROLLUPKIT_DIFF_BLOCKS", "500"))
CONTRACTS = [bytes([0xC0 + i]) * 20 for i in range(3)]
EOA_TARGETS = [bytes([0xE0 + i]) * 20 for i in range(2)]  # funded EOAs at genesis
ABSENT = [bytes([0xA0 + i]) * 20 for i in range(2)]  # never funded
IDENTITY = (4).to_bytes(20, "big")


def push(value: int) -> bytes:
    size = max(1, (value.bit_length() + 7) // 8)
    return bytes([0x5F + size]) + value.to_bytes(size, "big")


def push20(address: bytes) -> bytes:
    return b"\x73" + address


# --- snippets of EVM code (each leaves the stack as it found it) -------------------------------

slot = st.integers(0, 5)
word = st.sampled_from([0, 1, 2, 7, 2**255, 2**256 - 1])
target = st.sampled_from(CONTRACTS + EOA_TARGETS + ABSENT + [IDENTITY])


@st.composite
def snippet(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 9))
    k, k2, v = draw(slot), draw(slot), draw(word)
    if kind == 0:  # SSTORE (0 deletes)
        return push(v) + push(k) + b"\x55"
    if kind == 1:  # a read feeding a write
        return push(k) + b"\x54" + push(1) + b"\x01" + push(k2) + b"\x55"
    if kind == 2:  # CALL with value and some gas, result stored
        value, gas = (
            draw(st.sampled_from([0, 1, 10**15])),
            draw(st.sampled_from([0, 5_000, 60_000])),
        )
        call = push(0) * 4 + push(value) + push20(draw(target)) + push(gas) + b"\xf1"
        return call + push(k) + b"\x55"
    if kind == 3:  # STATICCALL into a contract (its writes fail the inner frame)
        return push(0) * 4 + push20(draw(target)) + push(40_000) + b"\xfa" + push(k) + b"\x55"
    if kind == 4:  # transient storage round trip
        return push(v) + push(k) + b"\x5d" + push(k) + b"\x5c" + push(k2) + b"\x55"
    if kind == 5:  # a log of a stored value
        return push(k) + b"\x54" + push(0) + b"\x52" + push(v) + push(32) + push(0) + b"\xa1"
    if kind == 6:  # balances and code hashes of others
        op = draw(st.sampled_from([b"\x31", b"\x3f", b"\x3b"]))  # BALANCE, EXTCODEHASH, -SIZE
        return push20(draw(target)) + op + push(k) + b"\x55"
    if kind == 7:  # context the two clients must agree on
        op = draw(
            st.sampled_from(
                [
                    b"\x47",
                    b"\x33",
                    b"\x34",
                    b"\x32",
                    b"\x3a",
                    b"\x41",
                    b"\x42",
                    b"\x43",
                    b"\x45",
                    b"\x46",
                    b"\x44",
                    b"\x5a",
                ]
            )
        )
        return op + push(k) + b"\x55"
    if kind == 8:  # a data-dependent revert
        return push(k) + b"\x54" + push(1) + b"\x16" + b"\x61\xff\xff" + b"\x57"
    return push(draw(st.integers(0, 3))) + b"\x35" + push(k) + b"\x55"  # CALLDATALOAD


@st.composite
def program(draw: st.DrawFn) -> bytes:
    body = b"".join(draw(st.lists(snippet(), min_size=1, max_size=6)))
    end = draw(st.sampled_from([b"\x00", b"\x60\x00\x60\x00\xfd", b"\xfe"]))  # STOP/REVERT/halt
    # The data-dependent reverts jump to 0xffff: patch in the real offset of a REVERT.
    code = body + end
    revert_at = len(code)
    code = code.replace(b"\x61\xff\xff\x57", b"\x61" + revert_at.to_bytes(2, "big") + b"\x57")
    return code + b"\x5b\x60\x00\x60\x00\xfd"


def init_code(runtime: bytes, setup: bytes) -> bytes:
    """``setup``, then return ``runtime`` (copied from the end of the init code)."""
    tail = push(len(runtime)) + b"\x80" + b"\x61\xff\xff" + push(0) + b"\x39" + push(0) + b"\xf3"
    offset = len(setup) + len(tail)
    tail = tail.replace(b"\x61\xff\xff", b"\x61" + offset.to_bytes(2, "big"))
    return setup + tail + runtime


def make_chain(codes: list[bytes], storages: list[dict[int, int]]) -> tuple[DevChain, list]:
    wallets = dev_wallets(4, DEFAULT_CHAIN_ID)
    alloc = {w.address: GenesisAccount(balance=10**24) for w in wallets}
    alloc.update(l2_bridge_alloc())
    for address, code, storage in zip(CONTRACTS, codes, storages, strict=True):
        alloc[address] = GenesisAccount(balance=10**16, code=code, storage=storage)
    for address in EOA_TARGETS:
        alloc[address] = GenesisAccount(balance=10**16)
    return DevChain(alloc), wallets


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[bytes], list[dict[int, int]], list[tuple]]:
    codes = [draw(program()) for _ in CONTRACTS]
    storages = [draw(st.dictionaries(slot, st.integers(1, 2**256 - 1), max_size=3))
                for _ in CONTRACTS]  # fmt: skip
    steps = draw(st.lists(st.tuples(
        st.integers(0, 4),  # what: call, transfer, create, deposit call, deposit
        st.integers(0, 3),  # sender
        target,
        st.sampled_from([0, 1, 10**15]),  # value
        st.sampled_from([21_000, 40_000, 120_000, 400_000]),  # gas
        st.binary(max_size=70),  # call data
        program(),  # for a creation
    ), min_size=1, max_size=6))  # fmt: skip
    return codes, storages, steps


def run_block(codes: list[bytes], storages: list[dict[int, int]], steps: list[tuple]) -> None:
    chain, wallets = make_chain(codes, storages)
    txs = []
    for what, who, to, value, gas, data, created in steps:
        wallet = wallets[who]
        if what == 0:
            txs.append(wallet.sign(to=to, value=value, data=data, gas=gas, tx_type=who % 3))
        elif what == 1:
            txs.append(wallet.transfer(to, value, gas=21_000))
        elif what == 2:
            tx, _ = wallet.create(
                init_code(created, push(7) + push(1) + b"\x55"), gas=max(gas, 120_000)
            )
            txs.append(tx)
        else:
            chain.deposit(to, value, sender=wallet.address, data=data if what == 3 else b"",
                          gas_limit=gas)  # fmt: skip
    built = chain.build(transactions=txs, drop_invalid=True)
    reference = execute_detailed(*built.execute_args())
    assert reference.ok, f"{reference.reason}: {reference.detail}"
    revm = execute_detailed(*built.execute_args(), client="revm")
    if revm.reason is RejectReason.UNSUPPORTED_BY_CLIENT:  # an abstention, never a verdict
        TALLY["abstained"] += 1
        WHY[revm.detail.split(":")[0]] += 1
        return
    assert revm.ok, f"{revm.reason}: {revm.detail}"
    assert revm.outputs == reference.outputs
    TALLY["agreed"] += 1


TALLY = {"agreed": 0, "abstained": 0}
WHY: Counter[str] = Counter()


#: ROLLUPKIT_DIFF_NO_SHRINK=1 reports a failure as found (shrinking one takes minutes).
PHASES = (Phase.generate,) if os.environ.get("ROLLUPKIT_DIFF_NO_SHRINK") else tuple(Phase)


@settings(max_examples=BLOCKS, deadline=None, derandomize=True, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(scenario())
def test_random_blocks_agree_between_py_evm_and_revm(case: tuple) -> None:
    run_block(*case)


def test_revm_verified_most_random_blocks() -> None:
    """The differential test is not vacuous: revm gave its verdict on most blocks (it abstains
    on a deposit's call from an account the witness does not hold, and on the opcodes and
    precompiles it cannot answer)."""
    total = TALLY["agreed"] + TALLY["abstained"]
    if total < BLOCKS:
        pytest.skip("run with the differential test")
    print(f"\n{TALLY['agreed']} of {total} random blocks verified by both clients alike; "
          f"revm abstained on {dict(WHY)}")  # fmt: skip
    assert TALLY["agreed"] >= total * 0.6


# --- where revm abstains, and what it must never do ---------------------------------------------


def test_token_transfers_agree() -> None:
    s = EvmScenario.create(wallets=6)
    txs = [s.token_transfer(s.wallets[0], w.address, 10 + i) for i, w in enumerate(s.wallets)]
    txs.append(s.token_transfer(s.wallets[3], s.wallets[4].address, 10**40))  # reverts
    built = s.chain.build(transactions=txs)
    reference = execute_detailed(*built.execute_args())
    revm = execute_detailed(*built.execute_args(), client="revm")
    assert reference.ok and revm.ok and revm.outputs == reference.outputs


def test_a_wrong_claim_is_refused_by_revm_too() -> None:
    s = EvmScenario.create(wallets=4)
    built = s.chain.build(transactions=[s.token_transfer(s.wallets[0], s.wallets[1].address, 5)])
    pre, post, trace, gas = built.execute_args()
    wrong = execute_detailed(pre, b"\x01" * 32, trace, gas, client="revm")
    assert wrong.reason is RejectReason.POST_STATE_MISMATCH
    assert execute_detailed(pre, post, trace, gas - 1, client="revm").reason in (
        RejectReason.GAS_MISMATCH,
    )


def test_a_read_inside_a_reverted_call_is_not_lost() -> None:
    """The inner frame reads a non-zero slot, then reverts: revm's journal forgets that read,
    its database cache does not; were the read missed, revm would see 0 and diverge."""
    callee = push(0) + b"\x54" + push(1) + b"\x55" + push(0) * 2 + b"\xfd"  # SLOAD 0, SSTORE fails
    caller = (push(0) * 5 + push20(CONTRACTS[1]) + push(50_000) + b"\xf1" + push(0) + b"\x55"
              + push(1) + push(2) + b"\x55" + b"\x00")  # fmt: skip
    codes = [caller, callee, b"\x00"]
    chain, wallets = make_chain(codes, [{}, {0: 5}, {}])
    built = chain.build(transactions=[wallets[0].sign(to=CONTRACTS[0], gas=200_000)])
    reference = execute_detailed(*built.execute_args())
    revm = execute_detailed(*built.execute_args(), client="revm")
    assert reference.ok and revm.ok and revm.outputs == reference.outputs


@pytest.mark.parametrize(
    ("code", "why"),
    [
        (b"\x48" + push(0) + b"\x55\x00", "BASEFEE"),
        (push(1) + b"\x40" + push(0) + b"\x55\x00", "BLOCKHASH"),
        (push(0) * 4 + push(0x0B) + push(10_000) + b"\xfa\x00", "EIP-2537"),
        (b"\xef\x01\x00" + b"\x11" * 20, "7702"),
    ],
)
def test_revm_abstains_where_pyrevm_cannot_answer(code: bytes, why: str) -> None:
    chain, wallets = make_chain([code, b"\x00", b"\x00"], [{}, {}, {}])
    built = chain.build(transactions=[wallets[0].sign(to=CONTRACTS[0], gas=100_000)])
    assert execute_detailed(*built.execute_args()).ok
    revm = execute_detailed(*built.execute_args(), client="revm")
    assert revm.reason is RejectReason.UNSUPPORTED_BY_CLIENT
    assert why in revm.detail


def test_the_opcode_scan_skips_data_but_not_reachable_code() -> None:
    assert unanswered_opcode(push(0x48) + b"\x00") is None  # in PUSH data
    assert unanswered_opcode(b"\x00\x48") is None  # after STOP, no JUMPDEST: unreachable
    assert unanswered_opcode(b"\x00\x5b\x48") == "BASEFEE"  # reachable by a jump
    assert unanswered_opcode(b"\x60\x01\x40") == "BLOCKHASH"


def test_unknown_client_or_wrong_vm_is_refused() -> None:
    s = EvmScenario.create(wallets=2)
    built = s.setup[0]
    assert execute_detailed(*built.execute_args(), client="nope").reason is (
        RejectReason.UNKNOWN_PLUGIN
    )
    riscv = execute_detailed(*built.execute_args(), vm="riscv", client="revm")
    assert riscv.reason is RejectReason.UNSUPPORTED_COMBINATION


def test_a_call_to_a_contract_reading_calldata_agrees() -> None:
    s = EvmScenario.create(wallets=3)
    data = calldata("transfer(address,uint256)", s.wallets[1].address, 1)
    built = s.chain.build(transactions=[s.wallets[0].sign(to=s.token, data=data, gas=90_000)])
    revm = execute_detailed(*built.execute_args(), client="revm")
    assert revm.ok and revm.outputs == built.outputs
