"""L1 bytes and L1 gas per L2 transaction, every L1 transaction of a batch included.

For N = 1, 10, 100, 1,000 ETH transfers (``--senders`` distinct senders, each to its own
recipient) and N ERC-20 transfers (one holder to N recipients), one batch is built and settled
by re-execution on a fresh embedded L1 twice:

* **before**: the batch posted to the inbox as calldata (``calldata`` derivation, zstd), then
  ``submitBatch`` with the uncompressed trace (how rollupkit settled until issue 16);
* **after**: ``submitBatch`` with the compressed trace only (``settlement`` derivation: the
  follower derives from the settlement itself).

Bytes are each L1 transaction's calldata; gas is what its receipt says (the EXECUTE precompile's
charge, at the market's floor price, included). Then what the trace's bytes are spent on.
Usage: python benchmarks/l1_cost.py [--sizes 1,10,100,1000] [--senders 100]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from eth_account import Account as EthAccount
from l1_env import running_l1

from rollupkit.batchcodec import encode_blocks
from rollupkit.builder import BuiltTrace
from rollupkit.chain import DevChain
from rollupkit.examples.contracts import artifact
from rollupkit.examples.evm import l2_bridge_alloc
from rollupkit.gas_market import ExecuteGasConfig
from rollupkit.l1.contracts import RollupContracts, deploy_rollup
from rollupkit.l1.devnet import DevnetConfig
from rollupkit.metering import CallLimits
from rollupkit.trace import encode_trace
from rollupkit.types import GenesisAccount
from rollupkit.wallets import calldata, dev_wallets

CHAIN_ID = 424_242
INBOX = "0x00000000000000000000000000000000000B0C00"
TOKEN = bytes.fromhex("00000000000000000000000000000000000070c1")
#: Token's storage: balanceOf is mapping slot 0 (examples/contracts/Token.sol).
BALANCES_SLOT = 0


@dataclass
class Cost:
    l1_bytes: int = 0
    l1_gas: int = 0
    transactions: int = 0

    def add(self, receipt: Any, data: bytes) -> None:
        self.l1_bytes += len(data)
        self.l1_gas += int(receipt["gasUsed"])
        self.transactions += 1


def _balance_slot(holder: bytes) -> int:
    from eth_abi import encode
    from eth_hash.auto import keccak

    return int.from_bytes(keccak(encode(["address", "uint256"], [holder, BALANCES_SLOT])), "big")


def batch(kind: str, n: int, senders: int) -> tuple[DevChain, list[bytes]]:
    """A chain with the accounts, and N signed transactions of ``kind``."""
    wallets = dev_wallets(min(n, senders) if kind == "eth" else 1, CHAIN_ID)
    alloc = {w.address: GenesisAccount(balance=10**24) for w in wallets}
    alloc.update(l2_bridge_alloc())
    if kind == "erc20":
        holder = wallets[0].address
        alloc[TOKEN] = GenesisAccount(
            code=artifact("Token").deployed_bytecode, nonce=1,
            storage={_balance_slot(holder): 10**30},
        )  # fmt: skip
    chain = DevChain(alloc, chain_id=CHAIN_ID, gas_limit=200_000_000)
    txs = []
    for i in range(n):
        recipient = (0xABC0000 + i).to_bytes(20, "big")
        sender = wallets[i % len(wallets)]
        if kind == "eth":
            txs.append(sender.transfer(recipient, 1 + i))
        else:
            data = calldata("transfer(address,uint256)", recipient, 1 + i)
            txs.append(sender.sign(to=TOKEN, data=data, gas=80_000))
    return chain, txs


def settle_on_fresh_l1(chain: DevChain, built: BuiltTrace, post: bytes | None) -> Cost:
    market = ExecuteGasConfig(target=50_000_000, limit=200_000_000)
    config = DevnetConfig(market=market, gas_limit=400_000_000, calls=CallLimits(timeout=120))
    cost = Cost()
    with running_l1("embedded", config) as l1:
        genesis = chain.vm.decode_header(chain.headers[0])
        contracts: RollupContracts = deploy_rollup(
            l1.w3, l1.accounts[0], l2_chain_id=CHAIN_ID, genesis_state_root=genesis.state_root,
            genesis_block_hash=genesis.hash,
        )  # fmt: skip
        if post is not None:
            account = l1.accounts[0]
            tx = {
                "to": INBOX, "data": post, "value": 0, "chainId": l1.w3.eth.chain_id,
                "nonce": l1.w3.eth.get_transaction_count(account.address),
                "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9,
            }  # fmt: skip
            tx["gas"] = l1.w3.eth.estimate_gas({**tx, "from": account.address})
            raw = EthAccount.sign_transaction(tx, account.key).raw_transaction
            receipt = l1.w3.eth.wait_for_transaction_receipt(l1.w3.eth.send_raw_transaction(raw))
            cost.add(receipt, post)
        receipt = contracts.submit_batch(built.outputs, built.encoded, b"")
        sent = l1.w3.eth.get_transaction(receipt["transactionHash"])
        cost.add(receipt, bytes(sent["input"]))
    return cost


def breakdown(built: BuiltTrace) -> dict[str, int]:
    """What a trace's (uncompressed) bytes are spent on."""
    trace = built.trace
    txs = sum(len(t) for b in trace.blocks for t in b.transactions)
    nodes = sum(len(n) for n in trace.witness.state_nodes)
    codes = sum(len(c) for c in trace.witness.codes)
    headers = sum(len(h) for h in trace.witness.headers)
    total = len(encode_trace(trace))
    return {"transactions": txs, "state nodes": nodes, "codes": codes, "headers": headers,
            "framing": total - txs - nodes - codes - headers, "total": total}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,100,1000")
    parser.add_argument("--senders", type=int, default=100)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[tuple[str, int, Cost, Cost]] = []
    details: list[tuple[str, int, dict[str, int], int]] = []
    for kind in ("eth", "erc20"):
        for n in sizes:
            chain, txs = batch(kind, n, args.senders)
            block = chain.template(txs)
            plain = chain.build([block], commit=False)
            packed = chain.build([block], commit=False, compress=True)
            post = encode_blocks(CHAIN_ID, plain.trace.blocks, "zstd")
            before = settle_on_fresh_l1(chain, plain, post)
            after = settle_on_fresh_l1(chain, packed, None)
            rows.append((kind, n, before, after))
            details.append((kind, n, breakdown(plain), len(packed.encoded)))
            print(f"  {kind} x{n}: done", file=sys.stderr)
    per: Callable[[int, int], str] = lambda total, n: f"{total / n:,.0f}"  # noqa: E731
    print(f"L1 cost per L2 transaction ({args.senders} ETH senders at most; re-execution)")
    print(f"{'batch':>12} | {'before: bytes':>13} {'gas':>8} {'txs':>3} | "
          f"{'after: bytes':>12} {'gas':>8} {'txs':>3} | {'bytes':>6} {'gas':>6}")  # fmt: skip
    for kind, n, before, after in rows:
        print(
            f"{kind + ' x' + str(n):>12} | {per(before.l1_bytes, n):>13} "
            f"{per(before.l1_gas, n):>8} {before.transactions:>3} | "
            f"{per(after.l1_bytes, n):>12} {per(after.l1_gas, n):>8} {after.transactions:>3} | "
            f"{before.l1_bytes / after.l1_bytes:>5.2f}x {before.l1_gas / after.l1_gas:>5.2f}x"
        )
    print("ratio columns: before / after (above 1x: the new way is cheaper)")
    print()
    print("What the trace's bytes are spent on, per L2 transaction (uncompressed), and compressed")
    names = ["transactions", "state nodes", "codes", "headers", "framing", "total"]
    print(f"{'batch':>12} | " + " ".join(f"{n:>12}" for n in names) + f" | {'compressed':>10}")
    for kind, n, parts, compressed in details:
        print(f"{kind + ' x' + str(n):>12} | "
              + " ".join(f"{parts[name] / n:>12,.0f}" for name in names)
              + f" | {compressed / n:>10,.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
