"""Settling the same batch with each proof backend: latency and L1 gas per batch.

One batch of ERC-20 transfers (``--transactions``, 50 by default) is built once and settled on
a fresh embedded L1 by:

* ``reexec``: NativeRollup.submitBatch with the trace; the L1 re-executes it with EXECUTE;
* ``multiclient``: three verifier services (py-evm, revm, py-evm; 2 of 3 needed, from 2
  clients) re-execute and sign, then submitBatch with the signatures;
* ``optimistic``, happy path: propose with a bond, the challenge window, submitBatch;
* ``optimistic``, challenged: a liar proposes a wrong root, the watchtower challenges, both
  bisect to one transaction, EXECUTE_STEP settles it, the watchtower proposes the right claim,
  which settles after its window.

Latency is the wall time of the L1 work (and the verifiers'), not counting a challenge window
(which is a parameter: printed apart). Then the revm client's EXECUTE throughput next to
py-evm's on a 500-transaction block, as ``benchmarks/clients.py`` measures it. Usage:
python benchmarks/proofs.py [--transactions 50] [--execute-block 500]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from eth_account import Account as EthAccount
from eth_hash.auto import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from clients import blocks as client_blocks
from clients import timed
from l1_env import running_l1

from rollupkit.examples.evm import EvmScenario
from rollupkit.interfaces import ClaimedBatch, SettlementContext
from rollupkit.l1.contracts import RollupContracts, attest_batch, deploy_rollup
from rollupkit.steps import StepState, batch_layout, layout_hash
from rollupkit.types import ZERO_HASH
from rollupkit.verifier import VerifierSettings, serve
from rollupkit.wallets import dev_wallets
from rollupkit_multiclient import MulticlientBackend
from rollupkit_optimistic import evidence as optimistic_evidence
from rollupkit_optimistic.dispute import (
    PENDING,
    Defender,
    Watchtower,
    honest_batch_from_chain,
    proposal_id,
    proposal_of,
    propose,
)

KEYS = [w.private_key for w in dev_wallets(3, 1, offset=7000)]
BOND, WINDOW, MOVE = 10**18, 600, 300


class Metered(RollupContracts):
    """RollupContracts that adds up the gas of the transactions it sends."""

    gas = 0
    sent = 0

    def transact(self, call: Any, **kwargs: Any) -> Any:
        receipt = super().transact(call, **kwargs)
        Metered.gas += int(receipt["gasUsed"])
        Metered.sent += 1
        return receipt


@contextmanager
def rollup(proof: str, options: dict[str, Any]) -> Iterator[tuple[Any, EvmScenario, Any]]:
    """A fresh embedded L1 with a rollup whose genesis is the scenario's, its setup settled."""
    with running_l1("embedded") as l1:
        scenario = EvmScenario.create(wallets=8)
        genesis = scenario.chain.vm.decode_header(scenario.chain.headers[0])
        contracts = deploy_rollup(
            l1.w3, l1.accounts[0], l2_chain_id=scenario.chain.chain_id,
            genesis_state_root=genesis.state_root, genesis_block_hash=genesis.hash,
            proof=proof, proof_options=options,
        )  # fmt: skip
        setup = scenario.setup[0]
        if proof == "reexec":
            contracts.submit_batch(setup.outputs, setup.encoded, b"")
        elif proof == "multiclient":
            evidence = attest_batch(
                KEYS[:2], l1_chain_id=l1.w3.eth.chain_id, verifier=contracts.deployment.verifier,
                pre_state_root=setup.pre_state_root, post_state_root=setup.post_state_root,
                trace=setup.encoded, gas_used=setup.gas_used, claimed=setup.outputs,
                onchain_trace=b"",
            )  # fmt: skip
            contracts.submit_batch(setup.outputs, b"", evidence)
        else:
            inputs, counts = _layout(setup)
            propose(contracts, setup.outputs, inputs, counts, BOND)
            l1.advance(WINDOW + 120)
            contracts.submit_batch(setup.outputs, b"", _evidence(l1, contracts, inputs, counts))
        yield l1, scenario, contracts


def _layout(built: Any) -> tuple[list[bytes], list[int]]:
    return batch_layout(built.encoded)


def _evidence(l1: Any, contracts: Any, inputs: list[bytes], counts: list[int]) -> bytes:
    """What OptimisticVerifier.verify is given: the proposal's layout, for this L1 and verifier."""
    where = SettlementContext(
        l1_chain_id=l1.w3.eth.chain_id, verifier=contracts.deployment.verifier
    )
    return optimistic_evidence(layout_hash(inputs, counts), where)


def workload(scenario: EvmScenario, count: int) -> tuple[int, Any]:
    start = len(scenario.chain.headers) - 1
    w = scenario.wallets
    txs = [scenario.token_transfer(w[0], w[1 + i % 7].address, 1 + i) for i in range(count)]
    return start, scenario.chain.build(transactions=txs)


def measure(label: str, work: Any) -> tuple[float, int, int]:
    Metered.gas = Metered.sent = 0
    started = time.perf_counter()
    work()
    return time.perf_counter() - started, Metered.gas, Metered.sent


