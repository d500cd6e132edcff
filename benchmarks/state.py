"""State models side by side: ``mpt`` (Ethereum's hexary trie) vs ``binary`` (EIP-7864), on
the same 10,000-key workload, interleaved run by run (this machine is noisy).

The workload: 1,000 accounts, each with a balance and nonce and 9 storage slots (5 of them in
the binary tree's account stem, 4 elsewhere): 10,000 keys. Then, per run:

* **build**: write all 10,000 keys into an empty state and compute the root;
* **update**: 20 blocks of 500 random writes (balances, slots), a root after each block;
* **witness**: the stateless witness of one such block (bytes, what EXECUTE would carry);
* **proof**: eth_getProof of 1,000 random accounts with 2 slots each, then verifying them.

Then EXECUTE of one block of 300 ERC-20 transfers on the ``evm`` VM over each model (py-evm
drives the hexary trie itself with ``mpt``, and goes through the generic state-view adapter
with ``binary``), with the witness each trace carries.

Run: ``python benchmarks/state.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from rollupkit.ethtx import clear_decode_cache
from rollupkit.execution import execute_detailed
from rollupkit.interfaces import StateModel, StateStore
from rollupkit.plugins import get_registry
from rollupkit.testing.evm import EvmScenario

ACCOUNTS, SLOTS = 1_000, (0, 1, 2, 3, 4, 1_000, 1_001, 1_002, 1_003)
BLOCKS, WRITES_PER_BLOCK, PROOFS = 20, 500, 1_000


def _addresses() -> list[bytes]:
    rng = random.Random(7)
    return [rng.randbytes(20) for _ in range(ACCOUNTS)]


def _populate(model: StateModel, store: StateStore, addresses: list[bytes]) -> bytes:
    view = model.open(store, model.empty_root())
    for i, address in enumerate(addresses):
        view.set_account(address, nonce=i % 7, balance=10**18 + i)
        for slot in SLOTS:
            view.set_storage(address, slot, i * 1_000 + slot + 1)
    return view.commit()


Writes = list[tuple[bytes, int | None, int]]


def _block_writes(rng: random.Random, addresses: list[bytes]) -> Writes:
    """(address, slot or None for the account, value) x WRITES_PER_BLOCK."""
    return [
        (rng.choice(addresses), rng.choice((None, *SLOTS)), rng.randrange(1, 10**20))
        for _ in range(WRITES_PER_BLOCK)
    ]


def _apply(view, writes) -> None:  # type: ignore[no-untyped-def]
    for address, slot, value in writes:
        if slot is None:
            view.set_account(address, nonce=1, balance=value)
        else:
            view.set_storage(address, slot, value)


def measure(name: str, addresses: list[bytes]) -> dict[str, float]:
    model: StateModel = get_registry().create("state", name)
    store = StateStore()
    started = time.perf_counter()
    root = _populate(model, store, addresses)
    build = time.perf_counter() - started

    rng = random.Random(11)
    blocks = [_block_writes(rng, addresses) for _ in range(BLOCKS)]
    started = time.perf_counter()
    for writes in blocks:
        view = model.open(store, root)
        _apply(view, writes)
        root = view.commit()
    update = time.perf_counter() - started

    recording = model.open(store, root, record=True)
    _apply(recording, blocks[0])
    recording.commit()
    witness = recording.witness()
    witness_bytes = sum(map(len, witness.state_nodes))

    picks = [rng.choice(addresses) for _ in range(PROOFS)]
    started = time.perf_counter()
    proofs = [model.get_proof(store, root, a, (1, 1_001)) for a in picks]
    prove = time.perf_counter() - started
    started = time.perf_counter()
    assert all(model.verify_proof(root, p) for p in proofs)
    verify = time.perf_counter() - started
    proof_bytes = statistics.mean(
        sum(map(len, p.account_proof)) + sum(len(n) for s in p.storage for n in s.proof)
        for p in proofs
    )
    return {
        "build keys/s": 10_000 / build,
        "update writes/s": BLOCKS * WRITES_PER_BLOCK / update,
        "witness bytes/block": witness_bytes,
        "proofs/s": PROOFS / prove,
        "verifications/s": PROOFS / verify,
        "proof bytes (account + 2 slots)": proof_bytes,
    }


def execute_erc20(runs: int, count: int = 300) -> None:
    """EXECUTE of ``count`` ERC-20 transfers on the evm VM over each model, interleaved."""
    built = {}
    for name in ("mpt", "binary"):
        scenario = EvmScenario.create(wallets=9, gas_limit=60_000_000, state=name)
        w = scenario.wallets
        txs = [scenario.token_transfer(w[0], w[1 + i % 8].address, 10**18 + i)
               for i in range(count)]  # fmt: skip
        built[name] = scenario.chain.build(transactions=txs, commit=False)
    seconds: dict[str, list[float]] = {name: [] for name in built}
    for _ in range(runs):
        for name, trace in built.items():
            clear_decode_cache()  # a verifier that never saw these transactions
            started = time.perf_counter()
            result = execute_detailed(*trace.execute_args(), vm="evm", state=name)
            seconds[name].append(time.perf_counter() - started)
            assert result, result
    rate = {name: count / statistics.median(times) for name, times in seconds.items()}
    witness = {name: trace.trace.witness.size() for name, trace in built.items()}
    print(f"\nEXECUTE of one block of {count} ERC-20 transfers, evm VM (medians of {runs})")
    print(f"{'transfers/s':34} {rate['mpt']:>14,.0f} {rate['binary']:>14,.0f} "
          f"{rate['binary'] / rate['mpt']:>10.2f}x")  # fmt: skip
    print(f"{'witness bytes':34} {witness['mpt']:>14,} {witness['binary']:>14,} "
          f"{witness['binary'] / witness['mpt']:>10.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    addresses = _addresses()
    results: dict[str, list[dict[str, float]]] = {"mpt": [], "binary": []}
    for run in range(runs):
        for name in results:  # interleaved, so drift hits both alike
            results[name].append(measure(name, addresses))
        print(f"run {run + 1}/{runs} done", flush=True)
    median: Callable[[str, str], float] = lambda name, metric: statistics.median(  # noqa: E731
        r[metric] for r in results[name]
    )
    metrics = list(results["mpt"][0])
    title = f"median of {runs} runs"
    print(f"\n{title:34} {'mpt':>14} {'binary':>14} {'binary/mpt':>11}")
    for metric in metrics:
        a, b = median("mpt", metric), median("binary", metric)
        print(f"{metric:34} {a:>14,.0f} {b:>14,.0f} {b / a:>10.2f}x")
    execute_erc20(runs)


if __name__ == "__main__":
    main()
