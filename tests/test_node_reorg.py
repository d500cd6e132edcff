"""L1 reorgs (anvil_reorg): a reorg that removes a deposit rolls the L2 back past it; one that
removes a batch's posting and settlement makes the batcher post and settle it again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from node_env import chain_config
from web3 import Web3

from rollupkit.l1.anvil import Anvil, NodeToolMissing, find_tool
from rollupkit.l1.contracts import RollupContracts
from rollupkit.l1.devnet import dev_accounts
from rollupkit.node.deploy import deploy_for_chain
from rollupkit.node.l1link import L1Settings
from rollupkit.node.l2chain import ChainConfig
from rollupkit.node.node import Node, NodeConfig
from rollupkit.testing.wallets import dev_wallets

try:
    find_tool("anvil")
    HAVE_ANVIL = True
except NodeToolMissing:  # pragma: no cover - npm install provides it
    HAVE_ANVIL = False

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not HAVE_ANVIL, reason="npm install")]


def wait(condition, timeout: float = 60, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def reorg(w3: Web3, depth: int) -> None:
    answer = w3.provider.make_request("anvil_reorg", [depth, []])  # type: ignore[arg-type]
    assert "error" not in answer, answer


def deploy(anvil: Anvil, chain: ChainConfig, **options: Any) -> L1Settings:
    """The rollup's contracts on anvil, settled by two attesters (anvil has no EXECUTE)."""
    accounts = dev_accounts(4)
    return deploy_for_chain(
        chain,
        anvil.url,
        accounts[0],
        batcher_key=bytes(accounts[1].key),
        proof="multiclient",
        proof_options={
            "attester_keys": ["0x" + w.private_key.hex() for w in dev_wallets(2, 1, offset=9000)]
        },
        **options,
    )


def test_reorg_removing_a_deposit_rolls_the_l2_back(tmp_path: Path) -> None:
    chain = chain_config()
    with Anvil() as anvil:
        settings = deploy(anvil, chain, batch_interval=3600, max_blocks_per_batch=1000)
        with Node(NodeConfig(tmp_path, chain, block_time=0.2, l1=settings, l1_poll=0.2)) as node:
            l1 = Web3(Web3.HTTPProvider(anvil.url))
            l2 = Web3(Web3.HTTPProvider(node.url))
            contracts = RollupContracts(l1, settings.deployment, dev_accounts(3)[2])
            target = "0x" + "77" * 20
            wallet = dev_wallets(6, 42_424)[1]
            l2.eth.wait_for_transaction_receipt(
                l2.eth.send_raw_transaction(wallet.transfer(b"\x11" * 20, 1)), poll_latency=0.1
            )
            before = l1.eth.block_number
            contracts.deposit(bytes.fromhex(target[2:]), 10**18)
            wait(lambda: l2.eth.get_balance(target) == 10**18, what="the deposit")
            credited_in = node.store.head_number()
            reorg(l1, l1.eth.block_number - before)  # the deposit's block is gone
            wait(lambda: l2.eth.get_balance(target) == 0, what="the rollback")
            assert node.chain.queue_position().index == 0
            assert node.store.message_count() == 0
            assert node.store.head_number() < credited_in
            # The earlier L2 transaction survived (it went back to the mempool if needed).
            wait(lambda: l2.eth.get_balance("0x" + "11" * 20) == 1, what="the transfer")
            l2.eth.wait_for_transaction_receipt(
                l2.eth.send_raw_transaction(wallet.transfer(b"\x11" * 20, 2)), poll_latency=0.1
            )
            assert not node.errors, node.errors


def test_reorg_removing_a_settlement_settles_again(tmp_path: Path) -> None:
    chain = chain_config()
    with Anvil() as anvil:
        settings = deploy(anvil, chain, batch_interval=0.3)
        with Node(NodeConfig(tmp_path, chain, block_time=0.2, l1=settings, l1_poll=0.2)) as node:
            l1 = Web3(Web3.HTTPProvider(anvil.url))
            l2 = Web3(Web3.HTTPProvider(node.url))
            contracts = RollupContracts(l1, settings.deployment, dev_accounts(3)[2])
            wallet = dev_wallets(6, 42_424)[1]
            before = l1.eth.block_number
            l2.eth.wait_for_transaction_receipt(
                l2.eth.send_raw_transaction(wallet.transfer(b"\x11" * 20, 1)), poll_latency=0.1
            )
            head = node.store.head_number()
            wait(lambda: contracts.state()["block_number"] >= head, what="the first settlement")
            reorg(l1, l1.eth.block_number - before)  # posting and settlement are gone
            assert contracts.state()["block_number"] < head
            wait(lambda: contracts.state()["block_number"] >= head, what="settling again")
            assert (
                bytes(contracts.state()["state_root"])
                == node.chain.header_info(contracts.state()["block_number"]).state_root
            )
            assert not node.errors, node.errors


def test_reorg_of_a_settlement_the_node_had_not_read_yet(tmp_path: Path) -> None:
    """The node records its own settlement from the receipt, before any sync reads that L1
    block; a reorg that drops just that block must still send the batch to L1 again."""
    chain = chain_config()
    with Anvil() as anvil:
        settings = deploy(anvil, chain, batch_interval=0)
        node = Node(NodeConfig(tmp_path, chain, l1=settings)).start(background=False)
        try:
            assert node.l1 is not None
            l1 = Web3(Web3.HTTPProvider(anvil.url))
            contracts = RollupContracts(l1, settings.deployment, dev_accounts(3)[2])
            wallet = dev_wallets(6, 42_424)[1]
            node.backend.send_raw_transaction(wallet.transfer(b"\x11" * 20, 1))
            node.produce_block()
            head = node.store.head_number()
            for _ in range(10):  # sync, batch, post, settle: one step each
                node.l1_step()
                if node.store.batches("settled"):
                    break
            assert contracts.state()["block_number"] == head
            settled = node.store.batches("settled")[0]
            assert settled["detail"]["settle_l1_block"] == l1.eth.block_number  # not synced yet
            reorg(l1, 1)  # only the settlement's block goes
            assert contracts.state()["block_number"] < head
            for _ in range(10):
                node.l1_step()
                if contracts.state()["block_number"] == head:
                    break
            assert contracts.state()["block_number"] == head
            assert node.store.batches()[0]["status"] == "settled"
        finally:
            node.stop()
