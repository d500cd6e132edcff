"""JSON-RPC throughput of the embedded L1 and the L2 node next to anvil, and latency under a slow
call.

Each server runs in its own process (``rollupkit l1 start``, ``rollupkit node start``, anvil);
clients are ``http.client`` keep-alive connections on threads (not the bottleneck: ``requests``
caps near 2k req/s). Prints, in one run:

* requests/s for eth_blockNumber, eth_getBalance and eth_call (an ERC-20 ``balanceOf``) with
  ``--clients`` concurrent clients, for L1, L2 and anvil, and each one's ratio to anvil;
* the p50/p99 latency of eth_blockNumber on L1 and L2 while another client keeps a slow
  eth_call running (a loop that runs until the call's time limit).

Usage: python benchmarks/rpc_load.py [--seconds 3] [--clients 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).parent))
from node import rpc, start_process

from rollupkit.l1.anvil import Anvil, NodeToolMissing
from rollupkit.l1.devnet import dev_accounts
from rollupkit.node.deploy import deploy_for_chain
from rollupkit.node.l2chain import ChainConfig
from rollupkit.node.node import NodeConfig
from rollupkit.node.settings import dump
from rollupkit.testing.evm import calldata, l2_bridge_alloc
from rollupkit.types import GenesisAccount

TOKEN_CODE = bytes.fromhex("5f5f5260205ff3")  # returns a zero word: a cheap view call
LOOP_CODE = bytes.fromhex("5b600056")  # JUMPDEST PUSH1 0 JUMP: a call that runs to its limit
TOKEN = "0x" + "31" * 20
LOOP = "0x" + "32" * 20


class Client:
    """One keep-alive HTTP connection posting JSON-RPC."""

    def __init__(self, url: str) -> None:
        parts = urlparse(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        self.connection.request("POST", "/", body, {"Content-Type": "application/json"})
        return json.loads(self.connection.getresponse().read())


def throughput(url: str, method: str, params: list[Any], clients: int, seconds: float) -> float:
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        client = Client(url)
        while time.monotonic() < stop:
            answer = client.call(method, *params)
            assert "result" in answer, answer
            counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def latency_under_slow_call(url: str, loop: str, seconds: float) -> tuple[float, float]:
    busy = threading.Event()
    done = threading.Event()

    def slow() -> None:
        client = Client(url)
        while not done.is_set():
            busy.set()
            client.call("eth_call", {"to": loop, "gas": hex(50_000_000)}, "latest")

    thread = threading.Thread(target=slow)
    thread.start()
    busy.wait()
    time.sleep(0.2)
    client, samples = Client(url), []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        started = time.perf_counter()
        client.call("eth_blockNumber")
        samples.append(time.perf_counter() - started)
    done.set()
    thread.join()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    accounts = dev_accounts(3)
    holder = accounts[2].address
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        processes = []
        try:
            l1, l1_url = start_process(["l1", "start", "--port", "0"], "JSON-RPC:", tmp / "l1.log")
            processes.append(l1)
            alloc = {
                bytes.fromhex(holder[2:]): GenesisAccount(balance=10**21),
                bytes.fromhex(TOKEN[2:]): GenesisAccount(code=TOKEN_CODE, nonce=1),
                bytes.fromhex(LOOP[2:]): GenesisAccount(code=LOOP_CODE, nonce=1),
            }
            chain = ChainConfig(chain_id=42_424, alloc={**alloc, **l2_bridge_alloc()})
            settings = deploy_for_chain(
                chain, l1_url, accounts[0], batcher_key=bytes(accounts[1].key)
            )
            config = NodeConfig(tmp / "node", chain, block_time=1.0, rpc_port=0, l1=settings)
            dump(config, tmp / "rollup.toml")
            node, l2_url = start_process(
                ["node", "start", "-c", str(tmp / "rollup.toml")], "L2 JSON-RPC:", tmp / "node.log"
            )
            processes.append(node)
            # The same view and loop contracts on the L1 (and on anvil below).
            l1_token = deploy(l1_url, accounts[0].address, TOKEN_CODE)
            l1_loop = deploy(l1_url, accounts[0].address, LOOP_CODE)
            targets = {
                "L1 (embedded)": (l1_url, l1_token, l1_loop),
                "L2 node": (l2_url, TOKEN, LOOP),
            }
            anvil = None
            try:
                anvil = Anvil()
                targets["anvil"] = (
                    anvil.url,
                    deploy(anvil.url, accounts[0].address, TOKEN_CODE),
                    deploy(anvil.url, accounts[0].address, LOOP_CODE),
                )
            except NodeToolMissing as exc:
                print(f"(anvil not measured: {exc})")
            report(targets, holder, args)
            if anvil is not None:
                anvil.close()
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)


def deploy(url: str, sender: str, runtime: bytes) -> str:
    """Deploy ``runtime`` from a dev account the node signs for; return its address."""
    size = len(runtime)
    init = bytes.fromhex(f"60{size:02x}600c60003960{size:02x}6000f3") + runtime
    tx_hash = rpc(url, "eth_sendTransaction", {"from": sender, "data": "0x" + init.hex()})
    for _ in range(100):
        receipt: Any = rpc(url, "eth_getTransactionReceipt", tx_hash)
        if receipt:
            return str(receipt["contractAddress"])
        time.sleep(0.1)
    raise RuntimeError(f"deployment on {url} was not mined")


def report(targets: dict[str, tuple[str, str, str]], holder: str, args: Any) -> None:
    methods = {
        "eth_blockNumber": lambda token: [],
        "eth_getBalance": lambda token: [holder, "latest"],
        "eth_call": lambda token: [
            {"to": token, "data": "0x" + calldata("balanceOf(address)", holder).hex()},
            "latest",
        ],
    }
    # Rounds interleave the servers, so a slow spell of this noisy machine hits them alike;
    # each figure is the median of its rounds.
    samples: dict[str, dict[str, list[float]]] = {n: {m: [] for m in methods} for n in targets}
    for _ in range(args.rounds):
        for method, params in methods.items():
            for name, (url, token, _) in targets.items():
                rate = throughput(url, method, params(token), args.clients, args.seconds)
                samples[name][method].append(rate)
    rates = {n: {m: statistics.median(r) for m, r in by.items()} for n, by in samples.items()}
    print(
        f"requests/s, {args.clients} keep-alive clients, median of {args.rounds} rounds of "
        f"{args.seconds:g} s"
    )
    names = list(targets)
    print(f"  {'method':18}" + "".join(f"{n:>16}" for n in names) + "   vs anvil (L1, L2)")
    for method in methods:
        row = f"  {method:18}" + "".join(f"{rates[n][method]:16,.0f}" for n in names)
        if "anvil" in rates:
            base = rates["anvil"][method]
            l1, l2 = rates["L1 (embedded)"][method], rates["L2 node"][method]
            row += f"   {l1 / base:.2f}x, {l2 / base:.2f}x"
        print(row)
    print("eth_blockNumber latency while another client runs a slow eth_call (50M-gas loop)")
    for name in ("L1 (embedded)", "L2 node"):
        url, _, loop = targets[name]
        p50, p99 = latency_under_slow_call(url, loop, args.seconds)
        print(f"  {name:18} p50 {p50 * 1e3:7.1f} ms   p99 {p99 * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
