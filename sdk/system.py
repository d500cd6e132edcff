"""The L2 system account: where every block records what it consumed.

At the end of each block the VM writes, at no gas, to the storage of :data:`SYSTEM_ADDRESS`:

* slot :data:`QUEUE_INDEX_SLOT`: the next L1 queue index to consume,
* slot :data:`QUEUE_HASH_SLOT`: the L1 queue's rolling hash up to there,
* slot :data:`BLOCK_INPUT_SLOT`: a commitment to the block's whole input (chain id, context,
  messages and transactions; see :func:`block_commitment`);
* slot :data:`CHAIN_ID_SLOT`: the chain id;
* slot :data:`HEADER_SLOT`: the block's own header commitment, a hash of every header field
  but the state root (:meth:`rollupkit.interfaces.VM.header_commitment`).

Writing these into state makes the post-state root commit to everything a trace says, so a
trace changed anywhere - even in a field that executes to the same balances, like a deposit's
sender or a block's extra data - no longer reaches the claimed post-state root. It also lets
EXECUTE check, against the pre-state alone, that a trace resumes the L1 queue exactly where
the pre-state left it, that it is for the chain the pre-state belongs to (no replaying
transactions signed for another chain), and that its parent header is *the* parent: its
header commitment must be the stored one and its state root the pre-state root, which fixes
every field and so its hash. A forged parent (a bigger gas limit, a zero base fee, another
BLOCKHASH history) is therefore refused by EXECUTE itself, not only by the settlement contract.
The genesis state holds the account already (:func:`genesis_system_account`).
"""

from __future__ import annotations

import rlp
from eth_hash.auto import keccak

from rollupkit.trace import block_fields
from rollupkit.types import BlockInput, GenesisAccount, QueuePosition

SYSTEM_ADDRESS = bytes.fromhex("4200000000000000000000000000000000000001")

QUEUE_INDEX_SLOT = 0
QUEUE_HASH_SLOT = 1
BLOCK_INPUT_SLOT = 2
CHAIN_ID_SLOT = 3
HEADER_SLOT = 4


def block_commitment(chain_id: int, block: BlockInput) -> bytes:
    """``keccak256(rlp([chain_id, block]))`` with the block laid out as in the trace."""
    return keccak(rlp.encode([chain_id, block_fields(block)]))


def system_writes(
    chain_id: int, block: BlockInput, queue_after: QueuePosition, header_commitment: bytes
) -> dict[int, int]:
    """The storage writes the VM makes to the system account at the end of ``block``."""
    return {
        QUEUE_INDEX_SLOT: queue_after.index,
        QUEUE_HASH_SLOT: int.from_bytes(queue_after.rolling_hash, "big"),
        BLOCK_INPUT_SLOT: int.from_bytes(block_commitment(chain_id, block), "big"),
        CHAIN_ID_SLOT: chain_id,
        HEADER_SLOT: int.from_bytes(header_commitment, "big"),
    }


def genesis_system_account(chain_id: int, header_commitment: bytes) -> GenesisAccount:
    """The system account as the genesis state holds it (nonce 1: never "empty")."""
    return GenesisAccount(
        nonce=1,
        storage={CHAIN_ID_SLOT: chain_id, HEADER_SLOT: int.from_bytes(header_commitment, "big")},
    )
