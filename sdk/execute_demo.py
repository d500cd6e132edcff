"""The EXECUTE demo behind ``rollupkit demo``: build a block, verify it, reject tampering."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from rollupkit.builder import BuiltTrace
from rollupkit.examples.evm import EvmScenario
from rollupkit.execution import execute_detailed
from rollupkit.trace import encode_trace
from rollupkit.types import ExecuteResult


@dataclass
class Check:
    """One EXECUTE call of the demo and its verdict."""

    name: str
    expected: bool
    result: ExecuteResult
    seconds: float

    @property
    def as_expected(self) -> bool:
        """Whether the verdict is what the demo expects."""
        return self.result.ok == self.expected


@dataclass
class DemoReport:
    """Everything the demo measured."""

    transactions: int
    built: BuiltTrace
    build_seconds: float
    checks: list[Check] = field(default_factory=list)

    @property
    def all_as_expected(self) -> bool:
        """True when every check gave the expected verdict."""
        return all(c.as_expected for c in self.checks)


def run_execute_demo(
    transfers: int = 40, *, progress: Callable[[str], None] = lambda _: None
) -> DemoReport:
    """Build one L2 block (a deposit, ETH and token transfers, a storage write, a withdrawal),
    verify its trace with EXECUTE, then show five tampered variants rejected."""
    progress("genesis and contract deployment")
    scenario = EvmScenario.create(wallets=20)
    chain, w = scenario.chain, scenario.wallets
    user = w[19]
    chain.deposit(user.address, 10 * 10**18)
    txs = []
    for i in range(transfers):
        sender = w[1 + i % 18]
        if i % 2:
            txs.append(sender.transfer(w[1 + (i * 7) % 18].address, 10**15))
        else:
            txs.append(scenario.token_transfer(w[0], sender.address, 10**18))
    txs.append(scenario.store_call(user, "set(uint256,uint256)", 1, 42))
    txs.append(scenario.withdraw(user, user.address, 10**18))
    progress(f"building a block of {len(txs)} transactions and recording its witness")
    started = time.perf_counter()
    built = chain.build(transactions=txs)
    report = DemoReport(len(txs), built, time.perf_counter() - started)

    pre, post, trace, gas = built.execute_args()

    def check(name: str, expected: bool, pre: bytes, post: bytes, trace: bytes, gas: int) -> None:
        progress(f"EXECUTE: {name}")
        started = time.perf_counter()
        result = execute_detailed(pre, post, trace, gas)
        report.checks.append(Check(name, expected, result, time.perf_counter() - started))

    check("the honest trace", True, pre, post, trace, gas)
    tampered_tx = bytearray(trace)
    position = trace.index(built.trace.blocks[0].transactions[3]) + 30
    tampered_tx[position] ^= 0x01
    check("one byte of a transaction flipped", False, pre, post, bytes(tampered_tx), gas)
    check("a wrong post-state root", False, pre, bytes(32), trace, gas)
    check("gas_used off by one", False, pre, post, trace, gas + 1)
    nodes = built.trace.witness.state_nodes
    dropped = random.Random(0).randrange(len(nodes))
    smaller = replace(
        built.trace,
        witness=replace(built.trace.witness, state_nodes=nodes[:dropped] + nodes[dropped + 1 :]),
    )
    check("one witness node removed", False, pre, post, encode_trace(smaller), gas)
    check("a truncated trace", False, pre, post, trace[:-100], gas)
    return report
