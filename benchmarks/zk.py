"""zkpay's Groth16 path: circuit size, proving time and memory, and L1 gas of settling.

For each proof size N (operations per proof): the circuit's constraints, the seconds and peak
memory (RSS of a process that loads the keys and proves one full batch of N transfers), and
the L1 gas of settling that batch through NativeRollup and ZkPayVerifier (``submitBatch``:
the whole transaction, calldata and bookkeeping included), per batch and per transfer.

Aggregation: the same M transfers settled as M/N batches of one proof each, and as one batch
of M/N chained proofs (ZkPayVerifier checks k proofs in one call, so the transaction, the
claim and NativeRollup's bookkeeping are paid once). Both on fresh embedded L1s, side by side.

The keys are made once per N and cached (``--keys``; N = 16 takes minutes and several GB the
first time). Usage: python benchmarks/zk.py [--sizes 4 8 16] [--aggregate 4] [--batches 4]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

from rollupkit.chain import DevChain
from rollupkit.interfaces import ClaimedBatch, SettlementContext
from rollupkit.l1.contracts import claim_tuple, deploy_rollup
from rollupkit.l1.devnet import dev_accounts
from rollupkit.l1.node import start_devnet
from rollupkit.types import GenesisAccount
from rollupkit_zkpay.backend import Groth16Backend, default_keys_folder
from rollupkit_zkpay.wallet import dev_wallets

CHAIN_ID = 42_424


def _chain(senders: int) -> tuple[DevChain, list[Any]]:
    wallets = dev_wallets(senders + 1, CHAIN_ID)
    alloc = {w.address: GenesisAccount(balance=10**21) for w in wallets}
    return DevChain(alloc, vm="zkpay", state="poseidon", chain_id=CHAIN_ID), wallets


def _transfers(chain: DevChain, wallets: list[Any], count: int) -> list[bytes]:
    """``count`` transfers, each from another sender (so every one is a full slot)."""
    out = []
    for i in range(count):
        sender = wallets[1 + i % (len(wallets) - 1)]
        nonce = chain.nonce(sender.address) + i // (len(wallets) - 1)
        out.append(sender.transfer(wallets[0].address, 1 + i, nonce=nonce))
    return out


def settle(backend: Groth16Backend, batches: list[list[bytes]], senders: int) -> list[int]:
    """Build ``batches`` (each a list of transfers, one block each) on a fresh chain and L1,
    prove and settle each; return the L1 gas of each settlement."""
    chain, _ = _chain(senders)
    built = []
    for transfers in batches:
        built.append(chain.build(transactions=transfers))
    gas = []
    with start_devnet() as running:
        from web3 import Web3

        w3 = Web3(Web3.HTTPProvider(running.url))
        deployer = dev_accounts(1)[0]
        genesis = chain.vm.decode_header(chain.headers[0])
        contracts = deploy_rollup(
            w3, deployer, l2_chain_id=CHAIN_ID, genesis_state_root=genesis.state_root,
            genesis_block_hash=genesis.hash, proof="groth16",
            vm="zkpay", state="poseidon",
            proof_options={"slots": backend.slots, "keys": str(backend.folder)},
            sequencer=deployer.address,  # groth16 settlement is never permissionless
        )  # fmt: skip
        context = SettlementContext(
            l1_chain_id=int(w3.eth.chain_id), verifier=contracts.deployment.verifier,
            vm="zkpay", state="poseidon",
        )  # fmt: skip
        for trace in built:
            batch = ClaimedBatch(trace.pre_state_root, trace.post_state_root, trace.encoded,
                                 trace.gas_used, trace.outputs)  # fmt: skip
            submission = backend.submit(batch, context)
            call = contracts.rollup.functions.submitBatch(
                claim_tuple(trace.outputs), b"", submission.evidence
            )
            receipt = contracts.transact(call)
            gas.append(int(receipt["gasUsed"]))
    return gas


def _prove_once(slots: int, folder: str) -> None:
    """In a process of its own: load the keys, prove one full batch, print seconds and RSS."""
    backend = Groth16Backend.configured({"slots": slots, "keys": folder})
    chain, wallets = _chain(slots)
    trace = chain.build(transactions=_transfers(chain, wallets, slots))
    keys = backend.keys()
    from rollupkit_zkpay.prover import batch_witness, prove_batch

    witness = batch_witness(trace.encoded)
    started = time.perf_counter()
    proof = prove_batch(keys, witness)
    seconds = time.perf_counter() - started
    assert len(proof.proofs) == 1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--aggregate", type=int, default=4, help="N of the aggregation run")
    parser.add_argument("--batches", type=int, default=4, help="proofs aggregated")
    parser.add_argument("--keys", default=str(default_keys_folder()))
    parser.add_argument("--prove-once", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prove_once:
        _prove_once(args.prove_once, args.keys)
        return

    print("N   constraints  setup s  prove s  prove RSS MB  settle gas/batch  gas/transfer")
    for n in args.sizes:
        backend = Groth16Backend.configured({"slots": n, "keys": args.keys})
        started = time.perf_counter()
        keys = backend.keys(progress=lambda line: print(f"  ({line})", file=sys.stderr))
        setup_seconds = time.perf_counter() - started
        done = subprocess.run(
            [sys.executable, __file__, "--prove-once", str(n), "--keys", args.keys],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        proving = json.loads(done.stdout.strip().splitlines()[-1])
        chain, wallets = _chain(n)
        (gas,) = settle(backend, [_transfers(chain, wallets, n)], n)
        print(f"{n:<3} {keys.circuit.constraints():>11,}  {setup_seconds:7.1f}  "
              f"{proving['seconds']:7.1f}  {proving['rss_mb']:12.0f}  {gas:16,}  "
              f"{gas // n:12,}")  # fmt: skip

    n, k = args.aggregate, args.batches
    backend = Groth16Backend.configured({"slots": n, "keys": args.keys})
    chain, wallets = _chain(n * k)
    transfers = _transfers(chain, wallets, n * k)
    apart = settle(backend, [transfers[i * n : (i + 1) * n] for i in range(k)], n * k)
    together = settle(backend, [transfers], n * k)
    print(f"\naggregation, {k} proofs of {n} transfers ({n * k} transfers):")
    print(f"  {k} settlements of 1 proof: {sum(apart):,} L1 gas "
          f"({sum(apart) // k:,} per proof, {sum(apart) // (n * k):,} per transfer)")  # fmt: skip
    print(f"  1 settlement of {k} proofs: {together[0]:,} L1 gas "
          f"({together[0] // k:,} per proof, {together[0] // (n * k):,} per transfer)")  # fmt: skip
    saved = sum(apart) - together[0]
    print(f"  saved: {saved:,} gas in all, {saved // k:,} per proof "
          f"({together[0] / sum(apart):.2f}x the gas)")  # fmt: skip


if __name__ == "__main__":
    main()
