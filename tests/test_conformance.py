"""The built-in plugins pass rollupkit's own conformance suite (the one plugins reuse)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rollupkit.builder import BuiltTrace
from rollupkit.interfaces import SettlementContext
from rollupkit.testing.conformance import (
    DerivationConformanceTests,
    ProofBackendConformanceTests,
    StateModelConformanceTests,
    VMConformanceTests,
)
from rollupkit.testing.evm import EvmScenario, calldata


def evm_conformance_traces(state: str = "mpt", vm: str = "evm") -> list[BuiltTrace]:
    """Small traces covering transfers, creation, storage writes and deletes, a revert,
    deposits (plain and with a call), forced inclusion, BLOCKHASH and several blocks."""
    s = EvmScenario.create(wallets=4, state=state, vm=vm)
    w = s.wallets
    s.chain.deposit(b"\x42" * 20, 10**18)
    s.chain.deposit(s.store, 0, data=calldata("set(uint256,uint256)", 50, 5), sender=b"\x51" * 20)
    first = s.chain.build(
        transactions=[
            w[1].transfer(w[2].address, 10, tx_type=0),
            s.token_transfer(w[0], w[3].address, 7),
            s.store_call(w[2], "setMany(uint256,uint256,uint256)", 0, 6, 9, gas=400_000),
            s.store_call(w[3], "fail(uint256)", 1),
        ]
    )
    s.chain.force_transaction(w[1].transfer(w[3].address, 1))
    second = s.chain.build(
        transactions=[
            s.store_call(w[2], "clearMany(uint256,uint256)", 1, 5, gas=400_000),
            s.store_call(w[3], "recordBlockhash(uint256)", 1),
            s.withdraw(w[3], w[3].address, 1000),
        ]
    )
    multi = s.chain.build(
        [
            s.chain.template([w[2].transfer(w[1].address, 3, tx_type=1)]),
            s.chain.template([s.store_call(w[1], "recordContext(uint256)", 2)], extra_data=b"x"),
        ]
    )
    return [s.setup[0], first, second, multi]


class TestEvmConformance(VMConformanceTests):
    vm_name = "evm"
    state_name = "mpt"

    def build_conformance_traces(self) -> list[BuiltTrace]:
        return evm_conformance_traces()


def multi_conformance_traces() -> list[BuiltTrace]:
    """The EVM traces on a ``multi`` chain, and a block where the VMs call each other: RISC-V
    and wasm contracts deployed, RISC-V calling wasm (a write, and a revert it survives), a
    deposit calling the wasm contract."""
    from rollupkit.chain import DevChain
    from rollupkit.types import GenesisAccount
    from rollupkit.wallets import dev_wallets
    from rollupkit_multi import riscv_code, wasm_code
    from rollupkit_riscv.examples import example_elf
    from rollupkit_wasm.examples import example_wasm

    w = dev_wallets(3, 42_424)
    chain = DevChain({x.address: GenesisAccount(balance=10**24) for x in w}, chain_id=42_424,
                     vm="multi")  # fmt: skip
    (deploy_counter, counter) = w[0].create(wasm_code(example_wasm("counter")), gas=3_000_000)
    (deploy_caller, caller) = w[0].create(riscv_code(example_elf("caller")), gas=5_000_000)
    setup = chain.build(transactions=[deploy_counter, deploy_caller])
    chain.deposit(counter, 0, data=calldata("increment()"), sender=b"\x51" * 20)
    calls = chain.build(transactions=[
        w[1].sign(to=caller, data=calldata("callIncrement(address)", counter), gas=500_000),
        w[2].sign(to=caller, data=calldata("tryFail(address)", counter), gas=500_000),
        w[1].transfer(w[2].address, 5),
    ])  # fmt: skip
    return [*evm_conformance_traces(vm="multi")[1:3], setup, calls]


class TestMultiConformance(VMConformanceTests):
    vm_name = "multi"
    state_name = "mpt"

    def build_conformance_traces(self) -> list[BuiltTrace]:
        return multi_conformance_traces()


class TestMptConformance(StateModelConformanceTests):
    state_name = "mpt"


class TestCalldataConformance(DerivationConformanceTests):
    derivation_name = "calldata"


class TestBlobsConformance(DerivationConformanceTests):
    derivation_name = "blobs"


class TestReexecConformance(ProofBackendConformanceTests):
    proof_name = "reexec"


class TestMulticlientConformance(ProofBackendConformanceTests):
    proof_name = "multiclient"


class TestOptimisticConformance(ProofBackendConformanceTests):
    """On a fresh embedded L1 per test (a claim can be proposed once), the window passed by
    moving L1's clock."""

    proof_name = "optimistic"
    proof_options = {"bond": 10**18, "window": 600, "move_time": 300}

    @pytest.fixture
    def context(self) -> Iterator[SettlementContext]:  # type: ignore[override]
        from l1_env import running_l1

        from rollupkit.l1.contracts import deploy_rollup

        with running_l1("embedded") as l1:
            contracts = deploy_rollup(
                l1.w3, l1.accounts[0], l2_chain_id=42_424, genesis_state_root=b"\x01" * 32,
                genesis_block_hash=b"\x02" * 32, proof="optimistic",
                proof_options=self.proof_options,
            )  # fmt: skip
            self.l1 = l1
            yield SettlementContext(
                l1_chain_id=l1.w3.eth.chain_id, verifier=contracts.deployment.verifier,
                l1=contracts,
            )  # fmt: skip

    def finalized(self, backend, batch, submission, context):  # type: ignore[no-untyped-def]
        assert backend.finalize(batch, submission, context) is None  # the window is open
        self.l1.advance(600 + 120)
        final = backend.finalize(batch, submission, context)
        assert final is not None
        return final


