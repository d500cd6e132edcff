"""Attacks a stranger could mount on a running rollup's RPCs, each a regression test.

Every test here failed (or crashed the process) before its fix: a JSON body nested 100k deep
segfaulted the whole process; an ``eth_call`` with 2^64-1 gas of a loop hung the RPC for good
and blocked every other request.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from node_env import chain_config
from rpc_env import call, post

from rollupkit.l1.devnet import DevnetConfig
from rollupkit.l1.node import start_devnet
from rollupkit.metering import CallLimits
from rollupkit.node.node import Node, NodeConfig
from rollupkit.types import GenesisAccount

LOOP = "0x" + "10" * 20  # JUMPDEST PUSH1 0 JUMP: burns gas forever
LOOP_CODE = bytes.fromhex("5b600056")
LIMITS = CallLimits(gas_cap=50_000_000, timeout=1.0)


@pytest.fixture(scope="module")
def l2(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    chain = chain_config()
    alloc = {**chain.alloc, bytes.fromhex(LOOP[2:]): GenesisAccount(code=LOOP_CODE, nonce=1)}
    config = NodeConfig(
        Path(tmp_path_factory.mktemp("l2")), replace(chain, alloc=alloc), block_time=0.2,
        calls=LIMITS,
    )  # fmt: skip
    with Node(config) as node:
        yield node.url


@pytest.fixture(scope="module")
def l1():  # type: ignore[no-untyped-def]
    with start_devnet(DevnetConfig(calls=LIMITS)) as running:
        # The same loop on the L1, deployed by a dev account.
        account = running.devnet.accounts[0]
        deploy = "0x" + bytes.fromhex("6004600c60003960046000f3").hex() + LOOP_CODE.hex()
        tx_hash = call(
            running.url, "eth_sendTransaction", {"from": account.address, "data": deploy}
        )["result"]
        receipt = call(running.url, "eth_getTransactionReceipt", tx_hash)["result"]
        yield running.url, receipt["contractAddress"]


@pytest.fixture(params=["l1", "l2"])
def target(request, l1, l2) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return l1 if request.param == "l1" else (l2, LOOP)


def test_a_body_nested_100k_deep_is_a_parse_error_not_a_crash(target: tuple[str, str]) -> None:
    url, _ = target
    body = b"[" * 100_000 + b"]" * 100_000
    for content_type in ("application/json", "text/plain"):  # a web page can send text/plain
        status, answer = post(url, body, content_type)
        assert answer["error"]["code"] == -32700, (status, answer)
    assert call(url, "eth_blockNumber")["result"].startswith("0x")  # still serving


def test_eth_call_of_a_loop_with_huge_gas_is_capped_in_time(target: tuple[str, str]) -> None:
    url, loop = target
    answer = call(url, "eth_call", {"to": loop, "gas": hex(2**64 - 1)}, "latest")
    assert answer["error"]["code"] == -32000 and "timeout" in answer["error"]["message"]
    estimate = call(url, "eth_estimateGas", {"to": loop})
    assert "error" in estimate


def test_a_slow_call_does_not_stall_other_requests(target: tuple[str, str]) -> None:
    url, loop = target
    slow = threading.Thread(target=call, args=(url, "eth_call", {"to": loop}, "latest"))
    slow.start()
    time.sleep(0.2)  # the call is running now, for about LIMITS.timeout
    assert call(url, "eth_blockNumber")["result"].startswith("0x")
    answered_while_busy = slow.is_alive()
    slow.join()
    assert answered_while_busy


# --- every method, wrong types and out-of-range values ----------------------------------------

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        ["0x", "0x0", "0x" + "ff" * 33, "0x" + "11" * 20, "0x" + "22" * 32, "0xzz", "latest",
         "0x" + "f" * 90, "pending", hex(2**256), hex(2**64)]
    ),
)  # fmt: skip
_PARAMS = st.lists(
    st.one_of(
        _VALUES, st.lists(_VALUES, max_size=3), st.dictionaries(st.text(max_size=8), _VALUES)
    ),
    max_size=4,
)


def _methods(url: str, server: Any) -> list[str]:
    # Controls that change the chain for everyone (mining, time travel, snapshots) are not
    # exposed on L2 and would only slow this test on L1: the rest is every read and write.
    skip = ("evm_", "anvil_", "hardhat_", "debug_")
    return sorted(m for m in server.methods if not m.startswith(skip))


@pytest.mark.parametrize("side", ["l1", "l2"])
def test_no_parameter_gets_an_internal_error(side: str, tmp_path: Path) -> None:
    """Wrong types and out-of-range values to every method: -32602 (or a regular answer or
    refusal), never -32603 internal error."""
    from hypothesis import HealthCheck, given, settings

    if side == "l1":
        context: Any = start_devnet(DevnetConfig(calls=LIMITS))
    else:
        context = Node(NodeConfig(tmp_path, chain_config(), block_time=0.2, calls=LIMITS))
    with context as running:
        url, server = running.url, running.server
        methods = _methods(url, server)

        @settings(
            max_examples=int(os.environ.get("ROLLUPKIT_FUZZ_EXAMPLES", "300")),
            deadline=None, derandomize="ROLLUPKIT_FUZZ_EXAMPLES" not in os.environ,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        @given(method=st.sampled_from(methods), params=_PARAMS)
        def check(method: str, params: list[Any]) -> None:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
            status, answer = post(url, body.encode())
            assert status in (200, 204), (method, params, status)
            error = (answer or {}).get("error")
            assert error is None or error["code"] != -32603, (method, params, error)

        check()


def test_the_reported_parameter_errors_are_invalid_params(l2: str) -> None:
    invalid = -32602
    assert call(l2, "eth_getStorageAt", LOOP, hex(2**300), "latest")["error"]["code"] == invalid
    assert call(l2, "eth_getProof", LOOP, ["0x" + "11" * 33], "latest")["error"]["code"] == invalid
    assert call(l2, "eth_getProof", LOOP, [hex(2**256)], "latest")["error"]["code"] == invalid
    assert call(l2, "eth_getProof", LOOP, None, "latest")["error"]["code"] == invalid
    assert "result" in call(l2, "rollup_getBatch", "0x1")  # a hex id is an id
    assert call(l2, "rollup_getBatch", "one")["error"]["code"] == invalid


def test_a_small_compressed_batch_cannot_expand_without_bound() -> None:
    """1 KB of zstd that decompresses to 32 MB took a follower 30 s and 208 MB."""
    import zstandard

    from rollupkit.batchcodec import decompress, max_expansion
    from rollupkit.errors import TraceError

    bomb = zstandard.ZstdCompressor(level=19).compress(b"\x00" * (32 * 1024 * 1024))
    assert len(bomb) < 2_000
    with pytest.raises(TraceError, match="decompresses to more than 1048576 bytes"):
        decompress(bomb, 2)  # stopped at 1 MiB, not 32 MB
    honest = zstandard.ZstdCompressor(level=19).compress(bytes(range(256)) * 4000)
    assert len(decompress(honest, 2)) == 1_024_000 <= max_expansion(len(honest))


def test_the_block_gas_limit_has_a_floor_so_forced_transactions_fit() -> None:
    """A sequencer lowering the gas limit by 1/1024 a block (each block valid) reached ~20k gas
    in ~4 h, and a valid forced transfer was then consumed as a no-op."""
    from rollupkit import DevChain, RejectReason, encode_trace, execute_detailed
    from rollupkit.block import MIN_BLOCK_GAS_LIMIT
    from rollupkit.wallets import dev_wallets

    with pytest.raises(ValueError, match="floor"):
        DevChain({}, gas_limit=MIN_BLOCK_GAS_LIMIT - 1)
    user, other = dev_wallets(2, 42_424)
    chain = DevChain({user.address: GenesisAccount(balance=10**21)}, gas_limit=MIN_BLOCK_GAS_LIMIT)
    chain.force_transaction(user.transfer(other.address, 7))
    at_floor = chain.build(commit=False)
    assert execute_detailed(*at_floor.execute_args()).ok
    assert len(at_floor.results[0].transactions) == 1  # the forced transfer was applied
    # The same block one gas below the floor (a valid step down from its parent): refused.
    below = replace(at_floor.trace.blocks[0], gas_limit=MIN_BLOCK_GAS_LIMIT - 1)
    trace = encode_trace(replace(at_floor.trace, blocks=(below,)))
    result = execute_detailed(at_floor.pre_state_root, at_floor.post_state_root, trace, 10**9)
    assert result.reason == RejectReason.INVALID_BLOCK and "floor" in result.detail


@pytest.mark.parametrize("vm", ["evm", "accountvm"])
def test_a_deposit_whose_call_fails_leaves_the_value_with_its_sender(vm: str) -> None:
    """The value of a deposit whose L2 call failed stayed with the target contract."""
    from rollupkit import DevChain, execute_detailed

    depositor = b"\x77" * 20  # the (aliased) L1 sender
    alloc = {bytes.fromhex(LOOP[2:]): GenesisAccount(code=LOOP_CODE, nonce=1)}
    if vm == "evm":
        chain = DevChain(alloc)
    else:
        pytest.importorskip("test_accountvm")
        chain = DevChain(alloc, vm=_spin_vm())
    loop = bytes.fromhex(LOOP[2:])
    chain.deposit(loop, 10**18, sender=depositor, data=b"\x01", gas_limit=100_000)  # runs out
    chain.deposit(b"\x55" * 20, 3, sender=depositor)  # no data: a plain credit
    built = chain.build()
    assert execute_detailed(*built.execute_args(), vm=chain.vm_name).ok
    assert chain.balance(loop) == 0 and chain.balance(depositor) == 10**18
    assert chain.balance(b"\x55" * 20) == 3


def _spin_vm() -> str:
    from test_accountvm import SpinVM, register_vm

    return register_vm("spin", SpinVM)


def test_the_l1_bridge_refuses_deposits_nobody_could_spend() -> None:
    """A plain deposit to the L2 bridge locked its value for good."""
    from web3 import Web3

    from rollupkit.l1.contracts import ContractRevert, deploy_rollup

    with start_devnet() as running:
        w3 = Web3(Web3.HTTPProvider(running.url))
        contracts = deploy_rollup(
            w3, running.devnet.accounts[0], l2_chain_id=42_424,
            genesis_state_root=b"\x01" * 32, genesis_block_hash=b"\x02" * 32,
        )  # fmt: skip
        for target in ("4200000000000000000000000000000000000010",
                       "4200000000000000000000000000000000000001"):  # fmt: skip
            with pytest.raises(ContractRevert, match="UnusableDeposit"):
                contracts.deposit(bytes.fromhex(target), 10**15)
        contracts.deposit(b"\x12" * 20, 10**15)  # anyone else is fine


def test_settlement_is_gated_to_the_batcher_by_default() -> None:
    """Scaffolded rollups deployed with sequencer = 0, and a stranger settled a competing
    (valid) block 1."""
    from eth_account import Account
    from web3 import Web3

    from rollupkit.l1.contracts import ContractRevert, RollupContracts
    from rollupkit.node.deploy import deploy_for_chain

    batcher_key = b"\x42" * 32
    with start_devnet() as running:
        deployer, stranger = running.devnet.accounts[0], running.devnet.accounts[5]
        gated = deploy_for_chain(chain_config(), running.url, deployer, batcher_key=batcher_key)
        w3 = Web3(Web3.HTTPProvider(running.url))
        contracts = RollupContracts(w3, gated.deployment, stranger)
        assert (
            contracts.rollup.functions.sequencer().call() == Account.from_key(batcher_key).address
        )
        claim = contracts.state()
        outputs = _claim_like(claim)
        with pytest.raises(ContractRevert, match="NotSequencer"):
            contracts.submit_batch(outputs, b"\x01", b"")
        open_rollup = deploy_for_chain(
            chain_config(), running.url, deployer, batcher_key=batcher_key, permissionless=True
        )
        anyone = RollupContracts(w3, open_rollup.deployment, stranger)
        assert int(anyone.rollup.functions.sequencer().call(), 16) == 0


def _claim_like(state: dict[str, Any]) -> Any:
    from rollupkit.types import PublicOutputs

    zero = b"\x00" * 32
    return PublicOutputs(
        chain_id=42_424, pre_state_root=state["state_root"], post_state_root=b"\x01" * 32,
        gas_used=1, parent_hash=state["block_hash"], block_hash=b"\x02" * 32,
        block_number=state["block_number"] + 1, block_count=1, receipts_root=zero,
        queue_start_index=0, queue_start_hash=zero, messages_consumed=0, queue_end_hash=zero,
        withdrawals_root=zero, withdrawal_count=0,
    )  # fmt: skip


def test_scaffolded_chain_ids_are_fresh(tmp_path: Path) -> None:
    """Every scaffold defaulted to chain id 42424, so a signed L2 transaction (and its
    withdrawal) replayed between two rollups on the same L1."""
    import tomllib

    from typer.testing import CliRunner

    from rollupkit_cli.main import app

    ids = set()
    for name in ("first-rollup", "second-rollup"):
        where = str(tmp_path / name)
        done = CliRunner().invoke(app, ["scaffold", "new", name, "--dir", where, "--no-input"])
        assert done.exit_code == 0, done.output
        toml = tomllib.loads((tmp_path / name / "rollup.toml").read_text())
        ids.add(toml["chain"]["chain_id"])
    assert len(ids) == 2 and 42_424 not in ids


def test_up_refuses_a_chain_id_another_rollup_uses_on_its_l1(tmp_path: Path) -> None:
    from rollupkit.errors import DeploymentError
    from rollupkit.l1.contracts import rollups_of_chain
    from rollupkit.l1.devnet import dev_accounts
    from rollupkit.node.deploy import deploy_for_chain
    from rollupkit.project.config import load_project
    from rollupkit.project.deployment import Keys, ensure_deployment
    from rollupkit.project.hooks import load_hooks
    from rollupkit.project.runner import project_chain
    from rollupkit.scaffold.options import RollupOptions
    from rollupkit.scaffold.project import new_rollup

    with start_devnet() as running:
        accounts = dev_accounts(4)
        existing = deploy_for_chain(
            chain_config(), running.url, accounts[0], batcher_key=bytes(accounts[1].key)
        )
        from web3 import Web3

        assert rollups_of_chain(Web3(Web3.HTTPProvider(running.url)), 42_424) == [
            Web3.to_checksum_address(existing.deployment.rollup)
        ]
        dest = tmp_path / "twin-rollup"
        new_rollup(dest, RollupOptions(name="twin-rollup", l1=running.url, proof="multiclient",
                                       chain_id=42_424))  # fmt: skip
        config = load_project(dest)
        chain = project_chain(config, load_hooks(config.hooks, config.root))
        keys = Keys(accounts[2], bytes(accounts[3].key))
        with pytest.raises(DeploymentError, match="chain id 42424 is already used"):
            ensure_deployment(config, chain, running.url, keys)


# --- the node's database ------------------------------------------------------------------------


def test_a_corrupt_or_foreign_database_is_refused_with_one_line(tmp_path: Path) -> None:
    """Flipped bytes left `up` reporting success while the L2 was unreachable; a database of
    another chain would be served as this one."""
    from rollupkit.errors import NodeDatabaseError
    from rollupkit.node.store import NodeStore

    data_dir = tmp_path / "node"
    with Node(NodeConfig(data_dir, chain_config(), block_time=0.1)) as node:
        node.produce_block()
    other = replace(chain_config(), chain_id=42_425)
    with pytest.raises(NodeDatabaseError, match="another chain"):
        Node(NodeConfig(data_dir, other))
    database = data_dir / "node.sqlite"
    raw = bytearray(database.read_bytes())
    raw[:16] = b"\xff" * 16  # the SQLite header
    database.write_bytes(bytes(raw))
    with pytest.raises(NodeDatabaseError, match=r"cannot be used|corrupt"):
        NodeStore(database)


@pytest.mark.slow
def test_an_emptied_database_does_not_restart_the_sequencer_from_genesis(tmp_path: Path) -> None:
    """An emptied database silently restarted from genesis, re-consumed deposit 0 and
    stalled forever."""
    from node_env import running_rollup

    from rollupkit.errors import NodeDatabaseError

    with running_rollup(tmp_path, follower=False) as rollup:
        sender, receiver = rollup.wallets[0], rollup.wallets[1]
        rollup.l2.eth.send_raw_transaction(sender.transfer(receiver.address, 1))
        rollup.wait(lambda: rollup.settled_block() > 0, timeout=90, message="a settled block")
        settings = rollup.sequencer.config.l1
        fresh = Node(NodeConfig(tmp_path / "emptied", chain_config(), l1=settings))
        try:
            with pytest.raises(NodeDatabaseError, match=r"follower to resync"):
                fresh.start()
        finally:
            fresh.store.close()
        follower = Node(
            NodeConfig(tmp_path / "resync", chain_config(), role="follower", l1=settings)
        )
        follower.start(background=False)  # a follower rebuilds from L1: allowed
        follower.stop()


def test_no_unbacked_genesis_money_on_an_l1_named_by_url(tmp_path: Path) -> None:
    """Every scaffold, --l1 URL included, funded the public dev keys 0x01..0x0a with 1M ETH at
    genesis; key 0x01 then withdrew a user's 5 ETH deposit and drained the L1 bridge."""
    import tomllib

    from rollupkit.project.config import ProjectError, load_project
    from rollupkit.project.hooks import load_hooks
    from rollupkit.project.runner import project_chain
    from rollupkit.scaffold.options import RollupOptions
    from rollupkit.scaffold.project import new_rollup

    dest = tmp_path / "url-rollup"
    options = RollupOptions(name="url-rollup", l1="http://127.0.0.1:9", proof="multiclient")
    new_rollup(dest, options)
    assert tomllib.loads((dest / "rollup.toml").read_text())["chain"]["dev_accounts"] == 0
    config = load_project(dest)
    chain = project_chain(config, load_hooks(config.hooks, config.root))
    assert not any(account.balance for account in chain.alloc.values())
    toml = dest / "rollup.toml"
    toml.write_text(toml.read_text().replace("dev_accounts = 0", "dev_accounts = 2"))
    config = load_project(dest)
    with pytest.raises(ProjectError, match="no deposit backs it"):
        project_chain(config, load_hooks(config.hooks, config.root))


