"""The rollup node end to end: L2 transactions from eth_sendRawTransaction to settled on L1.

Runs the embedded L1 (EXECUTE) and a sequencer node, each in its own process as they would be
deployed (`rollupkit l1 start`, `rollupkit node start`), sends N EVM transfers
over JSON-RPC from several threads as fast as the node accepts them, and waits until every
one is in a block settled on L1. Prints sustained transactions/s, the latency from sending to
settled (p50, p95), and the L1 bytes per transaction each derivation would post for the same
blocks: calldata and blobs, with no compression, zlib and zstd.

Usage: python benchmarks/node.py [--transactions 1000] [--senders 8] [--runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rollupkit.l1.devnet import dev_accounts
from rollupkit.node.deploy import deploy_for_chain
from rollupkit.node.l2chain import ChainConfig
from rollupkit.node.node import NodeConfig
from rollupkit.node.settings import dump
from rollupkit.plugins import get_registry
from rollupkit.testing.evm import l2_bridge_alloc
from rollupkit.testing.wallets import dev_wallets
from rollupkit.types import GenesisAccount


class Sender:
    """One keep-alive HTTP connection posting eth_sendRawTransaction (a new connection per
    request, as urllib makes, costs the client more than the node spends on the request)."""

    def __init__(self, url: str) -> None:
        parts = urlparse(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def send(self, raw: bytes) -> str:
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction",
             "params": ["0x" + raw.hex()]}
        )  # fmt: skip
        self.connection.request("POST", "/", body, {"Content-Type": "application/json"})
        answer = json.loads(self.connection.getresponse().read())
        if "result" not in answer:
            raise RuntimeError(answer)
        return str(answer["result"])


def rpc(url: str, method: str, *params: object) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    if "result" not in answer:
        raise RuntimeError(answer)
    return answer["result"]


def start_process(args: list[str], ready: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start a rollupkit command; return it and the URL its banner prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rollupkit_cli", *args],
        stdout=subprocess.PIPE,
        stderr=open(log, "wb"),  # noqa: SIM115 - the child writes to it for its whole life
    )
    assert process.stdout is not None
    for line in process.stdout:
        text = line.decode()
        if text.startswith(ready):
            return process, text.split()[-1]
    raise RuntimeError(f"{args[0]} did not start; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    senders = dev_wallets(args.senders, 42_424, offset=100)
    alloc = {w.address: GenesisAccount(balance=10**24) for w in senders}
    chain = ChainConfig(chain_id=42_424, alloc={**alloc, **l2_bridge_alloc()})
    # Each run starts afresh. Where a run's last transactions fall against the 1 s block
    # and batch clocks moves its time by up to a second: the median is the figure.
    rates = []
    for run in range(args.runs):
        # Fresh wallets each run: a wallet counts its own nonces, and each run's chain is new.
        wallets = dev_wallets(args.senders, 42_424, offset=100)
        rates.append(one_run(args, wallets, chain, last=run == args.runs - 1))
    shown = ", ".join(f"{r:,.1f}" for r in rates)
    print(f"median of {args.runs} runs: {statistics.median(rates):,.1f} tx/s (runs: {shown})")


def one_run(args: Any, senders: list, chain: ChainConfig, last: bool) -> float:  # type: ignore[type-arg]
    """One run on a fresh L1 and node; its sustained rate."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        l1, l1_url = start_process(["l1", "start", "--port", "0"], "JSON-RPC:", tmp / "l1.log")
        node = None
        try:
            accounts = dev_accounts(4)
            settings = deploy_for_chain(
                chain,
                l1_url,
                accounts[0],
                batcher_key=bytes(accounts[1].key),
                compression="zlib",
                batch_interval=1.0,
            )
            config = NodeConfig(
                tmp / "node", chain, block_time=1.0, rpc_port=0, l1=settings, l1_poll=0.25
            )
            dump(config, tmp / "rollup.toml")
            node, url = start_process(
                ["node", "start", "-c", str(tmp / "rollup.toml")], "L2 JSON-RPC:", tmp / "node.log"
            )
            return measure(url, senders, args.transactions, print_bytes=last)
        finally:
            for process in (node, l1):
                if process is not None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)


