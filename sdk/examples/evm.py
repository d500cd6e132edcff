"""EVM scenarios built from the example contracts: used by tests, benchmarks and the demo.

``calldata`` is :func:`rollupkit.wallets.calldata`, kept here for existing imports."""

from __future__ import annotations

__all__ = ["EvmScenario", "calldata", "l2_bridge_alloc"]

from dataclasses import dataclass, field

from eth_abi import encode

from rollupkit.builder import BuiltTrace
from rollupkit.chain import DEFAULT_CHAIN_ID, DEFAULT_GAS_LIMIT, DevChain
from rollupkit.examples.contracts import artifact
from rollupkit.types import GenesisAccount
from rollupkit.wallets import Wallet, calldata, dev_wallets
from rollupkit.withdrawals import L2_BRIDGE_ADDRESS


def l2_bridge_alloc() -> dict[bytes, GenesisAccount]:
    """A genesis entry predeploying the L2 bridge (withdrawals) at its fixed address: the
    ``evm`` VM's predeploys."""
    from rollupkit_evm import EvmVM

    return dict(EvmVM().predeploys(DEFAULT_CHAIN_ID))


@dataclass
class EvmScenario:
    """A chain with funded wallets, the bridge predeployed, and Token and Store deployed."""

    chain: DevChain
    wallets: list[Wallet]
    token: bytes = b""
    store: bytes = b""
    setup: list[BuiltTrace] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        wallets: int = 10,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        vm: str = "evm",
        state: str = "mpt",
    ) -> EvmScenario:
        """Genesis, then one block deploying Token (supply to wallet 0) and Store."""
        keys = dev_wallets(wallets, chain_id)
        alloc = {w.address: GenesisAccount(balance=10**24) for w in keys}
        alloc.update(l2_bridge_alloc())
        chain = DevChain(alloc, vm=vm, state=state, chain_id=chain_id, gas_limit=gas_limit)
        scenario = cls(chain, keys)
        deployer = keys[0]
        token_tx, scenario.token = deployer.create(
            artifact("Token").bytecode + encode(["uint256"], [10**30])
        )
        store_tx, scenario.store = deployer.create(artifact("Store").bytecode)
        scenario.setup.append(chain.build(transactions=[token_tx, store_tx]))
        return scenario

    def token_transfer(self, sender: Wallet, to: bytes, amount: int) -> bytes:
        """A signed Token.transfer call."""
        return sender.sign(
            to=self.token, data=calldata("transfer(address,uint256)", to, amount), gas=80_000
        )

    def store_call(
        self, sender: Wallet, signature: str, *args: object, gas: int = 200_000
    ) -> bytes:
        """A signed call to the Store contract."""
        return sender.sign(to=self.store, data=calldata(signature, *args), gas=gas)

    def withdraw(self, sender: Wallet, target: bytes, value: int) -> bytes:
        """A signed L2Bridge.withdraw(target, "") sending ``value``."""
        return sender.sign(
            to=L2_BRIDGE_ADDRESS,
            value=value,
            data=calldata("withdraw(address,bytes)", target, b""),
            gas=120_000,
        )
