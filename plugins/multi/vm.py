"""The ``multi`` VM: EVM, RISC-V and wasm contracts side by side in one state, calling each
other synchronously, verified by one EXECUTE.

It is the ``evm`` VM (py-evm: Ethereum's transactions, accounts, receipts, headers, gas) with
one change where py-evm runs a frame's code: code that starts with a guest prefix
(:mod:`rollupkit_multi.codes`) runs in the ``riscv`` or ``wasm`` VM's interpreter instead of
the EVM's, through the host ABI (:mod:`rollupkit.hostabi`) on an
:class:`~rollupkit_multi.frame.EvmHostedFrame`. So every call between VMs is a py-evm message
with Ethereum's semantics: value moves, return data, a revert undoes exactly the callee's
writes, STATICCALL forbids writes in every VM, reentrancy, one gas budget for the whole call
tree (the EVM applies the 63/64 rule to its calls, the host ABI to a guest's), and the logs of
every VM in one receipt, in order.

A guest contract deploys as sent: a create whose code (a transaction's data, or a CREATE's
init code) starts with a guest prefix stores that code as it is, after the guest VM's checks
(ELF loading and the RV32IM check; wasm validation), and runs no constructor.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from eth.exceptions import Revert, VMError

from rollupkit.accountvm import MAX_CODE_SIZE, AccountVM
from rollupkit.plugins import get_registry
from rollupkit_evm.engine import (
    RollupComputation,
    RollupEVM,
    RollupState,
    ViewRollupEVM,
    ViewRollupState,
)
from rollupkit_evm.vm import EvmVM
from rollupkit_multi.codes import GUEST_PREFIXES, guest_of
from rollupkit_multi.frame import EvmHostedFrame


class GuestError(VMError):
    """A guest's exceptional halt (a fault, out of gas, a bad module): all its gas is gone."""

    burns_gas = True
    erases_return_data = True


@cache
def guest_vm(name: str) -> AccountVM:
    """The interpreter of guest VM ``name`` (one per process: they keep compiled modules and
    idle emulators)."""
    vm = get_registry().create("vm", name)
    assert isinstance(vm, AccountVM), f"{name} is not a guest VM"
    return vm


class MultiComputation(RollupComputation):
    """Prague's computation, running guest code in its own VM (see the module docstring)."""

    @classmethod
    def apply_computation(
        cls, state: Any, message: Any, transaction_context: Any, parent_computation: Any = None
    ) -> Any:
        guest = guest_of(message.code)
        if guest is None:
            return super().apply_computation(
                state, message, transaction_context, parent_computation
            )
        name, code = guest
        with cls(state, message, transaction_context) as computation:
            # What py-evm's own apply_computation does before running code (EIP-3860's init
            # code gas, the contracts created in this transaction for EIP-6780).
            if computation.is_origin_computation:
                computation.contracts_created = []
                if message.is_create:
                    cls.consume_initcode_gas_cost(computation)
            if parent_computation is not None:
                computation.contracts_created = parent_computation.contracts_created
            if message.is_create:
                computation.contracts_created.append(message.storage_address)
                computation.output = bytes(message.code)  # deployed as sent
            else:
                _run_guest(computation, guest_vm(name), code)
        return computation

    @classmethod
    def validate_contract_code(cls, contract_code: bytes) -> None:
        guest = guest_of(contract_code)
        if guest is None:
            super().validate_contract_code(contract_code)  # EIP-170, EIP-3541 (no 0xEF)
            return
        if len(contract_code) > MAX_CODE_SIZE:
            raise GuestError(f"code of {len(contract_code)} bytes is over {MAX_CODE_SIZE}")
        name, code = guest
        problem = guest_vm(name).check_code(code)
        if problem:
            raise GuestError(f"not a {name} contract: {problem}")


def _run_guest(computation: Any, vm: AccountVM, code: bytes) -> None:
    """Run a guest's call on ``computation``: its return data becomes the output, a revert or
    a fault ends the frame as the EVM's REVERT or an exceptional halt would."""
    outcome = vm.run_code(EvmHostedFrame(computation, code))  # type: ignore[arg-type]
    if outcome.success:
        computation.output = outcome.output
    elif outcome.reverted:
        computation.output = outcome.output  # the revert data, as the EVM's REVERT leaves it
        raise Revert(outcome.output)
    else:
        raise GuestError(outcome.error or "the guest failed")


class MultiState(RollupState):
    computation_class = MultiComputation


class ViewMultiState(ViewRollupState):
    computation_class = MultiComputation


class MultiEVM(RollupEVM):
    _state_class = MultiState


class ViewMultiEVM(ViewRollupEVM):
    _state_class = ViewMultiState


class MultiVM(EvmVM):
    """EVM, RISC-V and wasm contracts in one chain (see the module docstring)."""

    description = "EVM, RISC-V and wasm contracts in one state, calling each other (py-evm host)"
    client = "py-evm + unicorn + wasmtime"
    evm_class = MultiEVM
    view_evm_class = ViewMultiEVM

    @classmethod
    def scaffold_files(cls) -> Mapping[str, bytes]:
        """A project gets the EVM's files (the template's) and both guest SDKs, each in its
        own folder: ``guest/riscv/`` and ``guest/wasm/``."""
        files: dict[str, bytes] = {}
        for name in sorted(set(GUEST_PREFIXES.values())):
            for path, data in type(guest_vm(name)).scaffold_files().items():
                files[f"guest/{name}/{path.removeprefix('guest/')}"] = data
        return files

    def witness_code_gas(self, code: bytes) -> int:
        """What readying a witness's guest code costs its VM (EVM code: nothing)."""
        guest = guest_of(code)
        return 0 if guest is None else guest_vm(guest[0]).witness_code_gas(guest[1])
