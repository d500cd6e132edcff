"""Booster rollups (issue 15, seed 000): L1CALL, L1SANDBOXCALL and L1DELEGATECALL on an L2
block anchored to an L1 block of the embedded devnet, verified by EXECUTE from the trace
alone (the L1 state read through the witness)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
import rlp
from eth_abi import decode as abi_decode
from eth_hash.auto import keccak
from l1_env import running_l1
from web3.logs import DISCARD

from rollupkit import execute_detailed
from rollupkit.builder import BuiltTrace
from rollupkit.chain import DevChain
from rollupkit.errors import ContractRevert, InvalidBlockError
from rollupkit.examples.booster import send
from rollupkit.examples.contracts import artifact
from rollupkit.gas_market import ExecuteGasConfig
from rollupkit.l1.contracts import RollupContracts, deploy_rollup
from rollupkit.l1.devnet import DevnetConfig
from rollupkit.l1updates import UPDATES_TYPES as UPDATES
from rollupkit.l1updates import batch_updates, updates_hash
from rollupkit.metering import CallLimits
from rollupkit.trace import decode_trace, encode_trace
from rollupkit.types import GenesisAccount, RejectReason, Witness
from rollupkit.wallets import Wallet, calldata, dev_wallets
from rollupkit_booster import (
    BOOSTER_CONFIG_ADDRESS,
    L1CALL_ADDRESS,
    L1DELEGATECALL_ADDRESS,
    L1SANDBOXCALL_ADDRESS,
)
from rollupkit_booster.l1 import (
    NO_BLOCKHASH,
    NO_CREATE,
    NO_ETH,
    NO_SELFDESTRUCT,
    TOO_MANY_L1_KEYS,
)

CLIENT = bytes.fromhex("00000000000000000000000000000000000c0de1")
#: BoosterClient's storage: count, last, first, second.
COUNT, FIRST, SECOND = 0, 2, 3


@dataclass
class Booster:
    l1: Any
    chain: DevChain
    wallet: Wallet
    counter: bytes  # L1Counter on L1
    anchor: bytes  # the L1 block L2 blocks are anchored to

    rollup: RollupContracts  # the booster rollup's contracts on L1

    def block(self, *calls: bytes, value: int = 0, anchor: bytes | None = None) -> BuiltTrace:
        """One L2 block of calls to BoosterClient, anchored to ``anchor``."""
        return self.blocks([*calls], value=value, anchor=anchor)

    def blocks(
        self, *groups: list[bytes], value: int = 0, anchor: bytes | None = None
    ) -> BuiltTrace:
        """One trace of L2 blocks, one per group of calls, all at ``anchor``."""
        blocks = [
            self.chain.template(
                [self.wallet.sign(to=CLIENT, data=d, gas=2_000_000, value=value) for d in calls],
                l1_anchor=anchor or self.anchor,
            )
            for calls in groups
        ]
        return self.chain.build(blocks)

    def settle(self, built: BuiltTrace) -> Any:
        return self.rollup.submit_batch(
            built.outputs, built.encoded, b"", l1_updates=batch_updates(built.results)
        )

    def l1_count(self) -> int:
        return int(
            self.l1.w3.eth.call({"to": self.l1_address, "data": calldata("count()")}).hex(), 16
        )

    @property
    def l1_address(self) -> str:
        return self.l1.w3.to_checksum_address(self.counter)


@contextmanager
def booster() -> Iterator[Booster]:
    """The embedded L1 with L1Counter at count 2, and a booster L2 with BoosterClient."""
    with running_l1("embedded") as l1:
        w3, deployer = l1.w3, l1.accounts[0]
        wallet = dev_wallets(1, 42424)[0]
        alloc = {
            wallet.address: GenesisAccount(balance=10**24),
            CLIENT: GenesisAccount(code=artifact("BoosterClient").deployed_bytecode, nonce=1),
            BOOSTER_CONFIG_ADDRESS: GenesisAccount(nonce=1, storage={0: w3.eth.chain_id}),
        }
        chain = DevChain(alloc, vm="booster", chain_id=42424,
                         l1_source=l1.devnet.chain.chaindb.db)  # fmt: skip
        genesis = chain.vm.decode_header(chain.headers[0])
        rollup = deploy_rollup(
            w3, deployer, l2_chain_id=42424, genesis_state_root=genesis.state_root,
            genesis_block_hash=genesis.hash, vm="booster",
        )  # fmt: skip
        spec = artifact("L1Counter")
        receipt = send(w3, deployer, w3.eth.contract(abi=spec.abi, bytecode=spec.bytecode)
                       .constructor())  # fmt: skip
        counter = w3.eth.contract(address=receipt["contractAddress"], abi=spec.abi)
        for call in (counter.functions.setBooster(rollup.rollup.address),
                     counter.functions.increment(), counter.functions.increment()):  # fmt: skip
            send(w3, deployer, call)
        anchor = bytes(w3.eth.get_block("latest")["hash"])
        yield Booster(l1, chain, wallet, bytes.fromhex(counter.address[2:]), anchor, rollup)


def _attempt(precompile: bytes, target: bytes, data: bytes) -> bytes:
    return calldata("attempt(address,address,bytes)", precompile, target, data)


def _call(precompile: bytes, target: bytes, data: bytes) -> bytes:
    return calldata("call(address,address,bytes)", precompile, target, data)


def _verified(built: BuiltTrace) -> None:
    result = execute_detailed(*built.execute_args(), vm="booster")
    assert result.ok, (result.reason, result.detail)


def _results(built: BuiltTrace) -> list[tuple[bool, bytes]]:
    """The (ok, output) of every BoosterClient.Result event of the block."""
    topic = keccak(b"Result(bool,bytes)")
    found = []
    for raw in built.results[-1].receipts:
        fields = rlp.decode(raw[1:] if raw[0] < 0x80 else raw)
        for address, topics, data in fields[3]:
            if address == CLIENT and topics and topics[0] == topic:
                found.append(tuple(abi_decode(["bool", "bytes"], data)))
    return found  # type: ignore[return-value]


def _reason(output: bytes) -> str:
    assert output[:4] == bytes.fromhex("08c379a0"), output.hex()
    return str(abi_decode(["string"], output[4:])[0])


def test_l1call_reads_l1_and_its_writes_are_seen_by_later_l1calls_in_the_block() -> None:
    with booster() as b:
        built = b.block(
            calldata("incrementTwice(address)", b.counter),
            calldata("readCount(address)", b.counter),  # a later transaction, same block
        )
        assert b.chain.storage(CLIENT, SECOND) == 4  # 2 on L1, then 3 and 4
        assert b.chain.storage(CLIENT, FIRST) == 4  # what the second transaction read
        _verified(built)
        assert b.l1_count() == 2  # L1 itself is not touched by executing the L2 block


def test_l1sandboxcall_leaves_no_change() -> None:
    with booster() as b:
        increment = calldata("increment()")
        built = b.block(
            _attempt(L1SANDBOXCALL_ADDRESS, b.counter, increment),
            calldata("readCount(address)", b.counter),
        )
        ((ok, output),) = _results(built)
        assert ok and int.from_bytes(output, "big") == 3  # it ran: 2 + 1 ...
        assert b.chain.storage(CLIENT, FIRST) == 2  # ... and left L1 at 2
        _verified(built)


def test_l1delegatecall_runs_l1_code_on_l2_storage() -> None:
    with booster() as b:
        increment = calldata("increment()")
        built = b.block(
            _call(L1DELEGATECALL_ADDRESS, b.counter, increment),
            _call(L1DELEGATECALL_ADDRESS, b.counter, increment),
            calldata("readCount(address)", b.counter),
        )
        assert b.chain.storage(CLIENT, COUNT) == 2  # L1Counter's code, BoosterClient's slot 0
        assert b.chain.storage(CLIENT, FIRST) == 2  # L1's own count untouched
        _verified(built)


def test_an_l2_revert_takes_its_l1_writes_with_it() -> None:
    with booster() as b:
        built = b.block(
            calldata("incrementThenFail(address)", b.counter),
            calldata("readCount(address)", b.counter),
        )
        assert b.chain.storage(CLIENT, FIRST) == 2
        _verified(built)


def test_what_cannot_be_applied_to_l1_fails_with_the_documented_errors() -> None:
    with booster() as b:
        client = b.counter
        built = b.block(
            _attempt(L1CALL_ADDRESS, client, calldata("pay(address)", client)),
            _attempt(L1CALL_ADDRESS, client, calldata("spawn()")),
            _attempt(L1CALL_ADDRESS, client, calldata("end()")),
            _attempt(L1CALL_ADDRESS, client, calldata("recentHash()")),
            _attempt(L1CALL_ADDRESS, client, b"\x00" * 3 + b"not abi"),  # not even a selector
            calldata("readCount(address)", b.counter),
        )
        results = _results(built)
        assert [ok for ok, _ in results] == [False, False, False, False, False]
        assert [_reason(out) for _, out in results[:4]] == [
            NO_ETH, NO_CREATE, NO_SELFDESTRUCT, NO_BLOCKHASH,
        ]  # fmt: skip
        assert b.chain.storage(CLIENT, FIRST) == 2  # none of them changed L1
        value = b.block(_attempt(L1CALL_ADDRESS, client, calldata("increment()")), value=5)
        ((ok, output),) = _results(value)
        assert not ok and _reason(output) == NO_ETH  # ETH sent to L1CALL itself
        _verified(built)
        _verified(value)


def test_a_block_reads_at_most_so_much_l1_state() -> None:
    """Each L1 account or slot read is an eth_getProof for a node's builder: a block's L1
    calls read at most MAX_L1_KEYS_PER_BLOCK of them, a rule EXECUTE applies too."""
    with booster() as b:
        scan = lambda n: _attempt(L1SANDBOXCALL_ADDRESS, b.counter,  # noqa: E731
                                  calldata("scan(uint256)", n))  # fmt: skip
        built = b.block(scan(300), scan(300), scan(600))
        ok = [ok for ok, _ in _results(built)]
        # The first reads 300 slots, the second the same ones, the third 300 more: past 512.
        assert ok == [True, True, False]
        assert _reason(_results(built)[2][1]) == TOO_MANY_L1_KEYS
        _verified(built)
        # A new block may read again.
        assert [ok for ok, _ in _results(b.block(scan(400)))] == [True]


def test_a_tampered_l1_witness_makes_execute_false() -> None:
    with booster() as b:
        built = b.block(calldata("incrementTwice(address)", b.counter))
        _verified(built)
        pre, post, raw, gas = built.execute_args()
        trace = decode_trace(raw)
        own = b.chain.store.nodes.maps[0]  # type: ignore[attr-defined]
        l1_nodes = [n for n in trace.witness.state_nodes if keccak(n) not in own]
        assert l1_nodes  # the L1 state the calls read travels in the witness
        header = next(c for c in trace.witness.codes if keccak(c) == b.anchor)

        def run(witness: Witness, blocks: Any = None) -> Any:
            tampered = replace(trace, witness=witness, blocks=blocks or trace.blocks)
            return execute_detailed(pre, post, encode_trace(tampered), gas, vm="booster")

        w = trace.witness
        without_header = replace(w, codes=tuple(c for c in w.codes if c != header))
        assert run(without_header).reason is RejectReason.MISSING_WITNESS
        for node in l1_nodes:
            dropped = replace(w, state_nodes=tuple(n for n in w.state_nodes if n != node))
            assert not run(dropped).ok
        # Another anchor: its header is not in the witness.
        moved = (replace(trace.blocks[0], l1_anchor=keccak(b"another L1 block")),)
        assert not run(w, moved).ok
        # A forged header (another state root) is a different preimage: it names no anchor.
        fields = rlp.decode(header)
        fields[3] = keccak(b"a state root where the count is 1000")
        forged = replace(w, codes=tuple(rlp.encode(fields) if c == header else c for c in w.codes))
        assert run(forged).reason is RejectReason.MISSING_WITNESS


def test_the_l1_execution_is_metered_against_the_claimed_gas() -> None:
    with booster() as b:
        built = b.block(calldata("incrementTwice(address)", b.counter))
        pre, post, raw, gas = built.execute_args()
        assert execute_detailed(pre, post, raw, gas, vm="booster").ok
        assert not execute_detailed(pre, post, raw, gas - 1, vm="booster").ok


@pytest.mark.parametrize("state", ["binary"])
def test_booster_needs_the_mpt_state_model(state: str) -> None:
    from rollupkit.errors import RollupkitError

    with pytest.raises(RollupkitError):
        DevChain({}, vm="booster", state=state)


def test_a_booster_batch_names_its_anchor_and_l1_effects_and_settles_applying_them() -> None:
    with booster() as b:
        # Two blocks at one anchor: the second goes on from the first's L1 writes.
        built = b.blocks(
            [calldata("incrementTwice(address)", b.counter)],
            [calldata("incrementTwice(address)", b.counter)],
        )
        assert b.chain.storage(CLIENT, SECOND) == 6
        anchor = b.l1.w3.eth.get_block(b.anchor)
        o = built.outputs
        assert (o.l1_anchor_number, o.l1_anchor_hash) == (anchor["number"], b.anchor)
        assert o.l1_state_root not in (bytes(anchor["stateRoot"]), b"\x00" * 32)
        assert batch_updates(built.results) == [(b.counter, 0, 6)]
        assert o.l1_updates_hash == updates_hash([(b.counter, 0, 6)])
        _verified(built)
        with pytest.raises(ValueError, match="l1_updates"):
            b.rollup.submit_batch(o, built.encoded, b"")
        with pytest.raises(ContractRevert, match="L1UpdatesMismatch"):
            b.rollup.submit_batch(o, built.encoded, b"", l1_updates=[(b.counter, 0, 7)])
        assert b.l1_count() == 2
        b.settle(built)  # EXECUTE on L1, then applyStateUpdates
        assert b.l1_count() == 6
        # The next batch at the same anchor goes on from the chain's L1 (6), as L1 now is.
        more = b.block(calldata("incrementTwice(address)", b.counter))
        assert b.chain.storage(CLIENT, SECOND) == 8
        b.settle(more)
        assert b.l1_count() == 8


def test_settlement_refuses_an_l1_anchor_l1_does_not_know_or_that_is_stale() -> None:
    with booster() as b:
        real = b.l1.w3.eth.get_block(b.anchor)
        # A header of the same L1 state that is no L1 block: EXECUTE cannot tell (the trace is
        # consistent), the settlement contract can.
        from eth.vm.forks.prague.blocks import PragueBlockHeader

        header = rlp.decode(b.l1.devnet.chain.chaindb.db[b.anchor], sedes=PragueBlockHeader)
        forged = header.copy(extra_data=b"not an L1 block")
        b.chain.store.codes.maps[0][forged.hash] = rlp.encode(forged)  # type: ignore[attr-defined]
        built = b.block(calldata("incrementTwice(address)", b.counter), anchor=forged.hash)
        _verified(built)
        with pytest.raises(ContractRevert, match="UnknownL1Anchor"):
            b.settle(built)
        assert real["number"] == built.outputs.l1_anchor_number


def test_a_batch_reads_l1_at_one_anchor() -> None:
    with booster() as b:
        older = bytes(b.l1.w3.eth.get_block(b.l1.w3.eth.get_block(b.anchor)["number"] - 1)["hash"])
        with pytest.raises(InvalidBlockError, match="one anchor"):
            b.chain.build([
                b.chain.template([b.wallet.sign(to=CLIENT, gas=2_000_000, nonce=0,
                                  data=calldata("incrementTwice(address)", b.counter))],
                                 l1_anchor=b.anchor),
                b.chain.template([b.wallet.sign(to=CLIENT, gas=2_000_000, nonce=1,
                                  data=calldata("incrementTwice(address)", b.counter))],
                                 l1_anchor=older),
            ])  # fmt: skip


def test_after_updates_are_applied_an_older_l1_anchor_is_stale() -> None:
    with booster() as b:
        b.settle(b.block(calldata("incrementTwice(address)", b.counter)))  # applied on L1 now
        parent = b.l1.w3.eth.get_block(b.anchor)["parentHash"]
        # At an L1 block from before the updates were applied, the L2 would read a count that
        # L1 no longer has: refused.
        stale = b.block(calldata("incrementTwice(address)", b.counter), anchor=bytes(parent))
        assert b.chain.storage(CLIENT, SECOND) == 3  # count 1 there: 2, then 3
        with pytest.raises(ContractRevert, match="StaleL1Anchor"):
            b.settle(stale)
        assert b.l1_count() == 4


def test_a_node_chain_without_an_l1_to_read_builds_no_booster_blocks(tmp_path: Any) -> None:
    from rollupkit.errors import ConfigError
    from rollupkit.node.l2chain import ChainConfig, NodeChain
    from rollupkit.node.store import NodeStore

    store = NodeStore(tmp_path / "node.sqlite")
    try:
        chain = NodeChain(store, ChainConfig(vm="booster"))
        with pytest.raises(ConfigError, match="builds blocks only with an L1 to read"):
            chain.build_block(chain_template())
    finally:
        store.close()


def _ballot_votes(voters: int) -> None:
    from rollupkit.examples.booster import BoostedBallot

    # A thousand votes are about 57M L2 gas: over the default EXECUTE gas an L1 block takes,
    # and, re-executed when the settlement's gas is estimated, about 5 s (the devnet's default
    # limit on a call's time).
    market = ExecuteGasConfig(target=50_000_000, limit=100_000_000)
    config = DevnetConfig(market=market, calls=CallLimits(timeout=30))
    with running_l1("embedded", config) as l1:
        ballot = BoostedBallot.create(
            l1.w3, l1.accounts[0], l1.devnet.chain.chaindb.db, voters=voters
        )
        proposals = [i % 3 for i in range(voters)]
        built = ballot.vote_block(proposals)
        _verified_as(built, "booster")
        assert len(built.trace.blocks[0].transactions) == voters
        updates = batch_updates(built.results)
        # Many votes, few slots: the three tallies (who voted stays on L2).
        assert len(updates) == 3
        receipt = ballot.settle(built)
        event = ballot.rollup.rollup.events.L1UpdatesApplied()
        applied = event.process_receipt(receipt, errors=DISCARD)
        assert [e.args["contracts"] for e in applied] == [1]  # one applyStateUpdates
        for p in range(3):
            assert ballot.tally(p) == proposals.count(p)
        # A second vote by the same L2 account is refused on L2: the tallies stay.
        again = ballot.vote_block([0])
        assert again.outputs.l1_updates_hash == b"\x00" * 32  # its L1CALL never ran
        ballot.settle(again)
        assert ballot.tally(0) == proposals.count(0)


def _verified_as(built: BuiltTrace, vm: str) -> None:
    result = execute_detailed(*built.execute_args(), vm=vm)
    assert result.ok, (result.reason, result.detail)


def test_an_l2_block_of_votes_settles_as_one_apply_state_updates() -> None:
    _ballot_votes(30)


@pytest.mark.slow
def test_an_l2_block_of_1000_votes_settles_as_one_apply_state_updates() -> None:
    _ballot_votes(1000)


# --- chained rollups (seed 000): B goes on from the L1 state A leaves -------------------------


def chain_template() -> Any:
    from rollupkit.types import ZERO_ADDRESS, ZERO_HASH, BlockInput

    return BlockInput(0, 0, ZERO_ADDRESS, 30_000_000, 0, ZERO_HASH, ZERO_HASH, ZERO_HASH)


A_VOTES, B_VOTES = [0, 1, 1, 2], [1, 2, 2, 2, 0]
CHAIN_ID_TWO = 42425


def test_two_chained_rollups_reach_the_final_l1_state_of_one_running_both_batches() -> None:
    from rollupkit.examples.booster import BoostedBallot

    with running_l1("embedded") as l1:
        w3, deployer, l1_db = l1.w3, l1.accounts[0], l1.devnet.chain.chaindb.db
        # One rollup, both batches.
        single = BoostedBallot.create(w3, deployer, l1_db, voters=9)
        single.settle(single.vote_block(A_VOTES))
        single.settle(single.vote_block(B_VOTES, first_voter=len(A_VOTES)))
        expected = [single.tally(p) for p in range(3)]
        assert expected == [2, 3, 4]

        # Rollup A votes, hands its L1 state to B; B votes from there, and applies both once.
        a, b = BoostedBallot.create_chained(w3, deployer, l1_db, voters=(5, 5),
                                            chain_ids=(50001, 50002))  # fmt: skip
        a_block = a.vote_block(A_VOTES)
        receipt = a.settle(a_block, hand_off=True)
        assert [a.tally(p) for p in range(3)] == [0, 0, 0]  # handed off, not applied
        handoff = b.rollup.messages_from_receipt(receipt)
        assert len(handoff) == 1
        b.chain.enqueue(handoff[0])
        anchor = a_block.outputs.l1_anchor_hash
        # B may not settle a batch reading L1 before it goes on from the handoff.
        early = b.vote_block(B_VOTES[:1], anchor=anchor, include_pending=False, commit=False)
        with pytest.raises(ContractRevert, match="L1HandoffPending"):
            b.settle(early)
        # Nor may A read L1 again until B has applied what A handed off.
        with pytest.raises(ContractRevert, match="L1HandoffPending"):
            a.settle(a.vote_block([0], first_voter=4, commit=False))
        # The block taking the handoff must read L1 where A did.
        with pytest.raises(InvalidBlockError, match="must be anchored there"):
            b.vote_block(B_VOTES, commit=False)

        b_block = b.vote_block(B_VOTES, anchor=anchor)
        _verified_as(b_block, "booster")
        receipt = b.settle(b_block)
        applied = b.rollup.rollup.events.L1UpdatesApplied().process_receipt(receipt, errors=DISCARD)
        assert [e.args["contracts"] for e in applied] == [1]  # one applyStateUpdates
        assert [b.tally(p) for p in range(3)] == expected
        # B's L1 state root is where both rollups' votes left L1.
        assert b_block.outputs.l1_state_root != a_block.outputs.l1_state_root
        # A goes on at a newer L1 block, which holds what B applied, and hands off again.
        again = a.vote_block([0], first_voter=4)
        receipt = a.settle(again, hand_off=True)
        b.chain.enqueue(*b.rollup.messages_from_receipt(receipt))
        b.settle(b.vote_block([], anchor=again.outputs.l1_anchor_hash))
        assert [b.tally(p) for p in range(3)] == [expected[0] + 1, *expected[1:]]


def test_only_the_deployers_link_chained_rollups_and_only_the_upstream_hands_off() -> None:
    from rollupkit.examples.booster import BoostedBallot

    with running_l1("embedded") as l1:
        w3, deployer, stranger = l1.w3, l1.accounts[0], l1.accounts[1]
        one = BoostedBallot.create(w3, deployer, l1.devnet.chain.chaindb.db, voters=1)
        two = BoostedBallot.create(w3, deployer, l1.devnet.chain.chaindb.db, voters=1,
                                   chain_id=CHAIN_ID_TWO)  # fmt: skip
        r1, r2 = one.rollup, two.rollup
        # A downstream must name this rollup as its upstream first.
        with pytest.raises(ContractRevert, match="NotLinked"):
            r1.transact(r1.rollup.functions.setL1Downstream(r2.rollup.address))
        with pytest.raises(ContractRevert, match="NotDeployer"):
            r2.transact(r2.rollup.functions.setL1Upstream(stranger.address), account=stranger)
        # Only the upstream may queue a handoff; without a downstream nothing is handed off.
        with pytest.raises(ContractRevert, match="NotL1Upstream"):
            r2.transact(r2.rollup.functions.receiveL1(1, b"\x01" * 32, b"\x02" * 32, b""),
                        account=stranger)  # fmt: skip
        with pytest.raises(ContractRevert, match="OnlySettlement"):
            r2.transact(r2.bridge.functions.enqueueL1Handoff(b""), account=stranger)
        built = one.vote_block([1])
        with pytest.raises(ContractRevert, match="NotLinked"):
            one.settle(built, hand_off=True)
        r1.link_l1(r2)
        with pytest.raises(ContractRevert, match="AlreadyLinked"):
            r1.transact(r1.rollup.functions.setL1Downstream(r2.rollup.address))


def test_only_the_bridge_can_send_an_l1_handoff() -> None:
    """A handoff is a message from the booster account, which the bridge sends only for the
    settlement contract: a stranger's deposit to that account with a handoff's data is a plain
    deposit, and leaves the chain's view of L1 alone."""
    from eth_abi import encode as abi_encode

    from rollupkit_booster.vm import ANCHOR_SLOT, L1_ROOT_SLOT

    with booster() as b:
        stranger = bytes.fromhex("00000000000000000000000000000000000bad01")
        forged = abi_encode(["bytes32", "bytes32", "bytes"],
                            [b.anchor, b"\x66" * 32, abi_encode(UPDATES, [[], []])])  # fmt: skip
        b.chain.deposit(BOOSTER_CONFIG_ADDRESS, 0, sender=stranger, data=forged)
        built = b.block(calldata("readCount(address)", b.counter))
        _verified(built)
        assert b.chain.storage(BOOSTER_CONFIG_ADDRESS, L1_ROOT_SLOT) != int.from_bytes(b"\x66" * 32)
        assert b.chain.storage(BOOSTER_CONFIG_ADDRESS, ANCHOR_SLOT) == int.from_bytes(b.anchor)
        # On L1 the bridge names the depositor as the sender: never the booster account.
        rollup = b.rollup
        receipt = rollup.transact(rollup.bridge.functions.deposit(
            rollup.w3.to_checksum_address(BOOSTER_CONFIG_ADDRESS), 0, forged
        ))  # fmt: skip
        (message,) = rollup.messages_from_receipt(receipt)
        assert message.sender != BOOSTER_CONFIG_ADDRESS
