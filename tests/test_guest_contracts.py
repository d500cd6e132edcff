"""The example contracts (``sdk/guest/examples``) on every non-EVM VM: the riscv VM runs them
as RV32IM ELFs, the wasm VM as wasm32 modules, both through rollupkit's host ABI. The same
tests hold for both: tokens, counters, calls and reverts, the call depth limit, isolation,
out of gas, and EXECUTE.
"""

from __future__ import annotations

import re

import pytest
import rlp
from eth_hash.auto import keccak

from rollupkit.chain import DevChain
from rollupkit.execution import execute_detailed
from rollupkit.hostabi import MAX_CALL_DEPTH
from rollupkit.types import GenesisAccount
from rollupkit.wallets import Wallet, calldata, dev_wallets
from rollupkit_riscv.examples import example_elf
from rollupkit_wasm.examples import example_wasm

CHAIN_ID = 42_424
TRANSFER_TOPIC = keccak(b"Transfer(address,address,uint256)")
VMS = ["riscv", "wasm"]


@pytest.fixture(params=VMS)
def vm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def example(vm: str, name: str) -> bytes:
    """Example contract ``name`` built for ``vm``."""
    return example_elf(name) if vm == "riscv" else example_wasm(name)


def new_chain(vm: str) -> tuple[DevChain, list[Wallet]]:
    wallets = dev_wallets(4, CHAIN_ID)
    alloc = {w.address: GenesisAccount(balance=10**24) for w in wallets}
    return DevChain(alloc, chain_id=CHAIN_ID, vm=vm), wallets


def deploy(chain: DevChain, wallet: Wallet, *names: str) -> list[bytes]:
    created = [wallet.create(example(chain.vm_name, name), gas=3_000_000) for name in names]
    built = chain.build(transactions=[tx for tx, _ in created])
    assert all(status(r) for r in built.results[0].receipts)
    return [address for _, address in created]


def receipt_fields(raw: bytes) -> list:  # type: ignore[type-arg]
    return rlp.decode(raw[1:] if raw[0] < 0x7F else raw)


def status(raw: bytes) -> bool:
    return receipt_fields(raw)[0] == b"\x01"


def receipt_gas(receipts: tuple[bytes, ...], index: int) -> int:
    cumulative = [int.from_bytes(receipt_fields(r)[1], "big") for r in receipts]
    return cumulative[index] - (cumulative[index - 1] if index else 0)


def call(chain: DevChain, to: bytes, data: bytes, gas: int = 1_000_000):  # type: ignore[no-untyped-def]
    return chain.vm.call(
        chain.view(), chain_id=CHAIN_ID, parent_header=chain.headers[-1], sender=b"\x07" * 20,
        to=to, value=0, data=data, gas=gas,
    )  # fmt: skip


def word(data: bytes) -> int:
    return int.from_bytes(data, "big")


def balance_slot(owner: bytes) -> int:
    return word(keccak(owner.rjust(32, b"\0") + (1).to_bytes(32, "big")))


def test_token_deploy_transfer_balances_and_events(vm: str) -> None:
    chain, w = new_chain(vm)
    (token,) = deploy(chain, w[0], "token")
    assert chain.code(token) == example(vm, "token")
    built = chain.build(transactions=[
        w[0].sign(to=token, data=calldata("initialize(uint256)", 1000), gas=200_000),
        w[0].sign(to=token, data=calldata("transfer(address,uint256)", w[1].address, 250),
                  gas=200_000),
        w[1].sign(to=token, data=calldata("transfer(address,uint256)", w[2].address, 251),
                  gas=200_000),  # more than it has: reverts
    ])  # fmt: skip
    receipts = built.results[0].receipts
    assert [status(r) for r in receipts] == [True, True, False]
    balance_of = calldata("balanceOf(address)", w[1].address)
    assert word(call(chain, token, balance_of).output) == 250
    assert word(call(chain, token, calldata("balanceOf(address)", w[0].address)).output) == 750
    assert word(call(chain, token, calldata("totalSupply()")).output) == 1000
    # Solidity's layout: eth_getStorageAt reads the balances where a Solidity token has them.
    assert chain.storage(token, balance_slot(w[1].address)) == 250
    (log,) = receipt_fields(receipts[1])[3]
    address, topics, data = log
    assert address == token
    assert topics == [TRANSFER_TOPIC, w[0].address.rjust(32, b"\0"), w[1].address.rjust(32, b"\0")]
    assert word(data) == 250
    assert receipt_fields(receipts[2])[3] == []  # a reverted call's logs are dropped
    # Comparable to an EVM token transfer (~35-52k gas): no cheaper, not wildly dearer.
    assert 35_000 < receipt_gas(receipts, 1) < 80_000


