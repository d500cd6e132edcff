"""eth_createAccessList on the L1 and the L2: the accounts and slots a call touches, without
its sender, its target and the precompiles (as geth answers), and the gas with that list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from node_env import chain_config
from rpc_env import call

from rollupkit.l1.node import start_devnet
from rollupkit.node.node import Node, NodeConfig
from rollupkit.testing.wallets import dev_wallets
from rollupkit.types import GenesisAccount

OTHER = b"\x66" * 20
INNER_CODE = bytes.fromhex("60035400")  # SLOAD(3), STOP


def probe_code(inner: bytes) -> bytes:
    """SLOAD(7); BALANCE(OTHER); ECRECOVER's address touched; CALL(inner)."""
    return bytes.fromhex(
        "6007545073" + OTHER.hex() + "3150"  # sload 7, balance(OTHER)
        "60013b50"  # extcodesize(0x01): a precompile
        "5f5f5f5f5f73" + inner.hex() + "5af15000"  # call(gas, inner, 0, 0, 0, 0, 0), stop
    )


def _deploy(url: str, sender: str, runtime: bytes) -> str:
    init = bytes.fromhex(f"60{len(runtime):02x}600c60003960{len(runtime):02x}6000f3") + runtime
    tx = call(url, "eth_sendTransaction", {"from": sender, "data": "0x" + init.hex()})["result"]
    return str(call(url, "eth_getTransactionReceipt", tx)["result"]["contractAddress"])


@pytest.fixture(params=["l1", "l2"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str, str]]:
    """(URL, sender, probe, inner)."""
    if request.param == "l2":
        inner, probe = b"\x51" * 20, b"\x52" * 20
        chain = chain_config()
        alloc = {
            **chain.alloc,
            inner: GenesisAccount(code=INNER_CODE, nonce=1),
            probe: GenesisAccount(code=probe_code(inner), nonce=1),
        }
        sender = "0x" + dev_wallets(1, chain.chain_id)[0].address.hex()
        with Node(NodeConfig(tmp_path, replace(chain, alloc=alloc))) as node:
            yield node.url, sender, "0x" + probe.hex(), "0x" + inner.hex()
        return
    with start_devnet() as running:
        sender = running.devnet.accounts[0].address
        inner_address = _deploy(running.url, sender, INNER_CODE)
        probe = _deploy(running.url, sender, probe_code(bytes.fromhex(inner_address[2:])))
        yield running.url, sender, probe, inner_address


def test_the_access_list_names_what_the_call_touches(target: tuple[str, str, str, str]) -> None:
    url, sender, probe, inner = target
    answer = call(url, "eth_createAccessList", {"from": sender, "to": probe}, "latest")["result"]
    listed = {entry["address"].lower(): entry["storageKeys"] for entry in answer["accessList"]}
    assert listed == {
        "0x" + OTHER.hex(): [],
        inner.lower(): ["0x" + "00" * 31 + "03"],
    }  # not the sender, not the probe (its slot 7 neither), not the precompile
    # Paid for up front (2,400 an account, 1,900 a slot), then found warm.
    assert int(answer["gasUsed"], 16) > 21_000 + 2 * 2_400 + 1_900
    assert "error" not in answer
    failing = call(url, "eth_createAccessList", {"from": sender, "to": probe, "gas": "0x5300"})
    assert "error" in failing["result"]  # out of gas, said, with what it touched so far
