"""The L1 state a booster block's L1CALLs run against, read statelessly from the trace.

A booster block names its L1 block in ``l1_anchor`` (the block's hash). EXECUTE reads that L1
block's header from the trace's witness preimages (the ``codes`` list is a store keyed by
``keccak``, and a header's hash is ``keccak`` of its RLP: the header is authenticated by the
anchor itself), takes its state root, and reads the L1 accounts, storage and code it needs
from the witness's trie nodes (shared with the L2's: both are keyed by hash). A missing node
is a missing witness, and EXECUTE says False, as for the L2's own state.

The builder reads the same through a store that falls back to the L1's database
(:class:`L1Source`), so what the L1 calls read is recorded into the block's witness.

L1 code runs under the seed's limitations, each refused with a documented message (the L2
call fails with ``Error(string)``): no ETH moves on L1 (``msg.value`` is 0 on every L1 frame),
no contract is created on L1 (CREATE, CREATE2), no account is destroyed (SELFDESTRUCT), and
BLOCKHASH is not available (the trace holds one L1 header).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any, Protocol

import rlp
from eth.abc import ComputationAPI, MessageAPI
from eth.exceptions import VMError
from eth.vm.execution_context import ExecutionContext
from eth.vm.forks.prague.state import PragueState
from eth.vm.opcode import as_opcode

from rollupkit.errors import MissingWitnessError
from rollupkit.ethheader import HEADER_CLASS
from rollupkit.ethstate import HexaryNodeStore
from rollupkit.l1updates import INHERITED
from rollupkit.metering import ExecutionMeter
from rollupkit.pyevm_engine import MeteredComputation
from rollupkit_evm.engine import SplitCodeAccountDB, ViewDB

#: The messages an L1 frame refuses with (the L2 call reverts with ``Error(message)``).
NO_ETH = "L1CALL: no ETH can move on L1 (msg.value must be 0)"
NO_CREATE = "L1CALL: contracts cannot be created on L1 (CREATE, CREATE2)"
NO_SELFDESTRUCT = "L1CALL: accounts cannot be destroyed on L1 (SELFDESTRUCT)"
NO_BLOCKHASH = "L1CALL: BLOCKHASH is not available on L1"
#: The most distinct L1 accounts and storage slots one L2 block's L1 calls may read. Each is
#: an ``eth_getProof`` for a node's builder (about 4 ms on the embedded L1): the cap bounds
#: that work per block (to about 2 s), which L1 gas alone would not (30M gas of cold reads
#: would be over 14,000 of them). It is a rule of the VM, so EXECUTE applies it too.
MAX_L1_KEYS_PER_BLOCK = 512
TOO_MANY_L1_KEYS = (
    f"L1CALL: this block's L1 calls read their most L1 state ({MAX_L1_KEYS_PER_BLOCK} accounts "
    "and slots)"
)


class L1Refused(VMError):
    """An L1 frame did what a booster rollup cannot apply to L1."""


def _refuse(computation: ComputationAPI, reason: str) -> None:
    # Noted on the context: the whole L1 call fails with it, even if the L1 code would go on
    # after the frame that did it failed.
    state = computation.state
    if isinstance(state, L1State) and state.refusal is None:
        state.refusal = reason
    raise L1Refused(reason)


def _refuse_selfdestruct(computation: ComputationAPI) -> None:
    _refuse(computation, NO_SELFDESTRUCT)


def _refuse_blockhash(computation: ComputationAPI) -> None:
    _refuse(computation, NO_BLOCKHASH)


def _without_value(opcode: Any) -> Any:
    """``opcode`` (CALL or CALLCODE) refusing a call that sends ETH, before py-evm looks at
    the balance (a call with more value than the balance would fail quietly otherwise)."""

    class WithoutValue(type(opcode)):  # type: ignore[misc]
        def get_call_params(self, computation: ComputationAPI) -> Any:
            params = super().get_call_params(computation)
            if params[1]:  # the value
                _refuse(computation, NO_ETH)
            return params

    return WithoutValue()


class L1Computation(MeteredComputation):
    """Prague on L1 state, metered on the L2 block's meter, with the booster limitations."""

    opcodes = {
        **MeteredComputation.opcodes,
        0xF1: _without_value(MeteredComputation.opcodes[0xF1]),
        0xF2: _without_value(MeteredComputation.opcodes[0xF2]),
        0xFF: as_opcode(_refuse_selfdestruct, "SELFDESTRUCT", 5000),
        0x40: as_opcode(_refuse_blockhash, "BLOCKHASH", 20),
    }

    def apply_child_computation(self, child_msg: MessageAPI) -> ComputationAPI:
        if child_msg.is_create:
            _refuse(self, NO_CREATE)
        if child_msg.value and child_msg.should_transfer_value:
            _refuse(self, NO_ETH)
        return super().apply_child_computation(child_msg)  # type: ignore[no-any-return]


class L1Reader(Protocol):
    """Where a block's builder gets the L1 state its L1 calls read (EXECUTE has it in the
    witness): loads it into the store the builder reads, before it is read. See
    :class:`rollupkit_booster.reader.RpcL1Reader`."""

    def header(self, anchor: bytes) -> None: ...

    def newest(self) -> bytes: ...

    def account(self, anchor: bytes, address: bytes) -> None: ...

    def storage(self, anchor: bytes, address: bytes, slot: int) -> None: ...


