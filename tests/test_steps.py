"""Transaction-granular steps of a batch (rollupkit.steps): the states an optimistic dispute
bisects over, and the one-step check that settles it."""

from __future__ import annotations

import pytest

from rollupkit import messages
from rollupkit.examples.evm import EvmScenario
from rollupkit.steps import (
    block_input_hash,
    build_step_trace,
    execute_step,
    positions,
    start_state,
    step_states,
)
from rollupkit.types import ZERO_HASH


def batch(state: str = "mpt"):  # type: ignore[no-untyped-def]
    s = EvmScenario.create(wallets=6, state=state)
    start = len(s.chain.headers) - 1
    w = s.wallets
    s.chain.deposit(w[5].address, 10**18)
    blocks = [
        s.chain.template([s.token_transfer(w[0], w[1].address, 5), w[2].transfer(w[3].address, 7)]),
        s.chain.template([]),
        s.chain.template([
            s.token_transfer(w[3], w[4].address, 10**40),  # reverts: no such balance
            s.store_call(w[1], "set(uint256,uint256)", 1, 2),
            s.store_call(w[1], "clear(uint256)", 1),
        ]),
    ]  # fmt: skip
    built = s.chain.build(blocks)
    return s, start, built


def states_of(s, start, built):  # type: ignore[no-untyped-def]
    return step_states(
        s.chain.vm, s.chain.model, s.chain.store, chain_id=s.chain.chain_id,
        parent_header=s.chain.headers[start], header_by_number=lambda n: s.chain.headers[n],
        queue_start=built.trace.queue_start, blocks=built.trace.blocks,
    )  # fmt: skip


@pytest.mark.parametrize("state", ["mpt", "binary"])
def test_every_step_re_executes_to_the_next_state(state: str) -> None:
    s, start, built = batch(state)
    blocks = built.trace.blocks
    states = states_of(s, start, built)
    counts = [len(b.transactions) for b in blocks]
    assert [(p.block, p.transactions, p.end) for p in positions(counts)] == [
        (st_block, st.transactions, st.end)
        for st_block, st in zip([1, 1, 1, 2, 3, 3, 3, 3], states, strict=True)
    ]
    ends = [st for st in states if st.end]
    assert [st.state_root for st in ends] == [r.info.state_root for r in built.results]
    assert ends[-1].block_hash == built.outputs.block_hash
    previous = start_state(built.pre_state_root, built.outputs.parent_hash)
    header = start
    queue = built.trace.queue_start
    for index, (st, block) in enumerate(
        zip(states, [blocks[p.block - 1] for p in positions(counts)], strict=True)
    ):
        pre = previous.state_root if previous.end else previous.block_pre_state_root
        assert st.block_pre_state_root == pre and st.block_input_hash == block_input_hash(block)
        trace = build_step_trace(
            s.chain.vm, s.chain.model, s.chain.store, chain_id=s.chain.chain_id,
            parent_header=s.chain.headers[header], header_by_number=lambda n: s.chain.headers[n],
            queue_start=queue, block=block, transactions=st.transactions, end=st.end,
        )  # fmt: skip
        result = execute_step(pre, trace, st.transactions, st.end, 10**9, state=state)
        assert result.ok, (index, result.reason)
        assert result.state == st and result.state.commitment() == st.commitment()
        if st.end:  # the next block starts on this one, with the L1 queue moved past it
            header += 1
            queue = messages.consume(queue, block.l1_messages)
        previous = st


def test_a_step_cannot_go_further_than_its_witness_nor_start_elsewhere() -> None:
    s, start, built = batch()
    block = built.trace.blocks[0]
    args = dict(
        chain_id=s.chain.chain_id, parent_header=s.chain.headers[start],
        header_by_number=lambda n: s.chain.headers[n], queue_start=built.trace.queue_start,
        block=block,
    )  # fmt: skip
    one = build_step_trace(s.chain.vm, s.chain.model, s.chain.store, transactions=1, end=False,
                           **args)  # type: ignore[arg-type]  # fmt: skip
    pre = built.pre_state_root
    assert execute_step(pre, one, 1, False, 10**9).ok
    further = execute_step(pre, one, 2, False, 10**9)
    assert not further.ok and "MissingWitness" in further.reason
    elsewhere = execute_step(b"\x01" * 32, one, 1, False, 10**9)
    assert not elsewhere.ok and "pre-state" in elsewhere.reason
    assert not execute_step(pre, one, 1, False, 100).ok  # too little gas for the work
    assert not execute_step(pre, one[:-3], 1, False, 10**9).ok
    assert not execute_step(pre, b"\xc0", 1, False, 10**9).ok
    assert execute_step(pre, one, 1, False, 10**9).state.block_hash == ZERO_HASH  # type: ignore[union-attr]
