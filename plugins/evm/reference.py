"""py-evm's own full-state chain, configured to match a rollupkit EVM chain.

Used to cross-check rollupkit (the same blocks must give the same roots and hashes) and as the
full-state baseline that benchmarks compare EXECUTE with. The one addition to stock py-evm is
rollupkit's end-of-block write to the system account (``rollupkit.system``), made with
py-evm's own state API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from eth.abc import SignedTransactionAPI
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB

from rollupkit import messages as queue
from rollupkit.ethheader import header_commitment, header_params
from rollupkit.system import SYSTEM_ADDRESS, system_writes
from rollupkit.types import BlockInput, GenesisAccount, QueuePosition
from rollupkit_evm.engine import BASE_VM


class ReferenceVM(BASE_VM):
    """Stock py-evm plus rollupkit's system-account write before sealing."""

    pending_writes: ClassVar[Callable[[bytes], Mapping[int, int]]] = staticmethod(lambda _: {})

    def finalize_block(self, block: Any) -> Any:
        for slot, value in self.pending_writes(header_commitment(block.header)).items():
            self.state.set_storage(SYSTEM_ADDRESS, slot, value)
        if self.state.get_nonce(SYSTEM_ADDRESS) == 0:
            self.state.set_nonce(SYSTEM_ADDRESS, 1)
        self.state.lock_changes()
        return super().finalize_block(block)


class ReferenceChain:
    """A py-evm ``MiningChain`` on its own ``AtomicDB``, fed rollupkit block inputs."""

    def __init__(
        self,
        alloc: Mapping[bytes, GenesisAccount],
        *,
        chain_id: int,
        gas_limit: int,
        timestamp: int,
        base_fee: int,
    ) -> None:
        self.chain_id = chain_id
        genesis_state = {
            address: {
                "balance": a.balance,
                "nonce": a.nonce,
                "code": a.code,
                "storage": dict(a.storage),
            }
            for address, a in alloc.items()
        }
        chain_class = MiningChain.configure(vm_configuration=((0, ReferenceVM),), chain_id=chain_id)
        params = {
            "difficulty": 0,
            "gas_limit": gas_limit,
            "timestamp": timestamp,
            "base_fee_per_gas": base_fee,
            "nonce": b"\x00" * 8,
        }
        self.chain = chain_class.from_genesis(AtomicDB(), params, genesis_state)
        self.queue_position = QueuePosition()

    def mine(self, block: BlockInput, transactions: Sequence[SignedTransactionAPI]) -> Any:
        """Mine ``block`` (its context, and ``transactions`` decoded from it) with
        ``mine_all`` on the full state; return py-evm's imported block header."""
        position = queue.consume(self.queue_position, block.l1_messages)
        ReferenceVM.pending_writes = staticmethod(  # type: ignore[assignment]
            lambda commitment: system_writes(self.chain_id, block, position, commitment)
        )
        parent = self.chain.get_canonical_head()
        self.chain.header = self.chain.create_header_from_parent(parent, **header_params(block))
        imported, _, _ = self.chain.mine_all(list(transactions))
        self.queue_position = position
        return imported.imported_block.header