def test_genesis_money_on_a_dev_l1_is_backed_by_the_l1_bridge(tmp_path: Path) -> None:
    """Genesis balances were L2 money no L1 ETH backed: a dev key withdrew 5 ETH a user had
    deposited, and the bridge went to 0. On a dev L1 `up` now locks their sum in the bridge."""
    from rollupkit.node.deploy import genesis_balance
    from rollupkit.project.config import load_project
    from rollupkit.project.hooks import load_hooks
    from rollupkit.project.runner import project_chain, run_project
    from rollupkit.scaffold.options import RollupOptions
    from rollupkit.scaffold.project import new_rollup

    dest = tmp_path / "backed-rollup"
    new_rollup(dest, RollupOptions(name="backed-rollup", chain_id=42_500))
    config = load_project(dest)
    chain = project_chain(config, load_hooks(config.hooks, config.root))
    assert genesis_balance(chain) >= 10 * 10**24  # dev wallets and treasury hold real sums
    with run_project(config, l1_port=0, rpc_port=0) as running:
        bridge = running.l1.to_checksum_address(running.settings.deployment.bridge)
        assert running.l1.eth.get_balance(bridge) == genesis_balance(chain)


def test_half_open_connections_are_capped_and_time_out() -> None:
    """24k half-open sockets (slowloris) exhausted the file descriptors: L1 and L2 stopped
    answering and never recovered."""
    import socket

    from rollupkit.rpc.server import JsonRpcServer

    with JsonRpcServer({"ping": lambda: "pong"}, max_connections=20, idle_timeout=1.0) as server:
        sockets = []
        try:
            for _ in range(60):
                sock = socket.create_connection((server.host, server.port), timeout=5)
                sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")  # never ends
                sockets.append(sock)
            deadline = time.monotonic() + 10
            while server.refused_connections < 40 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.refused_connections >= 40  # all but the cap were closed at once
            time.sleep(2.0)  # past the idle timeout: the half-open ones are closed too
            assert server.open_connections() == 0
            answer = call(server.url, "ping")
            assert answer["result"] == "pong"
        finally:
            for sock in sockets:
                sock.close()