def measure(url: str, senders: list, count: int, print_bytes: bool) -> float:  # type: ignore[type-arg]
    sent_at: dict[str, float] = {}
    lock = threading.Lock()

    # Signed before the clock starts: signing costs this Python client more (~0.6 ms a
    # transaction) than the node spends accepting one, on the same two cores.
    signed = {
        id(w): [w.transfer(b"\x42" * 20, 1) for _ in range(count // len(senders))] for w in senders
    }

    def run(wallet) -> None:  # type: ignore[no-untyped-def]
        sender = Sender(url)
        for raw in signed[id(wallet)]:
            started = time.monotonic()
            while True:
                try:
                    tx_hash = sender.send(raw)
                    break
                except RuntimeError as exc:
                    # The mempool holds at most 64 transactions ahead of a sender's nonce:
                    # wait for blocks to take some, as a wallet would.
                    if "gap over" not in str(exc):
                        raise
                    time.sleep(0.05)
            with lock:
                sent_at[tx_hash] = started

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(w,)) for w in senders]
    for thread in threads:
        thread.start()
    settled_at: dict[int, float] = {}
    all_sent = None
    while True:
        status: dict = rpc(url, "rollup_status")  # type: ignore[assignment, type-arg]
        settled, head = int(status["settledBlock"], 16), int(status["head"], 16)
        now = time.monotonic()
        for number in range(1, settled + 1):
            settled_at.setdefault(number, now)
        sending = any(t.is_alive() for t in threads)
        if not sending and all_sent is None:
            all_sent = now - started
        if not sending and int(status["pendingTransactions"], 16) == 0 and settled == head:
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    latencies = []
    block_of: dict[str, int] = {}
    for tx_hash, sent in sent_at.items():
        receipt: dict = rpc(url, "eth_getTransactionReceipt", tx_hash)  # type: ignore[assignment, type-arg]
        number = int(receipt["blockNumber"], 16)
        block_of[tx_hash] = number
        latencies.append(settled_at[number] - sent)
    n = len(sent_at)
    print(
        f"{n} transfers from {len(senders)} senders; L1 (embedded, EXECUTE) and the node each "
        "in their own process; 1 s blocks"
    )
    print(
        f"  sustained: {n / elapsed:,.1f} tx/s from eth_sendRawTransaction to settled on L1 "
        f"({elapsed:.1f} s)"
    )
    print(f"  all {n} accepted by the node after {all_sent:.2f} s; the rest is blocks and settling")
    q = statistics.quantiles(latencies, n=20)
    print(f"  latency send -> settled: p50 {statistics.median(latencies):.2f} s, p95 {q[18]:.2f} s")
    if print_bytes:
        print_l1_bytes(url, max(block_of.values()))
    return n / elapsed


def print_l1_bytes(url: str, head: int) -> None:
    """L1 bytes per L2 transaction each derivation would post for the node's blocks."""
    inputs = fetch_inputs(url, head)
    txs = sum(len(b.transactions) for b in inputs)
    print(
        f"  L1 data per L2 transaction for these {len(inputs)} blocks ({txs} txs), batches "
        "of 16 blocks:"
    )
    print(f"    {'':12}{'none':>10}{'zlib':>10}{'zstd':>10}")
    for name in ("calldata", "blobs"):
        derivation = get_registry().create("derivation", name)
        row = []
        for compression in ("none", "zlib", "zstd"):
            total = 0
            for i in range(0, len(inputs), 16):
                payloads = derivation.encode_batch(
                    42_424, inputs[i : i + 16], compression=compression
                )
                total += sum(len(p) for p in payloads)
            row.append(f"{total / txs:10.1f}")
        label = "calldata" if name == "calldata" else "blob space"
        print(f"    {label:12}{''.join(row)}   bytes")
    print("  (blob space counts whole 128 KiB blobs, paid in blob gas, not calldata gas)")


def fetch_inputs(url: str, head: int) -> list:  # type: ignore[type-arg]
    """The block inputs of blocks 1..head, rebuilt over JSON-RPC (eth_getRawTransactionByHash
    for the signed transactions)."""
    from rollupkit.types import BlockInput

    inputs = []
    for number in range(1, head + 1):
        block: dict = rpc(url, "eth_getBlockByNumber", hex(number), False)  # type: ignore[assignment, type-arg]
        raws = tuple(
            bytes.fromhex(str(rpc(url, "eth_getRawTransactionByHash", h))[2:])
            for h in block["transactions"]
        )
        inputs.append(
            BlockInput(
                number=number,
                timestamp=int(block["timestamp"], 16),
                coinbase=bytes.fromhex(block["miner"][2:]),
                gas_limit=int(block["gasLimit"], 16),
                base_fee=int(block["baseFeePerGas"], 16),
                prev_randao=bytes.fromhex(block["mixHash"][2:]),
                parent_hash=bytes.fromhex(block["parentHash"][2:]),
                l1_anchor=bytes.fromhex(block["parentBeaconBlockRoot"][2:]),
                transactions=raws,
            )
        )
    return inputs


if __name__ == "__main__":
    main()
