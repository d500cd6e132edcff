"""rollupkit's ``settlement`` derivation: no batch posting; the settlement transaction's trace
is the data followers derive from.

With re-execution (``reexec``) the settlement already carries the whole trace in calldata,
because L1 must re-execute it: its blocks, transactions and L1 messages. Posting the same
blocks again to an inbox would put every transaction on L1 twice. A chain with this
derivation posts nothing but its settlements; a follower takes the blocks from each settled
batch's trace (``NativeRollup.submitBatch``'s ``trace`` argument), checks that their L1
messages are the queue's, and builds them. Only a proof backend whose settlement carries the
trace can use it (its ``ProofBackend.check_setup`` takes the ``settlement`` carrier); the
others keep a separate batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from rollupkit.errors import TraceError
from rollupkit.interfaces import Derivation
from rollupkit.plugins import hookimpl
from rollupkit.trace import decode_trace
from rollupkit.types import BlockInput, L1Message


class SettlementDerivation(Derivation):
    """Blocks from the settled traces themselves: nothing posted apart."""

    description = "no batch posting: followers derive from the settlement's trace (reexec)"
    carrier = "settlement"

    def encode_batch(
        self, chain_id: int, blocks: Sequence[BlockInput], *, compression: str = "none"
    ) -> list[bytes]:
        return []  # the settlement carries them

    def decode_batch(
        self, chain_id: int, payloads: Sequence[bytes], message_at: Callable[[int], L1Message]
    ) -> list[BlockInput]:
        """The blocks of one settlement's trace (``payloads``: that trace), their L1 messages
        checked against the queue."""
        if len(payloads) != 1:
            raise TraceError(f"a settlement carries one trace, got {len(payloads)} payloads")
        trace = decode_trace(payloads[0])
        if trace.chain_id != chain_id:
            raise TraceError("the settled trace is for another chain")
        consumed = itertools.chain.from_iterable(block.l1_messages for block in trace.blocks)
        for message in consumed:
            try:
                queued = message_at(message.index)
            except (KeyError, IndexError) as exc:
                raise TraceError(f"L1 message {message.index} is not queued") from exc
            if queued != message:
                raise TraceError(f"the settled L1 message {message.index} is not the queue's")
        return list(trace.blocks)


@hookimpl
def rollupkit_register_derivations() -> list[tuple[str, type[Derivation]]]:
    return [("settlement", SettlementDerivation)]
