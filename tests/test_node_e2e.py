"""The rollup end to end: deposit, deploy, transfers over eth_sendRawTransaction, batches on
L1, settlement, a follower that reaches the same roots from L1 alone, a withdrawal claimed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from node_env import Rollup, running_rollup
from web3 import Web3

from rollupkit.l1.anvil import NodeToolMissing, find_tool
from rollupkit.plugins import get_registry
from rollupkit.testing.contracts import artifact
from rollupkit.testing.evm import calldata
from rollupkit.types import Account, AccountProof, Withdrawal
from rollupkit.withdrawals import L2_BRIDGE_ADDRESS
from rollupkit_riscv.examples import example_elf
from rollupkit_wasm.examples import example_wasm


def _anvil() -> bool:
    try:
        find_tool("anvil")
    except NodeToolMissing:
        return False
    return True


SETUPS = [
    pytest.param(("embedded", "calldata", "zlib"), id="embedded-execute-calldata-zlib"),
    # No batch posting: the follower derives from the settlements' (compressed) traces.
    pytest.param(("embedded", "settlement", "zstd"), id="embedded-execute-settlement-zstd"),
    pytest.param(
        ("embedded", "calldata", "zstd", "riscv"),
        id="riscv-embedded-execute-calldata-zstd",
        marks=[pytest.mark.slow],
    ),
    pytest.param(
        ("embedded", "calldata", "zlib", "wasm"),
        id="wasm-embedded-execute-calldata-zlib",
        marks=[pytest.mark.slow],
    ),
    pytest.param(
        ("embedded", "calldata", "zlib", "multi"),
        id="multi-embedded-execute-calldata-zlib",
        marks=[pytest.mark.slow],
    ),
    pytest.param(
        ("embedded", "calldata", "zstd", "evm", "binary"),
        id="evm-binary-embedded-execute-calldata-zstd",
        marks=[pytest.mark.slow],
    ),
    pytest.param(
        ("anvil", "blobs", "zstd"),
        id="anvil-attestations-blobs-zstd",
        marks=[
            pytest.mark.slow,
            pytest.mark.skipif(not _anvil(), reason="npm install provides anvil"),
        ],
    ),
]


@pytest.mark.slow
@pytest.mark.skipif(not _anvil(), reason="npm install provides anvil")
def test_rollup_settles_through_verifier_services_of_two_clients(tmp_path: Path) -> None:
    """k-of-n on a stock L1 with verifier services: py-evm and revm sign (2 of 3 needed, from
    2 clients), the third (py-evm) as a spare; the node gathers and settles."""
    with running_rollup(
        tmp_path, l1="anvil", derivation="calldata", compression="zstd",
        verifier_clients=(None, "revm", None),
    ) as r:  # fmt: skip
        _journey(r, guest="")
        settled = r.sequencer.store.batches("settled")
        assert settled and all(b["detail"]["submission"]["signatures"] >= 2 for b in settled)


def withdrawal_from_rpc(item: dict) -> Withdrawal:  # type: ignore[type-arg]
    return Withdrawal(
        int(item["nonce"], 16),
        bytes.fromhex(item["sender"][2:]),
        bytes.fromhex(item["target"][2:]),
        int(item["value"], 16),
        bytes.fromhex(item["data"][2:]),
    )


@pytest.mark.parametrize("setup", SETUPS)
def test_rollup_end_to_end(tmp_path: Path, setup: tuple[str, ...]) -> None:
    l1_kind, derivation, compression, *rest = setup
    vm = rest[0] if rest else "evm"
    state = rest[1] if len(rest) > 1 else "mpt"
    with running_rollup(
        tmp_path,
        l1=l1_kind,
        derivation=derivation,
        compression=compression,
        vm=vm,
        state=state,
    ) as r:
        if vm == "multi":  # calls between the VMs first, so the journey settles them too
            _cross_vm_calls(r)
        _journey(r, guest="" if vm in ("evm", "multi") else vm)
        if state != "mpt":
            _check_rpc_proof(r, state)


def _cross_vm_calls(r: Rollup) -> None:
    """On a multi chain, over the RPC: a RISC-V contract calls a wasm counter, and calls back
    into an EVM contract (the example MultiHub)."""
    from rollupkit_multi import riscv_code, wasm_code

    l2, w = r.l2, r.wallets[4]
    created = [w.create(code, gas=5_000_000) for code in (
        wasm_code(example_wasm("counter")), riscv_code(example_elf("caller")),
        artifact("MultiHub").bytecode)]  # fmt: skip
    for tx, _ in created:
        receipt = l2.eth.wait_for_transaction_receipt(l2.eth.send_raw_transaction(tx))
        assert receipt["status"] == 1
    (_, counter), (_, caller), (_, hub) = created
    for target in (counter, hub):
        tx_hash = l2.eth.send_raw_transaction(
            w.sign(to=caller, data=calldata("callIncrement(address)", target), gas=1_000_000)
        )
        assert l2.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.1)["status"] == 1
    for target in (counter, hub):
        count = l2.eth.call({"to": Web3.to_checksum_address(target),
                             "data": calldata("count()")})  # fmt: skip
        assert int.from_bytes(count, "big") == 1
    assert bytes(l2.eth.get_code(Web3.to_checksum_address(counter)))[:3] == b"\xef\xf0\x02"


def _check_rpc_proof(r: Rollup, state: str) -> None:
    """eth_getProof over the node's RPC proves the account against the block's state root
    with the chain's state model (an inclusion proof, and an absence proof)."""
    model = get_registry().create("state", state)
    block = r.l2.eth.get_block("latest")
    for address, present in ((r.wallets[1].address, True), (b"\xab" * 20, False)):
        answer = r.l2.provider.make_request(
            "eth_getProof", ["0x" + address.hex(), [], hex(block["number"])]
        )["result"]
        account = Account(
            int(answer["nonce"], 16), int(answer["balance"], 16),
            bytes.fromhex(answer["storageHash"][2:]), bytes.fromhex(answer["codeHash"][2:]),
        ) if present else None  # fmt: skip
        nodes = tuple(bytes.fromhex(n[2:]) for n in answer["accountProof"])
        proof = AccountProof(address, account, nodes)
        assert model.verify_proof(bytes(block["stateRoot"]), proof)
        if present:
            assert account is not None and account.balance > 0
            lie = AccountProof(address, replace(account, balance=account.balance + 1), nodes)
            assert not model.verify_proof(bytes(block["stateRoot"]), lie)


