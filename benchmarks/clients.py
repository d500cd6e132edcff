"""EXECUTE with each client of the evm VM on the same 500-transaction blocks: py-evm and revm.

Prints, for a block of ETH transfers and a block of ERC-20 transfers (both built once by the
py-evm builder): EXECUTE time per block and transactions per second with each client, the
ratio, and where the revm client's time goes: revm itself (running, reading its state back,
discovering what it reads) and what both clients share (decoding and signature recovery,
receipts and transaction roots, the state root, and the rest: the core's checks and fees,
witness reads, decoding the trace). Runs alternate between the clients and the medians are
compared (this machine is noisy); the transaction decode cache is cleared before every run,
so each pays for its signature recoveries.
Usage: python benchmarks/clients.py [--transactions 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import rollupkit.accountvm as accountvm
import rollupkit.block as block
import rollupkit_revm.vm as revm_vm
from rollupkit import execute_detailed
from rollupkit.ethtx import clear_decode_cache
from rollupkit.examples.evm import EvmScenario

WALLETS = 40


def blocks(count: int) -> dict[str, tuple[bytes, bytes, bytes, int]]:
    s = EvmScenario.create(wallets=WALLETS)
    w = s.wallets
    transfers = [w[1 + i % 19].transfer(w[20 + i % 20].address, 1 + i) for i in range(count)]
    tokens = [s.token_transfer(w[0], w[1 + i % (WALLETS - 1)].address, 1 + i)
              for i in range(count)]  # fmt: skip
    return {
        f"{count} ETH transfers": s.chain.build(transactions=transfers).execute_args(),
        f"{count} ERC-20 transfers": s.chain.build(transactions=tokens).execute_args(),
    }


def timed(args: tuple[bytes, bytes, bytes, int], client: str | None) -> float:
    clear_decode_cache()
    start = time.perf_counter()
    result = execute_detailed(*args, client=client)
    elapsed = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"EXECUTE ({client or 'py-evm'}) refused: {result.reason} {result.detail}")
    return elapsed


@contextmanager
def profile_revm() -> Iterator[Counter[str]]:
    """Time the revm client's own parts, by wrapping them for one run."""
    spent: Counter[str] = Counter()
    targets: list[tuple[Any, str, str]] = [
        (block, "decode_signed_transaction", "decode and signature recovery"),
        (revm_vm.RevmVM, "_run", "revm: run, read back, discover"),
        (accountvm.AccountBlockExecution, "pending_header", "receipts and transactions roots"),
        (accountvm.AccountBlockExecution, "seal", "state root"),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]

    def wrap(function: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed_call(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                spent[label] += time.perf_counter() - start

        return timed_call

    for (owner, name, label), (_, _, original) in zip(targets, originals, strict=True):
        setattr(owner, name, wrap(original, label))
    try:
        yield spent
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    n = options.transactions
    print(f"{'block':<24} {'client':<8} {'ms/block':>9} {'tx/s':>8}")
    for name, args in blocks(n).items():
        runs: dict[str, list[float]] = {"py-evm": [], "revm": []}
        for _ in range(options.rounds):  # alternate, so both see the same noise
            runs["py-evm"].append(timed(args, None))
            runs["revm"].append(timed(args, "revm"))
        medians = {client: statistics.median(times) for client, times in runs.items()}
        for client, seconds in medians.items():
            print(f"{name:<24} {client:<8} {seconds * 1000:9.1f} {n / seconds:8.0f}")
        print(f"{'':<24} {'ratio':<8} {medians['py-evm'] / medians['revm']:8.1f}x (revm faster)")
        with profile_revm() as spent:
            total = timed(args, "revm")
        shared = total - sum(spent.values())
        rest = "the rest (checks, fees, witness, trace)"
        for label, seconds in [*spent.items(), (rest, shared)]:
            print(f"{'':<26}{label:<40} {seconds * 1000:7.1f} ms ({seconds / total:4.0%})")


if __name__ == "__main__":
    main()
