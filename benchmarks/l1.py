"""The L1 side: gas and calldata to settle batches with EXECUTE, and JSON-RPC throughput.

Prints, on the embedded devnet (py-evm + EXECUTE precompile):

* L1 gas of ``submitBatch`` (NativeRollup + ExecuteVerifier + EXECUTE) for a batch of one
  transfer and one deposit, and for a batch of 100 transfers;
* calldata bytes per L2 transaction, and the EXECUTE input size for the one-transfer batch
  (a public prototype needed 7,648 bytes for one transfer plus one deposit);
* JSON-RPC requests/s for eth_blockNumber and eth_call (ERC-20 balanceOf) over keep-alive
  HTTP, measured side by side with anvil in the same run when anvil is installed.

Usage: python benchmarks/l1.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import requests
from web3 import Web3

from rollupkit.l1.anvil import Anvil, NodeToolMissing
from rollupkit.l1.contracts import deploy_rollup
from rollupkit.l1.node import start_devnet
from rollupkit.l1.precompile import encode_input
from rollupkit.testing.contracts import artifact
from rollupkit.testing.evm import EvmScenario, calldata

PROTOTYPE_BYTES = 7_648


def settle_figures(url: str, devnet: Any) -> None:
    w3 = Web3(Web3.HTTPProvider(url))
    l2 = EvmScenario.create(wallets=60)
    genesis = l2.chain.vm.decode_header(l2.chain.headers[0])
    contracts = deploy_rollup(
        w3,
        devnet.accounts[0],
        l2_chain_id=l2.chain.chain_id,
        genesis_state_root=genesis.state_root,
        genesis_block_hash=genesis.hash,
    )
    contracts.submit_batch(l2.setup[0].outputs, l2.setup[0].encoded)
    w = l2.wallets

    message = contracts.deposit(w[59].address, 10**18)
    l2.chain.enqueue(message)
    small = l2.chain.build(transactions=[w[1].transfer(w[2].address, 1)])
    receipt = contracts.submit_batch(small.outputs, small.encoded)
    tx = w3.eth.get_transaction(receipt["transactionHash"])
    execute_input = encode_input(
        small.pre_state_root, small.post_state_root, small.gas_used, small.encoded
    )
    print("batch: 1 transfer + 1 deposit")
    print(f"  L1 gas of submitBatch          {receipt['gasUsed']:>10,}")
    print(f"  submitBatch calldata           {len(tx['input']):>10,} bytes")
    print(
        f"  EXECUTE input                  {len(execute_input):>10,} bytes "
        f"({len(execute_input) / PROTOTYPE_BYTES:.2f}x the prototype's {PROTOTYPE_BYTES:,})"
    )
    print(f"    of which witness             {small.trace.witness.size():>10,} bytes")

    txs = [w[1 + i % 58].transfer(w[1 + (i * 7 + 3) % 58].address, 10**12) for i in range(100)]
    big = l2.chain.build(transactions=txs)
    receipt = contracts.submit_batch(big.outputs, big.encoded)
    tx = w3.eth.get_transaction(receipt["transactionHash"])
    print("batch: 100 transfers")
    print(
        f"  L1 gas of submitBatch          {receipt['gasUsed']:>10,} "
        f"({receipt['gasUsed'] // 100:,} per L2 transaction)"
    )
    print(
        f"  calldata                       {len(tx['input']):>10,} bytes "
        f"({len(tx['input']) / 100:,.0f} per L2 transaction; signed txs alone "
        f"{sum(len(t) for t in txs) / 100:.0f})"
    )
    print(f"    of which witness             {big.trace.witness.size():>10,} bytes")
    market = devnet.market
    print(
        f"  EXECUTE price now              {market.price / 1e9:.4f} L1 gas per L2 gas "
        f"(fixed cost {market.config.fixed_cost:,})"
    )


def rpc_rate(url: str, payload: dict[str, Any], count: int) -> float:
    session = requests.Session()
    body = json.dumps(payload)
    headers = {"Content-Type": "application/json"}
    session.post(url, data=body, headers=headers).raise_for_status()  # warm up
    started = time.perf_counter()
    for _ in range(count):
        answer = session.post(url, data=body, headers=headers)
        if "result" not in answer.json():
            raise RuntimeError(answer.text)
    return count / (time.perf_counter() - started)


def deploy_token(url: str, account: Any) -> str:
    w3 = Web3(Web3.HTTPProvider(url))
    token = artifact("Token")
    contract = w3.eth.contract(abi=token.abi, bytecode=token.bytecode)
    tx = contract.constructor(10**24).build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)}
    )
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    return str(w3.eth.wait_for_transaction_receipt(tx_hash)["contractAddress"])


def rpc_figures(urls: dict[str, str], account: Any, count: int) -> None:
    print(f"JSON-RPC requests/s ({count} sequential requests, keep-alive HTTP)")
    rates: dict[str, dict[str, float]] = {}
    for name, url in urls.items():
        token = deploy_token(url, account)
        data = "0x" + calldata("balanceOf(address)", bytes.fromhex(account.address[2:])).hex()
        rates[name] = {
            "eth_blockNumber": rpc_rate(
                url, {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}, count
            ),
            "eth_call": rpc_rate(
                url,
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "eth_call",
                    "params": [{"to": token, "data": data}, "latest"],
                },
                count // 4,
            ),
        }
    header = "".join(f"{name:>14}" for name in urls)
    print(f"  {'method':<18}{header}" + ("   embedded/anvil" if len(urls) > 1 else ""))
    for method in ("eth_blockNumber", "eth_call"):
        row = "".join(f"{rates[name][method]:>14,.0f}" for name in urls)
        ratio = (
            f"{rates['embedded'][method] / rates['anvil'][method]:>17.2f}" if len(urls) > 1 else ""
        )
        print(f"  {method:<18}{row}{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with start_devnet() as running:
        settle_figures(running.url, running.devnet)
        urls = {"embedded": running.url}
        try:
            anvil = Anvil()
        except NodeToolMissing:
            anvil = None
            print("(anvil not installed: run npm install to compare with it)")
        try:
            if anvil is not None:
                urls["anvil"] = anvil.url
            rpc_figures(urls, running.devnet.accounts[1], args.requests)
        finally:
            if anvil is not None:
                anvil.close()


if __name__ == "__main__":
    main()