#: What the riscv and wasm journeys' token answers to (it speaks the Solidity ABI).
RISCV_TOKEN_ABI = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
]  # fmt: skip


def _deploy_token(r: Rollup, newcomer: Any, guest: str) -> tuple[Any, list[Any], int]:
    """Deploy a token from ``newcomer`` over eth_sendRawTransaction: the Solidity token on the
    EVM, the example token (then ``initialize``) on riscv and wasm. Returns the token contract,
    its ABI and the newcomer's next nonce."""
    l2 = r.l2
    fee = {"chainId": 42_424, "maxFeePerGas": 5 * 10**9, "maxPriorityFeePerGas": 10**9}
    if guest:
        code = example_elf("token") if guest == "riscv" else example_wasm("token")
        deploy = {"nonce": 0, "gas": 2_000_000, "data": code}
        abi: list[Any] = RISCV_TOKEN_ABI
    else:
        token_artifact = artifact("Token")
        deploy = {"nonce": 0, "gas": 1_500_000,
                  "data": token_artifact.bytecode + encode(["uint256"], [10**24])}  # fmt: skip
        abi = token_artifact.abi
    receipt = l2.eth.wait_for_transaction_receipt(
        l2.eth.send_raw_transaction(newcomer.sign_transaction({**fee, **deploy}).raw_transaction),
        poll_latency=0.1,
    )
    assert receipt["status"] == 1
    token = l2.eth.contract(address=receipt["contractAddress"], abi=abi)
    if not guest:
        return token, abi, 1
    init = {**fee, "nonce": 1, "gas": 200_000, "to": token.address,
            "data": calldata("initialize(uint256)", 10**24)}  # fmt: skip
    receipt = l2.eth.wait_for_transaction_receipt(
        l2.eth.send_raw_transaction(newcomer.sign_transaction(init).raw_transaction),
        poll_latency=0.1,
    )
    assert receipt["status"] == 1
    return token, abi, 2


