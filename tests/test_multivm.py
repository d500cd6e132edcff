"""The ``multi`` VM: EVM, RISC-V and wasm contracts in one chain, calling each other with
Ethereum's semantics, verified by EXECUTE."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from test_guest_contracts import receipt_fields, status, word

from rollupkit.builder import BuiltTrace
from rollupkit.chain import DevChain
from rollupkit.examples.contracts import artifact
from rollupkit.execution import execute_detailed
from rollupkit.types import GenesisAccount
from rollupkit.wallets import calldata, dev_wallets
from rollupkit_multi import guest_of, riscv_code, wasm_code
from rollupkit_riscv.examples import example_elf
from rollupkit_wasm.examples import example_wasm

CHAIN_ID = 42_424
INCREMENTED = keccak(b"Incremented(uint256)")
TRANSFER = keccak(b"Transfer(address,address,uint256)")


class MultiChain:
    """A multi chain with the example contracts of each VM deployed."""

    def __init__(self) -> None:
        self.w = dev_wallets(4, CHAIN_ID)
        self.chain = DevChain({x.address: GenesisAccount(balance=10**24) for x in self.w},
                              chain_id=CHAIN_ID, vm="multi")  # fmt: skip
        deployer = self.w[0]
        created = {
            "hub": deployer.create(artifact("MultiHub").bytecode, gas=3_000_000),
            "evm_token": deployer.create(
                artifact("Token").bytecode + abi_encode(["uint256"], [10**30]), gas=3_000_000
            ),
            "wasm_counter": deployer.create(wasm_code(example_wasm("counter")), gas=3_000_000),
            "wasm_token": deployer.create(wasm_code(example_wasm("token")), gas=3_000_000),
            "riscv_counter": deployer.create(riscv_code(example_elf("counter")), gas=5_000_000),
            "riscv_caller": deployer.create(riscv_code(example_elf("caller")), gas=5_000_000),
            "riscv_token": deployer.create(riscv_code(example_elf("token")), gas=5_000_000),
        }
        self.traces = [self.build([tx for tx, _ in created.values()])]
        self.at = {name: address for name, (_, address) in created.items()}
        hook_token = deployer.create(
            artifact("HookToken").bytecode
            + abi_encode(["address", "address", "uint256"],
                         [self.at["riscv_caller"], self.at["wasm_counter"], 10**6]),
            gas=3_000_000,
        )  # fmt: skip
        self.at["hook_token"] = hook_token[1]
        self.traces.append(self.build([hook_token[0]]))
        assert all(status(r) for t in self.traces for r in t.results[0].receipts)

    def build(self, txs: list[bytes]) -> BuiltTrace:
        built = self.chain.build(transactions=txs)
        self.traces.append(built) if hasattr(self, "traces") else None
        return built

    def send(self, sender: int, to: str, signature: str, *args: Any, **kw: Any) -> bytes:
        """One transaction in a block of its own; returns its receipt."""
        tx = self.w[sender].sign(to=self.at[to], data=calldata(signature, *args),
                                 gas=kw.pop("gas", 3_000_000), **kw)  # fmt: skip
        return self.build([tx]).results[0].receipts[0]

    def call(self, to: str, signature: str, *args: Any) -> bytes:
        result = self.chain.vm.call(
            self.chain.view(), chain_id=CHAIN_ID, parent_header=self.chain.headers[-1],
            sender=b"\x07" * 20, to=self.at[to], value=0, data=calldata(signature, *args),
            gas=5_000_000,
        )  # fmt: skip
        assert result.success, result
        return bytes(result.output)

    def count(self, name: str) -> int:
        return word(self.call(name, "count()"))


@pytest.fixture(scope="module")
def multi() -> MultiChain:
    return MultiChain()


def _logs(receipt: bytes) -> list[tuple[bytes, list[bytes]]]:
    return [(bytes(address), list(topics)) for address, topics, _ in receipt_fields(receipt)[3]]


def test_codes_say_which_vm_runs_them(multi: MultiChain) -> None:
    assert multi.chain.code(multi.at["wasm_counter"]) == wasm_code(example_wasm("counter"))
    assert guest_of(multi.chain.code(multi.at["riscv_caller"]))[0] == "riscv"  # type: ignore[index]
    assert guest_of(multi.chain.code(multi.at["hub"])) is None


def test_an_erc20_transfer_hook_runs_riscv_then_wasm_with_logs_in_order(multi: MultiChain) -> None:
    """EVM token -> RISC-V caller -> wasm counter, in one transaction; the token's event and
    the wasm counter's event are in one receipt, in the order they happened."""
    before = multi.count("wasm_counter")
    receipt = multi.send(0, "hook_token", "transfer(address,uint256)", multi.w[1].address, 5)
    assert status(receipt)
    assert multi.count("wasm_counter") == before + 1
    assert word(multi.call("hook_token", "balanceOf(address)", multi.w[1].address)) == 5
    logs = _logs(receipt)
    assert [(a, t[0]) for a, t in logs] == [
        (multi.at["hook_token"], TRANSFER), (multi.at["wasm_counter"], INCREMENTED)
    ]  # fmt: skip


def test_value_and_return_data_cross_vms(multi: MultiChain) -> None:
    """EVM -> RISC-V with value, RISC-V -> wasm: the wasm counter's return value comes back
    through the RISC-V caller to the EVM; the value stays with the RISC-V contract."""
    count = multi.count("wasm_counter")
    out = multi.call("hub", "viaCaller(address,address)", multi.at["riscv_caller"],
                     multi.at["wasm_counter"])  # fmt: skip
    assert word(out) == count + 1  # a call: nothing kept
    receipt = multi.send(1, "hub", "viaCaller(address,address)", multi.at["riscv_caller"],
                         multi.at["wasm_counter"], value=777)  # fmt: skip
    assert status(receipt)
    assert multi.chain.balance(multi.at["riscv_caller"]) == 777
    assert multi.count("wasm_counter") == count + 1