class L1AccountDB(SplitCodeAccountDB):
    """The L1 account database, noting every slot written, first write first, with its value
    before the block (what its updates are measured from); in a builder with an
    :class:`L1Reader`, loading each account and slot before it is first read."""

    def __init__(self, db: Any, state_root: Any) -> None:
        # Set before the state reads anything (py-evm's state reads system contracts as it
        # is made): the database carries them (see L1Context).
        self.reader: L1Reader | None = getattr(db, "l1_reader", None)
        self.anchor: bytes = getattr(db, "l1_anchor", b"")
        #: Every account and slot read, and whether MAX_L1_KEYS_PER_BLOCK applies (while L1
        #: calls run: not to what the state reads as it is made, nor to sealing the block).
        self.keys_read: set[tuple[bytes, int | None]] = set()
        self.limited = False
        #: Told why an L1 call must fail (the L1 state's refusal; see _refuse).
        self.refuse: Any = None
        super().__init__(db, state_root)
        self.written: dict[tuple[bytes, int], int] = {}

    def _read(self, address: bytes, slot: int | None) -> None:
        key = (address, slot)
        if key in self.keys_read:
            return
        if self.limited and len(self.keys_read) >= MAX_L1_KEYS_PER_BLOCK:
            if self.refuse is not None:
                self.refuse(TOO_MANY_L1_KEYS)
            raise L1Refused(TOO_MANY_L1_KEYS)
        self.keys_read.add(key)
        if self.reader is not None:
            if slot is None:
                self.reader.account(self.anchor, address)
            else:
                self.reader.storage(self.anchor, address, slot)

    def _get_encoded_account(self, address: Any, from_journal: bool = True) -> bytes:
        self._read(bytes(address), None)
        return super()._get_encoded_account(address, from_journal)

    def get_storage(self, address: Any, slot: int, from_journal: bool = True) -> int:
        self._read(bytes(address), slot)
        return super().get_storage(address, slot, from_journal)

    def set_storage(self, address: Any, slot: int, value: int) -> None:
        key = (bytes(address), slot)
        if key not in self.written:
            self.written[key] = self.get_storage(address, slot, from_journal=False)
        super().set_storage(address, slot, value)


class L1State(PragueState):
    """An L1 state over the trace's (or the L1's) nodes and codes."""

    account_db_class = L1AccountDB
    computation_class = L1Computation
    execution_meter: ExecutionMeter | None = None
    #: Why the L1 call in progress must fail (see :func:`_refuse`), or None.
    refusal: str | None = None


def l1_header(codes: MutableMapping[bytes, bytes], anchor: bytes) -> Any:
    """The L1 header whose hash is ``anchor``, from the witness preimages."""
    try:
        raw = codes[anchor]
    except KeyError:
        raise MissingWitnessError(f"the L1 header of anchor 0x{anchor.hex()}") from None
    try:
        return rlp.decode(bytes(raw), sedes=HEADER_CLASS)
    except Exception as exc:  # noqa: BLE001 - the preimage is not a header: no L1 state
        raise MissingWitnessError(f"the preimage of anchor 0x{anchor.hex()} is not a header: "
                                  f"{exc}") from None  # fmt: skip


class L1Context:
    """The L1 state of one L2 block: opened at its anchor on the first L1 call, changed by
    L1CALLs (kept for the block), and the L1 storage slots they changed."""

    def __init__(
        self, store: HexaryNodeStore, anchor: bytes, l1_chain_id: int, meter: ExecutionMeter,
        *, state_root: bytes | None = None, reader: L1Reader | None = None,
    ) -> None:  # fmt: skip
        """The L1 state at ``anchor``'s block, or at ``state_root`` if given (that block as
        this chain left it: the earlier blocks' writes on top); a builder passes the
        ``reader`` it loads L1 state through."""
        if reader is not None:
            reader.header(anchor)
        header = l1_header(store.code_store, anchor)
        context = ExecutionContext(
            coinbase=header.coinbase, timestamp=header.timestamp, block_number=header.block_number,
            difficulty=0, mix_hash=header.mix_hash, gas_limit=header.gas_limit, prev_hashes=(),
            chain_id=l1_chain_id, base_fee_per_gas=header.base_fee_per_gas,
            excess_blob_gas=getattr(header, "excess_blob_gas", 0),
        )  # fmt: skip
        self.anchor = anchor
        self.anchor_number: int = header.block_number
        self.state_root: bytes = state_root if state_root is not None else header.state_root
        db = ViewDB(store)
        db.l1_reader, db.l1_anchor = reader, anchor  # type: ignore[attr-defined]
        self.state = L1State(db, context, self.state_root)
        self.state.execution_meter = meter
        self._accounts: L1AccountDB = self.state._account_db  # type: ignore[assignment]
        self._accounts.refuse = self._refuse
        self._accounts.limited = True
        #: Slots an upstream rollup changed (an L1 handoff): updates whatever their value.
        self.inherited: dict[tuple[bytes, int], None] = {}

    def inherit(self, slots: Iterable[tuple[bytes, int]]) -> None:
        """Take ``(contract, slot)`` as changed before this block, by an upstream rollup."""
        self.inherited.update((key, None) for key in slots)

    def updates(self) -> Iterator[tuple[bytes, int, int, int]]:
        """``(contract, slot, before, after)`` for every L1 slot whose value the block changed,
        in the order of their first write (a slot written back to its value is none); first
        the inherited slots, with ``before`` :data:`~rollupkit.l1updates.INHERITED`."""
        self._accounts.limited = False  # the block's calls are over
        for address, slot in self.inherited:
            yield address, slot, INHERITED, self.state.get_storage(address, slot)
        for (address, slot), before in self._accounts.written.items():
            if (address, slot) in self.inherited:
                continue
            value = self.state.get_storage(address, slot)
            if value != before:
                yield address, slot, before, value

    def _refuse(self, reason: str) -> None:
        if self.state.refusal is None:
            self.state.refusal = reason

    def commit(self) -> bytes:
        """Write the L1 state's changes into the node store; its new root."""
        self._accounts.limited = False
        self.state.persist()
        return bytes(self.state.state_root)