def _journey(r: Rollup, guest: str = "") -> None:
    l2 = r.l2
    w = r.wallets
    newcomer = Web3().eth.account.create()
    newcomer_address = bytes.fromhex(newcomer.address[2:])

    # 1. Deposit ETH on L1: credited on L2.
    r.contracts.deposit(newcomer_address, 3 * 10**18)
    r.wait(lambda: l2.eth.get_balance(newcomer.address) == 3 * 10**18, message="the deposit")

    # 2. Deploy a token and transfer it, all over eth_sendRawTransaction (eth-account).
    token, abi, nonce = _deploy_token(r, newcomer, guest)
    hashes = []
    for i in range(5):
        tx = newcomer.sign_transaction(
            {
                "chainId": 42_424,
                "nonce": nonce + i,
                "to": token.address,
                "gas": 80_000,
                "maxFeePerGas": 5 * 10**9,
                "maxPriorityFeePerGas": 10**9,
                "data": calldata("transfer(address,uint256)", w[1].address, 1000 + i),
            }
        )
        hashes.append(l2.eth.send_raw_transaction(tx.raw_transaction))
    hashes.append(l2.eth.send_raw_transaction(w[2].transfer(w[3].address, 777)))
    for tx_hash in hashes:
        assert l2.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.1)["status"] == 1
    assert token.functions.balanceOf(w[1].checksum_address).call() == sum(
        1000 + i for i in range(5)
    )

    # 3. Withdraw on L2.
    withdraw = l2.eth.send_raw_transaction(
        w[4].sign(
            to=L2_BRIDGE_ADDRESS,
            value=10**18,
            gas=150_000,
            data=calldata("withdraw(address,bytes)", w[4].address, b""),
        )
    )
    withdraw_receipt = l2.eth.wait_for_transaction_receipt(withdraw, poll_latency=0.1)
    head = l2.eth.block_number

    # 4. Everything is batched, posted and settled on L1 (by EXECUTE, or attestations).
    r.wait(lambda: r.settled_block() >= head, timeout=90, message="settlement")
    status = l2.provider.make_request(
        "rollup_getBlockStatus", [hex(withdraw_receipt["blockNumber"])]
    )
    assert status["result"]["status"] == "settled"
    assert r.contracts.state()["block_number"] >= head
    assert bytes(r.contracts.state()["state_root"]) == bytes(
        l2.eth.get_block(r.contracts.state()["block_number"])["stateRoot"]
    )

    # 5. The follower, from L1 alone, reaches the same state root at every settled block.
    assert r.follower is not None
    r.wait(lambda: r.follower.store.head_number() >= head, message="the follower")
    for number in range(1, head + 1):
        assert r.follower.chain.header_info(number) == r.sequencer.chain.header_info(number)
    follower_l2 = Web3(Web3.HTTPProvider(r.follower.url))
    assert (
        token.functions.balanceOf(w[1].checksum_address).call()
        == follower_l2.eth.contract(address=token.address, abi=abi)
        .functions.balanceOf(w[1].checksum_address)
        .call()
    )

    # 6. The withdrawal is claimed on L1 with the proof from rollup_getWithdrawalProof.
    proof = l2.provider.make_request("rollup_getWithdrawalProof", [withdraw.to_0x_hex()])["result"]
    item = proof["withdrawals"][0]
    before = r.l1.eth.get_balance(w[4].checksum_address)
    r.contracts.claim_withdrawal(
        int(proof["settlementIndex"], 16),
        withdrawal_from_rpc(item),
        int(item["leafIndex"], 16),
        [bytes.fromhex(p[2:]) for p in item["proof"]],
    )
    assert r.l1.eth.get_balance(w[4].checksum_address) - before == 10**18
    assert not r.sequencer.errors and not r.follower.errors