def reexec(count: int) -> tuple[float, int, int]:
    with rollup("reexec", {}) as (l1, scenario, contracts):
        _, built = workload(scenario, count)
        acting = Metered(l1.w3, contracts.deployment, l1.accounts[0])
        return measure("reexec", lambda: acting.submit_batch(built.outputs, built.encoded, b""))


def multiclient(count: int) -> tuple[float, int, int]:
    attesters = [EthAccount.from_key(k).address for k in KEYS]
    with rollup("multiclient", {"attesters": attesters, "threshold": 2}) as (l1, scenario, c):
        _, built = workload(scenario, count)
        acting = Metered(l1.w3, c.deployment, l1.accounts[0])
        with ExitStack() as stack:
            urls = []
            for key, client in zip(KEYS, [None, "revm", None], strict=True):
                server = serve(VerifierSettings(key, l1.url, c.deployment.rollup, client=client))
                stack.callback(server.stop)
                urls.append(server.url)
            backend = MulticlientBackend.configured({
                "verifiers": urls, "attesters": attesters, "threshold": 2, "distinct_clients": 2,
            })  # fmt: skip
            batch = ClaimedBatch(built.pre_state_root, built.post_state_root, built.encoded,
                                 built.gas_used, built.outputs)  # fmt: skip
            context = SettlementContext(l1_chain_id=l1.w3.eth.chain_id,
                                        verifier=c.deployment.verifier)  # fmt: skip

            def settle() -> None:
                submission = backend.submit(batch, context)
                acting.submit_batch(built.outputs, submission.trace, submission.evidence)

            return measure("multiclient", settle)


def optimistic_happy(count: int) -> tuple[float, int, int]:
    options = {"bond": BOND, "window": WINDOW, "move_time": MOVE}
    with rollup("optimistic", options) as (l1, scenario, c):
        _, built = workload(scenario, count)
        acting = Metered(l1.w3, c.deployment, l1.accounts[0])

        def settle() -> None:
            inputs, counts = _layout(built)
            propose(acting, built.outputs, inputs, counts, BOND)
            l1.advance(WINDOW + 120)  # the window is a parameter: not measured
            acting.submit_batch(built.outputs, b"", _evidence(l1, c, inputs, counts))

        return measure("optimistic", settle)


def optimistic_challenged(count: int) -> tuple[float, int, int]:
    options = {"bond": BOND, "window": WINDOW, "move_time": MOVE}
    with rollup("optimistic", options) as (l1, scenario, c):
        start, built = workload(scenario, count)
        honest = honest_batch_from_chain(scenario.chain, start, built)
        liar = Metered(l1.w3, c.deployment, l1.accounts[2])
        watcher = Metered(l1.w3, c.deployment, l1.accounts[1])
        settler = Metered(l1.w3, c.deployment, l1.accounts[0])
        n = len(honest.states)
        fake = StepState(ZERO_HASH, keccak(b"fake"), keccak(b"fake block"),
                         honest.states[-1].block_input_hash, honest.counts[-1], True)  # fmt: skip
        wrong = replace(honest.outputs, post_state_root=fake.state_root, block_hash=fake.block_hash)

        def commitment(k: int) -> bytes:
            return honest.commitment(k) if k < n else fake.commitment()

        def settle() -> None:
            propose(liar, wrong, honest.inputs, honest.counts, BOND)
            watchtower = Watchtower(watcher, lambda *_: honest, BOND)
            defender = Defender(liar, proposal_id(wrong, honest.layout), commitment)
            while True:
                watchtower.poll()
                if proposal_of(liar, wrong, honest.layout)["status"] != PENDING:
                    break
                defender.poll()
            watchtower.poll()  # proposes the right claim
            l1.advance(WINDOW + 120)
            evidence = _evidence(l1, c, honest.inputs, honest.counts)
            settler.submit_batch(built.outputs, b"", evidence)

        return measure("challenged", settle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=50)
    parser.add_argument("--execute-block", type=int, default=500)
    options = parser.parse_args()
    n = options.transactions
    print(f"settling one batch of {n} ERC-20 transfers (embedded L1; windows not counted)")
    print(f"{'backend':<26} {'latency s':>9} {'L1 txs':>7} {'L1 gas':>11} {'L1 gas/tx':>10}")
    rows = [
        ("reexec", reexec), ("multiclient (2 of 3)", multiclient),
        ("optimistic, happy", optimistic_happy), ("optimistic, challenged", optimistic_challenged),
    ]  # fmt: skip
    for label, run in rows:
        seconds, gas, sent = run(n)
        print(f"{label:<26} {seconds:9.2f} {sent:7d} {gas:11,d} {gas // n:10,d}")
    print(f"(optimistic adds its challenge window, {WINDOW} s here, to the latency; a dispute "
          f"adds up to {MOVE} s per move)")  # fmt: skip
    print()
    print(f"EXECUTE of a {options.execute_block}-transaction block, py-evm vs revm client:")
    for name, args in client_blocks(options.execute_block).items():
        pyevm = min(timed(args, None) for _ in range(3))
        revm = min(timed(args, "revm") for _ in range(3))
        print(f"  {name:<24} py-evm {pyevm * 1000:7.0f} ms, revm {revm * 1000:7.0f} ms: "
              f"{pyevm / revm:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
