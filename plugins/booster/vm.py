"""The ``booster`` VM: the EVM with L1CALL, L1SANDBOXCALL and L1DELEGATECALL (seed 000).

Each precompile takes ``abi.encode(address target, bytes data)`` and answers the call's return
data (a call that reverts reverts the L2 call with the same data):

* ``L1CALL`` (:data:`L1CALL_ADDRESS`): calls ``target`` on L1 with ``data``, against the L1
  state of the L2 block's anchor (``l1_anchor``: an L1 block hash). ``msg.sender`` on L1 is
  the L2 contract (or account) that called the precompile. Writes to L1 storage are kept for
  the rest of the L2 block: a later L1CALL in the block sees them. They are undone with the
  L2 frame that made them, like any state change.
* ``L1SANDBOXCALL`` (:data:`L1SANDBOXCALL_ADDRESS`): the same, but the call's L1 changes are
  reverted when it returns.
* ``L1DELEGATECALL`` (:data:`L1DELEGATECALL_ADDRESS`): runs ``target``'s *L1 code* in the
  calling L2 contract's context: its storage, its balance, its address; ``msg.sender`` is the
  calling contract and ``msg.value`` 0.

Gas: :data:`BASE_GAS` plus whatever the L1 (or delegated) execution uses, from the gas the
precompile was given; the L1 execution is metered by EXECUTE like the L2's. The limitations
of :mod:`rollupkit_booster.l1` apply to L1 frames (no ETH, no CREATE, no SELFDESTRUCT, no
BLOCKHASH); a call that breaks one reverts with ``Error(reason)``, and so does a call sending
ETH to a precompile, or one whose input does not decode.

Chained rollups (seed 000): an *L1 handoff* is an L1 message from and to the booster account
(:data:`BOOSTER_CONFIG_ADDRESS`; only the settlement contract can queue one, as
``NativeRollup.receiveL1``) whose data is ``abi.encode(bytes32 anchor, bytes32 l1_root, bytes
updates)``: the L1 state an upstream rollup left at that anchor, and ``abi.encode(contracts,
changes)`` of the slots it changed. The block consuming it must be anchored there; its L1
calls read from ``l1_root``, and its L1 updates include the upstream's slots (at their values
then), so this chain's batch applies both rollups' changes to L1 at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from eth.abc import ComputationAPI
from eth.exceptions import Revert
from eth.vm.message import Message
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode

from rollupkit.errors import InvalidBlockError, MissingWitnessError
from rollupkit.ethstate import HexaryNodeStore
from rollupkit.interfaces import AncestorHashes, StateModel, StateView
from rollupkit.l1updates import UPDATES_TYPES
from rollupkit.metering import UNLIMITED, ExecutionMeter
from rollupkit.types import (
    ZERO_HASH,
    BlockInput,
    BlockResult,
    GenesisAccount,
    L1Effects,
    L1Message,
)
from rollupkit_booster.l1 import NO_ETH, L1Computation, L1Context, L1Reader, L1Refused
from rollupkit_booster.reader import RpcL1Reader
from rollupkit_evm.engine import RollupComputation, RollupEVM, RollupState
from rollupkit_evm.vm import EvmBlockExecution, EvmVM, _engine_errors

L1CALL_ADDRESS = bytes.fromhex("000000000000000000000000000000000000b001")
L1SANDBOXCALL_ADDRESS = bytes.fromhex("000000000000000000000000000000000000b002")
L1DELEGATECALL_ADDRESS = bytes.fromhex("000000000000000000000000000000000000b003")
#: The booster's account on L2. Slot 0: the L1's chain id (what CHAINID answers on L1), set at
#: genesis. Slots 1 and 2, written by every block that touched L1: the L1 block it read at
#: (its hash) and the L1 state root after its writes, where the next block reading at the same
#: L1 block goes on from (the L1 as this chain sees it: that block with the chain's updates).
BOOSTER_CONFIG_ADDRESS = bytes.fromhex("000000000000000000000000000000000000b000")
L1_CHAIN_ID_SLOT, ANCHOR_SLOT, L1_ROOT_SLOT = 0, 1, 2
#: What every call of the three precompiles costs before the execution it runs.
BASE_GAS = 2_600

_BAD_INPUT = "L1CALL: the input is abi.encode(address target, bytes data)"
_NO_ANCHOR = "L1CALL: this block has no L1 anchor (l1_anchor is zero)"
_NO_L1 = "L1CALL: no L1 state here (blocks have it, and a node's calls; this call has no L1)"


def _error(reason: str) -> bytes:
    """``Error(string)``, as Solidity's ``revert("...")`` encodes it."""
    return bytes.fromhex("08c379a0") + abi_encode(["string"], [reason])


