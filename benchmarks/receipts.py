"""eth_getTransactionReceipt on the L2 node: the time of one lookup next to the size of the
transaction's block (it was linear in it: every lookup decoded the whole block's transactions
and receipts). Builds blocks of 1, 100 and 1,000 transfers on an in-process node and times
lookups through the JSON-RPC dispatcher (no HTTP), medians of all of a block's transactions.

Usage: python benchmarks/receipts.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from node_env import chain_config

from rollupkit.node import mempool
from rollupkit.node.node import Node, NodeConfig
from rollupkit.testing.wallets import dev_wallets


def main() -> None:
    mempool.MAX_PENDING_PER_SENDER = 10_000  # one sender fills a block
    sizes = (1, 100, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        node = Node(NodeConfig(Path(tmp), chain_config(), block_time=3600)).start(background=False)
        try:
            wallet = dev_wallets(1, 42_424)[0]
            nonce, blocks = 0, {}
            for size in sizes:
                hashes = []
                for _ in range(size):
                    raw = wallet.transfer(b"\x42" * 20, 1, nonce=nonce)
                    hashes.append(node.backend.send_raw_transaction(raw))
                    nonce += 1
                node.produce_block()
                blocks[size] = hashes
            print("eth_getTransactionReceipt, in process, median of each block's transactions")
            base = None
            for size, hashes in blocks.items():
                seconds = []
                for tx_hash in hashes * 2:  # the first round warms the caches
                    body = _request("eth_getTransactionReceipt", "0x" + tx_hash.hex())
                    started = time.perf_counter()
                    answer = node.server.handle_payload(body)
                    seconds.append(time.perf_counter() - started)
                    assert answer["result"]["transactionHash"] == "0x" + tx_hash.hex()
                median = statistics.median(seconds[len(hashes) :])
                base = base or median
                print(f"  block of {size:5,} txs: {median * 1e6:5.0f} us {median / base:5.2f}x")
        finally:
            node.stop()


def _request(method: str, *params: object) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()


if __name__ == "__main__":
    main()