def test_reentrancy_back_into_the_evm(multi: MultiChain) -> None:
    """EVM hub -> RISC-V caller -> the same EVM hub's increment(), and RISC-V -> EVM from a
    transaction: the EVM counter counts both."""
    count = multi.count("hub")
    assert status(multi.send(1, "hub", "viaCaller(address,address)",
                             multi.at["riscv_caller"], multi.at["hub"]))  # fmt: skip
    assert status(multi.send(1, "riscv_caller", "callIncrement(address)", multi.at["hub"]))
    assert multi.count("hub") == count + 2


def test_a_revert_at_each_depth_undoes_only_that_callees_writes(multi: MultiChain) -> None:
    hub, wasm = multi.count("hub"), multi.count("wasm_counter")
    # wasm (depth 3) reverts: the RISC-V caller records it (its own write stays) and gets the
    # revert data ("nope": 4 bytes) across the VMs.
    receipt = multi.send(1, "riscv_caller", "tryFail(address)", multi.at["wasm_counter"])
    assert status(receipt)
    assert word(multi.call("riscv_caller", "lastStatus()")) == 1
    # RISC-V (depth 2) reverts (its callee, the wasm token, has no increment()): the EVM hub
    # goes on, its own count kept, with the RISC-V revert data as the result.
    ok, data = abi_decode(
        ["bool", "bytes"],
        multi.call(
            "hub", "tryVia(address,address)", multi.at["riscv_caller"], multi.at["wasm_token"]
        ),
    )
    assert not ok and data == b"the counter failed"
    assert status(multi.send(1, "hub", "tryVia(address,address)", multi.at["riscv_caller"],
                             multi.at["wasm_token"]))  # fmt: skip
    assert multi.count("hub") == hub + 1
    # The EVM (depth 1) reverts after the wasm counter counted: the wasm write is undone too.
    assert not status(multi.send(1, "hub", "incrementThenRevert(address)",
                                 multi.at["wasm_counter"]))  # fmt: skip
    assert multi.count("wasm_counter") == wasm


@pytest.mark.parametrize("target", ["hub", "riscv_counter", "wasm_counter"])
def test_staticcall_forbids_writes_in_every_vm(multi: MultiChain, target: str) -> None:
    count = multi.count(target)
    assert word(multi.call("hub", "staticCount(address)", multi.at[target])) == count
    assert word(multi.call("hub", "staticIncrement(address)", multi.at[target])) == 0
    assert status(multi.send(1, "hub", "staticIncrement(address)", multi.at[target]))
    assert multi.count(target) == count


@pytest.mark.parametrize("target", ["riscv_counter", "wasm_counter"])
def test_out_of_gas_deep_in_the_tree_fails_only_the_callee(multi: MultiChain, target: str) -> None:
    hub, count = multi.count("hub"), multi.count(target)
    assert status(multi.send(1, "hub", "tryIncrement(address,uint256)", multi.at[target], 3_000))
    assert (multi.count("hub"), multi.count(target)) == (hub + 1, count)
    assert status(multi.send(1, "hub", "tryIncrement(address,uint256)", multi.at[target],
                             500_000))  # fmt: skip
    assert (multi.count("hub"), multi.count(target)) == (hub + 2, count + 1)


def test_the_same_token_logic_in_each_vm_gives_the_same_balances(multi: MultiChain) -> None:
    w = multi.w
    for name in ("wasm_token", "riscv_token"):
        multi.send(0, name, "initialize(uint256)", 10**30)
    moves = [(0, 1, 250), (0, 2, 100), (1, 3, 7), (2, 3, 1), (1, 2, 300)]  # the last: too much
    results = {}
    for name in ("evm_token", "riscv_token", "wasm_token"):
        txs = [w[a].sign(to=multi.at[name], gas=300_000,
                         data=calldata("transfer(address,uint256)", w[b].address, value))
               for a, b, value in moves]  # fmt: skip
        built = multi.build(txs)
        ok = [status(r) for r in built.results[0].receipts]
        balances = [word(multi.call(name, "balanceOf(address)", x.address)) for x in w]
        results[name] = (ok, balances)
    assert results["evm_token"][0] == [True, True, True, True, False]
    assert results["evm_token"] == results["riscv_token"] == results["wasm_token"], results


def test_guest_code_is_checked_when_deployed(multi: MultiChain) -> None:
    bad = multi.w[2].create(wasm_code(b"\x00asm\x01\x00\x00\x00\xff"), gas=3_000_000)
    reserved = multi.w[2].create(b"\xef\xf0\x09" + example_wasm("counter"), gas=3_000_000)
    built = multi.build([bad[0], reserved[0]])
    assert [status(r) for r in built.results[0].receipts] == [False, False]
    assert multi.chain.code(bad[1]) == multi.chain.code(reserved[1]) == b""


def test_execute_verifies_every_block(multi: MultiChain) -> None:
    assert len(multi.traces) > 10
    for built in multi.traces:
        result = execute_detailed(*built.execute_args(), vm="multi")
        assert result, result
        assert not execute_detailed(built.pre_state_root, built.post_state_root, built.encoded,
                                    built.gas_used - 1, vm="multi")  # fmt: skip