def guest_conformance_traces(vm: str, state: str = "mpt") -> list[BuiltTrace]:
    """The traces of a VM running the C examples (riscv, wasm): deployments, storage writes
    and deletes, a cross-contract call, a revert, an out-of-gas loop, deposits (plain and
    calling a contract), a forced transaction and a withdrawal."""
    from rollupkit.chain import DevChain
    from rollupkit.types import GenesisAccount
    from rollupkit.wallets import dev_wallets
    from rollupkit.withdrawals import L2_BRIDGE_ADDRESS
    from rollupkit_riscv.examples import example_elf
    from rollupkit_wasm.examples import example_wasm

    example = example_elf if vm == "riscv" else example_wasm
    w = dev_wallets(4, 42_424)
    chain = DevChain({x.address: GenesisAccount(balance=10**24) for x in w}, chain_id=42_424,
                     vm=vm, state=state)  # fmt: skip
    created = [w[0].create(example(name)) for name in ("counter", "token", "caller", "spin")]
    (_, counter), (_, token), (_, caller), (_, spin) = created
    setup = chain.build(
        transactions=[tx for tx, _ in created] + [w[1].transfer(w[2].address, 10, tx_type=0)]
    )
    chain.deposit(b"\x42" * 20, 10**18)
    chain.deposit(counter, 0, data=calldata("increment()"), sender=b"\x51" * 20)
    calls = chain.build(transactions=[
        w[1].sign(to=token, data=calldata("initialize(uint256)", 100), gas=200_000),
        w[1].sign(to=token, data=calldata("transfer(address,uint256)", w[2].address, 40),
                  gas=200_000),
        w[2].sign(to=caller, data=calldata("callIncrement(address)", counter), gas=300_000),
        w[3].sign(to=caller, data=calldata("tryFail(address)", counter), gas=300_000),
        w[3].sign(to=spin, data=calldata("spin(uint256)", 2**256 - 1), gas=100_000),
        w[3].sign(to=L2_BRIDGE_ADDRESS, value=1000, gas=100_000,
                  data=calldata("withdraw(address,bytes)", w[3].address, b"")),
    ])  # fmt: skip
    chain.force_transaction(w[1].transfer(w[3].address, 1))
    clear = chain.build(transactions=[  # the whole balance moves: its storage slot is deleted
        w[2].sign(to=token, data=calldata("transfer(address,uint256)", w[1].address, 40),
                  gas=200_000, tx_type=1),
    ])  # fmt: skip
    return [setup, calls, clear]


class TestRiscvConformance(VMConformanceTests):
    vm_name = "riscv"
    state_name = "mpt"

    def build_conformance_traces(self) -> list[BuiltTrace]:
        return guest_conformance_traces("riscv")


class TestWasmConformance(VMConformanceTests):
    vm_name = "wasm"
    state_name = "mpt"

    def build_conformance_traces(self) -> list[BuiltTrace]:
        return guest_conformance_traces("wasm")


class TestBinaryConformance(StateModelConformanceTests):
    state_name = "binary"


# EXECUTE(state="binary") with every VM: the same traces, over EIP-7864's tree.


class TestEvmOverBinaryConformance(VMConformanceTests):
    vm_name = "evm"
    state_name = "binary"

    def build_conformance_traces(self) -> list[BuiltTrace]:
        return evm_conformance_traces("binary")


class TestRiscvOverBinaryConformance(VMConformanceTests):
    vm_name = "riscv"
    state_name = "binary"

    def build_conformance_traces(self) -> list[BuiltTrace]:
        return guest_conformance_traces("riscv", "binary")


class TestWasmOverBinaryConformance(VMConformanceTests):
    vm_name = "wasm"
    state_name = "binary"

    def build_conformance_traces(self) -> list[BuiltTrace]:
        return guest_conformance_traces("wasm", "binary")