def _revert(computation: ComputationAPI, output: bytes) -> None:
    computation.output = output
    raise Revert(output)


def _decode(computation: ComputationAPI) -> tuple[bytes, bytes]:
    if computation.msg.value:
        _revert(computation, _error(NO_ETH))
    try:
        target, data = abi_decode(["address", "bytes"], bytes(computation.msg.data_as_bytes))
    except Exception:  # noqa: BLE001 - any malformed input is the same refusal
        _revert(computation, _error(_BAD_INPUT))
    return bytes.fromhex(target[2:]), bytes(data)


def _l1(computation: ComputationAPI) -> L1Context:
    state = computation.state
    if not isinstance(state, BoosterState) or state.l1_opener is None:
        _revert(computation, _error(_NO_L1))
    assert isinstance(state, BoosterState)
    return state.l1_context(lambda: _revert(computation, _error(_NO_ANCHOR)))


def _take_gas(computation: ComputationAPI) -> int:
    """Charge the base cost, then hand all that is left to the call (given back after)."""
    computation.consume_gas(BASE_GAS, reason="booster precompile")
    gas = computation.get_gas_remaining()
    computation.consume_gas(gas, reason="booster call")
    return gas


def _give_back(computation: ComputationAPI, child: ComputationAPI) -> None:
    """Return a finished call's leftover gas (on the meter as a child frame's would be)."""
    leftover = child.get_gas_remaining()
    meter = getattr(computation.state, "execution_meter", None)
    if meter is not None:  # as MeteredComputation.apply_child_computation does
        meter.running += leftover
    computation.return_gas(leftover)


def _call_l1(computation: ComputationAPI, *, sandbox: bool) -> ComputationAPI:
    target, data = _decode(computation)
    l1 = _l1(computation).state
    gas = _take_gas(computation)
    snapshot = l1.snapshot()
    l1.refusal = None
    message = Message(
        gas=gas, to=target, sender=computation.msg.sender, value=0, data=data,
        code=l1.get_code(target), code_address=target, depth=computation.msg.depth + 1,
        is_static=computation.msg.is_static,
    )  # fmt: skip
    child = L1Computation.apply_message(l1, message, computation.transaction_context)
    _give_back(computation, child)
    refusal, l1.refusal = l1.refusal, None
    if sandbox or refusal is not None or child.is_error:
        l1.revert(snapshot)
    else:
        l1.commit(snapshot)
    if refusal is not None:
        _revert(computation, _error(refusal))
    if child.is_error:
        _revert(computation, bytes(child.output))
    computation.output = bytes(child.output)
    return computation


def l1_call(computation: ComputationAPI) -> ComputationAPI:
    return _call_l1(computation, sandbox=False)


def l1_sandbox_call(computation: ComputationAPI) -> ComputationAPI:
    return _call_l1(computation, sandbox=True)


def l1_delegate_call(computation: ComputationAPI) -> ComputationAPI:
    target, data = _decode(computation)
    try:
        code = _l1(computation).state.get_code(target)
    except L1Refused as exc:
        _revert(computation, _error(str(exc)))
    gas = _take_gas(computation)
    caller = computation.msg.sender
    message = Message(
        gas=gas, to=caller, sender=caller, value=0, data=data, code=code, code_address=target,
        depth=computation.msg.depth + 1, should_transfer_value=False,
        is_static=computation.msg.is_static,
    )  # fmt: skip
    child = computation.apply_child_computation(message)
    computation.return_gas(child.get_gas_remaining())
    if child.is_error:
        _revert(computation, bytes(child.output))
    computation.output = bytes(child.output)
    return computation


class BoosterComputation(RollupComputation):
    """The L2's computation, with the three booster precompiles."""

    _precompiles = {
        **RollupComputation._precompiles,
        L1CALL_ADDRESS: l1_call,
        L1SANDBOXCALL_ADDRESS: l1_sandbox_call,
        L1DELEGATECALL_ADDRESS: l1_delegate_call,
    }


