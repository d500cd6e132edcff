"""The built-in plugins pass rollupkit's own conformance suite (the one plugins reuse)."""

from __future__ import annotations

from rollupkit.builder import BuiltTrace
from rollupkit.testing.conformance import (
    DerivationConformanceTests,
    ProofBackendConformanceTests,
    StateModelConformanceTests,
    VMConformanceTests,
)
from rollupkit.testing.evm import EvmScenario, calldata


def evm_conformance_traces() -> list[BuiltTrace]:
    """Small traces covering transfers, creation, storage writes and deletes, a revert,
    deposits (plain and with a call), forced inclusion, BLOCKHASH and several blocks."""
    s = EvmScenario.create(wallets=4)
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
