"""debug_executionWitness: what an external prover fetches to re-execute one L2 block. With
the block's input (what its batch carries on L1), EXECUTE verifies the block from the RPC's
witness alone, and not from less."""

from __future__ import annotations

from pathlib import Path

from node_env import chain_config
from rpc_env import call

from rollupkit import execute_detailed
from rollupkit.metering import SCHEDULE
from rollupkit.node.node import Node, NodeConfig
from rollupkit.testing.wallets import dev_wallets
from rollupkit.trace import encode_trace
from rollupkit.types import Trace, Witness


def test_a_blocks_witness_from_the_rpc_verifies_with_execute(tmp_path: Path) -> None:
    chain = chain_config()
    alice, bob = dev_wallets(2, chain.chain_id)
    node = Node(NodeConfig(tmp_path, chain)).start(background=False)
    try:
        for nonce in range(2):  # block 1, then block 2 on top of it
            call(
                node.url,
                "eth_sendRawTransaction",
                "0x" + alice.transfer(bob.address, 5 + nonce, nonce=nonce).hex(),
            )
            node.produce_block()
        for number in (1, 2):
            answer = call(node.url, "debug_executionWitness", hex(number))["result"]
            assert set(answer) == {"state", "codes", "keys", "headers"}
            keys = {bytes.fromhex(k[2:]) for k in answer["keys"]}
            assert {alice.address, bob.address} <= keys  # the accounts the transfer touched
            witness = Witness(
                tuple(bytes.fromhex(x[2:]) for x in answer["state"]),
                tuple(bytes.fromhex(x[2:]) for x in answer["codes"]),
                tuple(bytes.fromhex(x[2:]) for x in answer["headers"]),
            )
            assert witness.headers and witness.state_nodes
            assert _verdict(node, number, witness) == (True, None), number
            fewer = Witness(witness.state_nodes[1:], witness.codes, witness.headers)
            assert _verdict(node, number, fewer) == (False, "missing-witness")
        genesis = call(node.url, "debug_executionWitness", "0x0")
        assert genesis["error"]["code"] == -32602
    finally:
        node.stop()


def _verdict(node: Node, number: int, witness: Witness) -> tuple[bool, str | None]:
    """EXECUTE of block ``number`` alone, from its input and ``witness``."""
    parent = call(node.url, "eth_getBlockByNumber", hex(number - 1), False)["result"]
    block = call(node.url, "eth_getBlockByNumber", hex(number), False)["result"]
    pre, post = bytes.fromhex(parent["stateRoot"][2:]), bytes.fromhex(block["stateRoot"][2:])
    block_input = node.chain.block_input(number)  # what the block's batch posts to L1
    start = node.chain.queue_position(number - 1)
    encoded = encode_trace(Trace(node.config.chain.chain_id, start, (block_input,), witness))
    stored = node.store.block(number)
    assert stored is not None
    result = execute_detailed(
        pre, post, encoded, SCHEDULE.trace_gas(len(encoded), [stored.gas_used])
    )
    return result.ok, result.reason