class BoosterState(RollupState):
    """The L2 state, with the block's L1 context (opened on the first L1 call) kept in step:
    a snapshot covers both, so an L2 frame that reverts undoes its L1 writes too."""

    computation_class = BoosterComputation
    #: Opens the block's L1 context (set by the block execution; None for calls).
    l1_opener: Callable[[], L1Context] | None = None
    _l1: L1Context | None = None
    _l1_start: Any = None  # the L1 snapshot taken when it was opened

    def l1_context(self, no_anchor: Callable[[], None]) -> L1Context:
        if self._l1 is None:
            assert self.l1_opener is not None
            self._l1 = self.l1_opener()
            if self._l1 is None:
                no_anchor()
            assert self._l1 is not None
            self._l1_start = self._l1.state.snapshot()
        return self._l1

    @property
    def l1(self) -> L1Context | None:
        """The block's L1 context, if an L1 call opened it."""
        return self._l1

    def snapshot(self) -> Any:
        l1 = self._l1
        return (super().snapshot(), l1.state.snapshot() if l1 is not None else None)

    def revert(self, snapshot: Any) -> None:
        inner, l1_snapshot = snapshot
        super().revert(inner)
        if self._l1 is not None:
            # Taken before the L1 context was opened: undo all of it since.
            self._l1.state.revert(l1_snapshot if l1_snapshot is not None else self._l1_start)

    def commit(self, snapshot: Any) -> None:
        inner, l1_snapshot = snapshot
        super().commit(inner)
        if self._l1 is not None and l1_snapshot is not None:
            self._l1.state.commit(l1_snapshot)

    def lock_changes(self) -> None:
        super().lock_changes()
        if self._l1 is not None:
            self._l1.state.lock_changes()
            self._l1_start = self._l1.state.snapshot()


class BoosterEVM(RollupEVM):
    _state_class = BoosterState


class BoosterVM(EvmVM):
    """The EVM of a booster rollup: L1CALL, L1SANDBOXCALL, L1DELEGATECALL (see the module)."""

    description = "EVM with L1CALL, L1SANDBOXCALL and L1DELEGATECALL (booster rollups)"
    evm_class = BoosterEVM
    reads_l1 = True
    #: A builder's source of L1 state (a node sets it; EXECUTE reads L1 from the witness).
    l1_reader: L1Reader | None = None

    def _call_state(self, state: StateView, chain_id: int, parent_header: bytes) -> Any:
        """A call's state: with a builder's L1 reader, L1 calls run on the L1 as the chain
        sees it (its last anchor and its writes there), or at L1's newest block before the
        chain read L1 at all; their writes are undone with the call's."""
        evm_state = super()._call_state(state, chain_id, parent_header)
        store, reader = state.capability(HexaryNodeStore), self.l1_reader
        if not isinstance(evm_state, BoosterState) or store is None or reader is None:
            return evm_state

        def open_l1() -> L1Context | None:
            config = BOOSTER_CONFIG_ADDRESS
            anchor = evm_state.get_storage(config, ANCHOR_SLOT).to_bytes(32, "big")
            root: bytes | None = evm_state.get_storage(config, L1_ROOT_SLOT).to_bytes(32, "big")
            if anchor == ZERO_HASH:
                anchor, root = reader.newest(), None
            l1_chain_id = evm_state.get_storage(config, L1_CHAIN_ID_SLOT)
            meter = evm_state.execution_meter or ExecutionMeter(UNLIMITED)
            return L1Context(store, anchor, l1_chain_id, meter, state_root=root, reader=reader)

        evm_state.l1_opener = open_l1
        return evm_state

    def l1_predeploys(self, l1_chain_id: int) -> Mapping[bytes, GenesisAccount]:
        """The booster account, knowing its L1's chain id (and never empty)."""
        account = GenesisAccount(nonce=1, storage={L1_CHAIN_ID_SLOT: l1_chain_id})
        return {BOOSTER_CONFIG_ADDRESS: account}

    def l1_source(self, l1: Any) -> RpcL1Reader:
        self.l1_reader = RpcL1Reader(l1)
        return self.l1_reader

    def supports_state_model(self, model: StateModel) -> bool:
        # The L1 state is read from the same hash-keyed node store as the L2's.
        return HexaryNodeStore in model.capabilities

    def open_block(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        block: BlockInput,
        ancestors: AncestorHashes,
        meter: ExecutionMeter,
    ) -> EvmBlockExecution:
        execution = super().open_block(
            state, chain_id=chain_id, parent_header=parent_header, block=block,
            ancestors=ancestors, meter=meter,
        )  # fmt: skip
        store = state.capability(HexaryNodeStore)
        l2 = execution.state
        if store is None or not isinstance(l2, BoosterState):
            raise MissingWitnessError("a booster block needs the mpt state model")

        def open_l1() -> L1Context | None:
            if block.l1_anchor == ZERO_HASH:
                return None
            config = BOOSTER_CONFIG_ADDRESS
            l1_chain_id = l2.get_storage(config, L1_CHAIN_ID_SLOT)
            same_anchor = l2.get_storage(config, ANCHOR_SLOT) == int.from_bytes(block.l1_anchor)
            # At the L1 block the chain read at last: go on from its writes.
            root = l2.get_storage(config, L1_ROOT_SLOT).to_bytes(32, "big") if same_anchor else None
            return L1Context(store, block.l1_anchor, l1_chain_id, meter, state_root=root,
                             reader=self.l1_reader)  # fmt: skip

        l2.l1_opener = open_l1
        return BoosterBlockExecution.adopt(execution, block.l1_anchor)


