"""What admitting one zkpay transaction costs the sequencer, next to an EVM transaction's.

A transaction's signature is checked before anything is paid (in the mempool, again when its
block is built, and by every re-execution): it is the work a stranger can make a node do for
free. Prints, side by side in one run:

* the Baby Jubjub EdDSA-Poseidon check as ``babyjub.verify`` does it (one Straus-Shamir
  double multiplication) and as two separate multiplications (the textbook check);
* the Poseidon hash inside it;
* recovering a secp256k1 sender (``eth_account``, the EVM chains' check, native coincurve);
* ``rollupkit_zkpay``'s whole ``decode_transaction`` (decode, range checks, signature);
* indexing one witness node of each size by its Poseidon hash (what EXECUTE does for every
  node a trace carries, read or not) against the EXECUTE gas it is charged
  (``NODE_INDEX_GAS`` plus its bytes) at the 50 ns a gas EXECUTE is calibrated to;
* EXECUTE of a block of ``--transfers`` transfers: milliseconds and EXECUTE gas per transfer,
  and the nanoseconds each gas took (the calibration's 50 is what the gas prices assume).

Usage: python benchmarks/zkpay_admission.py [--rounds 200] [--transfers 50]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from eth_account import Account

from rollupkit import execute
from rollupkit.chain import DevChain
from rollupkit.metering import SCHEDULE
from rollupkit.types import GenesisAccount
from rollupkit_zkpay import babyjub
from rollupkit_zkpay.model import NODE_INDEX_GAS, index_nodes
from rollupkit_zkpay.poseidon import poseidon
from rollupkit_zkpay.transition import Kind, Transaction, signing_message
from rollupkit_zkpay.vm import ZkPayVM
from rollupkit_zkpay.wallet import dev_wallets

CHAIN_ID = 42_424


def per_call_ms(call: Callable[[], object], rounds: int) -> float:
    call()  # warm caches (Poseidon constants)
    started = time.perf_counter()
    for _ in range(rounds):
        call()
    return (time.perf_counter() - started) / rounds * 1000


def two_multiplications(public: babyjub.Point, message: int, sig: babyjub.Signature) -> bool:
    """The check without the shared doublings (what ``verify`` did before Straus-Shamir)."""
    eight_a = babyjub.multiply(public, 8)
    h = poseidon([sig.r8[0], sig.r8[1], public[0], public[1], message])
    left = babyjub.multiply(babyjub.BASE8, sig.s)
    return left == babyjub.add(sig.r8, babyjub.multiply(eight_a, h))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--transfers", type=int, default=50)
    arguments = parser.parse_args()
    rounds = arguments.rounds

    owner = babyjub.PrivateKey(b"\x07" * 32)
    tx = Transaction.sign(owner, chain_id=CHAIN_ID, kind=Kind.TRANSFER, to=0xB0B, amount=5, nonce=0)
    message = signing_message(CHAIN_ID, tx.kind, tx.to, tx.amount, tx.nonce)
    public, sig, raw = tx.public_key, tx.signature, tx.encode()
    assert babyjub.verify(public, message, sig) and two_multiplications(public, message, sig)

    evm_account = Account.from_key(b"\x07" * 32)
    evm_tx = evm_account.sign_transaction(
        {"to": b"\x0b" * 20, "value": 5, "gas": 21_000, "maxFeePerGas": 10**9,
         "maxPriorityFeePerGas": 1, "nonce": 0, "chainId": CHAIN_ID, "type": 2}
    )  # fmt: skip
    assert Account.recover_transaction(evm_tx.raw_transaction) == evm_account.address
    vm = ZkPayVM()

    figures = {
        "EdDSA verify (Straus-Shamir)": lambda: babyjub.verify(public, message, sig),
        "EdDSA, two multiplications": lambda: two_multiplications(public, message, sig),
        "Poseidon, 5 inputs": lambda: poseidon([1, 2, 3, 4, 5]),
        "zkpay decode_transaction": lambda: vm.decode_transaction(raw, CHAIN_ID),
        "secp256k1 sender recovery": lambda: Account.recover_transaction(evm_tx.raw_transaction),
    }
    measured = {name: per_call_ms(call, rounds) for name, call in figures.items()}
    evm = measured["secp256k1 sender recovery"]
    print(f"{'check':32} {'ms/call':>9} {'calls/s':>9} {'x EVM recovery':>15}")
    for name, ms in measured.items():
        print(f"{name:32} {ms:9.3f} {1000 / ms:9,.0f} {ms / evm:15.1f}")
    ratio = measured["EdDSA, two multiplications"] / measured["EdDSA verify (Straus-Shamir)"]
    print(f"Straus-Shamir speed-up over two multiplications: {ratio:.2f}x")

    header = f"{'ms to index':>11} {'gas charged':>12} {'ms paid':>8} {'paid/cost':>10}"
    print(f"\n{'witness node':14} {header}")
    for size, gas in NODE_INDEX_GAS.items():
        # Words below the field (a leading zero byte), distinct per node.
        nodes = [
            b"".join(bytes(1) + (i * 97 + w).to_bytes(31, "big") for w in range(size // 32))
            for i in range(rounds)
        ]
        started = time.perf_counter()
        assert len(index_nodes(nodes)) == rounds
        ms = (time.perf_counter() - started) / rounds * 1000
        charged = gas + SCHEDULE.trace_bytes(size)
        paid_ms = charged * 50 / 1e6
        print(f"{size:>10} B   {ms:11.3f} {charged:12,} {paid_ms:8.3f} {paid_ms / ms:10.2f}")

    execute_block(arguments.transfers)


def execute_block(count: int) -> None:
    """EXECUTE of one block of ``count`` transfers, each from another sender."""
    wallets = dev_wallets(count + 1, CHAIN_ID)
    alloc = {w.address: GenesisAccount(balance=10**20) for w in wallets}
    chain = DevChain(alloc, vm="zkpay", state="poseidon", chain_id=CHAIN_ID)
    built = chain.build(transactions=[w.transfer(wallets[0].address, 1) for w in wallets[1:]])
    arguments = built.execute_args()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        assert execute(*arguments, vm="zkpay", state="poseidon")
        best = min(best, time.perf_counter() - started)
    gas = built.gas_used
    print(
        f"\nEXECUTE of {count} transfers: {best * 1000 / count:.1f} ms and "
        f"{gas // count:,} EXECUTE gas per transfer ({best * 1e9 / gas:.0f} ns a gas; "
        "the gas prices assume 50)"
    )


if __name__ == "__main__":
    main()