def test_counter_persists_across_blocks(vm: str) -> None:
    chain, w = new_chain(vm)
    (counter,) = deploy(chain, w[0], "counter")
    for expected in (1, 2, 3):
        built = chain.build(transactions=[
            w[1].sign(to=counter, data=calldata("increment()"), gas=100_000)
        ])  # fmt: skip
        assert status(built.results[0].receipts[0])
        assert chain.storage(counter, 0) == expected
        assert word(call(chain, counter, calldata("count()")).output) == expected


def test_cross_contract_call_and_callee_revert(vm: str) -> None:
    chain, w = new_chain(vm)
    counter, caller = deploy(chain, w[0], "counter", "caller")
    assert word(call(chain, caller, calldata("callIncrement(address)", counter)).output) == 1
    built = chain.build(transactions=[
        w[1].sign(to=caller, data=calldata("callIncrement(address)", counter), gas=300_000),
        w[1].sign(to=caller, data=calldata("tryFail(address)", counter), gas=300_000),
    ])  # fmt: skip
    receipts = built.results[0].receipts
    assert [status(r) for r in receipts] == [True, True]
    assert chain.storage(counter, 0) == 1  # the counter's write happened through the caller
    (log,) = receipt_fields(receipts[0])[3]
    assert log[0] == counter  # the callee's event, in the caller's transaction
    # The callee reverted with "nope": the caller saw the failure and its 4 bytes, and went on.
    assert chain.storage(caller, 0) == 1
    assert word(call(chain, caller, calldata("tryFail(address)", counter)).output) == 4


def test_call_depth_is_bounded(vm: str) -> None:
    chain, w = new_chain(vm)
    (caller,) = deploy(chain, w[0], "caller")
    result = call(chain, caller, calldata("depth()"), gas=30_000_000)
    assert result.success
    assert word(result.output) == MAX_CALL_DEPTH + 1  # the transaction's frame, then 64 calls


def test_no_memory_survives_a_call(vm: str) -> None:
    chain, w = new_chain(vm)
    (caller,) = deploy(chain, w[0], "caller")
    for _ in range(3):
        assert word(call(chain, caller, calldata("fresh()")).output) == 1


def test_infinite_loop_runs_out_of_gas_and_is_charged(vm: str) -> None:
    chain, w = new_chain(vm)
    (spin,) = deploy(chain, w[0], "spin")
    forever = calldata("spin(uint256)", 2**256 - 1)
    built = chain.build(transactions=[w[1].sign(to=spin, data=forever, gas=500_000)])
    receipts = built.results[0].receipts
    assert not status(receipts[0])
    assert receipt_gas(receipts, 0) == 500_000  # all of it: an exceptional halt
    result = call(chain, spin, forever, gas=2_000_000)
    assert not result.success and result.gas_used == 2_000_000
    assert "out of gas" in result.error


def test_execute_verifies_traces_and_refuses_tampered_gas(vm: str) -> None:
    chain, w = new_chain(vm)
    counter, caller, token = deploy(chain, w[0], "counter", "caller", "token")
    built = chain.build(transactions=[
        w[0].sign(to=token, data=calldata("initialize(uint256)", 10), gas=200_000),
        w[1].sign(to=caller, data=calldata("callIncrement(address)", counter), gas=300_000),
    ])  # fmt: skip
    pre, post, trace, gas = built.execute_args()
    assert execute_detailed(pre, post, trace, gas, vm=vm)
    assert not execute_detailed(pre, post, trace, gas - 1, vm=vm)
    assert not execute_detailed(pre, post, trace, gas, vm="evm")  # another VM's rules


def test_call_gas_is_a_transaction_gas_limit(vm: str) -> None:
    """eth_call and eth_estimateGas count gas as a transaction would: intrinsic gas included,
    as py-evm computes it for the same data."""
    from rollupkit.accountvm import call_intrinsic_gas
    from rollupkit.ethtx import decode_signed_transaction

    chain, w = new_chain(vm)
    (token,) = deploy(chain, w[0], "token")
    elf = example(vm, "token")
    raw = w[1].create(elf)[0]
    assert decode_signed_transaction(raw, CHAIN_ID).intrinsic_gas == call_intrinsic_gas(
        elf, create=True
    )
    data = calldata("balanceOf(address)", w[0].address)
    raw = w[1].sign(to=token, data=data, gas=100_000)
    intrinsic = decode_signed_transaction(raw, CHAIN_ID).intrinsic_gas
    assert intrinsic == call_intrinsic_gas(data, create=False)
    result = call(chain, token, data)
    assert result.success and result.gas_used > intrinsic
    short = call(chain, token, data, gas=intrinsic - 1)
    assert not short.success and "intrinsic gas too low" in short.error
    create = chain.vm.call(
        chain.view(), chain_id=CHAIN_ID, parent_header=chain.headers[-1], sender=w[1].address,
        to=None, value=0, data=elf, gas=3_000_000,
    )  # fmt: skip
    built = chain.build(transactions=[w[1].create(elf, gas=create.gas_used, nonce=0)[0]])
    assert status(built.results[0].receipts[0])  # the estimate is enough for the transaction


