"""AccountVM, the base for VM plugins with their own interpreter: rules every such VM gets
from the base, checked with a minimal interpreter and through EXECUTE."""

from __future__ import annotations

import types

import pytest

from rollupkit import get_registry, hookimpl
from rollupkit.accountvm import AccountVM, Frame, Outcome, calldata_floor
from rollupkit.chain import DevChain
from rollupkit.execution import execute_detailed
from rollupkit.testing.wallets import Wallet, dev_wallets
from rollupkit.types import GenesisAccount
from rollupkit.withdrawals import L2_BRIDGE_ADDRESS

CHAIN_ID = 42_424


class ForwardThenFailVM(AccountVM):
    """Any code forwards the call's value to the L2 bridge (a withdrawal), then fails,
    returning the logs it saw: a plausible subclass bug."""

    def run_code(self, frame: Frame) -> Outcome:
        child = self._message(frame.state, frame.block, frame.origin, frame.address,
                              L2_BRIDGE_ADDRESS, frame.value, b"", frame.gas, 0)  # fmt: skip
        return Outcome(False, frame.gas, logs=child.logs or tuple(frame.logs))


@pytest.fixture(scope="module")
def vm_name() -> str:
    return register_vm("forward-then-fail", ForwardThenFailVM)


def _chain(vm: str) -> tuple[DevChain, list[Wallet]]:
    wallets = dev_wallets(2, CHAIN_ID)
    alloc = {w.address: GenesisAccount(balance=10**24) for w in wallets}
    return DevChain(alloc, chain_id=CHAIN_ID, vm=vm, state="mpt"), wallets


def test_a_failed_frame_makes_no_withdrawal(vm_name: str) -> None:
    chain, (deployer, user) = _chain(vm_name)
    create, contract = deployer.create(b"\x00", gas=100_000)
    chain.build(transactions=[create])
    bridge_before = chain.balance(L2_BRIDGE_ADDRESS)
    built = chain.build(transactions=[user.sign(to=contract, value=10**18, gas=100_000)])
    result = execute_detailed(*built.execute_args(), vm=vm_name)
    assert result.ok, result.detail
    assert result.outputs.withdrawal_count == 0  # the L1 has nothing to pay out
    assert not built.results[0].withdrawals
    assert chain.balance(L2_BRIDGE_ADDRESS) == bridge_before  # the value was not locked


def test_calldata_pays_the_eip_7623_floor(vm_name: str) -> None:
    chain, (sender, receiver) = _chain(vm_name)
    data = b"\x01" * 10_000
    built = chain.build(transactions=[sender.sign(to=receiver.address, data=data, gas=500_000)])
    floor = 21_000 + 10 * 4 * len(data)
    assert built.l2_gas_used == floor  # above the intrinsic 21,000 + 16 per byte
    assert execute_detailed(*built.execute_args(), vm=vm_name).ok
    tx = types.SimpleNamespace(data=b"\x00\x00\x07")
    assert calldata_floor(tx) == 21_000 + 10 * (2 + 4)


class SpinVM(AccountVM):
    """Any code spins, spending 1 gas at a time, until its frame runs out; code b"\xff" makes
    the interpreter itself crash (a plugin bug)."""

    def run_code(self, frame: Frame) -> Outcome:
        if frame.code == b"\xff":
            raise RuntimeError("interpreter bug")
        while True:
            frame.use_gas(1)


def register_vm(name: str, vm_class: type[AccountVM]) -> str:
    """Register ``vm_class`` as VM plugin ``name`` (once) and return the name."""
    if name not in get_registry().names("vm"):
        plugin = types.ModuleType(f"{name}_plugin")
        plugin.rollupkit_register_vms = hookimpl(lambda: [(name, vm_class)])  # type: ignore[attr-defined]
        get_registry().register(plugin, name=name)
    return name


@pytest.fixture(scope="module")
def spin_vm() -> str:
    return register_vm("spin", SpinVM)


def test_running_code_is_stopped_once_past_the_claim(spin_vm: str) -> None:
    from rollupkit.metering import SCHEDULE
    from rollupkit.types import RejectReason
    from rollupkit.wallets import contract_address

    chain, (user, _) = _chain(spin_vm)
    chain.build(transactions=[user.sign(to=None, data=b"\x01", gas=100_000)])
    spinner = contract_address(user.address, 0)
    built = chain.build(transactions=[user.sign(to=spinner, gas=300_000)], commit=False)
    assert execute_detailed(*built.execute_args(), vm=spin_vm).ok
    assert built.l2_gas_used == 300_000  # spun until out of gas
    claim = SCHEDULE.trace_bytes(len(built.encoded)) + SCHEDULE.block + 21_000 + 1_000
    result = execute_detailed(
        built.pre_state_root, built.post_state_root, built.encoded, claim, vm=spin_vm
    )
    assert result.reason == RejectReason.GAS_MISMATCH and "execution stopped" in result.detail


def test_an_interpreter_crash_refuses_the_transaction_and_changes_nothing(spin_vm: str) -> None:
    from rollupkit.errors import InvalidTransactionError
    from rollupkit.wallets import contract_address

    chain, (user, _) = _chain(spin_vm)
    chain.build(transactions=[user.sign(to=None, data=b"\xff", gas=100_000)])
    crasher = contract_address(user.address, 0)
    call = user.sign(to=crasher, gas=100_000)
    with pytest.raises(InvalidTransactionError, match="interpreter bug"):
        chain.build(transactions=[call], commit=False)
    before = chain.account(user.address)
    built = chain.build(transactions=[call], drop_invalid=True)
    assert built.dropped == ((0,),)
    assert execute_detailed(*built.execute_args(), vm=spin_vm).ok
    assert chain.account(user.address) == before


def test_an_interpreter_crash_in_a_deposit_fails_its_call(spin_vm: str) -> None:
    """A deposit cannot be refused: when the interpreter crashes on its call, the call fails
    (the value stays with the sender) and the block goes on."""
    from rollupkit.wallets import contract_address

    chain, (user, _) = _chain(spin_vm)
    chain.build(transactions=[user.sign(to=None, data=b"\xff", gas=100_000)])
    crasher = contract_address(user.address, 0)
    sender = b"\x51" * 20
    chain.deposit(crasher, 5, data=b"\x01", sender=sender)
    built = chain.build()
    assert built.results[0].info.number == 2
    assert chain.balance(sender) == 5 and chain.balance(crasher) == 0
    assert execute_detailed(*built.execute_args(), vm=spin_vm).ok