@pytest.mark.slow
def test_the_bridge_stays_solvent_under_random_deposits_transfers_and_withdrawals() -> None:
    """Whatever users do, the L1 bridge holds at least every L2 balance plus every withdrawal
    not yet claimed, and every withdrawal can be claimed."""
    import random

    from web3 import Web3

    from rollupkit import DevChain
    from rollupkit.l1.contracts import deploy_rollup
    from rollupkit.testing.evm import l2_bridge_alloc
    from rollupkit.wallets import calldata, dev_wallets
    from rollupkit.withdrawals import L2_BRIDGE_ADDRESS, merkle_proof, withdrawal_leaf

    rng = random.Random(8)
    users = dev_wallets(4, 42_424, offset=300)
    chain = DevChain(dict(l2_bridge_alloc()))  # no genesis money: every wei is deposited
    genesis = chain.head
    with start_devnet() as running:
        w3 = Web3(Web3.HTTPProvider(running.url))
        contracts = deploy_rollup(
            w3, running.devnet.accounts[0], l2_chain_id=chain.chain_id,
            genesis_state_root=genesis.state_root, genesis_block_hash=genesis.hash,
        )  # fmt: skip
        bridge = w3.to_checksum_address(contracts.deployment.bridge)
        unclaimed = 0
        for step in range(12):
            transactions = []
            for user in users:
                action = rng.choice(["deposit", "transfer", "withdraw", "idle"])
                balance = chain.balance(user.address)
                if action == "deposit" or balance < 10**16:
                    contracts.deposit(user.address, rng.randrange(10**16, 10**18))
                elif action == "transfer":
                    other = rng.choice(users)
                    transactions.append(user.transfer(other.address, rng.randrange(balance // 4)))
                elif action == "withdraw":
                    value = rng.randrange(balance // 4)
                    transactions.append(user.sign(
                        to=L2_BRIDGE_ADDRESS, value=value, gas=150_000,
                        data=calldata("withdraw(address,bytes)", user.address, b""),
                    ))  # fmt: skip
            for message in contracts.queued_messages(len(chain.l1_queue)):
                chain.enqueue(message)
            built = chain.build(transactions=transactions, drop_invalid=True)
            contracts.submit_batch(built.outputs, built.encoded, b"")
            batch = contracts.state()["batches"] - 1
            withdrawals = [w for r in built.results for w in r.withdrawals]
            unclaimed += sum(w.value for w in withdrawals)
            supply = sum(chain.balance(u.address) for u in users) + chain.balance(bytes(20))
            assert w3.eth.get_balance(bridge) >= supply + unclaimed, step
            leaves = [withdrawal_leaf(w) for w in withdrawals]
            for index, withdrawal in enumerate(withdrawals):  # claim about half of them now
                if rng.random() < 0.5:
                    contracts.claim_withdrawal(
                        batch, withdrawal, index, merkle_proof(leaves, index)
                    )
                    unclaimed -= withdrawal.value
            assert w3.eth.get_balance(bridge) >= supply + unclaimed, step


def test_with_permissionless_settlement_the_node_follows_the_chain_l1_settled(
    tmp_path: Path,
) -> None:
    """A stranger settled a competing (valid) L2 block 1 on a permissionless rollup; the node
    then waited "for L1 to catch up" forever and reported its own block as finalized. Now it
    rolls back, rebuilds L1's block from the settlement's trace, re-includes its own
    transaction after it, and settles on top; a stranger settling part of the node's posted
    batch does not stall it either."""
    from web3 import Web3

    from rollupkit import DevChain
    from rollupkit.l1.contracts import RollupContracts
    from rollupkit.l1.devnet import dev_accounts
    from rollupkit.node.deploy import deploy_for_chain
    from rollupkit.testing.wallets import dev_wallets

    chain = chain_config()
    mine, theirs = dev_wallets(6, chain.chain_id)[1:3]
    with start_devnet() as running:
        accounts = dev_accounts(6)
        settings = deploy_for_chain(
            chain, running.url, accounts[0], batcher_key=bytes(accounts[1].key),
            permissionless=True, batch_interval=0,
        )  # fmt: skip
        stranger = RollupContracts(Web3(Web3.HTTPProvider(running.url)), settings.deployment,
                                   accounts[5])  # fmt: skip
        node = Node(NodeConfig(tmp_path, chain, l1=settings)).start(background=False)
        try:
            my_tx = call(
                node.url, "eth_sendRawTransaction", "0x" + mine.transfer(b"\x11" * 20, 7).hex()
            )
            node.produce_block()
            assert node.store.head_number() == 1

            other = DevChain(chain.alloc, chain_id=chain.chain_id)
            built = other.build(transactions=[theirs.transfer(b"\x22" * 20, 9)])
            stranger.submit_batch(built.outputs, built.encoded, b"")
            theirs_hash = built.outputs.block_hash
            assert node.store.block(1).hash != theirs_hash

            node.l1_step()  # reads the settlement: rolls back and follows L1
            assert node.store.block(1).hash == theirs_hash
            for tag in ("safe", "finalized"):
                block = call(node.url, "eth_getBlockByNumber", tag, False)["result"]
                assert block["hash"] == "0x" + theirs_hash.hex(), tag
            assert call(node.url, "eth_getBalance", "0x" + "22" * 20, "latest")["result"] == "0x9"
            assert node.store.pending_count() == 1  # my transaction, back in the mempool

            node.produce_block()  # block 2: my transaction again, on L1's block 1
            receipt = call(node.url, "eth_getTransactionReceipt", my_tx["result"])["result"]
            assert receipt["blockNumber"] == "0x2"
            _steps_until(node, lambda: node.store.get_meta("settled_block") == 2)
            assert stranger.state()["block_hash"] == node.store.block(2).hash

            # Blocks 3-4 in one posted batch; the stranger settles block 3 alone (anyone can
            # rebuild it from the posted data), so L1 no longer sits at the batch's parent.
            for n in range(2):
                call(
                    node.url,
                    "eth_sendRawTransaction",
                    "0x" + mine.transfer(b"\x11" * 20, n + 1).hex(),
                )
                node.produce_block()
            node.l1.sync()
            assert node.l1.batch_step()  # one step: the batch of blocks 3-4 is posted
            assert node.store.batch_of_block(4)["status"] == "posted"
            block_3 = node.chain.assemble_batch(3, 3)
            stranger.submit_batch(block_3.outputs, block_3.trace, b"")
            _steps_until(node, lambda: node.store.get_meta("settled_block") == 4)
            assert node.store.get_meta("diverged") is None
            assert stranger.state()["block_hash"] == node.store.block(4).hash
        finally:
            node.stop()


def _steps_until(node: Node, condition: Any, steps: int = 10) -> None:
    for _ in range(steps):
        node.l1_step()
        if condition():
            return
    raise AssertionError(f"not reached in {steps} L1 steps; errors: {node.errors}")
