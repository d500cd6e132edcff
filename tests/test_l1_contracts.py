"""The settlement and bridge contracts, on the embedded devnet (EXECUTE precompile) and on
anvil (k-of-n attestations): the same tests, minus the precompile-only ones on anvil."""

from __future__ import annotations

import pytest
from l1_env import ATTESTER_KEYS, L1, Rollup, deploy, running_l1, with_outputs

from rollupkit.gas_market import PRICE_SCALE, ExecuteGasConfig
from rollupkit.l1.anvil import NodeToolMissing, find_tool
from rollupkit.l1.contracts import AttestationRefused, ContractRevert, attest_batch
from rollupkit.l1.devnet import DevnetConfig
from rollupkit.testing.evm import EvmScenario
from rollupkit.withdrawals import merkle_proof, withdrawal_leaf


def _anvil_available() -> bool:
    try:
        find_tool("anvil")
    except NodeToolMissing:
        return False
    return True


# Past the 3600 s inclusion deadline, with room for blocks mined a few seconds ahead of the
# clock (several blocks in one second each take the parent time plus one).
OVERDUE = 3600 + 120

BACKENDS = [
    "embedded",
    pytest.param("anvil", marks=pytest.mark.skipif(not _anvil_available(), reason="npm install")),
]


@pytest.fixture(scope="module", params=BACKENDS)
def l1(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    with running_l1(request.param) as running:
        yield running


@pytest.fixture
def rollup(l1: L1) -> Rollup:
    return deploy(l1)


def reverts_with(name: str):  # type: ignore[no-untyped-def]
    return pytest.raises(ContractRevert, match=name)


# --- settlement ------------------------------------------------------------------------------


def test_valid_batch_advances_the_root(rollup: Rollup) -> None:
    c, chain = rollup.contracts, rollup.l2.chain
    w = rollup.l2.wallets
    built = chain.build(
        transactions=[
            w[1].transfer(w[2].address, 10),
            rollup.l2.token_transfer(w[0], w[3].address, 5),
        ]
    )
    receipt = rollup.settle(built)
    state = c.state()
    assert state["state_root"] == built.post_state_root == chain.state_root
    assert state["block_hash"] == built.outputs.block_hash
    assert state["block_number"] == chain.head.number
    assert state["batches"] == 3  # genesis, the contract deployments, this batch
    event = c.rollup.events.BatchSettled().process_receipt(receipt)[0].args
    assert event.batchIndex == 2 and bytes(event.stateRoot) == built.post_state_root
    # The history of roots is in the events (storage keeps the last batch only).
    history = c.rollup.events.BatchSettled().get_logs(from_block=0)
    assert [e.args["batchIndex"] for e in history] == [0, 1, 2]
    assert bytes(history[1].args["stateRoot"]) == rollup.l2.setup[0].post_state_root


def test_batch_must_continue_the_last_settled_block(rollup: Rollup) -> None:
    chain = rollup.l2.chain
    first = chain.build()
    second = chain.build()
    with reverts_with("WrongPreState"):
        rollup.settle(second)  # skips `first`
    rollup.settle(first)
    rollup.settle(second)
    with reverts_with("WrongPreState"):
        rollup.settle(second)  # replayed


def test_claim_for_another_chain_is_rejected(rollup: Rollup) -> None:
    built = rollup.l2.chain.build()
    with reverts_with("WrongChain"):
        rollup.contracts.submit_batch(with_outputs(built, chain_id=1).outputs, built.encoded, b"")


def test_claim_that_does_not_match_its_trace_is_rejected(rollup: Rollup) -> None:
    chain = rollup.l2.chain
    w = rollup.l2.wallets
    built = chain.build(transactions=[w[1].transfer(w[2].address, 10)])
    forged = with_outputs(built, withdrawals_root=b"\x11" * 32, withdrawal_count=1)
    if rollup.l1.verifier == "reexec":
        with reverts_with("OutputsMismatch"):
            rollup.contracts.submit_batch(forged.outputs, forged.encoded, b"")
    else:
        with pytest.raises(AttestationRefused, match="claimed public outputs"):
            rollup.evidence(forged)  # honest verifier clients do not sign it...
        honest = rollup.evidence(built)  # ...and their signatures on the real claim do not fit it
        with reverts_with("UnknownSigner|SignersNotAscending"):
            rollup.contracts.submit_batch(forged.outputs, forged.encoded, honest)
    rollup.settle(built)


def test_invalid_trace_is_rejected_and_still_pays_execute_gas() -> None:
    with running_l1("embedded") as l1:  # the EXECUTE precompile is on the embedded L1 only
        _invalid_trace_pays(l1)


def _invalid_trace_pays(l1: L1) -> None:
    rollup = deploy(l1)
    w = rollup.l2.wallets
    built = rollup.l2.chain.build(transactions=[w[1].transfer(w[2].address, 10)])
    lie = with_outputs(built, post_state_root=b"\x22" * 32)
    with reverts_with("transaction reverted on chain") as failure:
        rollup.contracts.submit_batch(lie.outputs, lie.encoded, b"", gas=2_000_000)
    receipt = failure.value.receipt
    assert receipt["status"] == 0
    config = l1.devnet.market.config
    cost = config.fixed_cost + built.gas_used * config.min_price // PRICE_SCALE
    calldata_floor = 21_000 + 4 * len(built.encoded)
    assert receipt["gasUsed"] >= cost + calldata_floor  # the EXECUTE charge was drawn in full
    assert rollup.contracts.state()["state_root"] == rollup.l2.setup[0].post_state_root


# --- the queue and forced inclusion --------------------------------------------------------------


def test_deposit_is_queued_and_consumed(rollup: Rollup) -> None:
    c = rollup.contracts
    target = b"\x77" * 20
    message = c.deposit(target, 3 * 10**18)
    assert (message.index, message.value, message.target) == (0, 3 * 10**18, target)
    assert c.state()["queued"] == 1
    rollup.sync_queue()
    built = rollup.l2.chain.build()
    assert built.outputs.messages_consumed == 1
    rollup.settle(built)
    assert c.state()["consumed"] == 1
    assert rollup.l2.chain.balance(target) == 3 * 10**18


def test_batch_that_skips_a_queued_deposit_is_rejected(rollup: Rollup) -> None:
    c = rollup.contracts
    c.deposit(b"\x77" * 20, 10**18)
    rollup.sync_queue()
    skipping = rollup.l2.chain.build(include_pending=False, commit=False)
    # It claims to have consumed the deposit, but its trace did not:
    forged = with_outputs(
        skipping,
        messages_consumed=1,
        queue_end_hash=bytes(c.bridge.functions.rollingHashAt(1).call()),
    )
    if rollup.l1.verifier == "reexec":
        with reverts_with("OutputsMismatch"):
            c.submit_batch(forged.outputs, forged.encoded, b"")
    else:
        with pytest.raises(AttestationRefused):
            rollup.evidence(forged)
    # It claims a queue end that is not the bridge's:
    wrong_end = with_outputs(skipping, queue_end_hash=b"\x33" * 32)
    with reverts_with("QueueMismatch"):
        c.submit_batch(wrong_end.outputs, wrong_end.encoded, b"")
    # Once the deposit is overdue, a batch that leaves it out is rejected outright:
    rollup.l1.advance(OVERDUE)
    with reverts_with("OverdueMessageNotConsumed"):
        rollup.settle(skipping)
    rollup.settle(rollup.l2.chain.build())


def test_batch_ignoring_an_overdue_forced_transaction_is_rejected(rollup: Rollup) -> None:
    c = rollup.contracts
    chain = rollup.l2.chain
    w = rollup.l2.wallets
    receiver = b"\x66" * 20
    c.force_transaction(w[4].transfer(receiver, 12345))
    rollup.sync_queue()
    # Before the deadline the sequencer may leave it queued (here: it censors it)...
    rollup.settle(chain.build(transactions=[w[1].transfer(w[2].address, 1)], include_pending=False))
    rollup.l1.advance(OVERDUE)
    # ...after it, a batch without it is rejected,
    censoring = chain.build(include_pending=False, commit=False)
    with reverts_with("OverdueMessageNotConsumed"):
        rollup.settle(censoring)
    # and one that includes it settles; the forced transaction took effect on L2.
    rollup.settle(chain.build())
    assert chain.balance(receiver) == 12345
    assert c.state()["consumed"] == 1


# --- withdrawals ---------------------------------------------------------------------------------


def test_withdrawal_claimed_once_with_a_valid_proof_after_finality(l1: L1) -> None:
    rollup = deploy(l1, finality_delay=600)
    c = rollup.contracts
    c.deposit(rollup.l2.wallets[5].address, 5 * 10**18)  # funds the bridge on L1
    rollup.sync_queue()
    w = rollup.l2.wallets
    recipient = b"\x99" * 20
    built = rollup.l2.chain.build(
        transactions=[
            rollup.l2.withdraw(w[1], recipient, 10**18),
            rollup.l2.withdraw(w[2], recipient, 2 * 10**18),
        ]
    )
    withdrawals = built.results[0].withdrawals
    leaves = [withdrawal_leaf(x) for x in withdrawals]
    with reverts_with("BatchNotSettled"):  # a proof against a root that is not settled
        c.claim_withdrawal(3, withdrawals[0], 0, merkle_proof(leaves, 0))
    rollup.settle(built)
    batch_index = c.state()["batches"] - 1
    with reverts_with("NotFinal"):
        c.claim_withdrawal(batch_index, withdrawals[0], 0, merkle_proof(leaves, 0))
    l1.advance(700)
    with reverts_with("BadWithdrawalProof"):  # forged: the proof of another leaf
        c.claim_withdrawal(batch_index, withdrawals[0], 0, merkle_proof(leaves, 1))
    with reverts_with("BadWithdrawalProof"):  # forged: a bigger amount
        forged = type(withdrawals[0])(**{**vars(withdrawals[0]), "value": 5 * 10**18})
        c.claim_withdrawal(batch_index, forged, 0, merkle_proof(leaves, 0))
    before = l1.w3.eth.get_balance(l1.w3.to_checksum_address(recipient))
    c.claim_withdrawal(batch_index, withdrawals[0], 0, merkle_proof(leaves, 0))
    c.claim_withdrawal(batch_index, withdrawals[1], 1, merkle_proof(leaves, 1))
    assert l1.w3.eth.get_balance(l1.w3.to_checksum_address(recipient)) - before == 3 * 10**18
    with reverts_with("AlreadyClaimed"):
        c.claim_withdrawal(batch_index, withdrawals[0], 0, merkle_proof(leaves, 0))


# --- attestations --------------------------------------------------------------------------------


@pytest.mark.skipif(not _anvil_available(), reason="npm install provides anvil")
def test_attestation_threshold_duplicates_and_strangers() -> None:
    with running_l1("anvil") as l1:  # attestations are how a stock L1 settles
        _attestation_rules(l1)


def _attestation_rules(l1: L1) -> None:
    rollup = deploy(l1)
    built = rollup.l2.chain.build()
    c = rollup.contracts
    one = rollup.evidence(built, ATTESTER_KEYS[:1])
    with reverts_with("NotEnoughSignatures"):  # k-1 of the k = 2 needed
        c.submit_batch(built.outputs, built.encoded, one)
    from eth_abi import decode, encode

    (signatures,) = decode(["bytes[]"], one)
    duplicate = encode(["bytes[]"], [[signatures[0], signatures[0]]])
    with reverts_with("SignersNotAscending"):  # the same signer twice
        c.submit_batch(built.outputs, built.encoded, duplicate)
    stranger = attest_batch(
        [ATTESTER_KEYS[0], b"\x42" * 32],
        l1_chain_id=l1.w3.eth.chain_id,
        verifier=c.deployment.verifier,
        pre_state_root=built.pre_state_root,
        post_state_root=built.post_state_root,
        trace=built.encoded,
        gas_used=built.gas_used,
        claimed=built.outputs,
    )
    with reverts_with("UnknownSigner"):
        c.submit_batch(built.outputs, built.encoded, stranger)
    c.submit_batch(built.outputs, built.encoded, rollup.evidence(built, ATTESTER_KEYS[1:]))
    assert c.state()["state_root"] == built.post_state_root


def test_verifier_client_refuses_an_invalid_trace(l1: L1) -> None:
    rollup = deploy(l1)
    built = rollup.l2.chain.build()
    with pytest.raises(AttestationRefused, match="does not verify"):
        attest_batch(
            ATTESTER_KEYS,
            l1_chain_id=1,
            verifier="0x" + "00" * 20,
            pre_state_root=built.pre_state_root,
            post_state_root=b"\x01" * 32,
            trace=built.encoded,
            gas_used=built.gas_used,
            claimed=built.outputs,
        )


# --- the EXECUTE gas market on the embedded L1 ---------------------------------------------


def test_execute_price_follows_cumulative_gas_and_the_limit_is_hard() -> None:
    l2 = EvmScenario.create(wallets=3)
    w = l2.wallets
    built = l2.chain.build(transactions=[w[1].transfer(w[2].address, 1)])
    assert built.l2_gas_used == 21_000  # one transfer
    g = built.gas_used  # its EXECUTE gas: the transfer, the block and the trace's bytes
    # Four calls go over the target; four fit under the limit, five do not.
    config = DevnetConfig(market=ExecuteGasConfig(target=3 * g, limit=4 * g + g // 2))
    with running_l1("embedded", config) as l1:
        market = l1.devnet.market
        from rollupkit.l1.precompile import EXECUTE_ADDRESS, encode_input

        data = encode_input(
            built.pre_state_root, built.post_state_root, built.gas_used, built.encoded
        )
        account = l1.accounts[1]

        def execute_calls(count: int) -> list[int]:
            l1.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
            nonce = l1.w3.eth.get_transaction_count(account.address)
            hashes = []
            for i in range(count):
                tx = account.sign_transaction(
                    {
                        "to": l1.w3.to_checksum_address(EXECUTE_ADDRESS),
                        "data": data,
                        "gas": 1_000_000,
                        "nonce": nonce + i,
                        "chainId": l1.w3.eth.chain_id,
                        "maxFeePerGas": 10**11,
                        "maxPriorityFeePerGas": 1,
                    }
                )
                hashes.append(l1.w3.eth.send_raw_transaction(tx.raw_transaction))
            l1.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            l1.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
            return [l1.w3.eth.get_transaction_receipt(h)["status"] for h in hashes]

        # The price of a block follows the cumulative EXECUTE gas of the block before it.
        start = market.price
        assert execute_calls(4) == [1, 1, 1, 1]  # block A: 4g, over the 3g target
        assert execute_calls(5) == [1, 1, 1, 1, 0]  # block B: the fifth call is over the limit
        risen = market.price  # block B's price, after block A
        assert risen > start
        l1.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        peak = market.price  # after block B (4g again)
        assert peak > risen
        assert execute_calls(1) == [1]  # after an empty block...
        assert market.price < peak  # ...it falls


def test_bridge_refuses_messages_no_trace_could_carry(rollup: Rollup) -> None:
    from rollupkit.trace import LIMITS

    c = rollup.contracts
    limit = c.bridge.functions.MAX_MESSAGE_DATA().call()
    assert limit == LIMITS.max_message_data <= LIMITS.max_transaction_bytes
    with reverts_with("MessageTooLarge"):
        c.deposit(b"\x01" * 20, 0, data=b"\x00" * (limit + 1), gas_limit=100_000)
    with reverts_with("MessageTooLarge"):
        c.force_transaction(b"\x02" * (limit + 1))
    with reverts_with("EmptyTransaction"):
        c.force_transaction(b"")
    with reverts_with("GasLimitTooHigh"):
        c.deposit(b"\x01" * 20, 0, gas_limit=10_000_001)
    # The largest message the bridge takes is one a batch can consume.
    c.deposit(rollup.l2.store, 0, data=b"\x00" * limit, gas_limit=1_000_000)
    rollup.sync_queue()
    built = rollup.l2.chain.build()
    assert built.outputs.messages_consumed == 1
    rollup.settle(built)