def test_execute_stops_a_guest_loop_at_the_claimed_gas(vm: str) -> None:
    """A trace whose transaction loops for 5M gas, claimed at 200k: EXECUTE refuses it, and the
    loop was stopped while running, within a block of the claim (not after 5M gas of work)."""

    chain, w = new_chain(vm)
    (spin,) = deploy(chain, w[0], "spin")
    forever = calldata("spin(uint256)", 2**256 - 1)
    built = chain.build(transactions=[w[1].sign(to=spin, data=forever, gas=5_000_000)])
    pre, post, trace, gas = built.execute_args()
    assert gas > 5_000_000 and execute_detailed(pre, post, trace, gas, vm=vm)
    result = execute_detailed(pre, post, trace, 200_000, vm=vm)
    assert not result
    burning = re.search(r"and (\d+) burning", result.detail)
    assert burning is not None, result.detail
    assert int(burning.group(1)) < 200_000


def test_read_only_calls_look_at_the_clock_without_changing_gas(vm: str) -> None:
    """eth_call's meter stops the guest every 100k gas to look at the clock: a long call still
    succeeds with the gas it uses without a deadline, and an endless one is cut off."""
    from rollupkit.errors import CallTimeout

    chain, w = new_chain(vm)
    (spin,) = deploy(chain, w[0], "spin")
    data = calldata("spin(uint256)", 200_000)  # ~2M instructions: ~20 looks at the clock
    kwargs = dict(chain_id=CHAIN_ID, parent_header=chain.headers[-1], sender=b"\x07" * 20,
                  to=spin, value=0, gas=30_000_000)  # fmt: skip
    plain = chain.vm.call(chain.view(), data=data, **kwargs)
    timed = chain.vm.call(chain.view(), data=data, timeout=30.0, **kwargs)
    assert plain.success and timed.success
    assert (timed.gas_used, timed.output) == (plain.gas_used, plain.output)
    forever = calldata("spin(uint256)", 2**256 - 1)
    with pytest.raises(CallTimeout):
        chain.vm.call(chain.view(), data=forever, timeout=0.2, **{**kwargs, "gas": 10**15})


def test_the_same_token_on_every_vm_ends_with_the_same_balances() -> None:
    """The token logic on the EVM (the Solidity token), riscv and wasm: the same transfers
    succeed or fail alike and leave the same balances (read with balanceOf)."""
    from rollupkit.testing.evm import EvmScenario

    supply = 10**30  # what the EVM scenario's token mints
    moves = [(0, 1, 250), (0, 2, 100), (1, 3, 7), (2, 3, 1), (1, 2, 300)]  # the last: too much

    def run_on(vm: str) -> tuple[list[int], list[bool]]:
        if vm == "evm":
            scenario = EvmScenario.create(wallets=4, chain_id=CHAIN_ID)
            chain, w, token = scenario.chain, scenario.wallets, scenario.token
        else:
            chain, w = new_chain(vm)
            (token,) = deploy(chain, w[0], "token")
            chain.build(transactions=[
                w[0].sign(to=token, data=calldata("initialize(uint256)", supply), gas=300_000)
            ])  # fmt: skip
        txs = [w[a].sign(to=token, gas=300_000,
                         data=calldata("transfer(address,uint256)", w[b].address, value))
               for a, b, value in moves]  # fmt: skip
        built = chain.build(transactions=txs)
        ok = [status(r) for r in built.results[0].receipts]
        balances = [word(call(chain, token, calldata("balanceOf(address)", x.address)).output)
                    for x in w[:4]]  # fmt: skip
        return balances, ok

    results = {vm: run_on(vm) for vm in ("evm", "riscv", "wasm")}
    assert results["evm"][1] == [True, True, True, True, False]
    assert results["riscv"] == results["evm"] == results["wasm"], results


def test_a_withdrawal_pays_for_its_payload(vm: str) -> None:
    """The native L2 bridge charges 8 gas a byte of call data on top of its 30,000: a large
    payload is not a free ride into logs, receipts and the L1's withdrawal proofs."""
    from rollupkit.withdrawals import L2_BRIDGE_ADDRESS

    chain, w = new_chain(vm)
    small = calldata("withdraw(address,bytes)", w[1].address, b"")
    large = calldata("withdraw(address,bytes)", w[1].address, bytes(10_000))
    built = chain.build(transactions=[
        w[1].sign(to=L2_BRIDGE_ADDRESS, value=5, data=small, gas=400_000),
        w[1].sign(to=L2_BRIDGE_ADDRESS, value=5, data=large, gas=400_000),
    ])  # fmt: skip
    receipts = built.results[0].receipts
    assert [status(r) for r in receipts] == [True, True]
    extra = receipt_gas(receipts, 1) - receipt_gas(receipts, 0)
    calldata_gas = 4 * (len(large) - len(small))  # the transactions' own (zero) bytes
    assert extra >= calldata_gas + 8 * (len(large) - len(small))
