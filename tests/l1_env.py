"""Test support: an L1 (embedded devnet or anvil) with a freshly deployed rollup, and an L2
chain whose genesis that rollup starts from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from web3 import Web3

from rollupkit.builder import BuiltTrace
from rollupkit.l1.anvil import Anvil
from rollupkit.l1.contracts import RollupContracts, attest_batch, deploy_rollup
from rollupkit.l1.devnet import DevnetConfig, dev_accounts
from rollupkit.l1.node import start_devnet
from rollupkit.testing.evm import EvmScenario
from rollupkit.testing.wallets import dev_wallets

ATTESTER_KEYS = [w.private_key for w in dev_wallets(3, 1, offset=5000)]
ATTESTERS = [w.checksum_address for w in dev_wallets(3, 1, offset=5000)]


@dataclass
class L1:
    """A running L1 and how to reach it."""

    kind: str  # "embedded" or "anvil"
    url: str
    w3: Web3
    accounts: list[Any]
    devnet: Any = None  # the Devnet object when embedded

    @property
    def verifier(self) -> str:
        return "reexec" if self.kind == "embedded" else "multiclient"

    def advance(self, seconds: int) -> None:
        """Move L1 time forward and mine a block."""
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@contextmanager
def running_l1(kind: str, config: DevnetConfig | None = None) -> Iterator[L1]:
    if kind == "embedded":
        with start_devnet(config) as run:
            w3 = Web3(Web3.HTTPProvider(run.url))
            yield L1(kind, run.url, w3, run.devnet.accounts, run.devnet)
    else:
        with Anvil() as anvil:
            w3 = Web3(Web3.HTTPProvider(anvil.url))
            yield L1(kind, anvil.url, w3, dev_accounts(10))


@dataclass
class Rollup:
    """An L2 chain and its contracts on an L1."""

    l1: L1
    l2: EvmScenario
    contracts: RollupContracts

    def evidence(self, built: BuiltTrace, keys: list[bytes] | None = None) -> bytes:
        """What the verifier needs: nothing for EXECUTE, k-of-n signatures for attestation."""
        if self.l1.verifier == "reexec":
            return b""
        return attest_batch(
            keys if keys is not None else ATTESTER_KEYS[:2],
            l1_chain_id=self.l1.w3.eth.chain_id,
            verifier=self.contracts.deployment.verifier,
            pre_state_root=built.pre_state_root,
            post_state_root=built.post_state_root,
            trace=built.encoded,
            gas_used=built.gas_used,
            claimed=built.outputs,
        )

    def settle(self, built: BuiltTrace, **kwargs: Any) -> Any:
        return self.contracts.submit_batch(
            built.outputs, built.encoded, self.evidence(built), **kwargs
        )

    def sync_queue(self) -> None:
        """Feed L1 messages the L2 chain has not seen yet into it."""
        for message in self.contracts.queued_messages(len(self.l2.chain.l1_queue)):
            self.l2.chain.enqueue(message)


def deploy(
    l1: L1, *, finality_delay: int = 0, inclusion_deadline: int = 3600, account_index: int = 0
) -> Rollup:
    scenario = EvmScenario.create(wallets=6)
    genesis = scenario.chain.vm.decode_header(scenario.chain.headers[0])
    contracts = deploy_rollup(
        l1.w3,
        l1.accounts[account_index],
        l2_chain_id=scenario.chain.chain_id,
        genesis_state_root=genesis.state_root,
        genesis_block_hash=genesis.hash,
        proof=l1.verifier,
        proof_options={"attesters": ATTESTERS, "threshold": 2} if l1.verifier != "reexec" else {},
        finality_delay=finality_delay,
        inclusion_deadline=inclusion_deadline,
    )
    rollup = Rollup(l1, scenario, contracts)
    rollup.settle(scenario.setup[0])
    return rollup


def with_outputs(built: BuiltTrace, **changes: Any) -> BuiltTrace:
    """The same trace claiming different public outputs."""
    return replace(built, outputs=replace(built.outputs, **changes))