class BoosterBlockExecution(EvmBlockExecution):
    """A booster block: sealed with its L1 effects (and where the next block goes on from)."""

    l1_anchor: bytes = ZERO_HASH

    @classmethod
    def adopt(cls, execution: EvmBlockExecution, l1_anchor: bytes) -> BoosterBlockExecution:
        execution.__class__ = cls
        assert isinstance(execution, BoosterBlockExecution)
        execution.l1_anchor = l1_anchor
        return execution

    def apply_deposit(self, message: L1Message, gas: int) -> int:
        if message.sender == message.target == BOOSTER_CONFIG_ADDRESS:
            self._take_handoff(message)
            return 0
        return super().apply_deposit(message, gas)

    def _take_handoff(self, message: L1Message) -> None:
        """Go on from the L1 state an upstream rollup handed over (see the module)."""
        try:
            anchor, root, updates = abi_decode(["bytes32", "bytes32", "bytes"], message.data)
            contracts, changes = abi_decode(UPDATES_TYPES, updates)
        except Exception:  # noqa: BLE001 - only the settlement contract queues these, well formed
            return
        state = self.state
        assert isinstance(state, BoosterState)
        if anchor == ZERO_HASH:
            return  # refused by the settlement contract (NoL1Anchor): never queued
        if anchor != self.l1_anchor:
            raise InvalidBlockError(
                f"block {self.number} consumes an L1 handoff at L1 block 0x{anchor.hex()} but "
                f"is anchored to 0x{self.l1_anchor.hex()}: it must be anchored there"
            )
        if state.l1 is not None:
            raise InvalidBlockError(f"block {self.number} consumes two L1 handoffs")
        with _engine_errors(self.number):
            state.set_storage(BOOSTER_CONFIG_ADDRESS, ANCHOR_SLOT, int.from_bytes(anchor))
            state.set_storage(BOOSTER_CONFIG_ADDRESS, L1_ROOT_SLOT, int.from_bytes(root))
            l1 = state.l1_context(lambda: None)
        l1.inherit(
            (bytes.fromhex(contract[2:]), int.from_bytes(slot))
            for contract, slots in zip(contracts, changes, strict=False)
            for slot, _value in slots
        )

    def seal(self, system_storage: Mapping[int, int]) -> BlockResult:
        state = self.state
        l1 = state.l1 if isinstance(state, BoosterState) else None
        effects = None
        if l1 is not None:
            with _engine_errors(self.number):
                l1_root = l1.commit()
                state.set_storage(BOOSTER_CONFIG_ADDRESS, ANCHOR_SLOT, int.from_bytes(l1.anchor))
                state.set_storage(BOOSTER_CONFIG_ADDRESS, L1_ROOT_SLOT, int.from_bytes(l1_root))
                if state.get_nonce(BOOSTER_CONFIG_ADDRESS) == 0:
                    state.set_nonce(BOOSTER_CONFIG_ADDRESS, 1)  # never "empty", never cleaned
            effects = L1Effects(l1.anchor_number, l1.anchor, l1_root, tuple(l1.updates()))
        result = super().seal(system_storage)
        return result if effects is None else replace(result, l1=effects)
