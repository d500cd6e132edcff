"""EXECUTE over the evm VM and the mpt state model: what verifies and what must not."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import rlp
from eth_hash.auto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollupkit import RejectReason, decode_trace, encode_trace, execute, execute_detailed
from rollupkit import messages as queue
from rollupkit.metering import SCHEDULE
from rollupkit.testing.evm import EvmScenario, calldata
from rollupkit.types import QueuePosition
from rollupkit.withdrawals import merkle_proof, verify_merkle_proof, withdrawal_leaf


@pytest.fixture(scope="module")
def scenario() -> EvmScenario:
    return EvmScenario.create()


def fresh() -> EvmScenario:
    return EvmScenario.create()


def assert_verifies(built) -> None:  # type: ignore[no-untyped-def]
    result = execute_detailed(*built.execute_args())
    assert result.ok, f"{result.reason}: {result.detail}"
    assert result.outputs == built.outputs


# --- what verifies ----------------------------------------------------------------------------


def test_value_transfers_of_every_transaction_type() -> None:
    s = fresh()
    a, b, c = s.wallets[1:4]
    before = s.chain.balance(c.address)
    txs = [
        a.transfer(c.address, 10, tx_type=0),
        b.transfer(c.address, 20, tx_type=1),
        a.transfer(c.address, 30, tx_type=2),
    ]
    built = s.chain.build(transactions=txs)
    assert_verifies(built)
    assert s.chain.balance(c.address) == before + 60
    assert built.l2_gas_used == 3 * 21_000


def test_contract_creation_verifies() -> None:
    s = fresh()
    assert_verifies(s.setup[0])
    assert s.chain.code(s.token) and s.chain.code(s.store)


def test_storage_writes_and_deletions_verify() -> None:
    s = fresh()
    w = s.wallets[1]
    write = s.chain.build(
        transactions=[s.store_call(w, "setMany(uint256,uint256,uint256)", 0, 40, 7, gas=2_000_000)]
    )
    assert_verifies(write)
    assert s.chain.storage(s.store, _mapping_slot(0, 5)) == 7
    # Deleting most slots collapses storage-trie branches: the witness must hold the siblings.
    delete = s.chain.build(
        transactions=[
            s.store_call(w, "clearMany(uint256,uint256)", 1, 39, gas=2_000_000),
            s.store_call(w, "clear(uint256)", 0),
        ]
    )
    assert_verifies(delete)
    assert s.chain.storage(s.store, _mapping_slot(0, 5)) == 0
    assert delete.post_state_root != write.post_state_root


def test_reverted_transaction_verifies_and_keeps_nothing() -> None:
    s = fresh()
    w = s.wallets[2]
    nonce_before = s.chain.nonce(w.address)
    built = s.chain.build(transactions=[s.store_call(w, "fail(uint256)", 3)])
    assert_verifies(built)
    assert s.chain.storage(s.store, _mapping_slot(0, 3)) == 0
    assert s.chain.nonce(w.address) == nonce_before + 1  # a reverted transaction still counts
    assert built.l2_gas_used > 21_000


def test_deposits_credit_and_are_bound_into_the_outputs() -> None:
    s = fresh()
    target = b"\x77" * 20
    first = s.chain.deposit(target, 5 * 10**18)
    second = s.chain.deposit(
        s.store,
        0,
        data=calldata("set(uint256,uint256)", 9, 99),
        gas_limit=100_000,
        sender=b"\x55" * 20,
    )
    built = s.chain.build(transactions=[s.wallets[1].transfer(target, 1)])
    assert_verifies(built)
    assert s.chain.balance(target) == 5 * 10**18 + 1
    assert s.chain.storage(s.store, _mapping_slot(0, 9)) == 99  # the deposit's call ran
    outputs = built.outputs
    assert outputs.messages_consumed == 2
    assert outputs.queue_end_hash == queue.consume(QueuePosition(), [first, second]).rolling_hash
    assert built.l2_gas_used > 21_000  # the deposit call's gas counts


def test_trace_must_resume_the_queue_where_the_state_left_it() -> None:
    s = fresh()
    s.chain.deposit(b"\x77" * 20, 1)
    s.chain.build()
    s.chain.deposit(b"\x78" * 20, 2)
    built = s.chain.build(commit=False)
    assert built.trace.queue_start.index == 1
    assert_verifies(built)
    for bad_start in (
        QueuePosition(0, built.trace.queue_start.rolling_hash),
        QueuePosition(1, b"\x00" * 32),
    ):
        trace = replace(built.trace, queue_start=bad_start)
        if bad_start.index == 0:  # also renumber the message so only the start is wrong
            block = built.trace.blocks[0]
            trace = replace(
                trace,
                blocks=(
                    replace(
                        block, l1_messages=tuple(replace(m, index=0) for m in block.l1_messages)
                    ),
                ),
            )
        result = execute_detailed(
            built.pre_state_root, built.post_state_root, encode_trace(trace), built.gas_used
        )
        assert not result.ok and result.reason == RejectReason.INVALID_MESSAGES


def test_forced_transactions_apply_if_valid_and_are_consumed_if_not() -> None:
    s = fresh()
    user = s.wallets[4]
    receiver = b"\x66" * 20
    s.chain.force_transaction(user.transfer(receiver, 123))
    s.chain.force_transaction(user.transfer(receiver, 456, nonce=99))  # bad nonce: a no-op
    built = s.chain.build()
    assert_verifies(built)
    assert s.chain.balance(receiver) == 123
    assert built.outputs.messages_consumed == 2
    assert len(built.results[0].transactions) == 1


def test_blockhash_reads_ancestors_from_the_witness() -> None:
    s = fresh()
    for _ in range(5):
        s.chain.build()
    head = s.chain.head.number
    built = s.chain.build(
        transactions=[s.store_call(s.wallets[1], "recordBlockhash(uint256)", head - 3)]
    )
    assert_verifies(built)
    assert len(built.trace.witness.headers) == 4  # blocks head-3 .. head (the parent)
    expected = s.chain.vm.decode_header(s.chain.headers[head - 3]).hash
    stored = s.chain.storage(s.store, _mapping_slot(1, head - 3))
    assert stored == int.from_bytes(expected, "big")
    # Without the old header, EXECUTE must say "missing witness", never answer zero.
    short = replace(
        built.trace, witness=replace(built.trace.witness, headers=built.trace.witness.headers[1:])
    )
    result = execute_detailed(
        built.pre_state_root, built.post_state_root, encode_trace(short), built.gas_used
    )
    assert not result.ok and result.reason == RejectReason.MISSING_WITNESS


def test_block_context_is_visible_and_bound() -> None:
    s = fresh()
    template = s.chain.template(
        [s.store_call(s.wallets[1], "recordContext(uint256)", 1)],
        coinbase=b"\x33" * 20,
        prev_randao=b"\x44" * 32,
        l1_anchor=b"\x55" * 32,
        extra_data=b"rollupkit",
    )
    built = s.chain.build([template])
    assert_verifies(built)
    assert s.chain.balance(b"\x33" * 20) > 0  # the priority fee went to the coinbase


def test_multi_block_trace_verifies_and_matches_single_block_traces() -> None:
    s1, s2 = fresh(), fresh()
    w = s1.wallets
    blocks1 = [s1.chain.template([w[1].transfer(w[2].address, i + 1)]) for i in range(3)]
    multi = s1.chain.build(blocks1)
    assert_verifies(multi)
    assert multi.outputs.block_count == 3
    w2 = s2.wallets
    singles = [
        s2.chain.build(transactions=[w2[1].transfer(w2[2].address, i + 1)]) for i in range(3)
    ]
    assert multi.post_state_root == singles[-1].post_state_root
    assert multi.l2_gas_used == sum(b.l2_gas_used for b in singles)


def test_withdrawals_are_committed_in_the_outputs() -> None:
    s = fresh()
    w = s.wallets[5]
    txs = [s.withdraw(w, b"\x99" * 20, 10**18), s.withdraw(w, b"\x98" * 20, 2 * 10**18)]
    built = s.chain.build(transactions=txs)
    assert_verifies(built)
    withdrawals = built.results[0].withdrawals
    assert [x.value for x in withdrawals] == [10**18, 2 * 10**18]
    assert [x.nonce for x in withdrawals] == [0, 1]
    assert withdrawals[0].sender == w.address and withdrawals[1].target == b"\x98" * 20
    leaves = [withdrawal_leaf(x) for x in withdrawals]
    root = built.outputs.withdrawals_root
    assert built.outputs.withdrawal_count == 2
    for i, leaf in enumerate(leaves):
        assert verify_merkle_proof(root, leaf, i, merkle_proof(leaves, i))
    assert not verify_merkle_proof(root, leaves[0], 1, merkle_proof(leaves, 0))


def test_sequencer_mode_drops_invalid_transactions() -> None:
    s = fresh()
    w = s.wallets[1]
    good = w.transfer(b"\x01" * 20, 1)
    stale = w.transfer(b"\x01" * 20, 1, nonce=0)  # the same nonce again: too low once good ran
    built = s.chain.build(transactions=[good, stale], drop_invalid=True)
    assert built.dropped == ((1,),)
    assert built.trace.blocks[0].transactions == (good,)
    assert_verifies(built)


# --- what must not verify ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(scenario: EvmScenario):  # type: ignore[no-untyped-def]
    w = scenario.wallets
    scenario.chain.deposit(b"\x42" * 20, 10**18)
    return scenario.chain.build(
        transactions=[
            w[1].transfer(w[2].address, 5),
            scenario.token_transfer(w[0], w[3].address, 10),
            scenario.store_call(w[2], "set(uint256,uint256)", 1, 2),
        ]
    )


def test_wrong_post_root_and_gas_are_false(sample) -> None:  # type: ignore[no-untyped-def]
    pre, post, trace, gas = sample.execute_args()
    assert execute(pre, post, trace, gas)
    assert not execute(pre, bytes(32), trace, gas)
    assert not execute(pre, post, trace, gas + 1)
    assert not execute(pre, post, trace, gas - 1)


def test_removed_witness_node_is_false(sample) -> None:  # type: ignore[no-untyped-def]
    pre, post, _, gas = sample.execute_args()
    nodes = sample.trace.witness.state_nodes
    for index in range(len(nodes)):
        witness = replace(sample.trace.witness, state_nodes=nodes[:index] + nodes[index + 1 :])
        result = execute_detailed(
            pre, post, encode_trace(replace(sample.trace, witness=witness)), gas
        )
        assert result.reason == RejectReason.MISSING_WITNESS, index


def test_flipped_byte_anywhere_is_false(sample) -> None:  # type: ignore[no-untyped-def]
    pre, post, trace, gas = sample.execute_args()
    rng = random.Random(7)
    for position in sorted(rng.sample(range(len(trace)), 150)):
        mutated = bytearray(trace)
        mutated[position] ^= 1 << rng.randrange(8)
        assert not execute(pre, post, bytes(mutated), gas), position


def test_truncated_empty_and_random_traces_are_false(sample) -> None:  # type: ignore[no-untyped-def]
    pre, post, trace, gas = sample.execute_args()
    for bad in (trace[:-1], trace[: len(trace) // 2], b"", random.Random(1).randbytes(1 << 20)):
        # A claim that pays for the bytes, so they are decoded (and found malformed).
        claim = max(gas, SCHEDULE.trace_bytes(len(bad)))
        result = execute_detailed(pre, post, bad, claim)
        assert not result.ok and result.reason == RejectReason.MALFORMED_TRACE
    # With the honest trace's claim, a megabyte of garbage is refused before decoding.
    garbage = random.Random(1).randbytes(1 << 20)
    result = execute_detailed(pre, post, garbage, gas)
    assert result.reason == RejectReason.GAS_MISMATCH and "1048576 bytes" in result.detail


def test_oversized_and_non_bytes_inputs_are_false(sample) -> None:  # type: ignore[no-untyped-def]
    pre, post, trace, gas = sample.execute_args()
    assert (
        execute_detailed(pre, post, b"\x00" * (64 * 1024 * 1024 + 1), gas).reason
        == RejectReason.OVERSIZED
    )
    assert execute_detailed(pre, post, "not bytes", gas).reason == RejectReason.MALFORMED_TRACE  # type: ignore[arg-type]
    assert execute_detailed(pre[:31], post, trace, gas).reason == RejectReason.BAD_ARGUMENT
    assert execute_detailed(pre, post, trace, -1).reason == RejectReason.BAD_ARGUMENT
    assert execute_detailed(pre, post, trace, True).reason == RejectReason.BAD_ARGUMENT  # type: ignore[arg-type]
    assert execute_detailed(pre, post, trace, gas, vm="nope").reason == RejectReason.UNKNOWN_PLUGIN


def _swap_transaction(built, index: int, raw: bytes) -> bytes:  # type: ignore[no-untyped-def]
    block = built.trace.blocks[0]
    txs = list(block.transactions)
    txs[index] = raw
    return encode_trace(replace(built.trace, blocks=(replace(block, transactions=tuple(txs)),)))


def test_bad_signature_is_false() -> None:
    s = fresh()
    w = s.wallets[1]
    built = s.chain.build(transactions=[w.transfer(b"\x01" * 20, 1)], commit=False)
    raw = built.trace.blocks[0].transactions[0]
    fields = rlp.decode(raw[1:])
    fields[-1] = b"\xff" * 32  # s beyond the curve order: no valid signature has it
    bad = raw[:1] + rlp.encode(fields)
    result = execute_detailed(
        built.pre_state_root,
        built.post_state_root,
        _swap_transaction(built, 0, bad),
        built.gas_used,
    )
    assert not result.ok and result.reason == RejectReason.INVALID_TRANSACTION


def test_bad_nonce_is_false() -> None:
    s = fresh()
    w = s.wallets[1]
    built = s.chain.build(transactions=[w.transfer(b"\x01" * 20, 1)], commit=False)
    replay = w.transfer(b"\x01" * 20, 1, nonce=5)
    result = execute_detailed(
        built.pre_state_root,
        built.post_state_root,
        _swap_transaction(built, 0, replay),
        built.gas_used,
    )
    assert not result.ok and result.reason == RejectReason.INVALID_TRANSACTION


def test_wrong_chain_id_and_blob_transactions_are_false() -> None:
    s = fresh()
    w = s.wallets[1]
    built = s.chain.build(transactions=[w.transfer(b"\x01" * 20, 1)], commit=False)
    other_chain = w.transfer(b"\x01" * 20, 1, nonce=0, chain_id=1)
    result = execute_detailed(
        built.pre_state_root,
        built.post_state_root,
        _swap_transaction(built, 0, other_chain),
        built.gas_used,
    )
    assert not result.ok and result.reason == RejectReason.INVALID_TRANSACTION
    blob = b"\x03" + built.trace.blocks[0].transactions[0][1:]
    result = execute_detailed(
        built.pre_state_root,
        built.post_state_root,
        _swap_transaction(built, 0, blob),
        built.gas_used,
    )
    assert not result.ok and result.reason == RejectReason.INVALID_TRANSACTION


def test_trace_that_skips_a_queued_deposit_reports_it() -> None:
    s = fresh()
    deposit = s.chain.deposit(b"\x42" * 20, 10**18)
    skipped = s.chain.build(include_pending=False, commit=False)
    honest = s.chain.build(commit=False)
    assert execute(*skipped.execute_args())  # a valid transition, but it consumed nothing...
    assert skipped.outputs.messages_consumed == 0  # ...which the settlement contract rejects
    assert honest.outputs.messages_consumed == 1
    assert honest.outputs.queue_end_hash == queue.roll(bytes(32), deposit)


def test_block_not_following_its_parent_is_false(sample) -> None:  # type: ignore[no-untyped-def]
    pre, post, _, gas = sample.execute_args()
    block = sample.trace.blocks[0]
    for bad in (
        replace(block, number=block.number + 1),
        replace(block, base_fee=block.base_fee + 1),
        replace(block, timestamp=0),
        replace(block, gas_limit=block.gas_limit * 2),
    ):
        trace = encode_trace(replace(sample.trace, blocks=(bad,)))
        result = execute_detailed(pre, post, trace, gas)
        assert not result.ok and result.reason == RejectReason.INVALID_BLOCK, bad


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_traces_return_a_bool_and_never_raise(sample, data) -> None:  # type: ignore[no-untyped-def]
    pre, post, trace, gas = sample.execute_args()
    mutated = bytearray(trace)
    for _ in range(data.draw(st.integers(1, 8))):
        choice = data.draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
        position = data.draw(st.integers(0, max(0, len(mutated) - 1)))
        if choice == "flip" and mutated:
            mutated[position] ^= data.draw(st.integers(1, 255))
        elif choice == "insert":
            mutated[position:position] = data.draw(st.binary(min_size=1, max_size=40))
        elif choice == "delete" and mutated:
            del mutated[position : position + data.draw(st.integers(1, 40))]
        else:
            mutated = mutated[:position] + data.draw(st.binary(max_size=100))
    verdict = execute(pre, post, bytes(mutated), gas)
    assert isinstance(verdict, bool)
    if bytes(mutated) != trace:
        assert verdict is False


def test_decoded_trace_reencodes_identically(sample) -> None:  # type: ignore[no-untyped-def]
    assert encode_trace(decode_trace(sample.encoded)) == sample.encoded


def _mapping_slot(mapping_index: int, key: int) -> int:
    return int.from_bytes(
        keccak(key.to_bytes(32, "big") + mapping_index.to_bytes(32, "big")), "big"
    )


def test_deposit_calls_share_one_block_gas_limit() -> None:
    s = EvmScenario.create(gas_limit=5_000_000)
    burn = calldata("setMany(uint256,uint256,uint256)", 1000, 10_000, 1)  # needs ~220M gas
    s.chain.deposit(s.store, 0, data=burn, gas_limit=5_000_000)
    s.chain.deposit(s.store, 0, data=calldata("set(uint256,uint256)", 1, 1), gas_limit=100_000)
    built = s.chain.build()
    assert_verifies(built)
    assert built.l2_gas_used == 5_000_000  # the first call used the whole budget, the second none
    assert s.chain.storage(s.store, _mapping_slot(0, 1)) == 0
    assert built.outputs.messages_consumed == 2  # ...but both messages were consumed


def test_execution_stops_once_past_the_claimed_gas() -> None:
    s = fresh()
    w = s.wallets
    built = s.chain.build([s.chain.template([w[1].transfer(w[2].address, 1)]) for _ in range(4)])
    per_block = built.gas_used // 4
    result = execute_detailed(built.pre_state_root, built.post_state_root, built.encoded, per_block)
    assert not result.ok and result.reason == RejectReason.GAS_MISMATCH
    assert "claimed gas" in result.detail and result.outputs is None  # stopped early


def test_eip7702_authorization_verifies_and_its_nodes_cannot_be_dropped() -> None:
    from eth_account import Account as EthAccount

    s = fresh()
    sender, authority = s.wallets[1], s.wallets[5]
    authorization = EthAccount.sign_authorization(
        {"chainId": s.chain.chain_id, "address": "0x" + s.store.hex(), "nonce": authority.nonce},
        authority.private_key,
    )
    tx = EthAccount.sign_transaction(
        {
            "type": 4,
            "chainId": s.chain.chain_id,
            "nonce": sender.nonce,
            "to": sender.checksum_address,
            "value": 0,
            "gas": 200_000,
            "maxFeePerGas": 2 * 10**9,
            "maxPriorityFeePerGas": 10**8,
            "data": b"",
            "authorizationList": [authorization],
        },
        sender.private_key,
    ).raw_transaction
    built = s.chain.build(transactions=[bytes(tx)], commit=False)
    assert_verifies(built)
    # py-evm skips an authorization on any error; a node left out of the witness must still be
    # "missing witness", never a valid execution where the delegation did not happen.
    pre, post, _, gas = built.execute_args()
    nodes = built.trace.witness.state_nodes
    for index in range(len(nodes)):
        witness = replace(built.trace.witness, state_nodes=nodes[:index] + nodes[index + 1 :])
        trace = encode_trace(replace(built.trace, witness=witness))
        assert execute_detailed(pre, post, trace, gas).reason == RejectReason.MISSING_WITNESS
    s.chain.build(transactions=[bytes(tx)])
    assert s.chain.code(authority.address) == bytes.fromhex("ef0100") + s.store


def test_trace_for_another_chain_id_is_false() -> None:
    from rollupkit.builder import build_trace

    s = fresh()
    chain = s.chain
    victim = s.wallets[3]
    mainnet_signed = victim.transfer(
        b"\xee" * 20, 10**21, nonce=chain.nonce(victim.address), chain_id=1
    )
    block = replace(chain.template([mainnet_signed]), timestamp=chain.head.timestamp + 2)
    with pytest.raises(Exception, match="chain 1, but the pre-state is chain 42424"):
        build_trace(
            chain.vm,
            chain.model,
            chain.store,
            chain_id=1,
            parent_header=chain.headers[-1],
            header_by_number=lambda n: chain.headers[n],
            queue_start=chain.queue_position,
            blocks=[block],
            commit=False,
        )
    honest = chain.build(commit=False)
    relabelled = encode_trace(replace(honest.trace, chain_id=1))
    result = execute_detailed(
        honest.pre_state_root, honest.post_state_root, relabelled, honest.gas_used
    )
    assert (
        not result.ok and result.reason == RejectReason.INVALID_BLOCK and "chain 1" in result.detail
    )


@pytest.mark.parametrize(
    "forgery",
    [
        {"gas_limit": 2**40},
        {"base_fee_per_gas": 0},
        {"parent_hash": b"\x01" * 32},
        {"extra_data": b"forged"},
        {"gas_used": 0},
    ],
    ids=["gas-limit", "zero-base-fee", "other-history", "extra-data", "gas-used"],
)
def test_forged_parent_header_is_false(forgery: dict) -> None:  # type: ignore[type-arg]
    """A parent with the real state root but any other field changed (which would grant a
    huge gas limit, free gas, a fake BLOCKHASH history, ...) is refused by EXECUTE itself."""
    import rlp

    from rollupkit.ethheader import HEADER_CLASS

    s = fresh()
    built = s.chain.build(
        transactions=[s.wallets[1].transfer(s.wallets[2].address, 1)], commit=False
    )
    parent = rlp.decode(built.trace.witness.headers[-1], sedes=HEADER_CLASS)
    forged_parent = parent.copy(**forgery)
    assert forged_parent.state_root == built.pre_state_root
    block = replace(built.trace.blocks[0], parent_hash=forged_parent.hash)
    trace = replace(
        built.trace,
        blocks=(block,),
        witness=replace(built.trace.witness, headers=(rlp.encode(forged_parent),)),
    )
    result = execute_detailed(
        built.pre_state_root, built.post_state_root, encode_trace(trace), built.gas_used
    )
    assert not result.ok and result.reason == RejectReason.INVALID_BLOCK
    assert "is not the pre-state's block" in result.detail


def test_work_stops_inside_a_block_once_past_the_claimed_gas() -> None:
    s = fresh()
    burn = calldata("setMany(uint256,uint256,uint256)", 0, 1000, 1)
    s.chain.deposit(s.store, 0, data=burn, gas_limit=5_000_000)
    built = s.chain.build(
        transactions=[
            s.store_call(
                s.wallets[1], "setMany(uint256,uint256,uint256)", 2000, 1000, 1, gas=25_000_000
            )
        ]
    )
    assert built.l2_gas_used > 20_000_000
    # Enough for the bytes, the block and the deposit, none for the deposit's call: the call
    # is stopped while it runs, long before the block ends.
    claim = SCHEDULE.trace_bytes(len(built.encoded)) + SCHEDULE.block + SCHEDULE.l1_message
    result = execute_detailed(built.pre_state_root, built.post_state_root, built.encoded, claim)
    assert result.reason == RejectReason.GAS_MISMATCH
    assert "execution stopped" in result.detail and "burning" in result.detail


def test_builder_never_makes_a_trace_execute_would_refuse() -> None:
    from rollupkit.errors import InvalidTransactionError
    from rollupkit.trace import LIMITS

    s = fresh()
    w = s.wallets
    huge = w[1].sign(to=s.store, data=b"\x01" * (LIMITS.max_transaction_bytes + 1), gas=29_000_000)
    with pytest.raises(InvalidTransactionError, match="more than a trace carries"):
        s.chain.build(transactions=[huge], commit=False)
    small = w[2].transfer(w[3].address, 1)
    built = s.chain.build(transactions=[huge, small], drop_invalid=True)
    assert built.dropped == ((0,),) and built.trace.blocks[0].transactions == (small,)
    assert_verifies(built)


def test_a_block_takes_at_most_the_message_limit_from_the_queue() -> None:
    from rollupkit.trace import LIMITS

    s = fresh()
    for _ in range(LIMITS.max_messages_per_block + 3):
        s.chain.deposit(b"\x42" * 20, 1)
    first = s.chain.build()
    assert first.outputs.messages_consumed == LIMITS.max_messages_per_block
    assert_verifies(first)
    assert s.chain.build().outputs.messages_consumed == 3


def test_deposit_call_to_an_empty_account_leaves_no_empty_account() -> None:
    s = fresh()
    empty = b"\x5e" * 20
    s.chain.deposit(empty, 0, data=b"\x01", gas_limit=50_000)  # touches, credits nothing
    built = s.chain.build()
    assert_verifies(built)
    assert s.chain.account(empty) is None  # EIP-161: a touched empty account is removed
